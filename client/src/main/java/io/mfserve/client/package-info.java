/**
 * The Java client of mfserve: {@link io.mfserve.client.MfClient}, a typed client over a gRPC
 * {@link io.grpc.Channel} the caller owns (deadlines on every call, large matrices uploaded in
 * chunks automatically, errors as {@link io.mfserve.client.MfServeException} with the server's
 * field violations), and {@link io.mfserve.client.MatrixFactorization}, the few-line entry point
 * that fits a matrix (or imports factors trained elsewhere) and returns its {@link
 * io.mfserve.client.Factors}. Snapshots and factor imports stream through {@code
 * ModelTransfer} and {@code ClientStreams}, in messages of about 1 MiB. It depends on the
 * generated {@code io.mfserve.proto.v1} messages only, never on server code.
 */
package io.mfserve.client;
