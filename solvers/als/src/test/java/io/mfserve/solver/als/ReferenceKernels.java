package io.mfserve.solver.als;

/**
 * The straightforward forms of the ALS kernels, in double and one entry at a time, that the
 * tuned kernels are checked against: a Gram matrix by rank-1 updates, and a dense solve by
 * Gaussian elimination with partial pivoting.
 */
final class ReferenceKernels {
  private ReferenceKernels() {
  }

  /** Returns the full k × k Σ_q w_q y_q y_qᵀ in double, one rank-1 update per entry. */
  static double[] gram(float[][] rows, float[] weights, int n, int k) {
    double[] g = new double[k * k];
    for (int q = 0; q < n; q++) {
      for (int x = 0; x < k; x++) {
        for (int c = 0; c < k; c++) {
          g[x * k + c] += (double) weights[q] * rows[q][x] * rows[q][c];
        }
      }
    }
    return g;
  }

  /** Returns Σ_q w_q |y_q[x] y_q[c]|, the scale a float sum's rounding error grows with. */
  static double[] absGram(float[][] rows, float[] weights, int n, int k) {
    double[] g = new double[k * k];
    for (int q = 0; q < n; q++) {
      for (int x = 0; x < k; x++) {
        for (int c = 0; c < k; c++) {
          g[x * k + c] += Math.abs((double) weights[q] * rows[q][x] * rows[q][c]);
        }
      }
    }
    return g;
  }

  /** Solves the full (both triangles given) n × n system a·x = b; a and b are not kept. */
  static double[] solve(double[] a, double[] b, int n) {
    double[] m = a.clone();
    double[] r = b.clone();
    for (int col = 0; col < n; col++) {
      int pivot = col;
      for (int i = col + 1; i < n; i++) {
        if (Math.abs(m[i * n + col]) > Math.abs(m[pivot * n + col])) {
          pivot = i;
        }
      }
      for (int c = 0; c < n; c++) {
        double t = m[col * n + c];
        m[col * n + c] = m[pivot * n + c];
        m[pivot * n + c] = t;
      }
      double t = r[col];
      r[col] = r[pivot];
      r[pivot] = t;
      for (int i = col + 1; i < n; i++) {
        double f = m[i * n + col] / m[col * n + col];
        for (int c = col; c < n; c++) {
          m[i * n + c] -= f * m[col * n + c];
        }
        r[i] -= f * r[col];
      }
    }
    double[] x = new double[n];
    for (int i = n - 1; i >= 0; i--) {
      double s = r[i];
      for (int c = i + 1; c < n; c++) {
        s -= m[i * n + c] * x[c];
      }
      x[i] = s / m[i * n + i];
    }
    return x;
  }
}
