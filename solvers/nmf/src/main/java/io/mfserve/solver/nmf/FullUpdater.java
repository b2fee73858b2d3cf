package io.mfserve.solver.nmf;

import io.mfserve.solver.TrainingMatrix;
import java.util.Arrays;
import java.util.concurrent.ForkJoinPool;

/**
 * Sweeps for the Frobenius objective where every entry counts: a dense matrix, or a sparse one
 * whose absent entries are zeros. Minimises
 *
 * <pre>  L = ½ ‖X − W Hᵀ‖² + l1W Σ W + ½ l2W ‖W‖² + l1H Σ H + ½ l2H ‖H‖².</pre>
 *
 * <p>Everything is computed from the stored entries only, so a sparse matrix is never densified:
 * a row of X H is {@code Σ_p x_ip h_{c(p)}} over the row's stored entries (CSR), a row of Xᵀ W
 * likewise over a column (CSC), and the data term is
 * {@code ½ (‖X‖² − 2 tr(Wᵀ X H) + ⟨WᵀW, HᵀH⟩)}, whose pieces fall out of the sweeps: the k × k
 * Gram matrices are summed while rows are written, and {@code tr(Wᵀ X H) = Σ_j h_j · (Xᵀ W)_j}
 * while H is. One sweep costs O(nnz·k + (rows + cols)·k²·passes).
 */
final class FullUpdater extends Updater {
  private final int kk;
  private final double[] gramW;
  private final double[] gramH;
  private final double xNormSq;
  private double sumW;
  private double sumH;

  FullUpdater(TrainingMatrix x, int k, Penalty penalty, Method method, int innerSweeps,
      float[] w, float[] h, ForkJoinPool pool) {
    super(x, k, penalty, method, innerSweeps, w, h, pool, (int) scratchPerBlock(k));
    this.kk = k * k;
    this.gramW = new double[kk];
    this.gramH = new double[kk];
    double sq = 0;
    for (int r = 0; r < x.rows(); r++) {
      for (int p = x.rowStart(r); p < x.rowEnd(r); p++) {
        double v = x.rowValue(p);
        sq += v * v;
      }
    }
    this.xNormSq = sq;
    int sumAt = kk + 2 * k;
    colBlocks.forEach(pool, b -> {
      double[] s = scratch[b];
      Arrays.fill(s, 0, kk, 0);
      s[sumAt] = 0;
      for (int j = colBlocks.start(b); j < colBlocks.end(b); j++) {
        addOuter(h, j * k, s);
        s[sumAt] += sum(h, j * k);
      }
    });
    combineGram(colBlocks, gramH);
    sumH = sumSlot(colBlocks, sumAt);
  }

  // Scratch layout: [0, k²) partial Gram, [k², k²+k) the row of X H (or Xᵀ W), [k²+k, k²+2k)
  // the row being updated (HALS) or the MU denominator, then the block's Σ f and tr(Wᵀ X H).

  @Override
  void updateW() {
    int sumAt = kk + 2 * k;
    double l1 = penalty.l1W();
    double l2 = penalty.l2W();
    rowBlocks.forEach(pool, b -> {
      double[] s = scratch[b];
      Arrays.fill(s, 0, kk, 0);
      s[sumAt] = 0;
      for (int i = rowBlocks.start(b); i < rowBlocks.end(b); i++) {
        Arrays.fill(s, kk, kk + k, 0);
        int from = x.rowStart(i);
        int to = x.rowEnd(i);
        for (int p = from; p < to; p++) {
          accumulate(s, kk, x.rowValue(p), h, x.rowColumn(p) * k);
        }
        step(w, i * k, gramH, s, l1, l2, (long) (to - from) * k);
        addOuter(w, i * k, s);
        s[sumAt] += sum(w, i * k);
      }
    });
    combineGram(rowBlocks, gramW);
    sumW = sumSlot(rowBlocks, sumAt);
  }

