package io.mfserve.example.baseline;

import io.mfserve.solver.AbsentEntries;
import io.mfserve.solver.FactorModel;
import io.mfserve.solver.FoldedUser;
import io.mfserve.solver.InvalidParameterException;
import io.mfserve.solver.ParameterSpec;
import io.mfserve.solver.Solver;
import io.mfserve.solver.SolverConfig;
import io.mfserve.solver.SolverProvider;
import java.util.List;

/**
 * The {@code "baseline"} solver: user and item biases without factors,
 * {@code r̂(u, i) = μ + b_u + b_i}, fitted by alternating regularised least squares as in Koren,
 * "Factor in the Neighbors: Scalable and Accurate Collaborative Filtering" (ACM TKDD 4(1), 2010,
 * section 2.1) and Surprise's {@code BaselineOnly}.
 *
 * <p>It is mfserve's example plugin: a complete solver in two small classes that uses only the
 * SPI ({@code io.mfserve:mfserve-solver-api}), built and tested outside the server's modules.
 * It is also useful on its own. Every evaluation of a rating model should show how far the
 * model gets beyond this baseline; a factor model that does not beat it has learned nothing
 * but two averages. Its Recommend ranks items by b_i, the item's mean offset shrunk towards
 * μ by {@code item_regularization} pseudo-ratings: a popularity ranking that does not favour
 * items with one five-star rating.
 *
 * <h2>Parameters</h2>
 * <ul>
 *   <li>{@code max_iterations}: alternating sweeps (users, then items), default 10; the biases
 *       change by less than 10⁻³ after five on rating data.
 *   <li>{@code user_regularization}: λ_u, default 15, and {@code item_regularization}: λ_i,
 *       default 10 (Surprise's defaults). Each is a count of pseudo-entries at the global
 *       mean: a user with n ratings gets {@code b_u = Σ (r − μ − b_i) / (λ_u + n)}, so the
 *       shrinkage fades as a row's entries grow and is the same whatever the data's size.
 * </ul>
 *
 * <p>The factors are k zeros (k as requested; give {@code num_factors 1} to keep the model
 * small): predictions, Recommend and fold-in use the biases only, and similarity queries,
 * which compare factors, say nothing on this model.
 *
 * <p>Stateless and thread-safe, as {@link SolverProvider} requires.
 */
public final class BaselineSolverProvider implements SolverProvider {
  /** The stable name stored with every model this solver trains. */
  public static final String NAME = "baseline";
  /** The name of λ_u, the users' shrinkage in pseudo-entries. */
  public static final String USER_REGULARIZATION = "user_regularization";
  /** The name of λ_i, the items' shrinkage in pseudo-entries. */
  public static final String ITEM_REGULARIZATION = "item_regularization";

  private static final List<ParameterSpec> PARAMETERS = List.of(
      ParameterSpec.maxIterations(10, 1000,
          "Alternating sweeps: every user's bias, then every item's."),
      ParameterSpec.ofDouble(USER_REGULARIZATION, 15, 0, 1e9,
          "lambda_u: a user's bias is shrunk as if it had this many more ratings at the mean."),
      ParameterSpec.ofDouble(ITEM_REGULARIZATION, 10, 0, 1e9,
          "lambda_i: an item's bias is shrunk as if it had this many more ratings at the"
              + " mean."));

  /** Creates the provider. Never throws, as {@link java.util.ServiceLoader} requires. */
  public BaselineSolverProvider() {
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public String description() {
    return "Bias baseline mu + b_u + b_i without factors, by alternating regularised least"
        + " squares (Koren, ACM TKDD 2010; Surprise's BaselineOnly): the floor every rating"
        + " model should beat. mfserve's example plugin.";
  }

  @Override
  public List<ParameterSpec> parameters() {
    return PARAMETERS;
  }

  @Override
  public long estimateWorkingBytes(int rows, int cols, long nnz, SolverConfig config) {
    // Two double arrays of sums per sweep, one entry per row or column.
    return 8L * (rows + (long) cols);
  }

  @Override
  public Solver create(SolverConfig config) {
    return new BaselineSolver(config.numFactors(),
        config.parameters().getInt(ParameterSpec.MAX_ITERATIONS),
        config.parameters().getDouble(USER_REGULARIZATION),
        config.parameters().getDouble(ITEM_REGULARIZATION));
  }

  /**
   * A new user's bias from their ratings against the model's item biases, by the rule the fit
   * used: {@code b_u = Σ (r − μ − b_i) / (λ_u + n)}; the factors stay zero.
   */
  @Override
  public FoldedUser foldInUser(FactorModel model, SolverConfig config, int[] items,
      float[] values) {
    if (config.absentEntries() != AbsentEntries.UNKNOWN || !model.hasBiases()) {
      throw new UnsupportedOperationException("solver '" + NAME + "' folds users into its own"
          + " rating models only");
    }
    double sum = 0;
    for (int n = 0; n < items.length; n++) {
      if (!Float.isFinite(values[n])) {
        throw new InvalidParameterException("values", "must be finite");
      }
      sum += values[n] - model.globalMean() - model.itemBias(items[n]);
    }
    double lambda = config.parameters().getDouble(USER_REGULARIZATION);
    return new FoldedUser(new float[model.numFactors()], (float) (sum / (lambda + items.length)));
  }
}
