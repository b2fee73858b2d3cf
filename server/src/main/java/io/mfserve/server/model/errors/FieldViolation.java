package io.mfserve.server.model.errors;

/**
 * One thing wrong with one field of a request.
 *
 * @param field the field's path in the request, e.g. {@code matrix.dense.values[3]}
 * @param description what is wrong and what would be accepted
 */
public record FieldViolation(String field, String description) { }
