package io.mfserve.solver.als;

/**
 * Non-negative least squares on the normal equations: minimises ½ xᵀAx − bᵀx subject to
 * x_f ≥ 0 for the first {@code constrained} coordinates (the rest, a bias, are free), by
 * projected coordinate descent (cyclic; each step is the exact minimiser along one coordinate,
 * clipped at zero), warm-started from the row's previous factors. A is symmetric positive
 * definite (λ &gt; 0, or enough entries), so every step lowers the objective and the iteration
 * converges to the unique minimiser (Franc, Hlaváč and Navara 2005; Hsieh and Dhillon 2011).
 * Allocation-free; not thread-safe per buffer.
 */
final class Nnls {
  /** Sweeps at most; with a warm start a few usually suffice. */
  static final int MAX_SWEEPS = 100;
  /** Stops when no coordinate moved by more than this fraction of the largest one. */
  static final double TOLERANCE = 1e-7;

  private Nnls() {
  }

  /**
   * Solves in place.
   *
   * @param a the upper triangle of A, row-major w × w
   * @param b the right-hand side
   * @param x on entry the warm start, on return the solution
   * @param g scratch of length w (the gradient Ax − b)
   * @param constrained how many leading coordinates must be non-negative
   */
  static void solve(double[] a, double[] b, double[] x, double[] g, int w, int constrained) {
    for (int f = 0; f < constrained; f++) {
      if (!(x[f] > 0)) {
        x[f] = 0;
      }
    }
    Gram.symmetricTimes(a, x, g, w);
    for (int f = 0; f < w; f++) {
      g[f] -= b[f];
    }
    for (int sweep = 0; sweep < MAX_SWEEPS; sweep++) {
      double largestStep = 0;
      double largestValue = 0;
      for (int f = 0; f < w; f++) {
        double aff = a[f * w + f];
        if (!(aff > 0)) {
          continue;
        }
        double old = x[f];
        double next = old - g[f] / aff;
        if (f < constrained && next < 0) {
          next = 0;
        }
        double step = next - old;
        if (step != 0) {
          x[f] = next;
          // g += step · A[:, f], A symmetric and stored by its upper triangle.
          for (int c = 0; c < f; c++) {
            g[c] += step * a[c * w + f];
          }
          int fr = f * w;
          for (int c = f; c < w; c++) {
            g[c] += step * a[fr + c];
          }
        }
        largestStep = Math.max(largestStep, Math.abs(step));
        largestValue = Math.max(largestValue, Math.abs(next));
      }
      if (largestStep <= TOLERANCE * largestValue) {
        return;
      }
    }
  }
}
