package io.mfserve.solver.als;

import java.util.Arrays;

/**
 * The hot loop of ALS: accumulating the Gram matrix Σ w_q y_q y_qᵀ of a row's fixed-side
 * vectors, and small helpers around it. Allocation-free and not thread-safe per buffer.
 *
 * <p>The accumulation works on float32 (the factors' own precision) over a chunk of at most a
 * few thousand entries and is then added into a double matrix, so rounding error grows with
 * the chunk, not the row. Only the upper triangle (column ≥ row) is kept. The kernel is a
 * small SYRK on a gathered block: each neighbour's vector is copied into its own float array
 * and each accumulator row is its own array, so that the innermost loop — four entries'
 * multiply-adds into one accumulator row — reads and writes separate arrays at the same
 * index, the form C2 compiles to SIMD (DESIGN.md); the previous kernel's offset-indexed loops
 * over one packed array did the same arithmetic in the same order (models are bit-identical)
 * at about half the speed. {@code GramBenchmark} and {@code AlsGflops} in {@code
 * solvers/bench} measure it. Where the JVM has the Vector API, {@link RowKernels#preferred}
 * runs the faster register-blocked form instead.
 */
final class Gram {
  private Gram() {
  }

  /**
   * From rank {@link #ALIGN_MIN_RANK} on, the accumulator rows are updated from column
   * {@code x & -ALIGN} rather than from the diagonal x: the few extra (lower-triangle) products
   * are cheaper than the scalar pre-loop C2 would otherwise run to reach a vector-aligned index,
   * and they are symmetric values, so they are simply not drained. Below it the rows are too
   * short for SIMD (C2 here uses 16-float vectors) and every extra product is a scalar one, so
   * the rows start at the diagonal.
   */
  static final int ALIGN = 8;
  /** The smallest rank whose accumulator rows start at an aligned column. */
  static final int ALIGN_MIN_RANK = 32;

  /** Returns the first column of accumulator row x that the kernel writes. */
  static int rowStart(int x, int k) {
    return k >= ALIGN_MIN_RANK ? x & -ALIGN : x;
  }

  /**
   * Overwrites the upper triangle of {@code acc} (k rows of at least k floats) with
   * Σ_q w[q]·y_q y_qᵀ, where y_q is {@code rows[q]} (k floats each): {@link RowKernels#SCALAR}.
   *
   * <p>A small SYRK: four entries at a time update one accumulator row, so that each load and
   * store of the row serves four multiply-adds, and the innermost loop reads and writes
   * separate arrays at the same index, the form C2 compiles to SIMD (see DESIGN.md).
   *
   * @param n how many entries of {@code rows} and {@code weights} to use
   */
  static void accumulateRows(float[][] rows, float[] weights, int n, int k, float[][] acc) {
    for (int x = 0; x < k; x++) {
      Arrays.fill(acc[x], rowStart(x, k), k, 0f);
    }
    int q = 0;
    for (; q + 4 <= n; q += 4) {
      float[] y0 = rows[q];
      float[] y1 = rows[q + 1];
      float[] y2 = rows[q + 2];
      float[] y3 = rows[q + 3];
      float w0 = weights[q];
      float w1 = weights[q + 1];
      float w2 = weights[q + 2];
      float w3 = weights[q + 3];
      for (int x = 0; x < k; x++) {
        float a0 = w0 * y0[x];
        float a1 = w1 * y1[x];
        float a2 = w2 * y2[x];
        float a3 = w3 * y3[x];
        float[] row = acc[x];
        for (int c = rowStart(x, k); c < k; c++) {
          row[c] = Math.fma(a3, y3[c], Math.fma(a2, y2[c], Math.fma(a1, y1[c],
              Math.fma(a0, y0[c], row[c]))));
        }
      }
    }
    for (; q < n; q++) {
      float[] y0 = rows[q];
      float w0 = weights[q];
      for (int x = 0; x < k; x++) {
        float a0 = w0 * y0[x];
        float[] row = acc[x];
        for (int c = rowStart(x, k); c < k; c++) {
          row[c] = Math.fma(a0, y0[c], row[c]);
        }
      }
    }
  }

  /**
   * Adds the upper triangle of the float accumulator {@code acc} into the double w × w matrix
   * held in {@code m} from {@code offset} (w ≥ k).
   */
  static void drainRows(float[][] acc, int k, double[] m, int offset, int w) {
    for (int x = 0; x < k; x++) {
      float[] row = acc[x];
      int mr = offset + x * w;
      for (int c = x; c < k; c++) {
        m[mr + c] += row[c];
      }
    }
  }

  /**
   * Overwrites {@code out[0..k)} with Σ_q coefficients[q]·rows[q] in float32, one multiply-add
   * per term in entry order: {@link RowKernels#SCALAR}'s weighted sum.
   */
  static void weightedSum(float[][] rows, float[] coefficients, int n, int k, float[] out) {
    Arrays.fill(out, 0, k, 0f);
    for (int q = 0; q < n; q++) {
      float t = coefficients[q];
      float[] y = rows[q];
      for (int f = 0; f < k; f++) {
        out[f] = Math.fma(t, y[f], out[f]);
      }
    }
  }

  /**
   * Returns Σ_f left[l + f]·right[r + f] in double: four partial sums side by side (f mod 4),
   * added at the end, so that the additions do not wait on one another.
   */
  static double dot(float[] left, int l, float[] right, int r, int k) {
    double d0 = 0;
    double d1 = 0;
    double d2 = 0;
    double d3 = 0;
    int f = 0;
    for (; f + 4 <= k; f += 4) {
      d0 += (double) left[l + f] * right[r + f];
      d1 += (double) left[l + f + 1] * right[r + f + 1];
      d2 += (double) left[l + f + 2] * right[r + f + 2];
      d3 += (double) left[l + f + 3] * right[r + f + 3];
    }
    for (; f < k; f++) {
      d0 += (double) left[l + f] * right[r + f];
    }
    return (d0 + d1) + (d2 + d3);
  }

  /**
   * Returns vᵀ g v for the symmetric w × w {@code g} of which only the upper triangle is read.
   */
  static double quadraticForm(double[] g, int w, double[] v) {
    double sum = 0;
    for (int x = 0; x < w; x++) {
      int row = x * w;
      double vx = v[x];
      double off = 0;
      for (int c = x + 1; c < w; c++) {
        off += g[row + c] * v[c];
      }
      sum += vx * (g[row + x] * vx + 2 * off);
    }
    return sum;
  }

  /**
   * Writes {@code g·v} into {@code out} for the symmetric k × k {@code g} of which only the
   * upper triangle is read.
   */
  static void symmetricTimes(double[] g, double[] v, double[] out, int k) {
    for (int x = 0; x < k; x++) {
      out[x] = 0;
    }
    for (int x = 0; x < k; x++) {
      int row = x * k;
      double vx = v[x];
      double s = g[row + x] * vx;
      for (int c = x + 1; c < k; c++) {
        double gxc = g[row + c];
        s += gxc * v[c];
        out[c] += gxc * vx;
      }
      out[x] += s;
    }
  }
}
