/**
 * The mfserve server: the entry point, its configuration, and the lifecycle of the gRPC server
 * (start, health, graceful drain on shutdown).
 */
package io.mfserve.server;
