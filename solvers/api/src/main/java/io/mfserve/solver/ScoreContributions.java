package io.mfserve.solver;

import java.util.Objects;

/**
 * A user's predicted score of one item split over the user's entries: the score of the user's
 * factors solved from those entries (as {@link SolverProvider#foldInUser} solves them) is
 * {@code base + Σ contributions[j]}, exactly up to rounding.
 *
 * @param base what the score holds besides the entries' shares: the global mean plus the
 *     item's bias for a model with biases, else 0
 * @param contributions entry j's share, in the order of the entries given
 */
public record ScoreContributions(double base, double[] contributions) {
  /** Checks the arguments. */
  public ScoreContributions {
    Objects.requireNonNull(contributions, "contributions");
  }

  /** Returns {@code base} plus every contribution: the refolded user's score of the item. */
  public double score() {
    double s = base;
    for (double c : contributions) {
      s += c;
    }
    return s;
  }
}
