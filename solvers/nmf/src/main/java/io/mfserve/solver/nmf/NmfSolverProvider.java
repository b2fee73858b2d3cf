package io.mfserve.solver.nmf;

import io.mfserve.solver.AbsentEntries;
import io.mfserve.solver.FactorModel;
import io.mfserve.solver.FoldedUser;
import io.mfserve.solver.InvalidParameterException;
import io.mfserve.solver.ParameterSpec;
import io.mfserve.solver.Solver;
import io.mfserve.solver.SolverConfig;
import io.mfserve.solver.SolverProvider;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * The {@code "nmf"} solver plugin: non-negative matrix factorisation {@code X ≈ W Hᵀ},
 * W, H ≥ 0, by HALS (Cichocki and Phan 2009) or multiplicative updates (Lee and Seung 2001).
 * See {@link NmfSolver} for the objective and the updates.
 *
 * <p>Registered in {@code META-INF/services/io.mfserve.solver.SolverProvider}. Absent entries of
 * a sparse matrix may mean {@link AbsentEntries#ZERO} (the default: document × term counts;
 * the matrix is never densified) or {@link AbsentEntries#UNKNOWN} (ratings: weighted NMF over
 * the observed entries). Parameters:
 * <ul>
 *   <li>{@code max_iterations} (int, 200, [1, 100000]): sweeps over W and H;
 *   <li>{@code regularization} (double, 0, [0, inf)): λ of the L2 penalty ½λ(‖W‖² + ‖H‖²);
 *   <li>{@code method} ({@code hals} | {@code mu}, hals);
 *   <li>{@code tolerance} (double, 1e-4, [0, 1]): stop once the loss changes by at most this
 *       fraction between sweeps; 0 runs every sweep.
 * </ul>
 * Stateless and thread-safe; the no-argument constructor never throws.
 */
public final class NmfSolverProvider implements SolverProvider {
  /** The stable name stored with every model. */
  public static final String NAME = "nmf";
  /** The update rule: {@code hals} or {@code mu}. */
  public static final String METHOD = "method";
  /** The relative loss change below which the fit stops. */
  public static final String TOLERANCE = "tolerance";

  private static final List<ParameterSpec> PARAMETERS = List.of(
      ParameterSpec.ofInt(ParameterSpec.MAX_ITERATIONS, 200, 1, 100_000,
          "Maximum number of sweeps; each updates all of W, then all of H."),
      ParameterSpec.ofDouble(ParameterSpec.REGULARIZATION, 0.0, 0.0, Double.POSITIVE_INFINITY,
          "L2 penalty lambda on both factors: the loss adds lambda/2 (|W|^2 + |H|^2)."),
      ParameterSpec.ofChoice(METHOD, Method.NAMES.get(0), Method.NAMES,
          "Update rule: hals (coordinate descent, Cichocki & Phan 2009; converges faster) or"
              + " mu (multiplicative updates, Lee & Seung 2001)."),
      ParameterSpec.ofDouble(TOLERANCE, 1e-4, 0.0, 1.0,
          "Stop when the loss changes by at most this fraction between sweeps; 0 disables."));

  /** Creates the provider; never throws. */
  public NmfSolverProvider() {
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public String description() {
    return "Non-negative matrix factorisation X ~ W H^T with W, H >= 0, by HALS (Cichocki &"
        + " Phan 2009) or multiplicative updates (Lee & Seung 2001); absent entries are zeros"
        + " (counts) or unknown (weighted NMF on ratings). Needs non-negative data.";
  }

  @Override
  public List<ParameterSpec> parameters() {
    return PARAMETERS;
  }

  @Override
  public Set<AbsentEntries> supportedAbsentEntries() {
    return EnumSet.of(AbsentEntries.ZERO, AbsentEntries.UNKNOWN);
  }

  @Override
  public AbsentEntries defaultAbsentEntries() {
    return AbsentEntries.ZERO;
  }

  /**
   * {@inheritDoc}
   *
   * <p>NMF works in place on the returned factors and keeps no copy of X or of X H: beyond the
   * model it holds one scratch buffer of {@code k² + 2k + 2} doubles per block of rows or columns
   * (at most 64 blocks), and two k × k Gram matrices.
   */
  @Override
  public long estimateWorkingBytes(int rows, int cols, long nnz, SolverConfig config) {
    long k = config.numFactors();
    long blocks = Math.max(1, Math.min(Blocks.MAX_BLOCKS, Math.max(rows, cols)));
    long scratch = blocks * Updater.scratchPerBlock(config.numFactors()) * Double.BYTES;
    long grams = 2 * k * k * Double.BYTES;
    // Arrays headers, the history list and the like.
    return scratch + grams + 16 * 1024;
  }

  /**
   * Folds a row in by non-negative least squares against the fixed H, with the model's λ and
   * its meaning of absent entries (zeros: every item not given counts as 0; unknown: only the
   * given items count); see {@link NnlsFoldIn}. The factors are never negative.
   *
   * @throws InvalidParameterException naming {@code "values"} if a value is negative
   */
  @Override
  public FoldedUser foldInUser(FactorModel model, SolverConfig config, int[] items,
      float[] values) {
    if (!supportedAbsentEntries().contains(config.absentEntries())) {
      throw new UnsupportedOperationException("nmf cannot fold users into a model trained with"
          + " absent entries meaning " + config.absentEntries());
    }
    return NnlsFoldIn.solve(model, config.absentEntries(),
        config.parameters().getDouble(ParameterSpec.REGULARIZATION), items, values);
  }

  /**
   * {@inheritDoc}
   *
   * @throws InvalidParameterException naming {@code "absent_entries"} for implicit feedback
   */
  @Override
  public Solver create(SolverConfig config) {
    if (!supportedAbsentEntries().contains(config.absentEntries())) {
      throw new InvalidParameterException("absent_entries", "nmf does not support absent"
          + " entries meaning " + config.absentEntries() + "; use ZERO (counts) or UNKNOWN"
          + " (ratings)");
    }
    return new NmfSolver(config);
  }
}
