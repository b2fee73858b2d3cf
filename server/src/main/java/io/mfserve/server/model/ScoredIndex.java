package io.mfserve.server.model;

/**
 * An item position with its score.
 *
 * @param item the item's position in the model
 * @param score the predicted score
 */
public record ScoredIndex(int item, float score) { }
