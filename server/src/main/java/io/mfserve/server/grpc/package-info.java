/**
 * The transport: the gRPC service adapter, the one mapper between proto and domain types, and
 * the one place that maps domain failures to gRPC status codes. No math and no state here.
 */
package io.mfserve.server.grpc;
