package io.mfserve.solver.nmf;

/**
 * Eigenvalues and eigenvectors of a small dense symmetric matrix by the cyclic Jacobi method
 * (G. H. Golub and C. F. Van Loan, Matrix Computations, 4th ed., §8.5; the rotation as in
 * Numerical Recipes' {@code jacobi}). Used on the (k + oversampling)-sized matrices of the
 * randomized SVD, where its O(n³) per sweep is negligible next to the passes over X, and its
 * accuracy (eigenvalues to a few ulps of the largest) is more than an NMF start needs.
 * Sequential and deterministic.
 */
final class SymmetricEigen {
  private static final int MAX_SWEEPS = 60;

  /** The eigenvalues, largest first. */
  final double[] values;
  /** n × n row-major; column j is the unit eigenvector of {@code values[j]}. */
  final double[] vectors;

  private SymmetricEigen(double[] values, double[] vectors) {
    this.values = values;
    this.vectors = vectors;
  }

  /**
   * Decomposes {@code a} (n × n, row-major, symmetric; not modified).
   *
   * @return the eigenvalues, sorted largest first, and their eigenvectors
   */
  static SymmetricEigen of(double[] a, int n) {
    double[] m = a.clone();
    double[] v = new double[n * n];
    for (int i = 0; i < n; i++) {
      v[i * n + i] = 1;
    }
    for (int sweep = 0; sweep < MAX_SWEEPS; sweep++) {
      double off = 0;
      double diag = 0;
      for (int p = 0; p < n; p++) {
        diag += m[p * n + p] * m[p * n + p];
        for (int q = p + 1; q < n; q++) {
          off += m[p * n + q] * m[p * n + q];
        }
      }
      if (off <= 1e-30 * diag || off == 0) {
        break;
      }
      for (int p = 0; p < n - 1; p++) {
        for (int q = p + 1; q < n; q++) {
          rotate(m, v, n, p, q);
        }
      }
    }
    // Sort by eigenvalue, largest first (selection sort: n is small).
    double[] values = new double[n];
    for (int i = 0; i < n; i++) {
      values[i] = m[i * n + i];
    }
    int[] order = new int[n];
    boolean[] used = new boolean[n];
    for (int i = 0; i < n; i++) {
      int best = -1;
      for (int j = 0; j < n; j++) {
        if (!used[j] && (best < 0 || values[j] > values[best])) {
          best = j;
        }
      }
      used[best] = true;
      order[i] = best;
    }
    double[] sortedValues = new double[n];
    double[] sortedVectors = new double[n * n];
    for (int i = 0; i < n; i++) {
      sortedValues[i] = values[order[i]];
      for (int r = 0; r < n; r++) {
        sortedVectors[r * n + i] = v[r * n + order[i]];
      }
    }
    return new SymmetricEigen(sortedValues, sortedVectors);
  }

  /** One Jacobi rotation zeroing m[p][q], accumulated into v. */
  private static void rotate(double[] m, double[] v, int n, int p, int q) {
    double apq = m[p * n + q];
    double app = m[p * n + p];
    double aqq = m[q * n + q];
    if (apq == 0 || Math.abs(apq) <= 1e-18 * Math.sqrt(Math.abs(app * aqq))) {
      m[p * n + q] = 0;
      m[q * n + p] = 0;
      return;
    }
    double theta = (aqq - app) / (2 * apq);
    double t = Math.signum(theta) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
    if (theta == 0) {
      t = 1;
    }
    double c = 1 / Math.sqrt(t * t + 1);
    double s = t * c;
    m[p * n + p] = app - t * apq;
    m[q * n + q] = aqq + t * apq;
    m[p * n + q] = 0;
    m[q * n + p] = 0;
    for (int r = 0; r < n; r++) {
      if (r != p && r != q) {
        double arp = m[r * n + p];
        double arq = m[r * n + q];
        double np = c * arp - s * arq;
        double nq = s * arp + c * arq;
        m[r * n + p] = np;
        m[p * n + r] = np;
        m[r * n + q] = nq;
        m[q * n + r] = nq;
      }
      double vrp = v[r * n + p];
      double vrq = v[r * n + q];
      v[r * n + p] = c * vrp - s * vrq;
      v[r * n + q] = s * vrp + c * vrq;
    }
  }
}
