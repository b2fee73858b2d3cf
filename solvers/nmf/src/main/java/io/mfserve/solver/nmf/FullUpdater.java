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
 *
 * <p>A dense X takes another road to the same arithmetic, shaped for SIMD: its products a tile
 * of rows at a time ({@link DenseProducts}), and HALS over the whole tile at once, factor-major
 * ({@link #halsTile}), instead of row by row. On the benchmark's 2,000 × 1,000 matrix at
 * k = 20, two threads: 3.3 ms per sweep instead of 15.4 ms, and the whole fit (NNDSVDA start,
 * 42 sweeps) 0.16 s instead of 0.69 s. Multiplicative updates keep the row kernel.
 */
final class FullUpdater extends Updater {
  private final int kk;
  /** Rows (or columns) of a dense X per product tile; 0 for a sparse X. */
  private final int tile;
  /** Each block's buffers for the dense products; null for a sparse X. */
  private final DenseProducts.Workspace[] spaces;
  private final double[] gramW;
  private final double[] gramH;
  private final double xNormSq;
  private double sumW;
  private double sumH;
  /** The projected gradient's L1 norm at the points the last sweep's halves started from. */
  private double violation;
  /** Extrapolation state (null when off): see {@link Extrapolation}. */
  private final Extrapolation extra;

  /**
   * An updater of w and h in place; with {@code extrapolate} (HALS only) each sweep is followed
   * by Ang and Gillis's extrapolation with restarts (see {@link Extrapolation}).
   */
  FullUpdater(TrainingMatrix x, int k, Penalty penalty, Method method, int innerSweeps,
      boolean extrapolate, float[] w, float[] h, ForkJoinPool pool) {
    // A dense X is multiplied a tile of rows at a time: blocks of whole tiles keep the SIMD
    // loops at full length.
    super(x, k, penalty, method, innerSweeps, w, h, pool, (int) scratchPerBlock(k),
        x.isDense() ? DenseProducts.tile(k) : 1);
    this.kk = k * k;
    this.tile = x.isDense() ? DenseProducts.tile(k) : 0;
    if (x.isDense()) {
      spaces = new DenseProducts.Workspace[scratch.length];
      for (int b = 0; b < spaces.length; b++) {
        spaces[b] = new DenseProducts.Workspace(k, tile);
      }
    } else {
      spaces = null;
    }
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

  @Override
  boolean plainSweepNext() {
    if (extra == null || extra.lastPlain) {
      return false;
    }
    extra.paused = true;
    return true;
  }

  // Scratch layout: [0, k²) partial Gram, [k², k²+k) the row of X H (or Xᵀ W), [k²+k, k²+2k)
  // the row being updated (HALS) or the MU denominator, then the block's Σ f and tr(Wᵀ X H).

  @Override
  void updateW() {
    if (extra != null) {
      extra.keep(w, h, gramH, sumH);
    }
    half(true);
    combineGram(rowBlocks, gramW);
    sumW = sumSlot(rowBlocks, kk + 2 * k);
    violation = sumSlot(rowBlocks, kk + 2 * k + 2);
  }

  @Override
  double violation() {
    return violation;
  }

  @Override
  double updateH() {
    int sumAt = kk + 2 * k;
    int crossAt = sumAt + 1;
    half(false);
    combineGram(colBlocks, gramH);
    sumH = sumSlot(colBlocks, sumAt);
    violation += sumSlot(colBlocks, sumAt + 2);
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
   * Updates every row of W (when {@code rows}) against H, or every row of H against W, leaving
   * in each block's scratch the rows' partial Gram matrix and sum and, for H, the block's share
   * of {@code tr(Wᵀ X H)}. The halves differ only in the side they write and the form of X (CSR
   * or CSC) they read.
   */
  private void half(boolean rows) {
    int sumAt = kk + 2 * k;
    int crossAt = sumAt + 1;
    int violationAt = sumAt + 2;
    float[] f = rows ? w : h;
    float[] other = rows ? h : w;
    double[] gram = rows ? gramH : gramW;
    float[] extraBase = extra == null ? null : rows ? extra.baseW : extra.baseH;
    Blocks blocks = rows ? rowBlocks : colBlocks;
    double l1 = rows ? penalty.l1W() : penalty.l1H();
    double l2 = rows ? penalty.l2W() : penalty.l2H();
    blocks.forEach(pool, b -> {
      double[] s = scratch[b];
      Arrays.fill(s, 0, kk, 0);
      s[sumAt] = 0;
      s[crossAt] = 0;
      s[violationAt] = 0;
      int start = blocks.start(b);
      int end = blocks.end(b);
      DenseProducts.Workspace ws = spaces == null ? null : spaces[b];
      int lo = start;
      int hi = start;
      for (int i = start; i < end; i++) {
        int base = i * k;
        long cost = (long) (rows ? x.rowLength(i) : x.colLength(i)) * k;
        if (ws == null) {
          if (rows) {
            Products.rowTimes(x, i, other, k, s, kk);
          } else {
            Products.colTimes(x, i, other, k, s, kk);
          }
        } else {
          if (i == hi) {
            lo = i;
            hi = Math.min(end, lo + tile);
            if (rows) {
              DenseProducts.rowsTimes(x, lo, hi, other, k, ws);
            } else {
              DenseProducts.colsTimes(x, lo, hi, other, k, ws);
            }
            if (method == Method.HALS) {
              s[violationAt] += halsTile(f, lo, hi - lo, gram, ws, l1, l2, passes(cost));
            }
          }
          gather(ws, i - lo, s);
        }
        if (ws == null || method != Method.HALS) {
          s[violationAt] += step(f, base, gram, s, l1, l2, cost);
        }
        if (extra != null) {
          extra.extrapolate(f, extraBase, base, k);
        }
        addOuter(f, base, s);
        s[sumAt] += sum(f, base);
        if (!rows) {
          // tr(Wᵀ X H) with the new H, one column of X at a time: h_j · (Xᵀ W)_j.
          double c = 0;
          for (int t = 0; t < k; t++) {
            c += h[base + t] * s[kk + t];
          }
          s[crossAt] += c;
        }
      }
    });
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
    /** Whether the next sweep is plain HALS (see {@link FullUpdater#plainSweepNext}). */
    boolean paused;
    /** Whether the last sweep was plain HALS: the first, or one that was paused. */
    boolean lastPlain = true;
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
      if (!primed || paused) {
        // The first sweep has no previous HALS iterate to extrapolate from: the start is not one.
        // A paused sweep is plain HALS; its iterate is the next one's base.
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
      lastPlain = !primed || paused;
      paused = false;
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

  /**
   * Updates one row given the other side's Gram G and the row of X H (or Xᵀ W) in s; returns
   * the L1 norm of the row's projected gradient where it started.
   */
  private double step(float[] f, int base, double[] gram, double[] s, double l1, double l2,
      long setupCost) {
    if (method == Method.HALS) {
      return hals(f, base, gram, 0, s, kk, kk + k, l1, l2, passes(setupCost));
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
    double violation = 0;
    for (int t = 0; t < k; t++) {
      // The gradient is the denominator less the numerator: G f + l2 f + l1 − a.
      violation += projected(f[base + t], s[kk + k + t] - s[kk + t]);
    }
    muRow(f, base, k, s, kk, kk + k);
    return violation;
  }

  /** Copies row r of a dense tile's product to {@code s[k²..k²+k)}. */
  private void gather(DenseProducts.Workspace ws, int r, double[] s) {
    double[][] out = ws.out;
    for (int t = 0; t < k; t++) {
      s[kk + t] = out[t][r];
    }
  }

  /**
   * HALS on the {@code len} rows of f from row {@code lo}, whose right-hand sides are the tile's
   * product in {@code ws.out}: the same coordinate updates as {@link Updater#hals} makes row by
   * row (the rows are independent subproblems, so updating coordinate t of every row of the
   * tile, then t + 1, visits each row's coordinates in the same order), but laid out
   * factor-major so that every loop runs over the tile's rows with the same index on separate
   * arrays, which the JIT compiles to SIMD: per coordinate, one elementwise step and k axpys of
   * the step into the gradients. Passes stop early, as in {@link Updater#hals}, once a pass
   * moves the tile by under √{@link Updater#PASS_STOP_SQ} of what the first moved it (the tile
   * as a whole rather than each row: Gillis and Glineur's own criterion is on the whole
   * factor).
   *
   * <p>The tile's rows, gradients and steps are floats (eight SIMD lanes rather than four); the
   * gradient starts from the double-precision product at every update of the tile, so its
   * rounding lasts one update's passes and does not build up over sweeps. Measured on the
   * benchmark's dense matrix, the fit's sweeps and final error match the double-precision
   * version to six digits.
   */
  double halsTile(float[] f, int lo, int len, double[] gram, DenseProducts.Workspace ws,
      double l1, double l2, int maxPasses) {
    float[][] v = ws.vals;
    float[][] g = ws.grad;
    double[][] p = ws.out;
    float[] d = ws.delta;
    float[] m = ws.moved;
    for (int r = 0; r < len; r++) {
      int base = (lo + r) * k;
      for (int t = 0; t < k; t++) {
        v[t][r] = f[base + t];
      }
    }
    for (int t = 0; t < k; t++) {
      float[] gt = g[t];
      float[] vt = v[t];
      double[] pt = p[t];
      for (int r = 0; r < len; r++) {
        gt[r] = (float) (l1 - pt[r] + l2 * vt[r]);
      }
      for (int q = 0; q < k; q++) {
        float c = (float) gram[t * k + q];
        if (c != 0) {
          DenseProducts.axpy(gt, c, v[q], len);
        }
      }
    }
    double violation = 0;
    for (int t = 0; t < k; t++) {
      float[] vt = v[t];
      float[] gt = g[t];
      for (int r = 0; r < len; r++) {
        violation += projected(vt[r], gt[r]);
      }
    }
    double first = 0;
    for (int pass = 0; pass < maxPasses; pass++) {
      Arrays.fill(m, 0, len, 0);
      for (int t = 0; t < k; t++) {
        double hess = gram[t * k + t] + l2;
        float[] vt = v[t];
        float[] gt = g[t];
        if (hess > 0) {
          float inv = (float) (1 / hess);
          for (int r = 0; r < len; r++) {
            float old = vt[r];
            float nv = Math.max(old - gt[r] * inv, 0f);
            d[r] = nv - old;
            vt[r] = nv;
            m[r] += (nv - old) * (nv - old);
          }
        } else if (l1 > 0) {
          // The data term ignores this coordinate; the L1 penalty's minimiser is 0.
          for (int r = 0; r < len; r++) {
            float old = vt[r];
            d[r] = -old;
            vt[r] = 0;
            m[r] += old * old;
          }
        } else {
          continue;
        }
        for (int q = 0; q < k; q++) {
          float c = (float) gram[t * k + q];
          if (c != 0) {
            DenseProducts.axpy(g[q], c, d, len);
          }
        }
        if (l2 != 0) {
          DenseProducts.axpy(gt, (float) l2, d, len);
        }
      }
      double moved = 0;
      for (int r = 0; r < len; r++) {
        moved += m[r];
      }
      if (pass == 0) {
        first = moved;
      }
      if (moved <= PASS_STOP_SQ * first || moved == 0) {
        break;
      }
    }
    for (int r = 0; r < len; r++) {
      int base = (lo + r) * k;
      for (int t = 0; t < k; t++) {
        f[base + t] = v[t][r];
      }
    }
    return violation;
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
