package io.mfserve.solver.nmf;

import io.mfserve.solver.AbsentEntries;
import io.mfserve.solver.TrainingMatrix;

/**
 * Biased NMF on ratings: takes the shrunk baseline μ + b_u + b_i out of the observed entries
 * and leaves NMF the residual lifted by a shift c, so that the non-negative W Hᵀ can model
 * interactions of either sign around the baseline:
 * <pre>
 *   x'_ui = max(0, r_ui − μ − b_u − b_i + c),    r̂_ui = μ + b_u + (b_i − c) + w_u·h_i
 * </pre>
 * The biases are Koren's regularised baseline (alternating least squares, {@value #SWEEPS}
 * sweeps, each b the shrunk mean of its residuals with λ_b); c = {@value #SHIFT_SIGMAS} σ with
 * σ the residuals' root mean square, so that about 2% of Gaussian residuals fall below −c and
 * are clamped to 0. The shift is folded into the item biases of the returned model, which
 * then predicts with the formula above through its ordinary biases. Applies to the weighted
 * (unknown absent entries) Frobenius fit only.
 *
 * <p>The L2 penalty on W and H also shrinks the part of W Hᵀ that carries the shift (a
 * constant c costs λc√(rows·cols) to represent), so predictions would sit below the ratings
 * on average (on MovieLens 100K by about λ√(rows·cols)/N ≈ 0.2). After the factors are fitted
 * the biases are therefore fitted again against the ratings with W Hᵀ fixed
 * ({@link #refitBiases}), which absorbs that offset, and the item biases then hold −c and the
 * offset together.
 */
final class Centering {
  /** Alternating sweeps of the bias baseline. */
  static final int SWEEPS = 10;
  /** The shift in residual standard deviations. */
  static final double SHIFT_SIGMAS = 2;

  final TrainingMatrix residuals;
  final double mean;
  final float[] userBias;
  /** b_i − c. */
  final float[] itemBias;
  final double shift;

  private Centering(TrainingMatrix residuals, double mean, float[] userBias, float[] itemBias,
      double shift) {
    this.residuals = residuals;
    this.mean = mean;
    this.userBias = userBias;
    this.itemBias = itemBias;
    this.shift = shift;
  }

  /** The bytes {@link #of} allocates beyond its input: a matrix of the same shape and more. */
  static long workingBytes(int rows, int cols, long nnz) {
    return TrainingMatrix.estimateBytes(rows, cols, nnz) + nnz * 20L
        + ((long) rows + cols) * (Double.BYTES + Float.BYTES);
  }

  /**
   * Centres {@code data}.
   *
   * @param data observed ratings (absent entries unknown)
   * @param biasLambda λ_b of the bias baseline
   */
  static Centering of(TrainingMatrix data, double biasLambda) {
    int rows = data.rows();
    int cols = data.cols();
    double mu = data.mean();
    double[] bu = new double[rows];
    double[] bi = new double[cols];
    for (int sweep = 0; sweep < SWEEPS; sweep++) {
      for (int c = 0; c < cols; c++) {
        double dev = 0;
        for (int q = data.colStart(c); q < data.colEnd(c); q++) {
          dev += data.colValue(q) - mu - bu[data.colRow(q)];
        }
        bi[c] = dev / (data.colLength(c) + biasLambda);
      }
      for (int r = 0; r < rows; r++) {
        double dev = 0;
        for (int p = data.rowStart(r); p < data.rowEnd(r); p++) {
          dev += data.rowValue(p) - mu - bi[data.rowColumn(p)];
        }
        bu[r] = dev / (data.rowLength(r) + biasLambda);
      }
    }
    int nnz = data.nnz();
    double squares = 0;
    for (int r = 0; r < rows; r++) {
      for (int p = data.rowStart(r); p < data.rowEnd(r); p++) {
        double e = data.rowValue(p) - mu - bu[r] - bi[data.rowColumn(p)];
        squares += e * e;
      }
    }
    double shift = SHIFT_SIGMAS * Math.sqrt(squares / Math.max(1, nnz));
    int[] ri = new int[nnz];
    int[] ci = new int[nnz];
    float[] v = new float[nnz];
    for (int r = 0; r < rows; r++) {
      for (int p = data.rowStart(r); p < data.rowEnd(r); p++) {
        ri[p] = r;
        ci[p] = data.rowColumn(p);
        v[p] = (float) Math.max(0, data.rowValue(p) - mu - bu[r] - bi[ci[p]] + shift);
      }
    }
    TrainingMatrix residuals = TrainingMatrix.fromCoordinates(rows, cols, ri, ci, v,
        AbsentEntries.UNKNOWN);
    float[] userBias = new float[rows];
    float[] itemBias = new float[cols];
    for (int r = 0; r < rows; r++) {
      userBias[r] = (float) bu[r];
    }
    for (int c = 0; c < cols; c++) {
      itemBias[c] = (float) (bi[c] - shift);
    }
    return new Centering(residuals, mu, userBias, itemBias, shift);
  }

  /**
   * Fits the biases again, {@value #SWEEPS} alternating sweeps as in {@link #of}, against the
   * original ratings less μ and the fitted W Hᵀ (in place; the arrays then hold the model's
   * final b_u and b_i).
   *
   * @param ratings the original observed ratings
   * @param w the fitted W, rows × k
   * @param h the fitted H, cols × k
   */
  void refitBiases(TrainingMatrix ratings, float[] w, float[] h, int k, double biasLambda) {
    int rows = ratings.rows();
    int cols = ratings.cols();
    // r − μ − w·h per entry, in row order and in column order.
    float[] rowResidual = new float[ratings.nnz()];
    float[] colResidual = new float[ratings.nnz()];
    for (int r = 0; r < rows; r++) {
      for (int p = ratings.rowStart(r); p < ratings.rowEnd(r); p++) {
        rowResidual[p] = (float) (ratings.rowValue(p) - mean
            - dot(w, r, h, ratings.rowColumn(p), k));
      }
    }
    for (int c = 0; c < cols; c++) {
      for (int q = ratings.colStart(c); q < ratings.colEnd(c); q++) {
        colResidual[q] = (float) (ratings.colValue(q) - mean
            - dot(w, ratings.colRow(q), h, c, k));
      }
    }
    for (int sweep = 0; sweep < SWEEPS; sweep++) {
      for (int c = 0; c < cols; c++) {
        double dev = 0;
        for (int q = ratings.colStart(c); q < ratings.colEnd(c); q++) {
          dev += colResidual[q] - userBias[ratings.colRow(q)];
        }
        itemBias[c] = (float) (dev / (ratings.colLength(c) + biasLambda));
      }
      for (int r = 0; r < rows; r++) {
        double dev = 0;
        for (int p = ratings.rowStart(r); p < ratings.rowEnd(r); p++) {
          dev += rowResidual[p] - itemBias[ratings.rowColumn(p)];
        }
        userBias[r] = (float) (dev / (ratings.rowLength(r) + biasLambda));
      }
    }
  }

  private static double dot(float[] w, int r, float[] h, int c, int k) {
    double sum = 0;
    for (int t = 0; t < k; t++) {
      sum += (double) w[r * k + t] * h[c * k + t];
    }
    return sum;
  }
}
