/**
 * The application layer: fit orchestration, the in-memory stores of models and uploaded
 * matrices, the memory budget, and the queries answered from a trained model. Nothing here
 * imports gRPC or generated proto classes; failures are domain exceptions that the transport
 * maps to status codes in one place.
 */
package io.mfserve.server.model;
