package io.mfserve.solver.als;

import io.mfserve.solver.ValidationSet;
import java.util.SplittableRandom;

/**
 * The early-stopping metric of implicit ALS: the fraction of (held-out positive, seeded random
 * item) pairs a model orders wrongly, ties counting half — a sampled 1 − AUC, lower is better.
 * The negatives are drawn afresh from the same seeds at every call, so successive sweeps are
 * judged on the same pairs.
 */
final class RankingError {
  /** Sampled negatives per held-out positive. */
  static final int NEGATIVES = 4;

  private RankingError() {
  }

  /**
   * Returns the sampled ranking error of {@code model} on {@code validation}, or NaN when it
   * holds no positive.
   *
   * @param cols the number of items negatives are drawn from
   */
  static double of(ValidationSet validation, ValidationSet.PairScorer model, int cols,
      long seed) {
    double wrong = 0;
    long pairs = 0;
    for (int n = 0; n < validation.size(); n++) {
      if (!(validation.value(n) > 0)) {
        continue;
      }
      int r = validation.row(n);
      double positive = model.score(r, validation.col(n));
      SplittableRandom random = new SplittableRandom(seed ^ (0x9E3779B97F4A7C15L * (n + 1)));
      for (int s = 0; s < NEGATIVES; s++) {
        int c = random.nextInt(cols);
        if (c == validation.col(n)) {
          continue;
        }
        double negative = model.score(r, c);
        wrong += negative > positive ? 1 : negative == positive ? 0.5 : 0;
        pairs++;
      }
    }
    return pairs == 0 ? Double.NaN : wrong / pairs;
  }
}
