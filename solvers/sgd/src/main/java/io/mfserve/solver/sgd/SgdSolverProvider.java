package io.mfserve.solver.sgd;

import io.mfserve.solver.AbsentEntries;
import io.mfserve.solver.FactorModel;
import io.mfserve.solver.FoldedUser;
import io.mfserve.solver.ParameterSpec;
import io.mfserve.solver.Parameters;
import io.mfserve.solver.RatingStatistics;
import io.mfserve.solver.RidgeFoldIn;
import io.mfserve.solver.Solver;
import io.mfserve.solver.SolverConfig;
import io.mfserve.solver.SolverProvider;
import io.mfserve.solver.TrainingMatrix;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * The {@code "sgd"} solver: biased matrix factorisation trained by stochastic gradient descent
 * over the observed entries, as popularised by Simon Funk in the Netflix Prize ("Netflix
 * Update: Try This at Home", 2006) and written down by Koren, Bell and Volinsky, "Matrix
 * Factorization Techniques for Recommender Systems", IEEE Computer 42(8), 2009.
 *
 * <p>The model is {@code r̂(u, i) = mu + b_u + b_i + p_u·q_i}, trained block-parallel with
 * LibMF's adaptive per-row learning rates (Chin et al., ACM TIST 2015 and PAKDD 2015); see
 * {@link SgdSolver} for the objective, the schedules, the parallel scheme and what is
 * deterministic. With absent entries {@link AbsentEntries#UNKNOWN} (ratings) the loss is the
 * squared error on the observed entries; with {@link AbsentEntries#IMPLICIT} (clicks, plays)
 * it is Bayesian personalised ranking (Rendle et al., UAI 2009) of observed over sampled
 * absent items.
 *
 * <h2>Parameters</h2>
 * <ul>
 *   <li>{@code max_iterations} — epochs (full passes over the observed entries), default 20.
 *   <li>{@code regularization} — λ, the L2 weight on the factors per update; on sparse
 *       ratings by default the data rule below, else 0.1.
 *   <li>{@code learning_rate} — AdaGrad's η (or the fixed step γ), default 0.1.
 *   <li>{@code bias_regularization} — λ_b, the L2 weight on the biases; on sparse ratings by
 *       default the data rule below, else 0.02.
 *   <li>{@code init_std} — standard deviation of the Gaussian the factors start from, in units
 *       of the ratings' standard deviation, default 0.1; 0 gives a bias-only model.
 *   <li>{@code learning_rate_decay} — the rate is multiplied by this after each epoch, default
 *       1 (AdaGrad shrinks the steps by itself).
 *   <li>{@code schedule} — {@code adagrad} (default) or {@code fixed}.
 *   <li>{@code loss} — {@code auto} (default: bpr for implicit feedback, else squared),
 *       {@code squared} or {@code bpr}.
 *   <li>{@code parallel} — {@code blocks} (default; FPSGD's grid, deterministic) or
 *       {@code hogwild}.
 *   <li>{@code blocks} — blocks per side of the grid, default 0: max(16, 4 × threads).
 *   <li>{@code early_stopping_rounds} — patience on the validation error, default 0 (off).
 *   <li>{@code model} — {@code biased} (default) or {@code svdpp}: Koren's SVD++ (KDD 2008),
 *       {@code r̂ = mu + b_u + b_i + (p_u + |N(u)|^−½ Σ_{j∈N(u)} y_j)·q_i} over the items N(u)
 *       the user rated; ratings (squared loss) only. See {@link SvdppKernel}.
 *   <li>{@code implicit_regularization} — λ_y, the L2 weight on SVD++'s y_j, applied once per
 *       visit of each user who rated j, default 1.
 * </ul>
 * <p><b>Defaults that follow the data.</b> On ratings with unknown absent entries (a sparse
 * matrix) an unset λ or λ_b is set by the rules of {@link RatingStatistics}, expressed per
 * entry (the penalty is applied at every update, so a row of n entries is penalised n times):
 * λ = σ(√(N/rows) + √(N/cols)) / n̄ and λ_b = (σ²/s²) / n̄, with N the entries, n̄ =
 * ½(Σ_u n_u²/N + Σ_i n_i²/N) the length of an entry's row and column averaged over the
 * entries, σ the residual RMS of a shrunk bias model and s² the biases' variance. The rows
 * holding most entries thus get the penalty of the plain rule, which follows the noise level
 * and the density of the data rather than one data set ({@link #resolveForData}).
 *
 * <p>The constant defaults were tuned on MovieLens 100K (u1 split) and on the shared synthetic
 * sets, k = 10 and 20 epochs. λ is the main knob: real ratings with many light users want 0.1 or
 * more (u1, k = 10: test RMSE 0.954 at λ = 0.05, 0.926 at 0.1; k = 40: 0.965 and 0.925), the dense
 * synthetic sets less (1M: 0.702 at 0.05, 0.726 at 0.1); the default leans to real data. The
 * AdaGrad rate 0.1 is LibMF's and, the ratings being standardised, needs no retuning between
 * rating scales.
 *
 * <p>A fit may start from an earlier model ({@link io.mfserve.solver.FitContext#warmStart()}):
 * the known rows' factors and biases and the earlier global mean replace the cold start, new
 * rows are drawn as in a cold fit with the same seed, and AdaGrad's accumulators start fresh;
 * for SVD++ the earlier user factors (p_u + z_u) become p_u and y starts at 0. See
 * {@link SgdSolver}.
 *
 * <p>{@code model} is an enum rather than a flag: it names the published model a user asks
 * for, and a boolean "implicit" would read as the implicit-feedback mode of the absent entries.
 * SVD++ pays when which items a user rated says something the ratings do not, above all for
 * users with few ratings: on MovieLens 100K u1 (k = 40, settings and epochs chosen on 10% of
 * u1.base, seeds 1–3) it reaches test RMSE 0.913 where the biased model stops at 0.922; on the
 * synthetic 10M set (k = 10, 20 epochs; there the rated items are drawn at random) 0.697
 * against 0.702, at 0.61 s per epoch on one thread against the biased model's 0.23 s (0.12 s
 * on two). The u1 validation picked {@code learning_rate} 0.05 (0.1 over-fits within 5 epochs
 * there; on 10M 0.1 does better in 20 epochs, so the default stays) and λ_y 1 of 0.3, 1 and 3,
 * hence the default 1; the fixed schedule (γ = 0.008) did worse (test 0.915).
 *
 * <p>Stateless and thread-safe, as {@link SolverProvider} requires.
 */
public final class SgdSolverProvider implements SolverProvider {
  /** The stable name stored with every model this solver trains. */
  public static final String NAME = "sgd";
  /** The name of the bias regularisation parameter. */
  public static final String BIAS_REGULARIZATION = "bias_regularization";
  /** The name of the factor initialisation standard deviation parameter. */
  public static final String INIT_STD = "init_std";
  /** The name of the per-epoch learning-rate multiplier parameter. */
  public static final String LEARNING_RATE_DECAY = "learning_rate_decay";
  /** The name of the learning-rate schedule parameter: adagrad or fixed. */
  public static final String SCHEDULE = "schedule";
  /** The name of the loss parameter: auto, squared or bpr. */
  public static final String LOSS = "loss";
  /** The name of the parallel-update parameter: blocks or hogwild. */
  public static final String PARALLEL = "parallel";
  /** The name of the grid-size parameter (blocks per side; 0 picks one). */
  public static final String BLOCKS = "blocks";
  /** The name of the early-stopping patience parameter. */
  public static final String EARLY_STOPPING_ROUNDS = ParameterSpec.EARLY_STOPPING_ROUNDS;
  /** The name of the model parameter: biased or svdpp. */
  public static final String MODEL = "model";
  /** The name of SVD++'s regularisation of the implicit item factors y. */
  public static final String IMPLICIT_REGULARIZATION = "implicit_regularization";
  /**
   * λ of BPR when the request gives none: the implicit library's default for its BPR (Ben
   * Frederickson's implicit, {@code BayesianPersonalizedRanking(regularization=0.01)}). The
   * squared loss's 0.1 over-regularises BPR, whose per-pair loss is on another scale: on
   * MovieLens 100K (ratings ≥ 4 as positives, 20% of each user's held out, k = 10, 20 epochs)
   * NDCG@10 0.158 at λ 0.1, 0.238 at 0.01 and 0.231 at 0.001, popularity 0.153.
   */
  public static final double BPR_REGULARIZATION = 0.01;
  /**
   * The most the data rule sets either per-entry penalty to, in standardised units (λ/s for
   * the factors, λ_b for the biases): beyond it the penalty outweighs the entry's own error.
   */
  static final double MAX_RULE_PENALTY = 1;

  // Built once: ParameterSpec is immutable, and checking the defaults against their ranges at
  // class load turns a bad default into a start-up failure rather than a failed request.
  private static final List<ParameterSpec> PARAMETERS = List.of(
      ParameterSpec.maxIterations(20, 100_000,
          "Epochs: full passes over the observed entries."),
      ParameterSpec.regularization(0.1,
          "L2 weight on the user and item factors, applied at every update of an entry. Unset"
              + " on sparse ratings: σ(√(N/rows) + √(N/cols)) / n̄, σ the residual RMS of the"
              + " shrunk bias model, N the entries, n̄ the length of an entry's row and column"
              + " averaged over the entries; with BPR (implicit feedback) 0.01, the implicit"
              + " library's; else 0.1."),
      ParameterSpec.ofPositiveDouble(ParameterSpec.LEARNING_RATE, 0.1, 100,
          "Base step size: AdaGrad's eta, or the fixed step with schedule=fixed (try 0.01"
              + " there). Lower it if the fit diverges."),
      ParameterSpec.ofDouble(BIAS_REGULARIZATION, 0.02, 0, Double.POSITIVE_INFINITY,
          "L2 weight on the user and item biases, applied at every update of an entry. Unset"
              + " on sparse ratings: (σ²/s²) / n̄, s² the biases' variance estimated by moments;"
              + " else 0.02."),
      ParameterSpec.ofDouble(INIT_STD, 0.1, 0, 10,
          "Standard deviation of the Gaussian the factors start from, in units of the"
              + " ratings' standard deviation; 0 trains biases only (squared loss)."),
      ParameterSpec.ofPositiveDouble(LEARNING_RATE_DECAY, 1.0, 1,
          "The learning rate is multiplied by this after every epoch; 1 keeps it constant."),
      ParameterSpec.ofChoice(SCHEDULE, "adagrad", List.of("adagrad", "fixed"),
          "adagrad: each row's step shrinks with the squared gradients it has seen (LibMF,"
              + " Chin et al. 2015); fixed: one step for every update."),
      ParameterSpec.ofChoice(LOSS, "auto", List.of("auto", "squared", "bpr"),
          "squared: squared error on the observed entries (absent entries UNKNOWN); bpr:"
              + " Bayesian personalised ranking of observed over sampled absent items (absent"
              + " entries IMPLICIT); auto: bpr for IMPLICIT, else squared."),
      ParameterSpec.ofChoice(PARALLEL, "blocks", List.of("blocks", "hogwild"),
          "blocks: threads update blocks that share no row or column (FPSGD), deterministic"
              + " for a seed; hogwild: threads update shared factors without coordination."),
      ParameterSpec.ofInt(BLOCKS, 0, 0, 1024,
          "Blocks per side of the grid with parallel=blocks; 0 picks max(16, 4 x threads)."
              + " The model depends on it, not on the thread count."),
      ParameterSpec.earlyStoppingRounds(100_000,
          "Stop once the validation error has not improved for this many epochs and keep the"
              + " best epoch's model; needs validation_fraction > 0. 0 turns it off."),
      ParameterSpec.ofChoice(MODEL, "biased", List.of("biased", "svdpp"),
          "biased: mu + b_u + b_i + p_u.q_i; svdpp: Koren's SVD++, which adds"
              + " |N(u)|^-1/2 sum of y_j over the items j the user rated to p_u (ratings,"
              + " squared loss only; trained user by user, one thread unless parallel=hogwild)."),
      ParameterSpec.ofDouble(IMPLICIT_REGULARIZATION, 1.0, 0, Double.POSITIVE_INFINITY,
          "model=svdpp: L2 weight on the implicit item factors y_j, applied once per visit of"
              + " each user who rated j."));

  /** Creates the provider. Never throws, as {@link java.util.ServiceLoader} requires. */
  public SgdSolverProvider() {
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public String description() {
    return "Biased matrix factorization (mu + b_u + b_i + p_u.q_i) by stochastic gradient"
        + " descent after Funk's Netflix Prize SVD (2006) and Koren, Bell & Volinsky (IEEE"
        + " Computer, 2009), block-parallel with per-row adaptive learning rates as in LibMF"
        + " (Chin et al. 2015); squared loss on ratings or BPR (Rendle et al. 2009) on"
        + " implicit feedback; optionally Koren's SVD++ (KDD 2008) on ratings. A warm start"
        + " from an earlier model starts from its factors, biases and global mean (new rows"
        + " drawn as in a cold fit; AdaGrad's accumulators start afresh).";
  }

  @Override
  public List<ParameterSpec> parameters() {
    return PARAMETERS;
  }

  @Override
  public Set<AbsentEntries> supportedAbsentEntries() {
    return EnumSet.of(AbsentEntries.UNKNOWN, AbsentEntries.IMPLICIT);
  }

  /**
   * Returns the bytes the solver allocates beyond the training matrix and the returned model:
   * its copy of the entries (a row, a column and a value per entry, 12 bytes; 8 for BPR, which
   * ignores values), the relabelling permutations, the working factors with their biases and
   * AdaGrad accumulators ((rows + cols) × (width + 3) floats, the width k or, for the Vector API
   * kernel, k rounded up to whole vectors), the per-row counts, and with early
   * stopping one more copy of the working factors.
   */
  @Override
  public long estimateWorkingBytes(int rows, int cols, long nnz, SolverConfig config) {
    Parameters p = config.parameters();
    int k = config.numFactors();
    boolean values = config.absentEntries() != AbsentEntries.IMPLICIT;
    boolean svdpp = p.getChoice(MODEL).equals("svdpp");
    // Without values the loss is BPR (the squared loss needs them, SgdSolver checks).
    long state = FactorState.estimateBytes(rows, cols, k,
        SgdSolver.kernelsFor(SquaredKernels.preferred(), values, svdpp).width(k), svdpp);
    int nb = svdpp ? 1
        : SgdSolver.gridSize(p.getInt(BLOCKS), Runtime.getRuntime().availableProcessors());
    return BlockGrid.estimateBytes(rows, cols, nnz, nb, values) + state
        + (rows + (long) cols) * Integer.BYTES
        + (svdpp ? SvdppKernel.estimateBytes(rows) : 0)
        + (p.getInt(EARLY_STOPPING_ROUNDS) > 0 ? state : 0);
  }

  /**
   * Folds a user in by regularised least squares over the user's factors and bias together,
   * with μ and the item biases and factors fixed: the exact minimiser, for that user alone, of
   * the objective the epochs descend (see {@link SgdSolver}), penalties λ on the factors and
   * {@code bias_regularization} on the bias, each per entry. See {@link RidgeFoldIn}.
   *
   * <p>For an SVD++ model ({@code model=svdpp}) the fold-in is the same least squares against
   * the served q_i: the y_j are not kept in the model, so the folded user gets no implicit
   * term z_u, only what its ratings say through q (the model's own training users have z_u
   * folded into their exported factors).
   *
   * @throws UnsupportedOperationException for a model trained with BPR (implicit feedback):
   *     its scores are not ratings, so a least-squares fold-in would not match its objective
   */
  @Override
  public FoldedUser foldInUser(FactorModel model, SolverConfig config, int[] items,
      float[] values) {
    if (config.absentEntries() != AbsentEntries.UNKNOWN) {
      throw new UnsupportedOperationException("solver 'sgd' cannot fold users into a model"
          + " trained with absent entries meaning " + config.absentEntries() + " (BPR)");
    }
    Parameters p = config.parameters();
    return RidgeFoldIn.solve(model, items, values, p.getDouble(ParameterSpec.REGULARIZATION),
        p.getDouble(BIAS_REGULARIZATION), true);
  }

  /**
   * Ratings (squared loss, absent entries unknown, a sparse matrix): an unset
   * {@code regularization} or {@code bias_regularization} follows the data, by the rules of
   * {@link RatingStatistics} for penalties applied per entry: λ = σ(√(N/rows) + √(N/cols))
   * / n̄ and λ_b = (σ²/s²) / n̄, n̄ = ½(Σ_u n_u²/N + Σ_i n_i²/N) the length of an entry's row
   * and column averaged over the entries, so that the rows holding most entries are penalised
   * as the plain rule says. Implicit feedback
   * (BPR) and a matrix with every entry present keep the declared defaults.
   */
  @Override
  public SolverConfig resolveForData(SolverConfig config, TrainingMatrix train) {
    Parameters p = config.parameters();
    boolean bpr = p.getChoice(LOSS).equals("bpr")
        || p.getChoice(LOSS).equals("auto") && config.absentEntries() == AbsentEntries.IMPLICIT;
    if (bpr && !p.isGiven(ParameterSpec.REGULARIZATION)) {
      return new SolverConfig(config.numFactors(), config.seed(), config.absentEntries(),
          p.withDerived(ParameterSpec.REGULARIZATION, BPR_REGULARIZATION));
    }
    if (config.absentEntries() != AbsentEntries.UNKNOWN || train.isDense() || train.nnz() == 0
        || bpr || p.isGiven(ParameterSpec.REGULARIZATION) && p.isGiven(BIAS_REGULARIZATION)) {
      return config;
    }
    RatingStatistics s = RatingStatistics.of(train);
    // At most MAX_RULE_PENALTY per entry in standardised units: a larger per-entry penalty
    // outweighs the entry's own error, keeps the parameter at 0 anyway, and makes the first
    // adaptive steps overshoot (tiny or flat data, where the rule's λ_b reaches 10⁶).
    double scale = SgdSolver.standardDeviation(train, train.mean());
    if (!p.isGiven(ParameterSpec.REGULARIZATION)) {
      p = p.withDerived(ParameterSpec.REGULARIZATION,
          Math.min(MAX_RULE_PENALTY * scale, s.weightedFactorLambda()));
    }
    if (!p.isGiven(BIAS_REGULARIZATION)) {
      p = p.withDerived(BIAS_REGULARIZATION,
          Math.min(MAX_RULE_PENALTY, s.biasLambda() / s.meanEntriesPerLine()));
    }
    return new SolverConfig(config.numFactors(), config.seed(), config.absentEntries(), p);
  }

  @Override
  public Solver create(SolverConfig config) {
    return new SgdSolver(config);
  }
}
