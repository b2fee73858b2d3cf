package io.mfserve.solver.nmf;

import io.mfserve.solver.TrainingMatrix;
import java.util.Arrays;
import java.util.concurrent.ForkJoinPool;

/**
 * Sweeps for weighted NMF, where absent entries are unknown (ratings) and the Frobenius loss
 * covers the observed set Ω only:
 *
 * <pre>  L = ½ Σ_{(i,j) ∈ Ω} (x_ij − w_i · h_j)²
 *      + l1W Σ W + ½ l2W ‖W‖² + l1H Σ H + ½ l2H ‖H‖².</pre>
 *
 * <p>Each row of W is its own non-negative least-squares problem over the columns it observes
 * (and each row of H over the rows that observe it), so rows are updated independently from the
 * CSR form and columns from the CSC form:
 * <ul>
 *   <li>{@code mu}: the weighted multiplicative update (Lee and Seung 2001 with the mask M of
 *       observed entries, as in Mao and Saul 2004 and Ho 2008):
 *       {@code W ← W ∘ ((M∘X) H) / ((M∘(W Hᵀ)) H + l2 W + l1 + ε)}, and likewise for H. Cost
 *       O(nnz·k) per sweep.
 *   <li>{@code hals}: a weighted HALS. For row i it forms the row's own Gram matrix
 *       {@code G_i = Σ_{j ∈ Ω_i} h_j h_jᵀ} and right-hand side {@code a_i = Σ_{j ∈ Ω_i} x_ij h_j},
 *       then makes HALS coordinate passes (Cichocki and Phan 2009) on
 *       {@code ½ wᵀ G_i w − a_iᵀ w + l1 Σ w + ½ l2 ‖w‖²}: each coordinate exactly minimised, so
 *       the loss never rises. Building G_i costs far more than a pass, so a row gets several
 *       (see {@link Updater#passes}): close to an exact non-negative least-squares solve per
 *       row, like ALS. Cost O(nnz·k²) per sweep.
 * </ul>
 * A row with no observed entry does not enter the data term, so its minimiser is 0 and it is set
 * to 0 rather than left at its random start.
 */
final class WeightedUpdater extends Updater {
  private final int kk;
  private double sumW;
  private double normW;

  WeightedUpdater(TrainingMatrix x, int k, Penalty penalty, Method method, int innerSweeps,
      float[] w, float[] h, ForkJoinPool pool) {
    super(x, k, penalty, method, innerSweeps, w, h, pool, (int) scratchPerBlock(k));
    this.kk = k * k;
  }

  // Scratch layout: [0, k²) G, [k², k²+k) a or the MU numerator, [k²+k, k²+2k) the MU
  // denominator or HALS's copy of the row, then the block's Σ f, ‖f‖² and squared-error sums.

  @Override
  void updateW() {
    int sumAt = kk + 2 * k;
    int normAt = sumAt + 1;
    double l1 = penalty.l1W();
    double l2 = penalty.l2W();
    rowBlocks.forEach(pool, b -> {
      double[] s = scratch[b];
      s[sumAt] = 0;
      s[normAt] = 0;
      for (int i = rowBlocks.start(b); i < rowBlocks.end(b); i++) {
        int base = i * k;
        int from = x.rowStart(i);
        int to = x.rowEnd(i);
        if (from == to) {
          Arrays.fill(w, base, base + k, 0f);
          continue;
        }
        if (method == Method.HALS) {
          Arrays.fill(s, 0, kk + k, 0);
          for (int p = from; p < to; p++) {
            addGram(s, x.rowValue(p), h, x.rowColumn(p) * k);
          }
          mirror(s);
          hals(w, base, s, 0, s, kk, kk + k, l1, l2, passes((long) (to - from) * kk / 2));
        } else {
          Arrays.fill(s, kk, kk + 2 * k, 0);
          for (int p = from; p < to; p++) {
            int hb = x.rowColumn(p) * k;
            addMu(s, x.rowValue(p), dot(base, hb), h, hb);
          }
          finishMu(w, base, s, l1, l2);
        }
        s[sumAt] += sum(w, base);
        s[normAt] += normSq(w, base);
      }
    });
    sumW = sumSlot(rowBlocks, sumAt);
    normW = sumSlot(rowBlocks, normAt);
  }

  @Override
  double updateH() {
    int sumAt = kk + 2 * k;
    int normAt = sumAt + 1;
    int sseAt = normAt + 1;
    double l1 = penalty.l1H();
    double l2 = penalty.l2H();
    colBlocks.forEach(pool, b -> {
      double[] s = scratch[b];
      s[sumAt] = 0;
      s[normAt] = 0;
      s[sseAt] = 0;
      for (int j = colBlocks.start(b); j < colBlocks.end(b); j++) {
        int base = j * k;
        int from = x.colStart(j);
        int to = x.colEnd(j);
        if (from == to) {
          Arrays.fill(h, base, base + k, 0f);
          continue;
        }
        if (method == Method.HALS) {
          Arrays.fill(s, 0, kk + k, 0);
          for (int q = from; q < to; q++) {
            addGram(s, x.colValue(q), w, x.colRow(q) * k);
          }
          mirror(s);
          hals(h, base, s, 0, s, kk, kk + k, l1, l2, passes((long) (to - from) * kk / 2));
        } else {
          Arrays.fill(s, kk, kk + 2 * k, 0);
          for (int q = from; q < to; q++) {
            int wb = x.colRow(q) * k;
            addMu(s, x.colValue(q), dot(wb, base), w, wb);
          }
          finishMu(h, base, s, l1, l2);
        }
        s[sumAt] += sum(h, base);
        s[normAt] += normSq(h, base);
        // The loss over this column's observed entries, with W and the new h_j.
        double sse = 0;
        for (int q = from; q < to; q++) {
          double e = x.colValue(q) - dot(x.colRow(q) * k, base);
          sse += e * e;
        }
        s[sseAt] += sse;
      }
    });
    double sumH = sumSlot(colBlocks, sumAt);
    double normH = sumSlot(colBlocks, normAt);
    double sse = sumSlot(colBlocks, sseAt);
    return 0.5 * sse + penalty.value(sumW, normW, sumH, normH);
  }

  /** Adds {@code g gᵀ} to G's upper triangle and {@code v g} to a, g being {@code f[base..]}. */
  private void addGram(double[] s, float v, float[] f, int base) {
    for (int a = 0; a < k; a++) {
      double ga = f[base + a];
      s[kk + a] += v * ga;
      if (ga == 0) {
        continue;
      }
      int row = a * k;
      for (int c = a; c < k; c++) {
        s[row + c] += ga * f[base + c];
      }
    }
  }

  private void mirror(double[] s) {
    for (int a = 1; a < k; a++) {
      for (int c = 0; c < a; c++) {
        s[a * k + c] = s[c * k + a];
      }
    }
  }

  /** Adds one observed entry's share: {@code num += v g}, {@code den += (prediction) g}. */
  private void addMu(double[] s, float v, double prediction, float[] f, int base) {
    for (int t = 0; t < k; t++) {
      double g = f[base + t];
      s[kk + t] += v * g;
      s[kk + k + t] += prediction * g;
    }
  }

  private void finishMu(float[] f, int base, double[] s, double l1, double l2) {
    for (int t = 0; t < k; t++) {
      s[kk + k + t] += l2 * f[base + t] + l1;
    }
    muRow(f, base, k, s, kk, kk + k);
  }
}
