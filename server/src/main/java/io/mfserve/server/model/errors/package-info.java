/**
 * The domain exceptions a request can cause (invalid, not found, already exists, not ready,
 * over budget, unsupported) and the field violation they carry; the transport maps each to
 * one gRPC status.
 */
package io.mfserve.server.model.errors;
