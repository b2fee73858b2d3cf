/**
 * The application layer, split into packages by kind; dependencies point one way,
 * {@code errors ← ids ← store ← matrix ← fit ← query}. Nothing here imports gRPC or generated
 * proto classes; failures are domain exceptions that the transport maps to status codes in
 * one place. The durable repository beside it is {@code io.mfserve.server.repository}.
 */
package io.mfserve.server.model;