  @Override
  double updateH() {
    int sumAt = kk + 2 * k;
    int crossAt = sumAt + 1;
    double l1 = penalty.l1H();
    double l2 = penalty.l2H();
    colBlocks.forEach(pool, b -> {
      double[] s = scratch[b];
      Arrays.fill(s, 0, kk, 0);
      s[sumAt] = 0;
      s[crossAt] = 0;
      for (int j = colBlocks.start(b); j < colBlocks.end(b); j++) {
        Arrays.fill(s, kk, kk + k, 0);
        int from = x.colStart(j);
        int to = x.colEnd(j);
        for (int q = from; q < to; q++) {
          accumulate(s, kk, x.colValue(q), w, x.colRow(q) * k);
        }
        step(h, j * k, gramW, s, l1, l2, (long) (to - from) * k);
        addOuter(h, j * k, s);
        s[sumAt] += sum(h, j * k);
        // tr(Wᵀ X H) with the new H, one column of X at a time: h_j · (Xᵀ W)_j.
        double c = 0;
        for (int t = 0; t < k; t++) {
          c += h[j * k + t] * s[kk + t];
        }
        s[crossAt] += c;
      }
    });
    combineGram(colBlocks, gramH);
    sumH = sumSlot(colBlocks, sumAt);
    return loss(sumSlot(colBlocks, crossAt));
  }

  private double loss(double cross) {
    double model = 0;
    for (int n = 0; n < kk; n++) {
      model += gramW[n] * gramH[n];
    }
    double traceW = 0;
    double traceH = 0;
    for (int t = 0; t < k; t++) {
      traceW += gramW[t * k + t];
      traceH += gramH[t * k + t];
    }
    // The expansion cancels when the fit is nearly exact; rounding may leave it a hair below 0.
    double data = Math.max(0, xNormSq - 2 * cross + model);
    return 0.5 * data + penalty.value(sumW, traceW, sumH, traceH);
  }

  /** Updates one row given the other side's Gram G and the row of X H (or Xᵀ W) in s. */
  private void step(float[] f, int base, double[] gram, double[] s, double l1, double l2,
      long setupCost) {
    if (method == Method.HALS) {
      hals(f, base, gram, 0, s, kk, kk + k, l1, l2, passes(setupCost));
      return;
    }
    // MU: f ← f ∘ a / (f G + l2 f + l1); the denominator goes into the spare k doubles.
    for (int t = 0; t < k; t++) {
      double den = l2 * f[base + t] + l1;
      for (int r = 0; r < k; r++) {
        den += gram[t * k + r] * f[base + r];
      }
      s[kk + k + t] = den;
    }
    muRow(f, base, k, s, kk, kk + k);
  }

  /** {@code s[off..off+k) += v · f[base..base+k)}; a zero entry adds nothing, so skip it. */
  private void accumulate(double[] s, int off, float v, float[] f, int base) {
    if (v == 0) {
      return;
    }
    for (int t = 0; t < k; t++) {
      s[off + t] += v * (double) f[base + t];
    }
  }

  /** Adds the outer product of row {@code f[base..]} with itself to s's upper triangle. */
  private void addOuter(float[] f, int base, double[] s) {
    for (int a = 0; a < k; a++) {
      double fa = f[base + a];
      if (fa == 0) {
        continue;
      }
      int row = a * k;
      for (int c = a; c < k; c++) {
        s[row + c] += fa * f[base + c];
      }
    }
  }

  /** Sums the blocks' upper triangles in block order and mirrors the result. */
  private void combineGram(Blocks blocks, double[] gram) {
    Arrays.fill(gram, 0);
    for (int b = 0; b < blocks.count(); b++) {
      double[] s = scratch[b];
      for (int a = 0; a < k; a++) {
        for (int c = a; c < k; c++) {
          gram[a * k + c] += s[a * k + c];
        }
      }
    }
    for (int a = 0; a < k; a++) {
      for (int c = 0; c < a; c++) {
        gram[a * k + c] = gram[c * k + a];
      }
    }
  }
}
