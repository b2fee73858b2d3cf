package io.mfserve.solver.sgd;

import io.mfserve.solver.TrainingMatrix;

/**
 * Bayesian personalised ranking (Rendle, Freudenthaler, Gantner and Schmidt-Thieme, "BPR:
 * Bayesian Personalized Ranking from Implicit Feedback", UAI 2009) for implicit feedback.
 *
 * <p>Every stored entry (u, i) is a positive. For each one the kernel draws a negative item j
 * that u has no entry for, uniformly from the columns of the current block (so that i and j
 * belong to the same thread, as LibMF does for its one-class losses; over an epoch every
 * column block is visited, so j is uniform over all items), and takes a step on
 * <pre>
 *   −ln σ(x_uij),   x_uij = (b_i + p_u·q_i) − (b_j + p_u·q_j)
 * </pre>
 * With {@code g = σ(−x_uij)} the descent directions are
 * <pre>
 *   g_p = g (q_i − q_j) − λ p_u    g_qi = g p_u − λ q_i    g_qj = −g p_u − λ q_j
 *   g_bi = g − λ_b b_i              g_bj = −g − λ_b b_j
 * </pre>
 * under the same AdaGrad or fixed schedule as {@link SquaredKernel}. User biases and the mean
 * cancel in x_uij, so they stay zero. The entry's value is ignored.
 *
 * <p>Negatives come from SplitMix64 seeded per run of entries, so the draws depend only on the
 * fit's seed and the schedule, not on which thread runs the block. A draw that hits a positive
 * or i itself is redrawn up to {@value #ATTEMPTS} times; a user who owns nearly every item of
 * the block gets no update for that entry rather than an endless loop.
 */
final class BprKernel extends Kernel {
  /** Draws per entry before the entry is skipped. */
  static final int ATTEMPTS = 16;

  private final boolean sortedByRow;
  private final TrainingMatrix data;
  private final int[] rowOrig;
  private final int[] colOrig;

  /** Creates the kernel; {@code data} answers whether a drawn (u, j) is a positive. */
  BprKernel(boolean adaptive, TrainingMatrix data, BlockGrid grid, FactorState state,
      double lambda, double biasLambda) {
    super(adaptive, grid, state, lambda, biasLambda);
    this.sortedByRow = grid.sortedByRow;
    this.data = data;
    this.rowOrig = grid.rowOrig;
    this.colOrig = grid.colOrig;
  }

  @Override
  double run(int from, int to, int blockFrom, int blockTo, int colFrom, int colTo,
      long rngSeed) {
    final int k = this.k;
    final int s = this.stride;
    final int bo = this.biasAt;
    final float[] users = this.users;
    final float[] items = this.items;
    final float lambda = this.lambda;
    final float biasLambda = this.biasLambda;
    final float eta = rate;
    final float invK = 1f / k;
    final long range = colTo - colFrom;
    long state = rngSeed;
    double loss = 0;
    // In the block layout, the user's positives among the block's columns, which are the only
    // candidates for j, are the user's run of entries in the block, sorted by column: checking
    // a draw looks at a few entries in cache instead of searching the user's row of the whole
    // matrix.
    int runUser = -1;
    int runFrom = 0;
    int runTo = 0;
    for (int n = from; n < to; n++) {
      final int u = entryRow[n];
      final int i = entryCol[n];
      if (sortedByRow && u != runUser) {
        runUser = u;
        runFrom = n;
        while (runFrom > blockFrom && entryRow[runFrom - 1] == u) {
          runFrom--;
        }
        runTo = n + 1;
        while (runTo < blockTo && entryRow[runTo] == u) {
          runTo++;
        }
      }
      int j = -1;
      for (int t = 0; t < ATTEMPTS; t++) {
        state += GOLDEN;
        int c = colFrom + (int) (((mix(state) >>> 32) * range) >>> 32);
        if (c != i && !(sortedByRow ? inRun(c, runFrom, runTo)
            : data.contains(rowOrig[u], colOrig[c]))) {
          j = c;
          break;
        }
      }
      if (j < 0) {
        continue;
      }
      final int a = u * s;
      final int b = i * s;
      final int c = j * s;
      float x = items[b + bo] - items[c + bo];
      for (int f = 0; f < k; f++) {
        x += users[a + f] * (items[b + f] - items[c + f]);
      }
      // With t = e^−|x| (never overflows): −ln σ(x) = max(−x, 0) + ln(1 + t), and
      // g = σ(−x) = t / (1 + t) for x > 0, else 1 / (1 + t). One exponential serves both.
      final double t = Math.exp(-Math.abs(x));
      loss += (x > 0 ? 0 : -x) + Math.log1p(t);
      final float g = (float) ((x > 0 ? t : 1) / (1 + t));
      if (adaptive) {
        float stepP = eta / (float) Math.sqrt(users[a + bo + 1]);
        float stepI = eta / (float) Math.sqrt(items[b + bo + 1]);
        float stepJ = eta / (float) Math.sqrt(items[c + bo + 1]);
        float sumP = 0;
        float sumI = 0;
        float sumJ = 0;
        for (int f = 0; f < k; f++) {
          float p = users[a + f];
          float qi = items[b + f];
          float qj = items[c + f];
          float gp = g * (qi - qj) - lambda * p;
          float gi = g * p - lambda * qi;
          float gj = -g * p - lambda * qj;
          sumP += gp * gp;
          sumI += gi * gi;
          sumJ += gj * gj;
          users[a + f] = p + stepP * gp;
          items[b + f] = qi + stepI * gi;
          items[c + f] = qj + stepJ * gj;
        }
        users[a + bo + 1] += sumP * invK;
        items[b + bo + 1] += sumI * invK;
        items[c + bo + 1] += sumJ * invK;
        float gbi = g - biasLambda * items[b + bo];
        float gbj = -g - biasLambda * items[c + bo];
        FactorState.adaGradBiasStep(items, b + bo, gbi, eta);
        FactorState.adaGradBiasStep(items, c + bo, gbj, eta);
      } else {
        for (int f = 0; f < k; f++) {
          float p = users[a + f];
          float qi = items[b + f];
          float qj = items[c + f];
          users[a + f] = p + eta * (g * (qi - qj) - lambda * p);
          items[b + f] = qi + eta * (g * p - lambda * qi);
          items[c + f] = qj + eta * (-g * p - lambda * qj);
        }
        items[b + bo] += eta * (g - biasLambda * items[b + bo]);
        items[c + bo] += eta * (-g - biasLambda * items[c + bo]);
      }
    }
    return loss;
  }

  /** Whether the user's run [runFrom, runTo), sorted by column, holds {@code col}. */
  private boolean inRun(int col, int runFrom, int runTo) {
    if (runTo - runFrom > 8) {
      return java.util.Arrays.binarySearch(entryCol, runFrom, runTo, col) >= 0;
    }
    for (int x = runFrom; x < runTo && entryCol[x] <= col; x++) {
      if (entryCol[x] == col) {
        return true;
      }
    }
    return false;
  }

  /**
   * Returns the BPR loss every entry would have against a tie, n ln 2: at the start the scores
   * are near zero, and drawing negatives just to measure the reference would move the seeded
   * stream for nothing.
   */
  @Override
  double evaluate(int from, int to) {
    return (to - from) * Math.log(2);
  }
}
