package io.mfserve.server.model.query;

import io.mfserve.server.model.ids.IdIndex;

/**
 * A top-k result: positions on one side of a model with their scores, best first, and that
 * side's ids to name them by (taken from the model the scores came from, so a result never
 * mixes two models that shared an id).
 *
 * @param ids the side's id index
 * @param positions the positions, best first
 * @param scores the score of each position
 * @param fallback empty for a personal answer, else the unknown-user fallback that answered
 *     ({@link UnknownUserFallback#label()})
 */
public record Ranked(IdIndex ids, int[] positions, float[] scores, String fallback) {
  /** A personal answer. */
  public Ranked(IdIndex ids, int[] positions, float[] scores) {
    this(ids, positions, scores, "");
  }

  /** Returns the number of results. */
  public int size() {
    return positions.length;
  }
}
