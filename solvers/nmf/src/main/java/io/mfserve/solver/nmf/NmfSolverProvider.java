package io.mfserve.solver.nmf;

import io.mfserve.solver.AbsentEntries;
import io.mfserve.solver.FactorModel;
import io.mfserve.solver.FoldedUser;
import io.mfserve.solver.InvalidParameterException;
import io.mfserve.solver.ParameterSpec;
import io.mfserve.solver.Parameters;
import io.mfserve.solver.RatingStatistics;
import io.mfserve.solver.Solver;
import io.mfserve.solver.SolverConfig;
import io.mfserve.solver.SolverProvider;
import io.mfserve.solver.TrainingMatrix;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * The {@code "nmf"} solver plugin: non-negative matrix factorisation {@code X ≈ W Hᵀ},
 * W, H ≥ 0, by HALS (Cichocki and Phan 2009) or multiplicative updates (Lee and Seung 2001),
 * for the Frobenius loss or the generalised Kullback–Leibler divergence. See {@link NmfSolver}
 * for the objective and the updates.
 *
 * <p>Registered in {@code META-INF/services/io.mfserve.solver.SolverProvider}. Absent entries of
 * a sparse matrix may mean {@link AbsentEntries#ZERO} (the default: document × term counts;
 * the matrix is never densified) or {@link AbsentEntries#UNKNOWN} (ratings: weighted NMF over
 * the observed entries). Parameters:
 * <ul>
 *   <li>{@code max_iterations} (int, 200, [1, 100000]): sweeps over W and H;
 *   <li>{@code regularization} (double, 0, [0, inf)): λ of an unscaled L2 penalty
 *       ½λ(‖W‖² + ‖H‖²);
 *   <li>{@code method} ({@code auto} | {@code hals} | {@code mu}, auto: hals for frobenius, mu
 *       for kl; hals with kl is refused);
 *   <li>{@code loss} ({@code frobenius} | {@code kl}, frobenius);
 *   <li>{@code init} ({@code auto} | {@code random} | {@code nndsvd} | {@code nndsvda} |
 *       {@code nndsvdar}, auto: nndsvda when every entry counts and k ≤ 256, else random);
 *   <li>{@code tolerance} (double, 1e-4, [0, 1]): stop once the mean decrease of the loss over
 *       the last two sweeps is at most this fraction of the decrease since the first sweep, or
 *       (Frobenius, every entry counting) once the projected gradient's L1 norm is at most this
 *       fraction of the first sweep's, whichever comes first; 0 runs every sweep (a warm
 *       start measures the loss's decrease against the best constant model's loss instead
 *       and has no gradient rule: see {@link NmfSolver});
 *   <li>{@code alpha_w}, {@code alpha_h} (double, 0, [0, inf)) and {@code l1_ratio} (double, 0,
 *       [0, 1]): scikit-learn's (≥ 1.2) regularisation, {@code alpha_w · l1_ratio · cols · Σ W
 *       + ½ alpha_w (1 − l1_ratio) cols ‖W‖²} and the same for H with rows; unlike there,
 *       alpha_h does not default to alpha_w;
 *   <li>{@code inner_sweeps} (int, 0, [0, 100]): HALS passes over a row per update, 0 choosing
 *       per row (up to 50);
 *   <li>{@code extrapolate} (bool, true): HALS with Ang and Gillis's (2019) extrapolation and
 *       restarts when every entry counts (dense, or absent entries zero); ignored otherwise.
 *       A sweep that would raise the loss is undone, and a stall of the loss is confirmed on
 *       one plain HALS sweep before the fit stops.
 * </ul>
 * A fit may start from an earlier model ({@link io.mfserve.solver.FitContext#warmStart()}): its
 * factors, clamped to ≥ 0 (for multiplicative updates to a small positive floor), for the rows
 * and columns it knows, {@code init}'s start for the others (see {@link NmfSolver}).
 *
 * <p>Stateless and thread-safe; the no-argument constructor never throws.
 */
public final class NmfSolverProvider implements SolverProvider {
  /** The stable name stored with every model. */
  public static final String NAME = "nmf";
  /** The update rule: {@code auto}, {@code hals} or {@code mu}. */
  public static final String METHOD = "method";
  /** The relative loss change below which the fit stops. */
  public static final String TOLERANCE = "tolerance";
  /** The data term: {@code frobenius} or {@code kl}. */
  public static final String LOSS = "loss";
  /** The start: {@code auto}, {@code random}, {@code nndsvd}, {@code nndsvda}, {@code nndsvdar}. */
  public static final String INIT = "init";
  /** scikit-learn's alpha_W: penalty strength on W, scaled by the number of columns. */
  public static final String ALPHA_W = "alpha_w";
  /** scikit-learn's alpha_H: penalty strength on H, scaled by the number of rows. */
  public static final String ALPHA_H = "alpha_h";
  /** scikit-learn's l1_ratio: the L1 share of the alpha penalties. */
  public static final String L1_RATIO = "l1_ratio";
  /** Whether HALS extrapolates between sweeps (Ang and Gillis 2019). */
  public static final String EXTRAPOLATE = "extrapolate";
  /** HALS passes over a row per update; 0 for automatic. */
  public static final String INNER_SWEEPS = "inner_sweeps";
  /** Whether a fit on ratings has a global mean and user and item biases. */
  public static final String BIASES = "biases";
  /** λ_b of the bias baseline of a biased fit. */
  public static final String BIAS_REGULARIZATION = "bias_regularization";

  private static final List<ParameterSpec> PARAMETERS = List.of(
      ParameterSpec.maxIterations(200, 100_000,
          "Maximum number of sweeps; each updates all of W, then all of H."),
      ParameterSpec.regularization(0.0,
          "Unscaled L2 penalty lambda on both factors: the loss adds lambda/2 (|W|^2 + |H|^2)."
              + " Unset on sparse ratings (absent entries unknown, frobenius): σ(√(N/rows) +"
              + " √(N/cols)), σ the residual RMS of the shrunk bias model and N the entries;"
              + " else 0."),
      ParameterSpec.ofChoice(METHOD, Method.NAMES.get(0), Method.NAMES,
          "Update rule: hals (coordinate descent, Cichocki & Phan 2009, accelerated as Gillis &"
              + " Glineur 2012; frobenius only), mu (multiplicative updates, Lee & Seung 2001),"
              + " or auto: hals for frobenius, mu for kl."),
      ParameterSpec.ofDouble(TOLERANCE, 1e-4, 0.0, 1.0,
          "Stop when the last two sweeps lower the loss by at most this fraction of the decrease"
              + " since the first sweep, per sweep, or (frobenius, every entry counting) when the"
              + " projected gradient's L1 norm is at most this fraction of the first sweep's,"
              + " whichever comes first; 0 runs every sweep."),
      ParameterSpec.ofChoice(LOSS, Loss.NAMES.get(0), Loss.NAMES,
          "Data term: frobenius (1/2 |X - W H^T|^2) or kl (generalised Kullback-Leibler"
              + " divergence, for counts; needs method mu or auto)."),
      ParameterSpec.ofChoice(INIT, Init.NAMES.get(0), Init.NAMES,
          "Start: random (sqrt(mean/k) |N(0,1)|, seeded), nndsvd (Boutsidis & Gallopoulos"
              + " 2008, from a seeded randomized SVD), nndsvda (its zeros set to the mean),"
              + " nndsvdar (set to small random values), or auto: nndsvda when absent entries"
              + " are zeros (or none) and num_factors <= 256, else random."),
      ParameterSpec.ofDouble(ALPHA_W, 0.0, 0.0, Double.POSITIVE_INFINITY,
          "Penalty on W as scikit-learn's alpha_W: l1_ratio * alpha_w * cols * sum(W) +"
              + " (1 - l1_ratio) * alpha_w * cols / 2 * |W|^2."),
      ParameterSpec.ofDouble(ALPHA_H, 0.0, 0.0, Double.POSITIVE_INFINITY,
          "Penalty on H as scikit-learn's alpha_H, scaled by rows (not defaulting to alpha_w)."),
      ParameterSpec.ofDouble(L1_RATIO, 0.0, 0.0, 1.0,
          "Share of alpha_w and alpha_h that is L1 (sparse factors); the rest is L2."),
      ParameterSpec.ofInt(INNER_SWEEPS, 0, 0, 100,
          "HALS passes over each row per update (at most; they stop once a pass moves the row"
              + " by under 10% of the first); 1 is plain HALS (scikit-learn's cd), 0 chooses"
              + " per row from its cost (Gillis & Glineur 2012), up to 50."),
      ParameterSpec.ofBool(EXTRAPOLATE, true,
          "HALS with extrapolation and restarts (Ang & Gillis 2019) when every entry counts: a"
              + " sweep that would raise the loss is undone, and a stall of the loss is confirmed"
              + " on one plain sweep before the fit stops; ignored by mu and by ratings (absent"
              + " entries unknown)."),
      ParameterSpec.ofBool(BIASES, false,
          "Ratings (absent entries unknown, frobenius) only: predict mu + b_u + b_i + W H^T, the"
              + " factors fitting the residual of the regularised bias baseline shifted up by"
              + " twice its RMS, so non-negative factors model interactions of either sign."
              + " Unset on sparse ratings: true; else false."),
      ParameterSpec.ofDouble(BIAS_REGULARIZATION, 1.0, 0.0, Double.POSITIVE_INFINITY,
          "With biases: lambda_b of the bias baseline (each bias the shrunk mean of its"
              + " residuals). Unset on sparse ratings: sigma^2 / s^2, the noise over the biases'"
              + " variance estimated by moments; else 1."));

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
        + " Phan 2009) or multiplicative updates (Lee & Seung 2001), Frobenius or"
        + " Kullback-Leibler loss, L1/L2 penalties, random or NNDSVD start; absent entries are"
        + " zeros (counts, documents x terms) or unknown (weighted NMF on ratings). Needs"
        + " non-negative data. A warm start from an earlier model starts from its factors,"
        + " clamped to >= 0 (mu: to a small positive floor), and new rows from the usual"
        + " start.";
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
   * model it holds one scratch buffer of {@code k² + 3k + 4} doubles per block of rows or
   * columns (at most 64 blocks) and two k × k Gram matrices. An NNDSVD start adds, for its
   * duration, one rows × (k + 10) and one cols × (k + 10) float array and a few
   * (k + 10)² matrices. HALS with {@code extrapolate}, when every entry counts, keeps two more
   * copies of each factor (the last plain iterate and the pair a sweep started from). A dense
   * X adds one {@link DenseProducts.Workspace} per tile-aligned block (for k ≤ 64: 512 rows ×
   * (k floats + k doubles + 2k floats) and a few runs, about 0.5 MB at k = 20).
   */
  @Override
  public long estimateWorkingBytes(int rows, int cols, long nnz, SolverConfig config) {
    int k = config.numFactors();
    long blocks = Math.max(1, Math.min(Blocks.MAX_BLOCKS, Math.max(rows, cols)));
    long scratch = blocks * Updater.scratchPerBlock(k) * Double.BYTES;
    long grams = 2L * k * k * Double.BYTES;
    Init init = Init.of(config.parameters().getChoice(INIT));
    boolean dense = nnz == (long) rows * cols;
    long svd = init.resolve(dense, config.absentEntries(), k).needsSvd()
        ? RandomizedSvd.workingBytes(k, rows, cols) : 0;
    Parameters p = config.parameters();
    boolean hals = Method.of(p.getChoice(METHOD)).resolve(Loss.of(p.getChoice(LOSS)))
        == Method.HALS;
    long extrapolation = hals && p.getBool(EXTRAPOLATE)
        && (dense || config.absentEntries() != AbsentEntries.UNKNOWN)
        ? 2L * ((long) rows + cols) * k * Float.BYTES : 0;
    // FullUpdater gives each block of its tile-aligned partition one workspace.
    long tiles = dense ? new Blocks(Math.max(rows, cols), DenseProducts.tile(k)).count() : 0;
    long denseWork = tiles * DenseProducts.workspaceBytes(k);
    long centering = p.getBool(BIASES) && config.absentEntries() == AbsentEntries.UNKNOWN
        && !dense ? Centering.workingBytes(rows, cols, nnz) : 0;
    // Arrays headers, the history list and the like.
    return scratch + grams + svd + extrapolation + denseWork + centering + 16 * 1024;
  }

  /**
   * {@inheritDoc}
   *
   * <p>For NMF this is the W half of a training sweep for one new row, with the model's own
   * loss and penalty on W: non-negative least squares ({@link NnlsFoldIn}) for the Frobenius
   * loss, the Kullback–Leibler multiplicative update to convergence ({@link KlFoldIn}) for
   * {@code kl}. Absent entries mean what they meant in training: zeros (the items not given
   * count as 0, as a document's absent terms do) or unknown. For a topic model the result is
   * the new document's topic mixture.
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
    Parameters p = config.parameters();
    Penalty penalty = Penalty.of(p.getDouble(ParameterSpec.REGULARIZATION),
        p.getDouble(ALPHA_W), p.getDouble(ALPHA_H), p.getDouble(L1_RATIO), model.numUsers(),
        model.numItems());
    if (Loss.of(p.getChoice(LOSS)) == Loss.KL) {
      return KlFoldIn.solve(model, config.absentEntries(), penalty, items, values);
    }
    // NnlsFoldIn solves the L2-penalised problem; an L1 share on W is not part of it.
    if (model.hasBiases()) {
      return NnlsFoldIn.solveBiased(model, penalty.l2W(), p.getDouble(BIAS_REGULARIZATION),
          items, values);
    }
    return NnlsFoldIn.solve(model, config.absentEntries(), penalty.l2W(), items, values);
  }

  /**
   * Ratings (absent entries unknown, a sparse matrix, the Frobenius loss): the parameters left
   * unset follow the data, by the rules of {@link RatingStatistics}: {@value #BIASES} true,
   * {@code regularization} σ(√(N/rows) + √(N/cols)) (½λ‖W‖² beside ½ of the squared error is
   * the plain λ of ALS), {@value #BIAS_REGULARIZATION} σ²/s². Counts (absent entries zero), a
   * matrix with every entry present and the KL loss keep the declared defaults.
   */
  @Override
  public SolverConfig resolveForData(SolverConfig config, TrainingMatrix train) {
    Parameters p = config.parameters();
    if (config.absentEntries() != AbsentEntries.UNKNOWN || train.isDense() || train.nnz() == 0
        || Loss.of(p.getChoice(LOSS)) != Loss.FROBENIUS
        || p.isGiven(BIASES) && p.isGiven(ParameterSpec.REGULARIZATION)
            && p.isGiven(BIAS_REGULARIZATION)) {
      return config;
    }
    RatingStatistics s = RatingStatistics.of(train);
    if (!p.isGiven(BIASES)) {
      p = p.withDerived(BIASES, true);
    }
    if (!p.isGiven(ParameterSpec.REGULARIZATION)) {
      p = p.withDerived(ParameterSpec.REGULARIZATION, s.factorLambda());
    }
    if (!p.isGiven(BIAS_REGULARIZATION)) {
      p = p.withDerived(BIAS_REGULARIZATION, s.biasLambda());
    }
    return new SolverConfig(config.numFactors(), config.seed(), config.absentEntries(), p);
  }

  /**
   * {@inheritDoc}
   *
   * @throws InvalidParameterException naming {@code "absent_entries"} for implicit feedback, or
   *     {@code "method"} for {@code method=hals} with {@code loss=kl}
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
