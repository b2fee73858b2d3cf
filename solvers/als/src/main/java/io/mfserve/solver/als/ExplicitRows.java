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
   * Packs entries [chunk, chunk + cn) as augmented rows (y, 1, t) with t = r − μ − b_j, the 1
   * only with biases, into the kernels' padding lanes ({@link RowScratch#systemInGram}). Their
   * Gram matrix Σ ẏẏᵀ holds the row's whole system: Σ y yᵀ, the bias column Σ y and the count,
   * the right-hand side Σ t·y and Σ t in column w, and Σ t² at (w, w). One pass of the Gram
   * kernel then replaces the separate sums over the chunk; with unit weights it forms each sum
   * by the same multiply-adds in the same order as they do.
   */
  private void packAugmented(boolean users, int chunk, int cn, RowScratch s, float[] fixed,
      float[] fixedBias) {
    gather(users, chunk, cn, s, fixed);
    float[][] rows = s.rows;
    double mu = state.mu;
    boolean biases = state.biases;
    for (int q = 0; q < cn; q++) {
      int p = chunk + q;
      float value = users ? data.rowValue(p) : data.colValue(p);
      float[] row = rows[q];
      if (biases) {
        int j = users ? data.rowColumn(p) : data.colRow(p);
        row[k] = 1f;
        row[w] = (float) (value - mu - fixedBias[j]);
      } else {
        row[w] = (float) (value - mu);
      }
    }
  }

  /**
   * Adds the Gram matrix of the chunk's augmented rows ({@link #packAugmented}) into the row's
   * system: its w × w upper triangle into {@code s.m}, column w (Σ t·y, and Σ t for the bias)
   * into {@code s.b}, and Σ t² at (w, w) into {@code s.targetSquares}.
   */
  private void accumulateAugmented(RowScratch s, int cn) {
    float[][] acc = s.acc;
    s.kernels.accumulate(s.rows, s.ones, cn, w + 1, acc);
    Gram.drainRows(acc, w, s.m, 0, w);
    double[] b = s.b;
    for (int x = 0; x < w; x++) {
      b[x] += acc[x][w];
    }
    s.targetSquares += acc[w][w];
  }

  /**
   * {@inheritDoc}
   *
   * @return λ_r‖x‖² + λ_b b², plus, on the item side, the squared errors of the column's
   *     entries (U being final for this sweep by then), from the column's system
   *     ({@link #systemLoss})
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
    beginRow(s);
    int chunkSize = s.chunkSize();
    int count = to - from;
    if (s.systemInGram) {
      for (int chunk = from; chunk < to; chunk += chunkSize) {
        int cn = Math.min(chunkSize, to - chunk);
        packAugmented(users, chunk, cn, s, fixed, fixedBias);
        accumulateAugmented(s, cn);
      }
    } else {
      for (int chunk = from; chunk < to; chunk += chunkSize) {
        int cn = Math.min(chunkSize, to - chunk);
        pack(users, chunk, cn, s, fixed, fixedBias);
        accumulate(s, cn);
      }
      if (biases) {
        // The bias column: the augmented Gram holds it already.
        for (int f = 0; f < k; f++) {
          s.m[f * w + k] = s.sums[f];
        }
        s.m[k * w + k] = count;
      }
    }
    double reg = regularization(count);
    float[] bias = biases ? solvedBias : null;
    solveSystem(s, reg, solved, base, bias, r);
    if (!users) {
      // The item side reports the loss: the column's squared errors (U is final for this
      // sweep by then) and its regularisation terms, from the column's system.
      return systemLoss(s, s.targetSquares, solved, base, bias, r);
    }
    return reg * storedNorm2(solved, base)
        + (biases ? options.biasLambda() * solvedBias[r] * solvedBias[r] : 0);
  }
}
