package io.mfserve.solver.als;

/**
 * The hot loop of ALS: accumulating the Gram matrix Σ w_q y_q y_qᵀ of a row's fixed-side
 * vectors, and small helpers around it. Allocation-free and not thread-safe per buffer.
 *
 * <p>The accumulation works on float32 (the factors' own precision) over a chunk of at most a
 * few hundred entries and is then added into a double matrix, so rounding error grows with the
 * chunk, not the row. Only the upper triangle (column ≥ row) is formed. Four entries and two
 * accumulator rows are taken at a time, so that each load and store of the accumulator serves
 * four fused multiply-adds and each loaded vector element eight; the innermost loop is a
 * contiguous run over accumulator rows, which C2 vectorises when k is large enough. A JMH
 * benchmark ({@code solvers/bench}, {@code GramBenchmark}) compared this with the
 * double-precision and one-entry-at-a-time forms it replaced.
 */
final class Gram {
  private Gram() {
  }

  /**
   * Adds Σ_q w[q]·y_q y_qᵀ into the upper triangle of {@code a} (row-major k × k float), where
   * y_q is the k floats of {@code factors} starting at {@code offsets[q]}.
   *
   * @param n how many entries of {@code offsets} and {@code weights} to use
   */
  static void accumulateUpper(float[] factors, int k, int[] offsets, float[] weights, int n,
      float[] a) {
    int q = 0;
    for (; q + 4 <= n; q += 4) {
      int o0 = offsets[q];
      int o1 = offsets[q + 1];
      int o2 = offsets[q + 2];
      int o3 = offsets[q + 3];
      float w0 = weights[q];
      float w1 = weights[q + 1];
      float w2 = weights[q + 2];
      float w3 = weights[q + 3];
      int x = 0;
      // Two accumulator rows at a time: each loaded y_q[c] feeds eight multiply-adds.
      for (; x + 2 <= k; x += 2) {
        float p0 = factors[o0 + x];
        float p1 = factors[o1 + x];
        float p2 = factors[o2 + x];
        float p3 = factors[o3 + x];
        float a0 = w0 * p0;
        float a1 = w1 * p1;
        float a2 = w2 * p2;
        float a3 = w3 * p3;
        float b0 = w0 * factors[o0 + x + 1];
        float b1 = w1 * factors[o1 + x + 1];
        float b2 = w2 * factors[o2 + x + 1];
        float b3 = w3 * factors[o3 + x + 1];
        int row = x * k;
        int next = row + k;
        a[row + x] = Math.fma(a3, p3, Math.fma(a2, p2, Math.fma(a1, p1,
            Math.fma(a0, p0, a[row + x]))));
        for (int c = x + 1; c < k; c++) {
          float y0 = factors[o0 + c];
          float y1 = factors[o1 + c];
          float y2 = factors[o2 + c];
          float y3 = factors[o3 + c];
          a[row + c] = Math.fma(a3, y3, Math.fma(a2, y2, Math.fma(a1, y1,
              Math.fma(a0, y0, a[row + c]))));
          a[next + c] = Math.fma(b3, y3, Math.fma(b2, y2, Math.fma(b1, y1,
              Math.fma(b0, y0, a[next + c]))));
        }
      }
      for (; x < k; x++) {
        float a0 = w0 * factors[o0 + x];
        float a1 = w1 * factors[o1 + x];
        float a2 = w2 * factors[o2 + x];
        float a3 = w3 * factors[o3 + x];
        int row = x * k;
        for (int c = x; c < k; c++) {
          a[row + c] = Math.fma(a3, factors[o3 + c], Math.fma(a2, factors[o2 + c],
              Math.fma(a1, factors[o1 + c], Math.fma(a0, factors[o0 + c], a[row + c]))));
        }
      }
    }
    for (; q < n; q++) {
      int o0 = offsets[q];
      float w0 = weights[q];
      for (int x = 0; x < k; x++) {
        float a0 = w0 * factors[o0 + x];
        int row = x * k;
        for (int c = x; c < k; c++) {
          a[row + c] = Math.fma(a0, factors[o0 + c], a[row + c]);
        }
      }
    }
  }

  /**
   * Adds the upper triangle of the float k × k {@code a} into the double w × w matrix held in
   * {@code m} from {@code offset} (w ≥ k), and clears {@code a} for the next chunk.
   */
  static void drainUpper(float[] a, int k, double[] m, int offset, int w) {
    for (int x = 0; x < k; x++) {
      int ar = x * k;
      int mr = offset + x * w;
      for (int c = x; c < k; c++) {
        m[mr + c] += a[ar + c];
        a[ar + c] = 0f;
      }
    }
  }

  /** Returns Σ_f left[l + f]·right[r + f] in double. */
  static double dot(float[] left, int l, float[] right, int r, int k) {
    double d = 0;
    for (int f = 0; f < k; f++) {
      d += (double) left[l + f] * right[r + f];
    }
    return d;
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
