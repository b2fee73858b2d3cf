package io.mfserve.solver.nmf;

import io.mfserve.solver.TrainingMatrix;
import java.util.Arrays;
import java.util.concurrent.ForkJoinPool;

/**
 * The products of a dense X with a factor, a tile of rows (or columns) at a time, written so
 * that the JIT compiles the hot loop to SIMD: rows {@code [lo, hi)} of X F are
 * {@code Σ_j F_{j·} ⊗ X[lo..hi, j]}, so for each column j of X its run {@code X[lo..hi, j]} is
 * copied into an array of its own and added, times {@code F_jt}, to accumulator t, one float
 * array per factor coordinate. That loop, {@code acc[r] += c · xs[r]}, reads and writes two
 * separate arrays at the same index, which C2 (JDK 17) vectorises; a dot product (a reduction)
 * or an axpy whose two arrays are indexed at different offsets it leaves scalar. Four columns
 * go into one accumulator per loop ({@link #axpy4}). Measured on the benchmark's 2,000 × 1,000
 * matrix at k = 20 (thread CPU time, one core, on a shared 2-core EPYC): about 1.5–2 ms per
 * product, against 10.9 ms for {@link Products#rowTimes} over the same rows and 7.5 ms
 * documented for the scalar 4 × 4 register-blocked kernel this replaced.
 *
 * <p>Precision: the accumulators are floats (a float product summed into a double array is not
 * vectorised on JDK 17), emptied into double sums every {@link #CHUNK} columns, so each float
 * sum has at most {@link #CHUNK} terms; the rounding of one such sum is about 1e-7 of it and
 * independent between entries, so it averages out of the loss computed from the products (see
 * {@code FullUpdater}): on the benchmark matrix the final relative error from the reported loss
 * and from the factors directly agree to six digits.
 *
 * <p>X must be dense, so that the entry (r, c) sits at {@code rowStart(r) + c} and at
 * {@code colStart(c) + r}. Stateless; each thread brings its own {@link Workspace}.
 */
final class DenseProducts {
  /** Columns (or rows) of X summed in float before the sums move to double. */
  static final int CHUNK = 256;
  /** The longest tile: longer loops cost less set-up per element (measured best at 512). */
  static final int MAX_TILE = 512;
  /**
   * The accumulators' budget in floats (128 KiB, an L2 cache's share), which bounds the tile
   * at large k and with it each block's workspace.
   */
  private static final int ACC_FLOATS = 32 * 1024;

  private DenseProducts() { }

  /**
   * Returns the rows per tile for rank k: a multiple of 16 (whole SIMD vectors) between 64 and
   * {@link #MAX_TILE} whose k accumulators fit {@link #ACC_FLOATS}. The loops' set-up is paid
   * per tile row run, so long tiles win even when the accumulators spill from L1 to L2
   * (measured at k = 20 on 2,000 × 1,000: 2.3 ms per product at 256 rows, 2.0 ms at 512; at
   * k = 50, 6.7 ms at 112, 4.0 ms at 512).
   */
  static int tile(int k) {
    int t = (ACC_FLOATS / Math.max(1, k)) & ~15;
    return Math.max(64, Math.min(MAX_TILE, t));
  }

  /** Returns the bytes of one {@link Workspace} at rank k. */
  static long workspaceBytes(int k) {
    long tile = tile(k);
    // Four runs, the step and movement rows; per coordinate the accumulator, the values and
    // gradients (floats) and the double product.
    return tile * (6L * Float.BYTES + (long) k * (3L * Float.BYTES + Double.BYTES)) + 64L * k;
  }

  /** A thread's buffers for tiles of up to {@link #tile} rows at rank k. */
  static final class Workspace {
    final float[] run0;
    final float[] run1;
    final float[] run2;
    final float[] run3;
    final float[][] acc;
    /** The tile's product, factor-major: coordinate t of row lo + r at {@code out[t][r]}. */
    final double[][] out;
    /** The tile's rows of the factor being updated, factor-major (see FullUpdater's HALS). */
    final float[][] vals;
    /** The gradient of the tile's rows, factor-major. */
    final float[][] grad;
    /** One coordinate's step for each row of the tile. */
    final float[] delta;
    /** Each row's squared movement in the current pass. */
    final float[] moved;

    /** Buffers for the products and for FullUpdater's tiled HALS. */
    Workspace(int k, int tile) {
      this(k, tile, true);
    }

    /** Buffers for the products, and for the tiled HALS when {@code hals}. */
    Workspace(int k, int tile, boolean hals) {
      run0 = new float[tile];
      run1 = new float[tile];
      run2 = new float[tile];
      run3 = new float[tile];
      acc = new float[k][tile];
      out = new double[k][tile];
      int n = hals ? tile : 0;
      vals = new float[hals ? k : 0][n];
      grad = new float[hals ? k : 0][n];
      delta = new float[n];
      moved = new float[n];
    }
  }

  /**
   * Rows {@code [lo, hi)} of {@code X F} (F: cols × k, row-major) into {@code ws.out}, coordinate
   * t of row r at {@code out[t][r − lo]}.
   */
  static void rowsTimes(TrainingMatrix x, int lo, int hi, float[] f, int k, Workspace ws) {
    tile(x, true, lo, hi, f, k, ws);
  }

