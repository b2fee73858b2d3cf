package io.mfserve.solver.sgd;

import io.mfserve.solver.TrainingMatrix;
import io.mfserve.solver.ValidationSet;
import java.util.SplittableRandom;

/**
 * Scores the held-out entries after each epoch, reading the factors being trained (no copy).
 * {@link #error()} is lower-is-better and drives early stopping: for the squared loss it is the
 * RMSE in the data's own units; for BPR it is 1 − AUC, the fraction of held-out positives that
 * score no higher than a negative drawn once for each of them (ties count a half). BPR scores
 * are not ratings, so no RMSE is reported for them.
 */
final class Validator {
  private final boolean ranking;
  private final int[] users;
  private final int[] positives;
  private final float[] values;
  /** Relabelled negative item per held-out positive (ranking only). */
  private final int[] negatives;
  private final FactorState state;
  private final double mu;
  private final double scale;

  private Validator(boolean ranking, int[] users, int[] positives, float[] values,
      int[] negatives, FactorState state, double mu, double scale) {
    this.ranking = ranking;
    this.users = users;
    this.positives = positives;
    this.values = values;
    this.negatives = negatives;
    this.state = state;
    this.mu = mu;
    this.scale = scale;
  }

  /** Validates squared-loss fits by RMSE. */
  static Validator rmse(ValidationSet v, BlockGrid grid, FactorState state, double mu,
      double scale) {
    int n = v.size();
    int[] u = new int[n];
    int[] i = new int[n];
    float[] x = new float[n];
    for (int e = 0; e < n; e++) {
      u[e] = grid.rowLabel[v.row(e)];
      i[e] = grid.colLabel[v.col(e)];
      x[e] = v.value(e);
    }
    return new Validator(false, u, i, x, null, state, mu, scale);
  }

  /**
   * Validates ranking fits by AUC against one seeded negative per held-out positive: an item
   * the user has no training entry for, not the positive itself. Positives for which
   * {@link BprKernel#ATTEMPTS} draws find no negative are left out.
   */
  static Validator auc(ValidationSet v, TrainingMatrix train, BlockGrid grid, FactorState state,
      long seed) {
    SplittableRandom rnd = new SplittableRandom(Kernel.mix(seed ^ 0x5EEDBEEFL));
    int n = v.size();
    int[] u = new int[n];
    int[] i = new int[n];
    int[] j = new int[n];
    int kept = 0;
    for (int e = 0; e < n; e++) {
      int row = v.row(e);
      int col = v.col(e);
      for (int t = 0; t < BprKernel.ATTEMPTS; t++) {
        int c = rnd.nextInt(train.cols());
        if (c != col && !train.contains(row, c)) {
          u[kept] = grid.rowLabel[row];
          i[kept] = grid.colLabel[col];
          j[kept++] = grid.colLabel[c];
          break;
        }
      }
    }
    return new Validator(true, java.util.Arrays.copyOf(u, kept),
        java.util.Arrays.copyOf(i, kept), null, java.util.Arrays.copyOf(j, kept), state, 0, 1);
  }

  /** Returns whether there is nothing to validate on. */
  boolean isEmpty() {
    return users.length == 0;
  }

  /** Returns the current lower-is-better error, or NaN when empty. */
  double error() {
    int n = users.length;
    if (n == 0) {
      return Double.NaN;
    }
    double sum = 0;
    if (ranking) {
      for (int e = 0; e < n; e++) {
        float pos = state.score(users[e], positives[e]);
        float neg = state.score(users[e], negatives[e]);
        sum += pos > neg ? 0 : pos == neg ? 0.5 : 1;
      }
      return sum / n;
    }
    for (int e = 0; e < n; e++) {
      double d = values[e] - (mu + scale * state.score(users[e], positives[e]));
      sum += d * d;
    }
    return Math.sqrt(sum / n);
  }

  /** Returns the RMSE to report for an {@link #error()}: itself, or NaN for ranking. */
  double reportedRmse(double error) {
    return ranking ? Double.NaN : error;
  }
}
