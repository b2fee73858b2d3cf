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
  /** Rows (or columns) of a dense X multiplied together, sharing each load of the factor. */
  private static final int GROUP = 4;

  private final int kk;
  /** Where in a block's scratch a dense group's GROUP right-hand sides go. */
  private final int groupAt;
  private final double[] gramW;
  private final double[] gramH;
  private final double xNormSq;
  private double sumW;
  private double sumH;
  /** Extrapolation state (null when off): see {@link Extrapolation}. */
  private final Extrapolation extra;

  FullUpdater(TrainingMatrix x, int k, Penalty penalty, Method method, int innerSweeps,
      float[] w, float[] h, ForkJoinPool pool) {
    this(x, k, penalty, method, innerSweeps, false, w, h, pool);
  }

  /**
   * As above; with {@code extrapolate} (HALS only) each sweep is followed by Ang and Gillis's
   * extrapolation with restarts (see {@link Extrapolation}).
   */
  FullUpdater(TrainingMatrix x, int k, Penalty penalty, Method method, int innerSweeps,
      boolean extrapolate, float[] w, float[] h, ForkJoinPool pool) {
    // A dense X is multiplied GROUP rows at a time: blocks of whole groups keep every row on
    // the fast path.
    super(x, k, penalty, method, innerSweeps, w, h, pool,
        (int) (scratchPerBlock(k) + GROUP * (long) k), x.isDense() ? GROUP : 1);
    this.kk = k * k;
    this.groupAt = (int) scratchPerBlock(k);
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
    this.extra = extrapolate && method == Method.HALS ? new Extrapolation(w, h, kk) : null;
  }

  @Override
  boolean rejected() {
    return extra != null && extra.rejected;
  }

  // Scratch layout: [0, k²) partial Gram, [k², k²+k) the row of X H (or Xᵀ W), [k²+k, k²+2k)
  // the row being updated (HALS) or the MU denominator, then the block's Σ f and tr(Wᵀ X H).

  @Override
  void updateW() {
    int sumAt = kk + 2 * k;
    double l1 = penalty.l1W();
    double l2 = penalty.l2W();
    if (extra != null) {
      extra.keep(w, h, gramH, sumH);
    }
    rowBlocks.forEach(pool, b -> {
      double[] s = scratch[b];
      Arrays.fill(s, 0, kk, 0);
      s[sumAt] = 0;
      int start = rowBlocks.start(b);
      int end = rowBlocks.end(b);
      for (int i = start; i < end; i++) {
        int from = x.rowStart(i);
        int to = x.rowEnd(i);
        int g = (i - start) % GROUP;
        if (!x.isDense() || i - g + GROUP > end) {
          Products.rowTimes(x, i, h, k, s, kk);
        } else {
          if (g == 0) {
            denseRowTimes(i, h, s, groupAt);
          }
          System.arraycopy(s, groupAt + g * k, s, kk, k);
        }
        step(w, i * k, gramH, s, l1, l2, (long) (to - from) * k);
        if (extra != null) {
          extra.extrapolate(w, extra.baseW, i * k, k);
        }
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
      int start = colBlocks.start(b);
      int end = colBlocks.end(b);
      for (int j = start; j < end; j++) {
        int from = x.colStart(j);
        int to = x.colEnd(j);
        int g = (j - start) % GROUP;
        if (!x.isDense() || j - g + GROUP > end) {
          Products.colTimes(x, j, w, k, s, kk);
        } else {
          if (g == 0) {
            denseColTimes(j, w, s, groupAt);
          }
          System.arraycopy(s, groupAt + g * k, s, kk, k);
        }
        step(h, j * k, gramW, s, l1, l2, (long) (to - from) * k);
        if (extra != null) {
          extra.extrapolate(h, extra.baseH, j * k, k);
        }
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
    double value = loss(sumSlot(colBlocks, crossAt));
    if (extra == null || !Double.isFinite(value)) {
      return value;
    }
    if (extra.accept(value)) {
      return value;
    }
    // Restart: back to the pair this sweep started from, whose loss is known.
    sumH = extra.restore(w, h, gramH);
    return extra.held;
  }

  /**
   * HALS with extrapolation and restarts, "HER" of A. M. S. Ang and N. Gillis, "Accelerating
   * nonnegative matrix factorization algorithms using extrapolation", Neural Computation 31(2),
   * 2019, Algorithm 2: after a row is updated to r, it is replaced by
   * {@code max(0, r + β (r − r_prev))}, r_prev being the row's plain HALS iterate of the previous
   * sweep, and the next half-sweep works from the extrapolated rows. β starts at ½ and grows by
   * 5% per sweep that lowers the loss, up to a cap β̄ ≤ 1 that itself grows by 1%; a sweep that
   * raises the loss is undone (the pair goes back to where the sweep started, the loss is
   * known), β is divided by 1.5 and β̄ set to the β that failed. Their experiments (and ours on
   * the benchmark matrices) reach a given error in a half to a third of the sweeps of HALS.
   *
   * <p>Holds two more copies of W and H: the previous plain iterates and the pair a sweep
   * started from.
   */
  static final class Extrapolation {
    static final double BETA_START = 0.5;
    static final double GROW = 1.05;
    static final double GROW_CAP = 1.01;
    static final double SHRINK = 1.5;

    final float[] baseW;
    final float[] baseH;
    private final float[] keptW;
    private final float[] keptH;
    private final double[] keptGramH;
    private double keptSumH;
    double beta = BETA_START;
    double cap = 1;
    double held = Double.POSITIVE_INFINITY;
    boolean rejected;
    private boolean primed;

    Extrapolation(float[] w, float[] h, int kk) {
      baseW = w.clone();
      baseH = h.clone();
      keptW = new float[w.length];
      keptH = new float[h.length];
      keptGramH = new double[kk];
    }

    /** Copies the pair (and H's Gram matrix and sum) a sweep starts from. */
    void keep(float[] w, float[] h, double[] gramH, double sumH) {
      System.arraycopy(w, 0, keptW, 0, w.length);
      System.arraycopy(h, 0, keptH, 0, h.length);
      System.arraycopy(gramH, 0, keptGramH, 0, gramH.length);
      keptSumH = sumH;
    }

    /** Extrapolates row {@code f[at..at+k)} from its plain iterate, which base then keeps. */
    void extrapolate(float[] f, float[] base, int at, int k) {
      if (!primed) {
        // The first sweep has no previous HALS iterate to extrapolate from: the start is not one.
        System.arraycopy(f, at, base, at, k);
        return;
      }
      for (int t = at; t < at + k; t++) {
        float r = f[t];
        double e = r + beta * (r - base[t]);
        base[t] = r;
        f[t] = e > 0 ? (float) e : 0f;
      }
    }

    /** Accepts a sweep whose loss is no higher than the held one, adapting β either way. */
    boolean accept(double value) {
      rejected = value > held;
      if (rejected) {
        cap = beta;
        beta /= SHRINK;
        return false;
      }
      held = value;
      if (!primed) {
        primed = true;
        return true;
      }
      beta = Math.min(cap, beta * GROW);
      cap = Math.min(1, cap * GROW_CAP);
      return true;
    }

    /** Puts back the kept pair and H's Gram matrix; returns H's sum. */
    double restore(float[] w, float[] h, double[] gramH) {
      System.arraycopy(keptW, 0, w, 0, w.length);
      System.arraycopy(keptH, 0, h, 0, h.length);
      System.arraycopy(keptGramH, 0, gramH, 0, gramH.length);
      // The next sweep extrapolates from the restored pair itself: no momentum at first.
      System.arraycopy(keptW, 0, baseW, 0, w.length);
      System.arraycopy(keptH, 0, baseH, 0, h.length);
      return keptSumH;
    }
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
    // MU: f ← f ∘ a / (G f + l2 f + l1); the denominator goes into the spare k doubles, G f
    // summed a row of G at a time (G is symmetric) for the reason hals() gives.
    for (int t = 0; t < k; t++) {
      s[kk + k + t] = l2 * f[base + t] + l1;
    }
    for (int r = 0; r < k; r++) {
      double fr = f[base + r];
      if (fr != 0) {
        for (int t = 0; t < k; t++) {
          s[kk + k + t] += gram[r * k + t] * fr;
        }
      }
    }
    muRow(f, base, k, s, kk, kk + k);
  }

  /**
   * Rows i..i+3 of X F for a dense X, into {@code s[off..off+4k)}: a 4 × 4 register block of
   * sums (four rows by four coordinates), so each value of X and of F loaded feeds four
   * multiply-adds. About three times the speed of {@link Products#rowTimes} on a dense matrix
   * (measured: 2,000 × 1,000 times 1,000 × 20 in 7.5 ms instead of 23 ms on one core).
   */
  private void denseRowTimes(int i, float[] f, double[] s, int off) {
    int m = x.cols();
    int b0 = x.rowStart(i);
    int b1 = x.rowStart(i + 1);
    int b2 = x.rowStart(i + 2);
    int b3 = x.rowStart(i + 3);
    int t = 0;
    for (; t + 3 < k; t += 4) {
      double a00 = 0, a01 = 0, a02 = 0, a03 = 0, a10 = 0, a11 = 0, a12 = 0, a13 = 0;
      double a20 = 0, a21 = 0, a22 = 0, a23 = 0, a30 = 0, a31 = 0, a32 = 0, a33 = 0;
      for (int j = 0, fb = t; j < m; j++, fb += k) {
        double f0 = f[fb];
        double f1 = f[fb + 1];
        double f2 = f[fb + 2];
        double f3 = f[fb + 3];
        double x0 = x.rowValue(b0 + j);
        double x1 = x.rowValue(b1 + j);
        double x2 = x.rowValue(b2 + j);
        double x3 = x.rowValue(b3 + j);
        a00 += x0 * f0;
        a01 += x0 * f1;
        a02 += x0 * f2;
        a03 += x0 * f3;
        a10 += x1 * f0;
        a11 += x1 * f1;
        a12 += x1 * f2;
        a13 += x1 * f3;
        a20 += x2 * f0;
        a21 += x2 * f1;
        a22 += x2 * f2;
        a23 += x2 * f3;
        a30 += x3 * f0;
        a31 += x3 * f1;
        a32 += x3 * f2;
        a33 += x3 * f3;
      }
      store4(s, off + t, k, a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, a23, a30,
          a31, a32, a33);
    }
    for (; t < k; t++) {
      double a0 = 0;
      double a1 = 0;
      double a2 = 0;
      double a3 = 0;
      for (int j = 0, fb = t; j < m; j++, fb += k) {
        double fv = f[fb];
        a0 += x.rowValue(b0 + j) * fv;
        a1 += x.rowValue(b1 + j) * fv;
        a2 += x.rowValue(b2 + j) * fv;
        a3 += x.rowValue(b3 + j) * fv;
      }
      s[off + t] = a0;
      s[off + k + t] = a1;
      s[off + 2 * k + t] = a2;
      s[off + 3 * k + t] = a3;
    }
  }

  /** Columns j..j+3 of Xᵀ F for a dense X, as {@link #denseRowTimes} over the CSC form. */
  private void denseColTimes(int j, float[] f, double[] s, int off) {
    int m = x.rows();
    int b0 = x.colStart(j);
    int b1 = x.colStart(j + 1);
    int b2 = x.colStart(j + 2);
    int b3 = x.colStart(j + 3);
    int t = 0;
    for (; t + 3 < k; t += 4) {
      double a00 = 0, a01 = 0, a02 = 0, a03 = 0, a10 = 0, a11 = 0, a12 = 0, a13 = 0;
      double a20 = 0, a21 = 0, a22 = 0, a23 = 0, a30 = 0, a31 = 0, a32 = 0, a33 = 0;
      for (int i = 0, fb = t; i < m; i++, fb += k) {
        double f0 = f[fb];
        double f1 = f[fb + 1];
        double f2 = f[fb + 2];
        double f3 = f[fb + 3];
        double x0 = x.colValue(b0 + i);
        double x1 = x.colValue(b1 + i);
        double x2 = x.colValue(b2 + i);
        double x3 = x.colValue(b3 + i);
        a00 += x0 * f0;
        a01 += x0 * f1;
        a02 += x0 * f2;
        a03 += x0 * f3;
        a10 += x1 * f0;
        a11 += x1 * f1;
        a12 += x1 * f2;
        a13 += x1 * f3;
        a20 += x2 * f0;
        a21 += x2 * f1;
        a22 += x2 * f2;
        a23 += x2 * f3;
        a30 += x3 * f0;
        a31 += x3 * f1;
        a32 += x3 * f2;
        a33 += x3 * f3;
      }
      store4(s, off + t, k, a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, a23, a30,
          a31, a32, a33);
    }
    for (; t < k; t++) {
      double a0 = 0;
      double a1 = 0;
      double a2 = 0;
      double a3 = 0;
      for (int i = 0, fb = t; i < m; i++, fb += k) {
        double fv = f[fb];
        a0 += x.colValue(b0 + i) * fv;
        a1 += x.colValue(b1 + i) * fv;
        a2 += x.colValue(b2 + i) * fv;
        a3 += x.colValue(b3 + i) * fv;
      }
      s[off + t] = a0;
      s[off + k + t] = a1;
      s[off + 2 * k + t] = a2;
      s[off + 3 * k + t] = a3;
    }
  }

  /** Writes a 4 × 4 block: row r of it to {@code s[at + r·k .. at + r·k + 4)}. */
  private static void store4(double[] s, int at, int k, double a00, double a01, double a02,
      double a03, double a10, double a11, double a12, double a13, double a20, double a21,
      double a22, double a23, double a30, double a31, double a32, double a33) {
    s[at] = a00;
    s[at + 1] = a01;
    s[at + 2] = a02;
    s[at + 3] = a03;
    s[at + k] = a10;
    s[at + k + 1] = a11;
    s[at + k + 2] = a12;
    s[at + k + 3] = a13;
    s[at + 2 * k] = a20;
    s[at + 2 * k + 1] = a21;
    s[at + 2 * k + 2] = a22;
    s[at + 2 * k + 3] = a23;
    s[at + 3 * k] = a30;
    s[at + 3 * k + 1] = a31;
    s[at + 3 * k + 2] = a32;
    s[at + 3 * k + 3] = a33;
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
