/**
 * {@code mfctl}, the command line of mfserve: picocli commands that read rating files, call the
 * server through {@link io.mfserve.client.MfClient} only, and print aligned tables or JSON, with
 * one-line errors and distinct exit codes. {@link io.mfserve.client.cli.Mfctl} is the entry
 * point; its {@code run} methods let tests drive it in-process.
 */
package io.mfserve.client.cli;
