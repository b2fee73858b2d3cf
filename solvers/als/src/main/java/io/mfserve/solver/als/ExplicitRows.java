package io.mfserve.solver.als;

import java.util.Arrays;

/**
 * Explicit-feedback rows: each row's exact block minimum of Σ (r − μ − b_j − b − x·y)² +
 * λ_r‖x‖² + λ_b b², from the Gram matrix of its observed entries (augmented by the bias
 * column when there are biases), solved by Cholesky or NNLS.
 */
final class ExplicitRows extends RowSolver {
  ExplicitRows(FitState state) {
    super(state);
  }

  /**
   * Packs entries [chunk, chunk + cn): the fixed vectors, weight 1 and target r − μ − b_j.
   */
  private void pack(boolean users, int chunk, int cn, RowScratch s, float[] fixed,
      float[] fixedBias) {
    gather(users, chunk, cn, s, fixed);
    double mu = state.mu;
    for (int q = 0; q < cn; q++) {
      int p = chunk + q;
      float value = users ? data.rowValue(p) : data.colValue(p);
      s.weights[q] = 1f;
      if (state.biases) {
        int j = users ? data.rowColumn(p) : data.colRow(p);
        s.targets[q] = (float) (value - mu - fixedBias[j]);
      } else {
        s.targets[q] = (float) (value - mu - 0);
      }
    }
  }

  /**
   * {@inheritDoc}
   *
   * @return λ_r‖x‖² + λ_b b², plus, on the item side, the squared errors of the column's
   *     entries (U being final for this sweep by then)
   */
  @Override
  double solve(boolean users, int r, RowScratch s) {
    float[] solved = users ? state.userFactors : state.itemFactors;
    float[] fixed = users ? state.itemFactors : state.userFactors;
    float[] solvedBias = users ? state.userBias : state.itemBias;
    float[] fixedBias = users ? state.itemBias : state.userBias;
    boolean biases = state.biases;
    int base = r * k;
    int from = users ? data.rowStart(r) : data.colStart(r);
    int to = users ? data.rowEnd(r) : data.colEnd(r);
    if (from == to) {
      Arrays.fill(solved, base, base + k, 0f);
      if (biases) {
        solvedBias[r] = 0f;
      }
      return 0;
    }
    Arrays.fill(s.m, 0);
    Arrays.fill(s.b, 0);
    Arrays.fill(s.sums, 0);
    int chunkSize = s.chunkSize();
    for (int chunk = from; chunk < to; chunk += chunkSize) {
      int cn = Math.min(chunkSize, to - chunk);
      pack(users, chunk, cn, s, fixed, fixedBias);
      accumulate(s, cn);
    }
    int count = to - from;
    if (biases) {
      for (int f = 0; f < k; f++) {
        s.m[f * w + k] = s.sums[f];
      }
      s.m[k * w + k] = count;
    }
    double reg = regularization(count);
    solveSystem(s, reg, solved, base, biases ? solvedBias : null, r);
    double term = reg * storedNorm2(solved, base)
        + (biases ? options.biasLambda() * solvedBias[r] * solvedBias[r] : 0);
    return users ? term : addSquaredErrors(term, r, s, from, to, base);
  }

  /**
   * Returns {@code term} plus Σ (r − μ − b_u − b_i − x_u·y_i)² over the entries of item column
   * {@code c}, added one by one onto it (the order of the sum is part of the reproducible loss).
   */
  private double addSquaredErrors(double term, int c, RowScratch s, int from, int to,
      int base) {
    boolean biases = state.biases;
    float[] userFactors = state.userFactors;
    float[] itemFactors = state.itemFactors;
    double ownBias = biases ? state.itemBias[c] : 0;
    if (to - from <= s.chunkSize()) {
      // The chunk still holds the whole column: no second gather.
      System.arraycopy(itemFactors, base, s.own, 0, k);
      for (int q = 0; q < to - from; q++) {
        double e = s.targets[q] - ownBias - s.kernel.dot(s.rows[q], s.own, k);
        term += e * e;
      }
    } else {
      // A long column: the chunk holds only its last part, so each user's row is gathered
      // again into the chunk's first row (free once the solve is done).
      System.arraycopy(itemFactors, base, s.own, 0, k);
      float[] user = s.rows[0];
      for (int p = from; p < to; p++) {
        int u = data.colRow(p);
        s.kernel.copyRow(userFactors, u * k, user, k);
        double e = data.colValue(p) - state.mu - (biases ? state.userBias[u] + ownBias : 0)
            - s.kernel.dot(user, s.own, k);
        term += e * e;
      }
    }
    return term;
  }
}
