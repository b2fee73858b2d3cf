package io.mfserve.solver.testing;

import io.mfserve.solver.AbsentEntries;
import io.mfserve.solver.TrainingMatrix;
import io.mfserve.solver.ValidationSet;
import java.util.Random;

/**
 * Seeded synthetic matrices with a known low-rank structure, shared by every solver's tests.
 *
 * <p>{@link #lowRank} draws U (rows × rank) and V (cols × rank) and sets X = U Vᵀ (+ optional
 * biases and Gaussian noise); a solver of rank ≥ {@code rank} must recover X on held-out
 * entries to within the noise.
 */
public final class SyntheticData {
  private final int rows;
  private final int cols;
  private final float[] truth;

  private SyntheticData(int rows, int cols, float[] truth) {
    this.rows = rows;
    this.cols = cols;
    this.truth = truth;
  }

  /**
   * A rows × cols matrix of rank {@code rank}: X = mu + b_u + b_i + U Vᵀ + noise.
   *
   * @param nonNegative draw U and V from U(0, 1) (so X ≥ 0), else from N(0, 1/sqrt(rank))
   * @param biasScale standard deviation of user and item biases (0 for none); mu is 3 when
   *     biases are used, else 0
   * @param noise standard deviation of the Gaussian noise added to every entry
   */
  public static SyntheticData lowRank(int rows, int cols, int rank, boolean nonNegative,
      double biasScale, double noise, long seed) {
    Random rnd = new Random(seed);
    double[] u = new double[rows * rank];
    double[] v = new double[cols * rank];
    double scale = 1 / Math.sqrt(Math.sqrt(rank));
    for (int n = 0; n < u.length; n++) {
      u[n] = nonNegative ? rnd.nextDouble() : rnd.nextGaussian() * scale;
    }
    for (int n = 0; n < v.length; n++) {
      v[n] = nonNegative ? rnd.nextDouble() : rnd.nextGaussian() * scale;
    }
    double mu = biasScale > 0 ? 3 : 0;
    double[] bu = new double[rows];
    double[] bi = new double[cols];
    for (int r = 0; r < rows; r++) {
      bu[r] = rnd.nextGaussian() * biasScale;
    }
    for (int c = 0; c < cols; c++) {
      bi[c] = rnd.nextGaussian() * biasScale;
    }
    float[] x = new float[rows * cols];
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        double dot = 0;
        for (int f = 0; f < rank; f++) {
          dot += u[r * rank + f] * v[c * rank + f];
        }
        double val = mu + bu[r] + bi[c] + dot + rnd.nextGaussian() * noise;
        x[r * cols + c] = (float) (nonNegative ? Math.max(0, val) : val);
      }
    }
    return new SyntheticData(rows, cols, x);
  }

  /** Returns the number of rows. */
  public int rows() {
    return rows;
  }

  /** Returns the number of columns. */
  public int cols() {
    return cols;
  }

  /** Returns the true value of (r, c). */
  public float value(int r, int c) {
    return truth[r * cols + c];
  }

  /** Returns the whole matrix as a dense training matrix (every entry observed). */
  public TrainingMatrix dense() {
    return TrainingMatrix.fromDense(rows, cols, truth, AbsentEntries.UNKNOWN);
  }

  /**
   * Splits the entries: each is observed with probability {@code density}; of the rest, the
   * returned {@link Sample#heldOut()} keeps up to {@code heldOut} for testing recovery. Every
   * row and column keeps at least one observed entry.
   */
  public Sample sample(double density, int heldOut, AbsentEntries absent, long seed) {
    Random rnd = new Random(seed);
    int[] rr = new int[rows * cols];
    int[] cc = new int[rows * cols];
    float[] vv = new float[rows * cols];
    int[] hr = new int[heldOut];
    int[] hc = new int[heldOut];
    float[] hv = new float[heldOut];
    int n = 0;
    int h = 0;
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        // The diagonal band keeps every row and column observed.
        boolean keep = c == r % cols || r == c % rows || rnd.nextDouble() < density;
        if (keep) {
          rr[n] = r;
          cc[n] = c;
          vv[n++] = truth[r * cols + c];
        } else if (h < heldOut) {
          hr[h] = r;
          hc[h] = c;
          hv[h++] = truth[r * cols + c];
        }
      }
    }
    TrainingMatrix train = TrainingMatrix.fromCoordinates(rows, cols,
        java.util.Arrays.copyOf(rr, n), java.util.Arrays.copyOf(cc, n),
        java.util.Arrays.copyOf(vv, n), absent);
    ValidationSet test = ValidationSet.of(java.util.Arrays.copyOf(hr, h),
        java.util.Arrays.copyOf(hc, h), java.util.Arrays.copyOf(hv, h));
    return new Sample(train, test);
  }

  /**
   * Observed training entries and held-out entries of a {@link SyntheticData} matrix.
   *
   * @param train the observed entries
   * @param heldOut entries not in train, with their true values
   */
  public record Sample(TrainingMatrix train, ValidationSet heldOut) { }

  /** The seed example's matrix: rows × cols random integers 0..5, as floats. */
  public static TrainingMatrix seedExample(int rows, int cols, long seed) {
    Random rnd = new Random(seed);
    float[] x = new float[rows * cols];
    for (int n = 0; n < x.length; n++) {
      x[n] = rnd.nextInt(6);
    }
    return TrainingMatrix.fromDense(rows, cols, x, AbsentEntries.UNKNOWN);
  }

  /**
   * Returns the RMSE of predicting every entry of {@code m} by the mean of its stored entries:
   * the best rank-0 fit, which any rank ≥ 1 model must beat.
   */
  public static double meanBaselineRmse(TrainingMatrix m) {
    double mean = m.mean();
    double sum = 0;
    for (int r = 0; r < m.rows(); r++) {
      for (int p = m.rowStart(r); p < m.rowEnd(r); p++) {
        double e = m.rowValue(p) - mean;
        sum += e * e;
      }
    }
    return Math.sqrt(sum / m.nnz());
  }
}
