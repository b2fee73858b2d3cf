/**
 * Structured logging on java.util.logging: {@link io.mfserve.server.logging.LogEvent} builds
 * one key=value line per event (a fit, a model load), and
 * {@link io.mfserve.server.logging.JsonFormatter} prints every record as one JSON object per
 * line for {@code --log-format json}. No logging framework beyond the JDK's.
 */
package io.mfserve.server.logging;
