package io.mfserve.solver.als;

/**
 * Dense Cholesky factorisation A = RᵀR and solve for the small symmetric positive-definite
 * w × w systems of ALS, in place on caller-owned row-major {@code double[]} buffers, allocating
 * nothing.
 *
 * <p>Hand-written rather than taken from EJML: the systems are tiny (w is the rank, typically 5
 * to 200), solved millions of times, and must not allocate, and the JMH benchmark in
 * {@code solvers/bench} ({@code CholeskyBenchmark}: factor and solve, EJML 0.46.1's
 * {@code LinearSolverFactory_DDRM.chol} reused across calls) measured this form faster on the
 * project's 2-core machine: 276 against 348 ns at k = 10, 13.8 against 16.4 µs at k = 64. It is
 * the right-looking (outer-product) form on the upper triangle, two pivots at a time, so every
 * inner loop is a contiguous multiply-add over one row that C2 vectorises. Not thread-safe per
 * buffer; each worker owns its buffers.
 */
final class Cholesky {
  /**
   * A pivot no larger than this fraction of its original diagonal entry counts as zero: the
   * matrix is then singular to working precision, and solving with it would amplify rounding
   * error into huge factors rather than fail visibly.
   */
  static final double RELATIVE_PIVOT_TOLERANCE = 1e-12;
  /** The smallest width at which the row-wise form copies the system into rows. */
  static final int ROWS_MIN_WIDTH = 16;

  private Cholesky() {
  }

  /**
   * Overwrites the upper triangle of {@code m} (row-major w × w) with R, where A = RᵀR; the
   * lower triangle is neither read nor written.
   *
   * @param diag A's diagonal before elimination: a pivot that falls to at most
   *     {@link #RELATIVE_PIVOT_TOLERANCE} times its entry counts as zero
   * @return false if A is not positive definite to working precision (or holds a non-finite
   *     number); {@code m} is then garbage and must be rebuilt before a retry
   */
  static boolean factor(double[] m, int w, double[] diag) {
    int j = 0;
    // Two pivots at a time: the trailing rows then take one rank-2 update, so that each load
    // and store of m[i][c] serves two multiply-adds.
    for (; j + 2 <= w; j += 2) {
      int jr = j * w;
      int kr = jr + w;
      if (!pivot(m, w, j, diag)) {
        return false;
      }
      double f = m[jr + j + 1];
      for (int c = j + 1; c < w; c++) {
        m[kr + c] -= f * m[jr + c];
      }
      if (!pivot(m, w, j + 1, diag)) {
        return false;
      }
      for (int i = j + 2; i < w; i++) {
        double f1 = m[jr + i];
        double f2 = m[kr + i];
        int ir = i * w;
        for (int c = i; c < w; c++) {
          m[ir + c] -= f1 * m[jr + c] + f2 * m[kr + c];
        }
      }
    }
    if (j < w) {
      // The last pivot (w odd) has no trailing rows.
      return pivot(m, w, j, diag);
    }
    return true;
  }

  /**
   * As {@link #factor(double[], int, double[])}, with the same arithmetic in the same order (so
   * the same R to the bit), but working on one array per row: the upper triangle of {@code m}
   * is copied into {@code rows}, factored there and copied back. The trailing update then
   * reads and writes separate arrays at the same index, the form C2 compiles to SIMD, where
   * the flat form's offset loops stay scalar; the two copies cost 2w² against w³/3. Below
   * width {@value #ROWS_MIN_WIDTH} the rows are too short for SIMD and the copies cost more
   * than they save (factor and solve at w = 10: 348 ns this way, 292 flat), so it factors in
   * place; the result is the same either way.
   *
   * @param rows scratch of at least w arrays of at least w doubles
   */
  static boolean factor(double[] m, int w, double[] diag, double[][] rows) {
    if (w < ROWS_MIN_WIDTH) {
      return factor(m, w, diag);
    }
    toRows(m, w, rows);
    boolean ok = factorRows(rows, w, diag);
    if (ok) {
      fromRows(rows, w, m);
    }
    return ok;
  }

