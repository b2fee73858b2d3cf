package io.mfserve.solver;

/**
 * What the data-scaled default rules of explicit ratings read from a training matrix: its
 * shape, the noise level the factors must not fit, and how much the user and item offsets
 * vary; with the rules themselves, as functions of those numbers alone, so that they can be
 * checked for any shape without building a matrix.
 *
 * <h2>The rules</h2>
 * <b>Factor regularisation</b> (plain λ, the penalty λ(‖x_u‖² + ‖y_i‖²) of every row):
 * <pre>
 *   λ = σ · (√(N / rows) + √(N / cols))
 * </pre>
 * with N the number of observed entries and σ the noise level. Minimising the squared error
 * plus λ(‖X‖² + ‖Y‖²) over factors of a rank at least that of the solution is minimising it
 * plus 2λ times the nuclear norm of XYᵀ (Srebro, Rennie and Jaakkola 2005), and for that
 * problem the regularisation that keeps the noise out is the spectral norm of the noise
 * sampled on the observed entries, about σ√p(√rows + √cols) with p = N / (rows·cols) the
 * fraction observed (Candès and Plan, "Matrix Completion With Noise", Proc. IEEE 2010,
 * eq. III.5; the factor ½ of their loss cancels the 2 above). √p·√rows is √(N / cols), the
 * root of the mean entries per column, and likewise for the other side. The rule therefore
 * scales with the rating scale (through σ) and with the density, not with the rank.
 *
 * <p><b>Weighted λ</b> (λ·n_u‖x_u‖², as Zhou et al. 2008 and SGD's per-entry penalty): the
 * plain rule divided by the length of the row (and column) an entry sits in, averaged over
 * the entries, ½(Σ_u n_u² / N + Σ_i n_i² / N): a penalty paid per entry is paid most by the
 * long rows, which hold most of the entries, so it is those rows that should get the plain
 * rule's penalty. (The mean over rows, ½(N/rows + N/cols), would put it at the short rows and
 * over-penalise the long ones: on MovieLens 100K u1 it gives SGD λ 0.22 and test RMSE 0.949,
 * the entry-weighted length λ 0.09 and 0.926, next to the best of a grid, 0.1.)
 *
 * <p><b>Bias regularisation</b> (λ_b b² on each user and item bias): the Bayes ratio of the
 * noise variance to the variance of the biases, λ_b = σ² / s², with s² the mean of the user
 * and the item bias variances, each estimated by moments: the mean square of the rows' mean
 * deviations from the global mean, less the part their sampling noise explains, V·mean(1/n)
 * with V the variance of the values (James and Stein's shrinkage, as in empirical Bayes).
 *
 * <p><b>The noise level σ</b> is the root mean square of the residuals of the shrunk bias
 * model μ + b_u + b_i on the training entries: an upper bound of the noise (the factors'
 * signal is still in it), which errs towards more regularisation.
 *
 * <p><b>Degenerate data</b> keeps the rules finite: σ is at least {@value #MIN_RELATIVE_SIGMA}
 * times the values' root mean square (and at least {@value #MIN_SIGMA}), so one entry or
 * identical values still get a positive λ; s² is at least {@value #MIN_BIAS_SHARE} σ², so
 * λ_b is at most 10⁶ (biases then stay near 0, which is what no measurable bias variance
 * says).
 *
 * @param rows the rows (users)
 * @param cols the columns (items)
 * @param nnz the observed entries
 * @param mean the mean of the values, μ
 * @param sigma the noise level σ (floored as above)
 * @param userBiasVariance the estimated variance of the user biases (floored as above)
 * @param itemBiasVariance the estimated variance of the item biases (floored as above)
 * @param rowLengthPerEntry Σ_u n_u² / N, the length of an entry's row averaged over the
 *     entries (at least 1)
 * @param colLengthPerEntry Σ_i n_i² / N, the same for columns (at least 1)
 */