  /**
   * Columns {@code [lo, hi)} of {@code Xᵀ F} (F: rows × k, row-major) into {@code ws.out}, as
   * {@link #rowsTimes}.
   */
  static void colsTimes(TrainingMatrix x, int lo, int hi, float[] f, int k, Workspace ws) {
    tile(x, false, lo, hi, f, k, ws);
  }

  private static void tile(TrainingMatrix x, boolean rows, int lo, int hi, float[] f, int k,
      Workspace ws) {
    int len = hi - lo;
    int n = rows ? x.cols() : x.rows();
    float[] run0 = ws.run0;
    float[] run1 = ws.run1;
    float[] run2 = ws.run2;
    float[] run3 = ws.run3;
    float[][] acc = ws.acc;
    double[][] out = ws.out;
    for (int t = 0; t < k; t++) {
      Arrays.fill(out[t], 0, len, 0);
    }
    for (int j0 = 0; j0 < n; j0 += CHUNK) {
      int j1 = Math.min(n, j0 + CHUNK);
      for (int t = 0; t < k; t++) {
        Arrays.fill(acc[t], 0, len, 0f);
      }
      int j = j0;
      for (; j + 3 < j1; j += 4) {
        copyRun(x, rows, j, lo, run0, len);
        copyRun(x, rows, j + 1, lo, run1, len);
        copyRun(x, rows, j + 2, lo, run2, len);
        copyRun(x, rows, j + 3, lo, run3, len);
        int f0 = j * k;
        for (int t = 0; t < k; t++) {
          float c0 = f[f0 + t];
          float c1 = f[f0 + k + t];
          float c2 = f[f0 + 2 * k + t];
          float c3 = f[f0 + 3 * k + t];
          // NMF factors hold many exact zeros; terms that are all zero add nothing.
          if (c0 != 0 || c1 != 0 || c2 != 0 || c3 != 0) {
            axpy4(acc[t], c0, c1, c2, c3, run0, run1, run2, run3, len);
          }
        }
      }
      for (; j < j1; j++) {
        copyRun(x, rows, j, lo, run0, len);
        for (int t = 0; t < k; t++) {
          float c = f[j * k + t];
          if (c != 0) {
            axpy(acc[t], c, run0, len);
          }
        }
      }
      for (int t = 0; t < k; t++) {
        float[] a = acc[t];
        double[] o = out[t];
        for (int r = 0; r < len; r++) {
          o[r] += a[r];
        }
      }
    }
  }

  /**
   * {@code out (n × l, row-major) = X · in} (in: cols × l) when {@code rows}, else
   * {@code Xᵀ · in} (in: rows × l), in tiles on {@code pool}: the whole product, for callers
   * that want it stored (the randomized SVD's start).
   */
  static void times(TrainingMatrix x, boolean rows, float[] in, int l, float[] out,
      ForkJoinPool pool) {
    int n = rows ? x.rows() : x.cols();
    int tile = tile(l);
    Blocks tiles = new Blocks(n, tile);
    tiles.forEach(pool, b -> {
      Workspace ws = new Workspace(l, tile, false);
      for (int lo = tiles.start(b); lo < tiles.end(b); lo += tile) {
        int hi = Math.min(tiles.end(b), lo + tile);
        tile(x, rows, lo, hi, in, l, ws);
        for (int t = 0; t < l; t++) {
          double[] o = ws.out[t];
          for (int r = lo; r < hi; r++) {
            out[r * l + t] = (float) o[r - lo];
          }
        }
      }
    });
  }

  /** Copies {@code X[lo..lo+len, j]} (or {@code X[j, lo..lo+len]} when not rows) into run. */
  private static void copyRun(TrainingMatrix x, boolean rows, int j, int lo, float[] run,
      int len) {
    if (rows) {
      x.copyColValues(x.colStart(j) + lo, run, 0, len);
    } else {
      x.copyRowValues(x.rowStart(j) + lo, run, 0, len);
    }
  }

  /**
   * Four columns of X into one accumulator, {@code p += (c0·x0 + c1·x1) + (c2·x2 + c3·x3)}:
   * one load and one store of the accumulator per four multiply-adds, so the loop is bound by
   * arithmetic rather than by stores (0.024 ns per multiply-add against 0.043 for one column at
   * a time, measured on its own). One accumulator only: a loop that stores into two arrays that
   * it also loads from is left scalar by C2 (it cannot rule out that they are one array), which
   * was three times slower still.
   */
  private static void axpy4(float[] p, float c0, float c1, float c2, float c3, float[] x0,
      float[] x1, float[] x2, float[] x3, int len) {
    for (int r = 0; r < len; r++) {
      p[r] += (c0 * x0[r] + c1 * x1[r]) + (c2 * x2[r] + c3 * x3[r]);
    }
  }

  /**
   * {@code acc[0..len) += c · run[0..len)}: same index on two arrays, so SIMD. Also the step of
   * FullUpdater's tiled HALS.
   */
  static void axpy(float[] acc, float c, float[] run, int len) {
    for (int r = 0; r < len; r++) {
      acc[r] += c * run[r];
    }
  }
}
