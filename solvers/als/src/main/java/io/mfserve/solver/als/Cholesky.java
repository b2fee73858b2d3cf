package io.mfserve.solver.als;

/**
 * Dense Cholesky factorisation and solve for the small symmetric positive-definite w × w
 * systems of ALS, in place on caller-owned row-major {@code double[]} buffers, allocating
 * nothing.
 *
 * <p>{@link #factor} and {@link #solve} use the square-root-free form A = Uᵀ D⁻¹ U (LDLᵀ with
 * U = D Lᵀ): row j of U is row j of A after the eliminations of the pivots above it, d_j its
 * diagonal. Each pivot then costs one division and no square root, and the pivots form a chain
 * (each waits for the eliminations of those above it) whose length is what a small system's
 * factorisation costs: at w = 10 this form took 310 ns against 405 ns for RᵀR, factor and solve
 * in one harness (2026-12-07, the project's 2-core AMD machine), 0.10–0.15 µs of every ALS row
 * at rank 10. The vector kernels' row-wise form ({@code VectorRowKernels}, from width
 * {@link #ROWS_MIN_WIDTH}) factors RᵀR with {@link #pivotRow}, where the work is the updates,
 * not the chain.
 *
 * <p>Hand-written rather than taken from EJML: the systems are tiny (w is the rank, typically 5
 * to 200), solved millions of times, and must not allocate, and the JMH benchmark in
 * {@code solvers/bench} ({@code CholeskyBenchmark}: factor and solve, EJML 0.46.1's
 * {@code LinearSolverFactory_DDRM.chol} reused across calls) measured the RᵀR form of this code
 * already faster on the project's 2-core machine: 276 against 348 ns at k = 10, 13.8 against
 * 16.4 µs at k = 64. It is the right-looking (outer-product) form on the upper triangle, two
 * pivots at a time, so every inner loop is a contiguous multiply-add over one row. Not
 * thread-safe per buffer; each worker owns its buffers.
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
   * Overwrites the upper triangle of {@code m} (row-major w × w) with the factors of
   * A = Uᵀ D⁻¹ U: U strictly above the diagonal and 1 / d_j on it (what {@link #solve} reads);
   * the lower triangle is neither read nor written.
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
      double ij = pivot(m[jr + j], diag[j]);
      if (ij == 0) {
        return false;
      }
      m[jr + j] = ij;
      double f = m[jr + j + 1] * ij;
      for (int c = j + 1; c < w; c++) {
        m[kr + c] -= f * m[jr + c];
      }
      double ik = pivot(m[kr + j + 1], diag[j + 1]);
      if (ik == 0) {
        return false;
      }
      m[kr + j + 1] = ik;
      for (int i = j + 2; i < w; i++) {
        double f1 = m[jr + i] * ij;
        double f2 = m[kr + i] * ik;
        int ir = i * w;
        for (int c = i; c < w; c++) {
          m[ir + c] -= f1 * m[jr + c] + f2 * m[kr + c];
        }
      }
    }
    if (j < w) {
      // The last pivot (w odd) has no trailing rows.
      double ij = pivot(m[j * w + j], diag[j]);
      m[j * w + j] = ij;
      return ij != 0;
    }
    return true;
  }

  /**
   * As {@link #factor(double[], int, double[])}, with the same arithmetic in the same order (so
   * the same factors to the bit), but working on one array per row: the upper triangle of
   * {@code m} is copied into {@code rows}, factored there and copied back. The trailing update
   * then reads and writes separate arrays at the same index, the form C2 compiles to SIMD,
   * where the flat form's offset loops stay scalar; the two copies cost 2w² against w³/3.
   * Below width {@value #ROWS_MIN_WIDTH} the rows are too short for SIMD and the copies cost
   * more than they save (factor and solve at w = 10: 348 ns this way, 292 flat, in the RᵀR
   * form), so it factors in place; the result is the same either way.
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
      double ij = pivot(rj[j], diag[j]);
      if (ij == 0) {
        return false;
      }
      rj[j] = ij;
      double f = rj[j + 1] * ij;
      for (int c = j + 1; c < w; c++) {
        rk[c] -= f * rj[c];
      }
      double ik = pivot(rk[j + 1], diag[j + 1]);
      if (ik == 0) {
        return false;
      }
      rk[j + 1] = ik;
      for (int i = j + 2; i < w; i++) {
        double f1 = rj[i] * ij;
        double f2 = rk[i] * ik;
        double[] ri = m[i];
        for (int c = i; c < w; c++) {
          ri[c] -= f1 * rj[c] + f2 * rk[c];
        }
      }
    }
    if (j < w) {
      double ij = pivot(m[j][j], diag[j]);
      m[j][j] = ij;
      return ij != 0;
    }
    return true;
  }

  /**
   * The RᵀR pivot of the vector kernels' row-wise form: takes the square root of pivot j of
   * the row held in its own array (already updated by the rows above) and scales the rest of
   * the row by its reciprocal; returns 1 / R[j][j] (always above 0), or 0 where the pivot is not
   * positive to working precision (see {@link #positive}).
   */
  static double pivotRow(double[] row, int w, int j, double[] diag) {
    double d = row[j];
    if (!positive(d, diag[j])) {
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
   * Returns 1 / d for the pivot d (already updated by the rows above), or 0 where it is not
   * {@link #positive} to working precision.
   */
  private static double pivot(double d, double original) {
    return positive(d, original) ? 1 / d : 0;
  }

  /**
   * Whether pivot d is positive to working precision: above {@link #RELATIVE_PIVOT_TOLERANCE}
   * times {@code original}, its diagonal entry before elimination, and finite.
   */
  private static boolean positive(double d, double original) {
    // Written as d > tol so that a NaN pivot fails too.
    return d > RELATIVE_PIVOT_TOLERANCE * original && d > 0 && d != Double.POSITIVE_INFINITY;
  }

  /**
   * Solves A x = b given A = Uᵀ D⁻¹ U from {@link #factor}: forward substitution with Uᵀ D⁻¹
   * (as contiguous row updates), then back substitution with D⁻¹ U. {@code b} is overwritten.
   */
  static void solve(double[] u, double[] b, double[] x, int w) {
    // y = D Uᵀ⁻¹ b, left in b: y_j = (b_j − Σ_{t<j} u_tj y_t) / d_j, each row of U pushing its
    // term into the rows below as soon as y_j is known.
    for (int j = 0; j < w; j++) {
      int jr = j * w;
      double z = b[j] * u[jr + j];
      b[j] = z;
      for (int c = j + 1; c < w; c++) {
        b[c] -= z * u[jr + c];
      }
    }
    // x_j = y_j − (Σ_{c>j} u_jc x_c) / d_j.
    for (int j = w - 1; j >= 0; j--) {
      int jr = j * w;
      double s = 0;
      for (int c = j + 1; c < w; c++) {
        s += u[jr + c] * x[c];
      }
      x[j] = b[j] - s * u[jr + j];
    }
  }
}
