package io.mfserve.solver.sgd;

import io.mfserve.solver.AbsentEntries;
import io.mfserve.solver.EarlyStopping;
import io.mfserve.solver.FactorModel;
import io.mfserve.solver.FitCancelledException;
import io.mfserve.solver.FitContext;
import io.mfserve.solver.FitDivergedException;
import io.mfserve.solver.InvalidParameterException;
import io.mfserve.solver.IterationProgress;
import io.mfserve.solver.ParameterSpec;
import io.mfserve.solver.Parameters;
import io.mfserve.solver.Solver;
import io.mfserve.solver.SolverConfig;
import io.mfserve.solver.TrainingMatrix;
import io.mfserve.solver.WarmStart;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Fits a biased matrix factorisation (or SVD++) by stochastic gradient descent, block-parallel
 * as in LibMF (Chin, Zhuang, Juan and Lin 2015), with LibMF's adaptive per-row learning rates
 * (Chin, Yuan, Zhuang and Lin 2015), to the observed entries (squared loss) or to implicit
 * feedback (BPR).
 *
 * <h2>Model and objective</h2>
 * The prediction is {@code r̂(u, i) = mu + b_u + b_i + p_u·q_i} (Koren, Bell and Volinsky,
 * IEEE Computer 42(8), 2009), with mu the mean of the observed entries, held fixed: it is the
 * least-squares intercept, so learning it would only slow the biases down. With the squared
 * loss the solver minimises, over the set K of observed entries,
 * <pre>
 *   L = Σ_{(u,i)∈K} [ (r_ui − r̂_ui)² + λ(‖p_u‖² + ‖q_i‖²) + λ_b(b_u² + b_i²) ]
 *     = Σ_K (r_ui − r̂_ui)² + λ(Σ_u n_u‖p_u‖² + Σ_i n_i‖q_i‖²) + λ_b(Σ_u n_u b_u² + Σ_i n_i b_i²)
 * </pre>
 * where n_u and n_i count the observed entries of user u and item i: the penalty sits inside
 * the sum because that is the objective the per-entry update descends. With BPR (implicit
 * feedback) the model is {@code b_i + p_u·q_i} and the objective the sum of −ln σ(x_uij) over
 * each positive and its sampled negative, with the same penalty on p, q and b_i; see
 * {@link BprKernel}.
 *
 * <h2>Standardised units</h2>
 * As LibMF does, the squared loss trains on {@code r' = (r − mu) / s}, s the standard
 * deviation of the observed values, with factors p' = p/√s and biases b' = b/s, and λ' = λ/s
 * so that the objective is exactly L / s². The model returned is converted back. This makes one
 * learning rate and one init_std work for 1–5 stars and 0–100 scores alike.
 *
 * <h2>Schedules</h2>
 * {@code schedule=adagrad} (default) scales each row's step by the inverse square root of the
 * squared gradients it has accumulated (per row, as LibMF, not per coordinate);
 * {@code schedule=fixed} takes the same step for every update. Either way the base rate is
 * multiplied by {@code learning_rate_decay} after each epoch. See {@link SquaredKernel}; on a
 * JVM started with {@code --add-modules=jdk.incubator.vector} the squared loss of the biased
 * model runs the same updates as vectors ({@link SquaredKernels}).
 *
 * <h2>Parallelism</h2>
 * {@code parallel=blocks} (default) splits the matrix into an nb × nb grid after relabelling
 * rows and columns by a seeded permutation (once per fit), and runs each epoch as nb strata of
 * blocks that share no row and no column, on {@link FitContext#pool()} without locks;
 * {@code parallel=hogwild} lets the threads update a shuffled list of entries concurrently and
 * accepts the races. nb is {@code blocks}, or max(16, 4 × threads) when that is 0. See
 * {@link EpochRunner} and {@link BlockGrid}. Within a block the entries are visited by user, in
 * the same order every epoch; the strata are drawn afresh every epoch.
 *
 * <h2>Determinism</h2>
 * With {@code parallel=blocks} the model is a function of the data, the parameters, the seed
 * and nb only: the same bits for one thread or many, because the blocks that run at once touch
 * disjoint rows, columns and accumulators, negatives are drawn from a stream seeded per block
 * and epoch, and losses are summed in block order. The automatic nb is 16 for up to 4 threads,
 * so on machines with up to 4 training threads one seed gives one model; set {@code blocks}
 * to get the same model on any machine. {@code parallel=hogwild} is deterministic with one
 * thread only. A JVM with the Vector API module and one without train models that differ in
 * their last bits (the vector kernel sums its dot products in another order).
 *
 * <h2>Progress, validation, early stopping</h2>
 * After each epoch the solver reports the loss and, when the context has held-out entries, the
 * validation RMSE (squared loss) — with BPR the RMSE means nothing and is reported as NaN. The
 * loss reported is the objective above with the error terms as they were met during the epoch
 * (each entry's error just before its update, or for BPR against its sampled negative) and the
 * penalty at the end of the epoch: measuring it exactly would cost another pass over the
 * entries. With {@code early_stopping_rounds} = n &gt; 0 the fit stops once the validation error
 * (RMSE, or 1 − AUC for BPR; see {@link Validator}) has not improved for n epochs, and returns
 * the model of its best epoch, with the history up to that epoch; the progress already reported
 * for the later epochs stays reported.
 *
 * <h2>SVD++ ({@code model=svdpp})</h2>
 * The prediction gains Koren's implicit term, {@code r̂ = mu + b_u + b_i + (p_u + z_u)·q_i}
 * with z_u = |N(u)|^−½ Σ_{j∈N(u)} y_j over the user's training items, and the objective gains
 * λ_y Σ_j n_j ‖y_j‖² ({@code implicit_regularization}, λ_y/s in standardised units). Since z_u
 * spans all of a user's items, no grid keeps threads apart; {@link SvdppKernel} trains user by
 * user, in a seeded order per epoch: under {@code parallel=blocks} on one thread, so the model
 * is one per seed on any machine; under {@code parallel=hogwild} on every thread, users shared
 * out without locks (item rows may race: not reproducible with more than one thread).
 * {@code blocks} is ignored. Schedules, progress, validation (with every z_u recomputed from
 * the current y first), early stopping (which keeps y with the best epoch), cancellation and
 * the guards below work as for the biased model. The returned model holds p_u + z_u as user
 * u's factors, so that its predictions are SVD++'s; the y_j are not returned. Hogwild over
 * users did not pay on the project's shared 2-core machine: on the synthetic 10M set, k = 10,
 * 0.62–0.74 s per epoch on two threads against 0.60–0.63 s on one, and test RMSE 0.768–0.771
 * against 0.759 (20 epochs, learning_rate 0.05), hence one thread by default.
 *
 * <h2>Warm start</h2>
 * With {@link FitContext#warmStart()} the fit starts from an earlier model: the factors (and,
 * where the warm start has them, biases) of the rows and columns it knows replace their seeded
 * draws, converted to standardised units; the draws are still made for every row, so an unknown
 * row starts exactly as in a cold fit with the same seed. With the squared loss and warm
 * biases, mu is the warm start's global mean rather than the new data's (the biases were fitted
 * around it, so the first epoch starts from the earlier model's predictions) and s is measured
 * around it; without warm biases mu is the data's mean and the biases start at 0. BPR takes the
 * item biases only (its b_u stay 0). SVD++ takes the warm user factors, which are an SVD++
 * model's p_u + z_u, as p_u, with y at its cold start of 0: the start predicts as the earlier
 * model did, and y is learnt afresh. The AdaGrad accumulators start fresh (a model does not
 * keep them), so the first epoch takes full-size steps from the warm factors and ends a little
 * above the earlier model's training error (on the module's 80 × 60 test matrix, RMSE 0.047
 * after one warm epoch from a model at 0.044; a cold first epoch: 0.97). New rows learn at
 * SGD's pace from their draws, and until they have, their entries pull the known rows they meet
 * off a little. The divergence guard compares against the larger of the warm start's loss and
 * the loss of an all-zero model, so that a near-perfect warm start does not make an ordinary
 * first epoch look like a blow-up. A warm start of another rank or shape is refused with an
 * {@link IllegalArgumentException}.
 *
 * <h2>Guards</h2>
 * Cancellation is checked before each run of at most {@value EpochRunner#CHUNK} entries, so a
 * cancel is seen within milliseconds. If the loss becomes non-finite or exceeds
 * {@value #DIVERGENCE_FACTOR} times the loss of the initial parameters, or a factor becomes
 * non-finite, the fit fails with a {@link FitDivergedException} that says to lower
 * {@code learning_rate}. No update allocates; a fit allocates its grid, its state, and (with
 * early stopping) one copy of the state for the best epoch. A solver serves one fit.
 */
public final class SgdSolver implements Solver {
  /** The loss may grow to this multiple of the initial loss before the fit counts as diverged. */
  static final double DIVERGENCE_FACTOR = 1e3;

  /** The loss functions. */
  enum Loss { SQUARED, BPR }

  private final int numFactors;
  private final long seed;
  private final int maxIterations;
  private final double regularization;
  private final double learningRate;
  private final double biasRegularization;
  private final double initStd;
  private final double learningRateDecay;
  private final boolean adaptive;
  private final Loss loss;
  private final boolean hogwild;
  private final int blocks;
  private final int earlyStoppingRounds;
  private final boolean svdpp;
  private final double implicitRegularization;
  /** The squared loss's kernel form (the biased model; SVD++ and BPR are scalar). */
  private final SquaredKernels squaredKernels;

  /**
   * Creates a solver for one fit.
   *
   * @param config the rank, seed and parameters, already resolved against
   *     {@link SgdSolverProvider#parameters()}
   * @throws InvalidParameterException if {@code loss} does not suit the absent entries, or
   *     {@code model} is svdpp with the BPR loss (implicit feedback)
   */
  public SgdSolver(SolverConfig config) {
    this(config, SquaredKernels.preferred());
  }

  /** As {@link #SgdSolver(SolverConfig)}, with the squared loss's kernel form chosen. */
  SgdSolver(SolverConfig config, SquaredKernels squaredKernels) {
    this.squaredKernels = squaredKernels;
    Parameters p = config.parameters();
    this.numFactors = config.numFactors();
    this.seed = config.seed();
    this.maxIterations = p.getInt(ParameterSpec.MAX_ITERATIONS);
    this.regularization = p.getDouble(ParameterSpec.REGULARIZATION);
    this.learningRate = p.getDouble(ParameterSpec.LEARNING_RATE);
    this.biasRegularization = p.getDouble(SgdSolverProvider.BIAS_REGULARIZATION);
    this.initStd = p.getDouble(SgdSolverProvider.INIT_STD);
    this.learningRateDecay = p.getDouble(SgdSolverProvider.LEARNING_RATE_DECAY);
    this.adaptive = p.getChoice(SgdSolverProvider.SCHEDULE).equals("adagrad");
    this.hogwild = p.getChoice(SgdSolverProvider.PARALLEL).equals("hogwild");
    this.blocks = p.getInt(SgdSolverProvider.BLOCKS);
    this.earlyStoppingRounds = p.getInt(SgdSolverProvider.EARLY_STOPPING_ROUNDS);
    this.loss = resolveLoss(p.getChoice(SgdSolverProvider.LOSS), config.absentEntries());
    this.svdpp = p.getChoice(SgdSolverProvider.MODEL).equals("svdpp");
    this.implicitRegularization = p.getDouble(SgdSolverProvider.IMPLICIT_REGULARIZATION);
    if (svdpp && loss != Loss.SQUARED) {
      throw new InvalidParameterException(SgdSolverProvider.MODEL, "model 'svdpp' predicts"
          + " ratings and needs the squared loss (absent entries UNKNOWN); it cannot be"
          + " combined with loss 'bpr' or implicit feedback: use model 'biased'");
    }
  }

  private static Loss resolveLoss(String name, AbsentEntries absent) {
    boolean implicit = absent == AbsentEntries.IMPLICIT;
    switch (name) {
      case "auto":
        return implicit ? Loss.BPR : Loss.SQUARED;
      case "squared":
        if (implicit) {
          throw new InvalidParameterException(SgdSolverProvider.LOSS, "loss 'squared' fits the"
              + " observed entries and needs absent entries UNKNOWN; with IMPLICIT absent"
              + " entries use loss 'bpr' (or 'auto')");
        }
        return Loss.SQUARED;
      case "bpr":
        if (!implicit) {
          throw new InvalidParameterException(SgdSolverProvider.LOSS, "loss 'bpr' ranks"
              + " observed entries above absent ones and needs absent entries IMPLICIT (a"
              + " sparse matrix of clicks or plays); got " + absent);
        }
        return Loss.BPR;
      default:
        throw new AssertionError(name);
    }
  }

  /**
   * Returns the squared-loss kernel form a fit uses, and so the width of its rows: the given
   * one for the biased model's squared loss, the scalar one for BPR and SVD++.
   */
  static SquaredKernels kernelsFor(SquaredKernels squaredKernels, boolean squared,
      boolean svdpp) {
    return squared && !svdpp ? squaredKernels : SquaredKernels.SCALAR;
  }

  /** Returns nb for a fit on {@code threads} threads: the blocks per side of the grid. */
  static int gridSize(int blocksParameter, int threads) {
    return blocksParameter > 0 ? blocksParameter : Math.max(16, 4 * threads);
  }

  /**
   * {@inheritDoc}
   *
   * @throws IllegalArgumentException if the data's absent entries do not suit the loss: the
   *     squared loss needs a dense matrix or unknown absent entries, BPR a sparse matrix with
   *     implicit ones
   * @throws InvalidParameterException if {@code early_stopping_rounds} is set but the context
   *     holds no validation entries
   */
  @Override
  public FactorModel fit(TrainingMatrix data, FitContext context) {
    long start = System.nanoTime();
    checkData(data);
    WarmStart warm = context.warmStart();
    if (warm != null) {
      warm.requireShape(data.rows(), data.cols(), numFactors);
    }
    FactorModel.Biases warmBiases = warm == null ? null : warm.biases();
    if (earlyStoppingRounds > 0 && context.validation().isEmpty()) {
      throw new InvalidParameterException(SgdSolverProvider.EARLY_STOPPING_ROUNDS,
          "early_stopping_rounds needs held-out entries: set validation_fraction above 0 or"
              + " early_stopping_rounds to 0");
    }
    context.throwIfCancelled(0);
    int rows = data.rows();
    int cols = data.cols();
    int k = numFactors;
    boolean squared = loss == Loss.SQUARED;
    double mu = !squared ? 0 : warmBiases != null ? warmBiases.globalMean() : data.mean();
    double scale = squared ? standardDeviation(data, mu) : 1;
    int threads = Math.max(1, context.parallelism());

    SplittableRandom rnd = new SplittableRandom(seed);
    // SVD++ visits a user at a time: one block, sorted by user.
    BlockGrid grid = svdpp ? BlockGrid.blocked(data, 1, rnd, mu, scale, true)
        : hogwild ? BlockGrid.shuffled(data, rnd, mu, scale, squared)
        : BlockGrid.blocked(data, gridSize(blocks, threads), rnd, mu, scale, squared);
    int[] rowCounts = grid.rowCounts(data);
    int[] colCounts = grid.colCounts(data);
    SquaredKernels form = kernelsFor(squaredKernels, squared, svdpp);
    FactorState state = new FactorState(rows, cols, k, form.width(k), initStd, rowCounts,
        colCounts, rnd, svdpp);
    if (warm != null) {
      state.warmStart(warm, grid.rowLabel, grid.colLabel, 1 / Math.sqrt(scale), 1 / scale,
          squared);
    }
    double lambda = regularization / scale;
    Kernel kernel = svdpp
        ? new SvdppKernel(adaptive, grid, state, rowCounts, lambda, biasRegularization,
            implicitRegularization / scale, seed)
        : squared ? form.create(adaptive, grid, state, lambda, biasRegularization)
        : new BprKernel(adaptive, data, grid, state, lambda, biasRegularization);
    // SVD++ under parallel=blocks keeps that mode's promise (one model per seed whatever the
    // thread count) by running on one thread; parallel=hogwild shares the users out.
    EpochRunner runner = svdpp
        ? EpochRunner.overUsers(grid, kernel, context, hogwild ? threads : 1, seed)
        : new EpochRunner(grid, kernel, context, threads, seed, hogwild);
    Validator validator = squared
        ? Validator.rmse(context.validation(), grid, state, mu, scale)
        : Validator.auc(context.validation(), data, grid, state, seed);
    if (earlyStoppingRounds > 0 && validator.isEmpty()) {
      // BPR keeps only the held-out positives it found a negative for; none is left.
      throw new InvalidParameterException(SgdSolverProvider.EARLY_STOPPING_ROUNDS,
          "early_stopping_rounds found no held-out entry to validate on; raise"
              + " validation_fraction or set early_stopping_rounds to 0");
    }
    Objective objective = new Objective(state, rowCounts, colCounts, lambda,
        biasRegularization, svdpp ? implicitRegularization / scale : 0, scale * scale, squared);

    // The reference for the divergence guard is the loss before any update, not after the
    // first epoch: a step that is far too large can blow up within that first epoch.
    double initialLoss = objective.of(kernel.evaluate(0, grid.nnz()));
    double reference = initialLoss;
    if (warm != null && squared) {
      // Σ r'² is the loss of the all-zero model: a warm start's own loss may be far below it.
      double zeroModel = 0;
      for (float v : grid.entryVal) {
        zeroModel += (double) v * v;
      }
      reference = Math.max(reference, scale * scale * zeroModel);
    }
    double divergenceLimit = DIVERGENCE_FACTOR * reference;

    List<IterationProgress> history = new ArrayList<>(Math.min(maxIterations, 1024));
    float[][] best = null;
    EarlyStopping stopping = earlyStoppingRounds > 0 ? new EarlyStopping(earlyStoppingRounds)
        : null;
    double rate = learningRate;
    for (int epoch = 1; epoch <= maxIterations; epoch++) {
      kernel.setLearningRate(rate);
      double sum = runner.run(epoch);
      switch (runner.outcome()) {
        case CANCELLED:
          throw new FitCancelledException(epoch - 1);
        case NON_FINITE:
          throw diverged(epoch, "the loss became non-finite during the epoch");
        default:
          break;
      }
      FactorState.Norms norms = state.norms(rowCounts, colCounts,
          threads > 1 ? context.pool() : null);
      double lossNow = objective.of(sum, norms);
      if (!Double.isFinite(lossNow) || lossNow > divergenceLimit || !norms.finite()) {
        throw diverged(epoch, !Double.isFinite(lossNow) || lossNow > divergenceLimit
            ? "the loss grew from " + initialLoss + " before training to " + lossNow
            : "a factor became non-finite");
      }
      if (!validator.isEmpty()) {
        kernel.prepareScoring();
      }
      double error = validator.error();
      IterationProgress progress = new IterationProgress(epoch, lossNow,
          System.nanoTime() - start, validator.reportedRmse(error));
      history.add(progress);
      context.report(progress);
      if (stopping != null) {
        EarlyStopping.Verdict verdict = stopping.record(epoch, error);
        if (verdict == EarlyStopping.Verdict.IMPROVED) {
          best = state.snapshot(best);
        } else if (verdict == EarlyStopping.Verdict.STOP) {
          state.restore(best);
          history = history.subList(0, stopping.bestIteration());
          break;
        }
      }
      context.throwIfCancelled(epoch);
      rate *= learningRateDecay;
    }

    float[] p = new float[Math.multiplyExact(rows, k)];
    float[] q = new float[Math.multiplyExact(cols, k)];
    float[] bu = new float[rows];
    float[] bi = new float[cols];
    kernel.prepareScoring();
    double root = Math.sqrt(scale);
    state.extract(true, grid.rowLabel, root, scale, p, bu);
    state.extract(false, grid.colLabel, root, scale, q, bi);
    return new FactorModel(rows, cols, k, p, q, new FactorModel.Biases(mu, bu, bi), history);
  }

  private void checkData(TrainingMatrix data) {
    if (loss == Loss.SQUARED && !data.isDense()
        && data.absentEntries() != AbsentEntries.UNKNOWN) {
      throw new IllegalArgumentException("the sgd solver's squared loss treats absent entries"
          + " as unknown; got " + data.absentEntries());
    }
    if (loss == Loss.BPR && (data.isDense() || data.absentEntries() != AbsentEntries.IMPLICIT)) {
      throw new IllegalArgumentException("the sgd solver's bpr loss needs a sparse matrix with"
          + " IMPLICIT absent entries to draw negatives from");
    }
    if (data.nnz() == 0) {
      throw new IllegalArgumentException("the training matrix has no entries");
    }
  }

  /** The standard deviation of the stored values around {@code mu}, at least 1e-4. */
  static double standardDeviation(TrainingMatrix data, double mu) {
    double sum = 0;
    for (int r = 0; r < data.rows(); r++) {
      for (int p = data.rowStart(r); p < data.rowEnd(r); p++) {
        double d = data.rowValue(p) - mu;
        sum += d * d;
      }
    }
    return Math.max(1e-4, Math.sqrt(sum / data.nnz()));
  }

  private FitDivergedException diverged(int epoch, String what) {
    return new FitDivergedException("sgd diverged in epoch " + epoch + ": " + what
        + "; lower learning_rate (now " + learningRate + ") or raise regularization");
  }

  /** The objective of the class Javadoc from an epoch's summed per-entry losses. */
  private static final class Objective {
    private final FactorState state;
    private final int[] rowCounts;
    private final int[] colCounts;
    private final double lambda;
    private final double biasLambda;
    private final double implicitLambda;
    private final double unitsSquared;
    private final boolean userBiases;

    Objective(FactorState state, int[] rowCounts, int[] colCounts, double lambda,
        double biasLambda, double implicitLambda, double unitsSquared, boolean userBiases) {
      this.state = state;
      this.rowCounts = rowCounts;
      this.colCounts = colCounts;
      this.lambda = lambda;
      this.biasLambda = biasLambda;
      this.implicitLambda = implicitLambda;
      this.unitsSquared = unitsSquared;
      this.userBiases = userBiases;
    }

    /** Returns the objective in the data's units, L = s² × the standardised objective. */
    double of(double entryLosses) {
      return of(entryLosses, state.norms(rowCounts, colCounts, null));
    }

    /** As {@link #of(double)} from norms already measured. */
    double of(double entryLosses, FactorState.Norms n) {
      double factors = n.userFactors() + n.itemFactors();
      double biases = (userBiases ? n.userBiases() : 0) + n.itemBiases();
      double implicit = implicitLambda > 0 ? implicitLambda * n.implicit() : 0;
      return unitsSquared * (entryLosses + lambda * factors + biasLambda * biases + implicit);
    }
  }
}