  /** Copies the upper triangle of the flat w × w {@code m} into one array per row. */
  static void toRows(double[] m, int w, double[][] rows) {
    for (int i = 0; i < w; i++) {
      System.arraycopy(m, i * w + i, rows[i], i, w - i);
    }
  }

  /** Copies the upper triangle held in one array per row back into the flat {@code m}. */
  static void fromRows(double[][] rows, int w, double[] m) {
    for (int i = 0; i < w; i++) {
      System.arraycopy(rows[i], i, m, i * w + i, w - i);
    }
  }

  private static boolean factorRows(double[][] m, int w, double[] diag) {
    int j = 0;
    for (; j + 2 <= w; j += 2) {
      double[] rj = m[j];
      double[] rk = m[j + 1];
      if (pivotRow(rj, w, j, diag) == 0) {
        return false;
      }
      double f = rj[j + 1];
      for (int c = j + 1; c < w; c++) {
        rk[c] -= f * rj[c];
      }
      if (pivotRow(rk, w, j + 1, diag) == 0) {
        return false;
      }
      for (int i = j + 2; i < w; i++) {
        double f1 = rj[i];
        double f2 = rk[i];
        double[] ri = m[i];
        for (int c = i; c < w; c++) {
          ri[c] -= f1 * rj[c] + f2 * rk[c];
        }
      }
    }
    if (j < w) {
      return pivotRow(m[j], w, j, diag) != 0;
    }
    return true;
  }

  /**
   * {@link #pivot} on row j held in its own array; returns 1 / R[j][j] (always above 0), or 0
   * where the pivot is not positive to working precision.
   */
  static double pivotRow(double[] row, int w, int j, double[] diag) {
    double d = row[j];
    if (!(d > RELATIVE_PIVOT_TOLERANCE * diag[j]) || !(d > 0) || d == Double.POSITIVE_INFINITY) {
      return 0;
    }
    double rjj = Math.sqrt(d);
    row[j] = rjj;
    double inv = 1 / rjj;
    for (int c = j + 1; c < w; c++) {
      row[c] *= inv;
    }
    return inv;
  }

  /**
   * Takes the square root of pivot j (already updated by the rows above) and scales the rest of
   * row j by it; false if the pivot is not positive to working precision.
   */
  private static boolean pivot(double[] m, int w, int j, double[] diag) {
    int jr = j * w;
    double d = m[jr + j];
    // Written as !(d > tol) so that a NaN pivot fails too.
    if (!(d > RELATIVE_PIVOT_TOLERANCE * diag[j]) || !(d > 0) || d == Double.POSITIVE_INFINITY) {
      return false;
    }
    double rjj = Math.sqrt(d);
    m[jr + j] = rjj;
    double inv = 1 / rjj;
    for (int c = j + 1; c < w; c++) {
      m[jr + c] *= inv;
    }
    return true;
  }

  /**
   * Solves RᵀR x = b given R from {@link #factor}: forward substitution with Rᵀ (as
   * contiguous row updates), then back substitution with R. {@code b} is overwritten.
   */
  static void solve(double[] r, double[] b, double[] x, int w) {
    // The diagonal's reciprocals first, into x (x[j] is read for the last time just before it
    // is written): independent divisions overlap, where dividing inside the substitutions puts
    // one division's latency per unknown on each pass's chain of dependent steps.
    for (int j = 0; j < w; j++) {
      x[j] = 1 / r[j * w + j];
    }
    for (int j = 0; j < w; j++) {
      int jr = j * w;
      double z = b[j] * x[j];
      b[j] = z;
      for (int c = j + 1; c < w; c++) {
        b[c] -= z * r[jr + c];
      }
    }
    for (int j = w - 1; j >= 0; j--) {
      int jr = j * w;
      double s = b[j];
      for (int c = j + 1; c < w; c++) {
        s -= r[jr + c] * x[c];
      }
      x[j] = s * x[j];
    }
  }
}