public record RatingStatistics(long rows, long cols, long nnz, double mean, double sigma,
    double userBiasVariance, double itemBiasVariance, double rowLengthPerEntry,
    double colLengthPerEntry) {
  /** The smallest σ relative to the values' root mean square. */
  public static final double MIN_RELATIVE_SIGMA = 1e-2;
  /** The smallest σ in absolute terms (all-zero values). */
  public static final double MIN_SIGMA = 1e-6;
  /** The smallest bias variance relative to σ². */
  public static final double MIN_BIAS_SHARE = 1e-6;

  /**
   * Checks the arguments.
   *
   * @throws IllegalArgumentException if a count is below 1 or a value is not finite and
   *     positive where it must be
   */
  public RatingStatistics {
    if (rows < 1 || cols < 1 || nnz < 1) {
      throw new IllegalArgumentException("need at least one row, column and entry, got "
          + rows + " × " + cols + " with " + nnz);
    }
    if (!Double.isFinite(mean) || !(sigma > 0) || !Double.isFinite(sigma)
        || !(userBiasVariance > 0) || !(itemBiasVariance > 0)
        || !Double.isFinite(userBiasVariance) || !Double.isFinite(itemBiasVariance)
        || !(rowLengthPerEntry >= 1) || !(colLengthPerEntry >= 1)
        || Double.isInfinite(rowLengthPerEntry) || Double.isInfinite(colLengthPerEntry)) {
      throw new IllegalArgumentException("bad statistics: μ " + mean + ", σ " + sigma
          + ", bias variances " + userBiasVariance + ", " + itemBiasVariance);
    }
  }

  /**
   * Measures a training matrix: three passes over its entries and two arrays of rows and of
   * columns doubles.
   *
   * @param data the training entries (at least one)
   * @return its statistics
   */
  public static RatingStatistics of(TrainingMatrix data) {
    int rows = data.rows();
    int cols = data.cols();
    int nnz = data.nnz();
    if (nnz == 0) {
      throw new IllegalArgumentException("the training matrix has no entries");
    }
    double mu = data.mean();
    double sumSquares = 0;
    double[] rowSum = new double[rows];
    double[] colSum = new double[cols];
    for (int r = 0; r < rows; r++) {
      for (int p = data.rowStart(r); p < data.rowEnd(r); p++) {
        double d = data.rowValue(p) - mu;
        sumSquares += d * d;
        rowSum[r] += d;
      }
    }
    for (int c = 0; c < cols; c++) {
      for (int q = data.colStart(c); q < data.colEnd(c); q++) {
        colSum[c] += data.colValue(q) - mu;
      }
    }
    double variance = sumSquares / nnz;
    double rms = Math.sqrt(variance + mu * mu);
    double floorSigma = Math.max(MIN_SIGMA, MIN_RELATIVE_SIGMA * rms);
    double userVar = biasVariance(rowSum, data, true, variance);
    double itemVar = biasVariance(colSum, data, false, variance);
    // Shrunk biases, items first (each a posterior mean given the other side's), then σ.
    double[] itemBias = new double[cols];
    for (int c = 0; c < cols; c++) {
      int n = data.colLength(c);
      itemBias[c] = n == 0 ? 0 : colSum[c] / (n + variance / Math.max(itemVar, 1e-300));
    }
    double[] userBias = rowSum; // reused: each row's sum is read once before it is replaced
    double residual = 0;
    for (int r = 0; r < rows; r++) {
      double dev = 0;
      for (int p = data.rowStart(r); p < data.rowEnd(r); p++) {
        dev += data.rowValue(p) - mu - itemBias[data.rowColumn(p)];
      }
      int n = data.rowLength(r);
      userBias[r] = n == 0 ? 0 : dev / (n + variance / Math.max(userVar, 1e-300));
      for (int p = data.rowStart(r); p < data.rowEnd(r); p++) {
        double e = data.rowValue(p) - mu - itemBias[data.rowColumn(p)] - userBias[r];
        residual += e * e;
      }
    }
    double sigma = Math.max(floorSigma, Math.sqrt(residual / nnz));
    double floorVar = MIN_BIAS_SHARE * sigma * sigma;
    double rowSquares = 0;
    for (int r = 0; r < rows; r++) {
      rowSquares += (double) data.rowLength(r) * data.rowLength(r);
    }
    double colSquares = 0;
    for (int c = 0; c < cols; c++) {
      colSquares += (double) data.colLength(c) * data.colLength(c);
    }
    return new RatingStatistics(rows, cols, nnz, mu, sigma, Math.max(floorVar, userVar),
        Math.max(floorVar, itemVar), rowSquares / nnz, colSquares / nnz);
  }

  /**
   * The method-of-moments variance of one side's biases: mean over its non-empty lines of
   * (mean deviation)² − V / n. Never negative.
   */
  private static double biasVariance(double[] sums, TrainingMatrix data, boolean rows,
      double variance) {
    double total = 0;
    int lines = 0;
    for (int i = 0; i < sums.length; i++) {
      int n = rows ? data.rowLength(i) : data.colLength(i);
      if (n > 0) {
        double d = sums[i] / n;
        total += d * d - variance / n;
        lines++;
      }
    }
    return lines == 0 ? 0 : Math.max(0, total / lines);
  }

  /**
   * The length of an entry's row and column, averaged over the entries,
   * ½(Σ_u n_u² / N + Σ_i n_i² / N): what a per-entry penalty is multiplied by, for a typical
   * entry.
   *
   * @return at least 1
   */
  public double meanEntriesPerLine() {
    return 0.5 * (rowLengthPerEntry + colLengthPerEntry);
  }

  /**
   * The plain factor regularisation σ(√(N / rows) + √(N / cols)); see the class comment.
   *
   * @return λ, finite and positive
   */
  public double factorLambda() {
    return sigma * (Math.sqrt((double) nnz / rows) + Math.sqrt((double) nnz / cols));
  }

  /**
   * The weighted factor regularisation, the plain rule over {@link #meanEntriesPerLine()}
   * (see the class comment).
   *
   * @return λ for penalties λ·n‖x‖², finite and positive
   */
  public double weightedFactorLambda() {
    return factorLambda() / meanEntriesPerLine();
  }

  /**
   * The bias regularisation σ² / s²; see the class comment.
   *
   * @return λ_b, finite and positive, at most 10⁶
   */
  public double biasLambda() {
    double s2 = 0.5 * (userBiasVariance + itemBiasVariance);
    return Math.min(1 / MIN_BIAS_SHARE, sigma * sigma / s2);
  }
}
