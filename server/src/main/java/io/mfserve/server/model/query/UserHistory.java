package io.mfserve.server.model.query;

import io.mfserve.server.model.ids.IdRefs;

/**
 * A user the model has not seen, given by their entries: entry n is (item n, values[n]), the
 * items in either id form.
 *
 * @param items the items, in the request's form, with their fields named for messages
 * @param values the value of each entry
 * @param valuesField the request field holding the values, for messages
 */
public record UserHistory(IdRefs items, float[] values, String valuesField) { }
