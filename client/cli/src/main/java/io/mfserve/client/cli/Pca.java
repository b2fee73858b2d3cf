package io.mfserve.client.cli;

/**
 * Principal component analysis of n points in k dimensions, for plotting factor vectors in 2-D.
 *
 * <p>Builds the k × k covariance matrix of the centred rows (in double) and diagonalises it with
 * the cyclic Jacobi eigenvalue method, which is exact to rounding for the small symmetric
 * matrices this sees (k is a model's rank: tens, at most a few hundred) and needs no math
 * library. Components come in order of decreasing variance; each is a unit vector whose
 * largest-magnitude coordinate is positive, so the same factors always give the same picture.
 *
 * <p>Immutable once built.
 */
final class Pca {
  private static final int MAX_SWEEPS = 100;

  private final int k;
  private final double[] mean;
  /** Row c is component c, a unit vector of k coordinates. */
  private final double[][] components;
  private final double[] variances;
  private final double totalVariance;

  private Pca(int k, double[] mean, double[][] components, double[] variances,
      double totalVariance) {
    this.k = k;
    this.mean = mean;
    this.components = components;
    this.variances = variances;
    this.totalVariance = totalVariance;
  }

  /**
   * Fits the components of n rows of k values, row-major.
   *
   * @param rows n × k values, row by row
   * @param n the number of rows, at least 1
   * @param k the number of columns, at least 1
   * @return the mean, the k components by decreasing variance, and their variances
   * @throws IllegalArgumentException if the sizes do not match
   */
  static Pca fit(float[] rows, int n, int k) {
    if (n < 1 || k < 1 || (long) n * k != rows.length) {
      throw new IllegalArgumentException("expected n x k = " + n + " x " + k + " values, got "
          + rows.length);
    }
    double[] mean = new double[k];
    for (int r = 0; r < n; r++) {
      for (int c = 0; c < k; c++) {
        mean[c] += rows[r * k + c];
      }
    }
    for (int c = 0; c < k; c++) {
      mean[c] /= n;
    }
    double[][] cov = new double[k][k];
    double[] d = new double[k];
    for (int r = 0; r < n; r++) {
      for (int c = 0; c < k; c++) {
        d[c] = rows[r * k + c] - mean[c];
      }
      for (int a = 0; a < k; a++) {
        for (int b = a; b < k; b++) {
          cov[a][b] += d[a] * d[b];
        }
      }
    }
    double scale = n > 1 ? 1.0 / (n - 1) : 1.0;
    double total = 0;
    for (int a = 0; a < k; a++) {
      for (int b = a; b < k; b++) {
        cov[a][b] *= scale;
        cov[b][a] = cov[a][b];
      }
      total += cov[a][a];
    }
    double[][] vectors = new double[k][k];
    double[] values = jacobi(cov, vectors);
    // Sort by decreasing eigenvalue; eigenvector c is column c of vectors.
    Integer[] order = new Integer[k];
    for (int i = 0; i < k; i++) {
      order[i] = i;
    }
    java.util.Arrays.sort(order, (x, y) -> Double.compare(values[y], values[x]));
    double[][] components = new double[k][k];
    double[] variances = new double[k];
    for (int c = 0; c < k; c++) {
      int src = order[c];
      variances[c] = Math.max(0, values[src]);
      int biggest = 0;
      for (int j = 0; j < k; j++) {
        components[c][j] = vectors[j][src];
        if (Math.abs(components[c][j]) > Math.abs(components[c][biggest])) {
          biggest = j;
        }
      }
      if (components[c][biggest] < 0) {
        for (int j = 0; j < k; j++) {
          components[c][j] = -components[c][j];
        }
      }
    }
    return new Pca(k, mean, components, variances, total);
  }

  /**
   * The eigenvalues of a symmetric matrix by cyclic Jacobi rotations; {@code a} is destroyed,
   * {@code v} receives the eigenvectors as columns.
   */
  private static double[] jacobi(double[][] a, double[][] v) {
    int k = a.length;
    for (int i = 0; i < k; i++) {
      v[i][i] = 1;
    }
    for (int sweep = 0; sweep < MAX_SWEEPS; sweep++) {
      double off = 0;
      double diag = 0;
      for (int p = 0; p < k; p++) {
        diag += a[p][p] * a[p][p];
        for (int q = p + 1; q < k; q++) {
          off += a[p][q] * a[p][q];
        }
      }
      if (off <= 1e-30 * Math.max(diag, Double.MIN_NORMAL)) {
        break;
      }
      for (int p = 0; p < k; p++) {
        for (int q = p + 1; q < k; q++) {
          if (a[p][q] == 0) {
            continue;
          }
          // The rotation that zeroes a[p][q] (Golub & Van Loan, Algorithm 8.5.1).
          double theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
          double t = Math.signum(theta) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
          if (theta == 0) {
            t = 1;
          }
          double c = 1 / Math.sqrt(t * t + 1);
          double s = t * c;
          for (int j = 0; j < k; j++) {
            double apj = a[p][j];
            double aqj = a[q][j];
            a[p][j] = c * apj - s * aqj;
            a[q][j] = s * apj + c * aqj;
          }
          for (int j = 0; j < k; j++) {
            double ajp = a[j][p];
            double ajq = a[j][q];
            a[j][p] = c * ajp - s * ajq;
            a[j][q] = s * ajp + c * ajq;
          }
          for (int j = 0; j < k; j++) {
            double vjp = v[j][p];
            double vjq = v[j][q];
            v[j][p] = c * vjp - s * vjq;
            v[j][q] = s * vjp + c * vjq;
          }
        }
      }
    }
    double[] values = new double[k];
    for (int i = 0; i < k; i++) {
      values[i] = a[i][i];
    }
    return values;
  }

  /** The number of dimensions, k. */
  int dimensions() {
    return k;
  }

  /** Component c (0 = the direction of most variance), a unit vector; a copy. */
  double[] component(int c) {
    return components[c].clone();
  }

  /** The variance of the rows along component c. */
  double variance(int c) {
    return variances[c];
  }

  /** The fraction of the total variance along component c; 0 when the rows do not vary. */
  double explained(int c) {
    return totalVariance > 0 ? variances[c] / totalVariance : 0;
  }

  /**
   * The coordinates of each row on the first {@code count} components (0 beyond k).
   *
   * @param rows n × k values, row by row
   * @param n the number of rows
   * @param count how many components
   * @return n rows of {@code count} coordinates
   */
  double[][] project(float[] rows, int n, int count) {
    double[][] out = new double[n][count];
    int used = Math.min(count, k);
    for (int r = 0; r < n; r++) {
      for (int c = 0; c < used; c++) {
        double s = 0;
        for (int j = 0; j < k; j++) {
          s += (rows[r * k + j] - mean[j]) * components[c][j];
        }
        out[r][c] = s;
      }
    }
    return out;
  }
}
