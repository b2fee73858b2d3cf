package io.mfserve.solver.nmf;

import io.mfserve.solver.TrainingMatrix;
import java.util.Arrays;
import java.util.concurrent.ForkJoinPool;

/**
 * Multiplicative updates for the generalised Kullback–Leibler divergence, the loss for count
 * data (Poisson noise):
 *
 * <pre>  L = Σ (x log(x / y) − x + y) + l1W Σ W + ½ l2W ‖W‖² + l1H Σ H + ½ l2H ‖H‖²</pre>
 *
 * with y = W Hᵀ, summed over every entry when every entry counts (dense, or absent entries are
 * zeros) and over the observed ones when absent entries are unknown. The update is D. D. Lee
 * and H. S. Seung, "Algorithms for non-negative matrix factorization", NIPS 13, 2001, eq. (3),
 * with the penalty
 * in the denominator as scikit-learn's {@code beta_loss='kullback-leibler'} has it:
 *
 * <pre>  w_it ← w_it · Σ_j (x_ij / y_ij) h_jt / (Σ_j h_jt + l2W w_it + l1W)</pre>
 *
 * and likewise for H; it never increases L. The matrix is never densified: the ratio x/y is
 * needed at stored entries only (an entry with x = 0 adds nothing to the numerator), the
 * denominator's {@code Σ_j h_jt} over all columns is the column sum of H, and so is the
 * {@code Σ y} term of the loss: {@code Σ_ij w_i · h_j = (Σ_i w_i) · (Σ_j h_j)}. With unknown
 * absent entries the sums run over each row's (column's) observed entries instead. One sweep
 * costs O(nnz·k): two dot products and one axpy per stored entry and side, plus one more dot
 * product per entry for the loss.
 */
final class KlUpdater extends Updater {
  private final boolean weighted;
  /** A model value below this is read as this: keeps x / y and log(x / y) finite. */
  private final double yMin;
  private final double[] colSumW;
  private final double[] colSumH;
  private double sumW;
  private double normW;

  KlUpdater(TrainingMatrix x, int k, Penalty penalty, boolean weighted, float[] w, float[] h,
      ForkJoinPool pool) {
    super(x, k, penalty, Method.MU, 1, w, h, pool, (int) scratchSize(k));
    this.weighted = weighted;
    this.yMin = Math.max(1e-10 * Math.abs(x.mean()), Double.MIN_NORMAL);
    this.colSumW = new double[k];
    this.colSumH = new double[k];
    colBlocks.forEach(pool, b -> {
      double[] s = scratch[b];
      Arrays.fill(s, 2 * k, 3 * k, 0);
      for (int j = colBlocks.start(b); j < colBlocks.end(b); j++) {
        addToColumnSums(s, h, j * k);
      }
    });
    combine(colBlocks, colSumH);
  }

  /** Returns the doubles of scratch one block needs for rank {@code k}. */
  static long scratchSize(int k) {
    return 3L * k + 4;
  }

  // Scratch layout: [0, k) the numerator, [k, 2k) the denominator, [2k, 3k) the block's column
  // sums, then its Σ f, ‖f‖² and divergence sums.

  @Override
  void updateW() {
    int sumAt = 3 * k;
    int normAt = sumAt + 1;
    double l1 = penalty.l1W();
    double l2 = penalty.l2W();
    rowBlocks.forEach(pool, b -> {
      double[] s = scratch[b];
      Arrays.fill(s, 2 * k, 3 * k + 2, 0);
      for (int i = rowBlocks.start(b); i < rowBlocks.end(b); i++) {
        int base = i * k;
        Arrays.fill(s, 0, 2 * k, 0);
        for (int p = x.rowStart(i); p < x.rowEnd(i); p++) {
          addRatio(s, x.rowValue(p), w, base, h, x.rowColumn(p) * k);
        }
        finish(w, base, s, colSumH, l1, l2);
        addToColumnSums(s, w, base);
        s[normAt] += normSq(w, base);
      }
    });
    combine(rowBlocks, colSumW);
    sumW = 0;
    for (int t = 0; t < k; t++) {
      sumW += colSumW[t];
    }
    normW = sumSlot(rowBlocks, normAt);
  }

  @Override
  double updateH() {
    int sumAt = 3 * k;
    int normAt = sumAt + 1;
    int divAt = normAt + 1;
    double l1 = penalty.l1H();
    double l2 = penalty.l2H();
    colBlocks.forEach(pool, b -> {
      double[] s = scratch[b];
      Arrays.fill(s, 2 * k, 3 * k + 3, 0);
      for (int j = colBlocks.start(b); j < colBlocks.end(b); j++) {
        int base = j * k;
        Arrays.fill(s, 0, 2 * k, 0);
        int from = x.colStart(j);
        int to = x.colEnd(j);
        for (int q = from; q < to; q++) {
          addRatio(s, x.colValue(q), h, base, w, x.colRow(q) * k);
        }
        finish(h, base, s, colSumW, l1, l2);
        addToColumnSums(s, h, base);
        s[normAt] += normSq(h, base);
        // This column's share of the divergence, with W and the new h_j.
        double div = 0;
        for (int q = from; q < to; q++) {
          double y = dot(x.colRow(q) * k, base);
          double v = x.colValue(q);
          if (v > 0) {
            div += v * Math.log(v / Math.max(y, yMin)) - v;
          }
          if (weighted) {
            div += y;
          }
        }
        s[divAt] += div;
      }
    });
    combine(colBlocks, colSumH);
    double sumH = 0;
    double model = 0;
    for (int t = 0; t < k; t++) {
      sumH += colSumH[t];
      model += colSumW[t] * colSumH[t];
    }
    double div = sumSlot(colBlocks, divAt) + (weighted ? 0 : model);
    return div + penalty.value(sumW, normW, sumH, sumSlot(colBlocks, normAt));
  }

  /**
   * Adds one stored entry's share to the row's numerator, {@code (x / y) g}, and in the weighted
   * case its denominator, {@code g}; f is the row being updated, g the other side's row.
   */
  private void addRatio(double[] s, float v, float[] f, int fBase, float[] g, int gBase) {
    if (v > 0) {
      double y = dot(f, fBase, g, gBase, k);
      double ratio = v / Math.max(y, yMin);
      for (int t = 0; t < k; t++) {
        s[t] += ratio * g[gBase + t];
      }
    }
    if (weighted) {
      for (int t = 0; t < k; t++) {
        s[k + t] += g[gBase + t];
      }
    }
  }

  /** Applies the step to row {@code f[base..]}; the unweighted denominator is the column sum. */
  private void finish(float[] f, int base, double[] s, double[] colSum, double l1, double l2) {
    for (int t = 0; t < k; t++) {
      double den = (weighted ? s[k + t] : colSum[t]) + l2 * f[base + t] + l1;
      s[k + t] = den;
    }
    muRow(f, base, k, s, 0, k);
  }

  /** Adds row {@code f[base..base+k)} to the block's column sums, {@code s[2k..3k)}. */
  private void addToColumnSums(double[] s, float[] f, int base) {
    for (int t = 0; t < k; t++) {
      s[2 * k + t] += f[base + t];
    }
  }

  /** Sums the blocks' column sums in block order. */
  private void combine(Blocks blocks, double[] out) {
    Arrays.fill(out, 0);
    for (int b = 0; b < blocks.count(); b++) {
      for (int t = 0; t < k; t++) {
        out[t] += scratch[b][2 * k + t];
      }
    }
  }
}
