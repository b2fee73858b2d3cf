package io.mfserve.server.model.query;

import io.mfserve.server.model.ids.IdIndex;

/**
 * One user's predicted score for every item, in the model's item order.
 *
 * @param items the model's item ids, to name each score's item by
 * @param scores one score per item position
 */
public record ScoredRow(IdIndex items, float[] scores) { }
