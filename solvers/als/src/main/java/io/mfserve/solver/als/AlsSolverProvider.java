package io.mfserve.solver.als;

import io.mfserve.solver.AbsentEntries;
import io.mfserve.solver.ParameterSpec;
import io.mfserve.solver.Parameters;
import io.mfserve.solver.Solver;
import io.mfserve.solver.SolverConfig;
import io.mfserve.solver.SolverProvider;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * The {@code als} solver: explicit-feedback alternating least squares with weighted-λ
 * regularisation, after Y. Zhou, D. Wilkinson, R. Schreiber and R. Pan, "Large-scale Parallel
 * Collaborative Filtering for the Netflix Prize", AAIM 2008.
 *
 * <p>It minimises, over user factors U and item factors V,
 * <pre>
 *   Σ_{(u,i) observed} (r_ui − u·v_i)² + λ (Σ_u n_u ‖u‖² + Σ_i n_i ‖v_i‖²)
 * </pre>
 * where n_u and n_i count the observed entries of user u and item i. With
 * {@code weighted_lambda=false} the weights n_u and n_i are dropped (plain ridge). See
 * {@link AlsSolver} for the algorithm.
 *
 * <h2>Parameters</h2>
 * <ul>
 *   <li>{@value ParameterSpec#MAX_ITERATIONS}: sweeps (a user half and an item half each),
 *       default 10, in [1, 10000].
 *   <li>{@value ParameterSpec#REGULARIZATION}: λ, default 0.1, in [0, inf).
 *   <li>{@value #WEIGHTED_LAMBDA}: whether λ is scaled by each row's and column's number of
 *       observed entries, default true.
 * </ul>
 * Absent entries must mean {@link AbsentEntries#UNKNOWN} (ratings): the loss covers the
 * observed entries only.
 *
 * <p>Stateless and thread-safe, as {@link SolverProvider} requires.
 */
public final class AlsSolverProvider implements SolverProvider {
  /** The name of the parameter that switches between weighted-λ and plain-λ regularisation. */
  public static final String WEIGHTED_LAMBDA = "weighted_lambda";

  /** The stable name of this solver, stored with every model it trains. */
  public static final String NAME = "als";

  private static final List<ParameterSpec> PARAMETERS = List.of(
      ParameterSpec.ofInt(ParameterSpec.MAX_ITERATIONS, 10, 1, 10_000,
          "Number of sweeps; each solves every user row, then every item row, exactly."),
      ParameterSpec.ofDouble(ParameterSpec.REGULARIZATION, 0.1, 0, Double.POSITIVE_INFINITY,
          "Regularisation strength λ. With weighted_lambda it is multiplied by each row's and"
              + " column's number of observed entries (Zhou et al. 2008)."),
      ParameterSpec.ofBool(WEIGHTED_LAMBDA, true,
          "true: penalise λ·n_u‖u‖² and λ·n_i‖v‖² (weighted-λ, as in Zhou et al. 2008 and"
              + " Spark MLlib), so λ needs little retuning as the data grows; false: plain λ‖u‖²"
              + " and λ‖v‖²."));

  /** Creates the provider. Never throws, as {@link java.util.ServiceLoader} requires. */
  public AlsSolverProvider() {
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public String description() {
    return "Alternating least squares for explicit feedback with weighted-λ regularisation"
        + " (Zhou, Wilkinson, Schreiber and Pan, 'Large-scale Parallel Collaborative Filtering"
        + " for the Netflix Prize', AAIM 2008): each sweep solves every user's and then every"
        + " item's k × k normal equations exactly, by Cholesky, in parallel.";
  }

  @Override
  public List<ParameterSpec> parameters() {
    return PARAMETERS;
  }

  @Override
  public Set<AbsentEntries> supportedAbsentEntries() {
    return EnumSet.of(AbsentEntries.UNKNOWN);
  }

  @Override
  public AbsentEntries defaultAbsentEntries() {
    return AbsentEntries.UNKNOWN;
  }

  /**
   * Returns the solver's scratch memory: one set of k × k buffers per worker thread (the pool's
   * width is not known here, so this assumes it is no wider than the machine's processor count)
   * and two doubles per block of rows and of columns for the loss. The factors themselves belong
   * to the model and are not counted.
   */
  @Override
  public long estimateWorkingBytes(int rows, int cols, long nnz, SolverConfig config) {
    long workers = Runtime.getRuntime().availableProcessors();
    long blocks = AlsSolver.blockCount(rows) + AlsSolver.blockCount(cols);
    return workers * AlsSolver.scratchBytes(config.numFactors()) + blocks * Double.BYTES;
  }

  @Override
  public Solver create(SolverConfig config) {
    Parameters p = config.parameters();
    return new AlsSolver(config.numFactors(), config.seed(),
        p.getInt(ParameterSpec.MAX_ITERATIONS), p.getDouble(ParameterSpec.REGULARIZATION),
        p.getBool(WEIGHTED_LAMBDA));
  }
}
