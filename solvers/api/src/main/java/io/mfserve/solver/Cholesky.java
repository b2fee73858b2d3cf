package io.mfserve.solver;

import java.util.Arrays;

/**
 * Solves a small symmetric positive-definite system A x = b by Cholesky factorisation, on
 * row-major {@code double[n * n]} arrays, for the fold-in of one user (n = k or k + 1).
 * Package-private: the solvers keep their own allocation-free copies for their hot loops.
 */
final class Cholesky {
  /** A pivot no larger than this fraction of its diagonal entry counts as zero. */
  private static final double RELATIVE_PIVOT_TOLERANCE = 1e-12;

  private Cholesky() { }

  /**
   * Solves A x = b, reading the lower triangle of {@code a}. Should A be singular to working
   * precision (possible only without regularisation and with fewer independent entries than
   * unknowns), a ridge of 10⁻¹⁰ times its mean diagonal, grown a hundredfold per retry up to
   * 10⁻² of it, is added, which picks the minimum-norm-like solution rather than amplifying
   * rounding error into huge factors.
   *
   * @return x, or all zeros if even the largest ridge does not make A positive definite (A is
   *     then zero, e.g. every item vector is zero)
   */
  static double[] solve(double[] a, double[] b, int n) {
    double[] l = new double[n * n];
    double[] x = new double[n];
    if (!factor(a, l, n)) {
      double trace = 0;
      for (int i = 0; i < n; i++) {
        trace += a[i * n + i];
      }
      double mean = trace / n;
      boolean ok = false;
      if (mean > 0 && Double.isFinite(mean)) {
        double[] ridged = a.clone();
        for (double ridge = 1e-10 * mean; !ok && ridge <= 1e-2 * mean; ridge *= 100) {
          for (int i = 0; i < n; i++) {
            ridged[i * n + i] = a[i * n + i] + ridge;
          }
          ok = factor(ridged, l, n);
        }
      }
      if (!ok) {
        return x;
      }
    }
    for (int i = 0; i < n; i++) {
      double s = b[i];
      for (int m = 0; m < i; m++) {
        s -= l[i * n + m] * x[m];
      }
      x[i] = s / l[i * n + i];
    }
    for (int i = n - 1; i >= 0; i--) {
      double s = x[i];
      for (int m = i + 1; m < n; m++) {
        s -= l[m * n + i] * x[m];
      }
      x[i] = s / l[i * n + i];
    }
    return x;
  }

  private static boolean factor(double[] a, double[] l, int n) {
    Arrays.fill(l, 0);
    for (int j = 0; j < n; j++) {
      double d = a[j * n + j];
      for (int m = 0; m < j; m++) {
        d -= l[j * n + m] * l[j * n + m];
      }
      if (!(d > RELATIVE_PIVOT_TOLERANCE * a[j * n + j]) || !(d > 0)
          || d == Double.POSITIVE_INFINITY) {
        return false;
      }
      double ljj = Math.sqrt(d);
      l[j * n + j] = ljj;
      for (int i = j + 1; i < n; i++) {
        double s = a[i * n + j];
        for (int m = 0; m < j; m++) {
          s -= l[i * n + m] * l[j * n + m];
        }
        l[i * n + j] = s / ljj;
      }
    }
    return true;
  }
}
