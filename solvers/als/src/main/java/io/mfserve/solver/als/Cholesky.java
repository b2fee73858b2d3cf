package io.mfserve.solver.als;

/**
 * Dense Cholesky factorisation and solve for the small symmetric positive-definite k × k
 * systems of ALS, on caller-owned row-major {@code double[k * k]} buffers, allocating nothing.
 *
 * <p>Hand-written rather than taken from a library because the systems are tiny (k is the rank,
 * typically 5 to 200), solved millions of times, and must not allocate: a general-purpose
 * decomposition object per call would cost more than the arithmetic. Not thread-safe per buffer;
 * each worker owns its buffers.
 */
final class Cholesky {
  /**
   * A pivot no larger than this fraction of its original diagonal entry counts as zero: the
   * matrix is then singular to working precision, and solving with it would amplify rounding
   * error into huge factors rather than fail visibly.
   */
  static final double RELATIVE_PIVOT_TOLERANCE = 1e-12;

  private Cholesky() {
  }

  /**
   * Factors A = L Lᵀ, reading only the lower triangle of {@code a} and writing L into the lower
   * triangle of {@code l} ({@code a} is left unchanged, so a caller can retry with a larger
   * diagonal).
   *
   * @return false if A is not positive definite to working precision (or holds a non-finite
   *     number); {@code l} is then garbage
   */
  static boolean factor(double[] a, double[] l, int k) {
    for (int j = 0; j < k; j++) {
      int jr = j * k;
      double d = a[jr + j];
      for (int m = 0; m < j; m++) {
        d -= l[jr + m] * l[jr + m];
      }
      // Written as !(d > tol) so that a NaN pivot fails too.
      if (!(d > RELATIVE_PIVOT_TOLERANCE * a[jr + j]) || !(d > 0) || d == Double.POSITIVE_INFINITY) {
        return false;
      }
      double ljj = Math.sqrt(d);
      l[jr + j] = ljj;
      double inv = 1 / ljj;
      for (int i = j + 1; i < k; i++) {
        int ir = i * k;
        double s = a[ir + j];
        for (int m = 0; m < j; m++) {
          s -= l[ir + m] * l[jr + m];
        }
        l[ir + j] = s * inv;
      }
    }
    return true;
  }

  /**
   * Solves L Lᵀ x = b given the factor from {@link #factor}, by forward then back substitution.
   * {@code x} may be the same array as {@code b}.
   */
  static void solve(double[] l, double[] b, double[] x, int k) {
    for (int i = 0; i < k; i++) {
      int ir = i * k;
      double s = b[i];
      for (int m = 0; m < i; m++) {
        s -= l[ir + m] * x[m];
      }
      x[i] = s / l[ir + i];
    }
    for (int i = k - 1; i >= 0; i--) {
      double s = x[i];
      for (int m = i + 1; m < k; m++) {
        s -= l[m * k + i] * x[m];
      }
      x[i] = s / l[i * k + i];
    }
  }
}
