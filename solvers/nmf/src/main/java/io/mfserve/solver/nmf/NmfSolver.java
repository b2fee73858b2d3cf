package io.mfserve.solver.nmf;

import io.mfserve.solver.AbsentEntries;
import io.mfserve.solver.FactorModel;
import io.mfserve.solver.FitContext;
import io.mfserve.solver.FitDivergedException;
import io.mfserve.solver.InvalidParameterException;
import io.mfserve.solver.IterationProgress;
import io.mfserve.solver.ParameterSpec;
import io.mfserve.solver.Parameters;
import io.mfserve.solver.Solver;
import io.mfserve.solver.SolverConfig;
import io.mfserve.solver.TrainingMatrix;
import io.mfserve.solver.ValidationSet;
import io.mfserve.solver.WarmStart;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Non-negative matrix factorisation: fits {@code X ≈ W Hᵀ} with W (rows × k) ≥ 0 and
 * H (cols × k) ≥ 0, returned as the model's user and item factors, so that
 * {@code predict(u, i) = W[u] · H[i]}. For a document × term matrix, row t of Hᵀ is topic t
 * (its heaviest terms describe it) and row d of W document d's topic mixture.
 *
 * <h2>Objective</h2>
 * <pre>  D(X, W Hᵀ) + l1W Σ W + ½ l2W ‖W‖² + l1H Σ H + ½ l2H ‖H‖²</pre>
 * where D is {@code loss}: {@code frobenius}, ½ ‖X − W Hᵀ‖², or {@code kl}, the generalised
 * Kullback–Leibler divergence {@code Σ x log(x/y) − x + y} for count data. When every entry
 * counts (a dense matrix, or absent entries meaning zero) D runs over every entry, computed from
 * the stored ones so that a sparse matrix is never densified; when absent entries are unknown
 * (ratings) it runs over the observed entries only (weighted NMF). The penalty coefficients come
 * from {@code alpha_w}, {@code alpha_h} and {@code l1_ratio} as in scikit-learn ≥ 1.2, plus the
 * older {@code regularization} λ as ½ λ (‖W‖² + ‖H‖²) (see {@link Penalty}). The reported loss
 * is this objective after each sweep.
 *
 * <h2>Updates</h2>
 * Each iteration updates all of W with H fixed, then all of H with W fixed.
 * <ul>
 *   <li>{@code method=hals} (the default for Frobenius): hierarchical alternating least squares,
 *       A. Cichocki and A.-H. Phan, "Fast local algorithms for large scale nonnegative matrix and
 *       tensor factorizations", IEICE Trans. Fundamentals E92-A(3), 2009: each coordinate of a
 *       row exactly minimised in turn, and, as in N. Gillis and F. Glineur's accelerated HALS
 *       (Neural Computation 24(4), 2012), several passes over a row while its right-hand side is
 *       at hand ({@code inner_sweeps}; 1 is plain HALS, scikit-learn's {@code cd}). With unknown
 *       absent entries each row uses its own Gram matrix over its observed entries (a weighted
 *       HALS; see {@code WeightedUpdater}). When every entry counts, {@code extrapolate} (on by
 *       default) adds A. M. S. Ang and N. Gillis's extrapolation with restarts ("Accelerating
 *       nonnegative matrix factorization algorithms using extrapolation", Neural Computation
 *       31(2), 2019): each updated row is pushed on along its last step, and a sweep that
 *       raises the loss is undone, so the returned pair's loss still never rises.
 *   <li>{@code method=mu}: multiplicative updates, D. D. Lee and H. S. Seung, "Algorithms for
 *       non-negative matrix factorization", NIPS 13, 2001, for either loss (the only rule for
 *       {@code kl}; {@code kl} with {@code hals} is refused).
 * </ul>
 * Both never increase the objective (up to float rounding), and both keep every factor
 * non-negative: HALS clamps at 0, MU multiplies by non-negative ratios.
 *
 * <h2>Biases on ratings</h2>
 * With {@code biases} (by default on for sparse ratings with unknown absent entries and the
 * Frobenius loss), the model is μ + b_u + b_i + W Hᵀ: the regularised bias baseline is taken
 * out first and W Hᵀ fits its residual lifted by a shift, so that non-negative factors can
 * model interactions of either sign (see {@link Centering}). The other fits have no biases.
 *
 * <h2>Start, stop, failure</h2>
 * {@code init} picks the start (see {@link Initializer}): seeded random scaled to the data, or
 * NNDSVD and its zero-filled variants from a randomized truncated SVD; {@code auto} is
 * {@code nndsvda} when every entry counts and {@code random} for ratings. The fit stops after
 * {@code max_iterations} sweeps, or earlier once the loss's mean decrease over the last two
 * sweeps is at most {@code tolerance} times the decrease since the first sweep,
 * {@code (L_{t-2} − L_t) / 2 ≤ tol · (L_1 − L_t)} (over the one sweep there is at t = 2):
 * two sweeps because an extrapolated sweep that only just lowers the loss, before a restart,
 * would otherwise pass for convergence (on MovieLens 100K at k = 50 it stopped a fit at sweep
 * 13 of the 30 it needed); scale-free, and unlike a change relative to L
 * itself it does not stop early on data whose loss is mostly irreducible (sparse ratings),
 * which is also why scikit-learn measures progress against its first iteration. With
 * extrapolation, a stall that this rule sees on an extrapolated sweep is confirmed on one plain
 * HALS sweep from the same factors before the fit stops ({@code Updater.plainSweepNext}): an
 * extrapolated step that is too long stalls the loss just before a restart, which is no sign of
 * convergence (MovieLens 100K at k = 10 stalled so at sweep 22, relative error 0.742993, and
 * the plain sweep then lowered the loss 60 times as much as the stalled one; the fit goes on to
 * sweep 30 and 0.742942, its basin's 0.742941). For the
 * Frobenius loss where every entry counts it also stops, whichever comes first, once the L1 norm
 * of the projected gradient (measured where each half-sweep starts) is at most {@code tolerance}
 * times its value at the first sweep: scikit-learn's rule for its coordinate descent, a measure
 * of distance from a stationary point rather than of progress. On low-rank-plus-noise data the
 * loss creeps on towards the noise floor long after the factors stopped improving much, which
 * the loss rule waits out (the benchmark's dense 2,000 × 1,000 matrix at k = 20: 42 sweeps to a
 * relative error of 0.0209, against 21 sweeps and 0.0219 with the gradient rule, scikit-learn's
 * cd 111 sweeps and 0.0267); on sparse counts the gradient falls slowly and the loss rule
 * decides. An extrapolated
 * sweep that was undone is reported (the loss unchanged) but not judged by the rule. A matrix
 * holding a negative value is refused with an {@link InvalidParameterException} on
 * {@code "matrix"} before anything is allocated (the SPI has no separate data check). A
 * non-finite loss throws {@link FitDivergedException}.
 *
 * <h2>Warm start</h2>
 * With {@link FitContext#warmStart()} the fit starts from an earlier model's factors for the
 * rows and columns it knows, each value clamped to ≥ 0 (an earlier model that was not an NMF,
 * ALS's or SGD's, may hold negative factors; NMF cannot), and from {@code init}'s start for the
 * others: the full start is computed and the known rows overwritten, so an unknown row starts
 * as in a cold fit with the same seed; when every row and column is known the start (an SVD for
 * NNDSVD) is skipped. Multiplicative updates cannot move a factor away from an exact 0, so
 * under {@code method=mu} (and {@code kl}) a warm value at or below 0, a clamped negative or an
 * earlier HALS model's exact zero, starts instead at 1% of the random start's scale
 * {@code sqrt(mean/k)} (see {@code Initializer.WARM_FLOOR}); HALS keeps the zeros, which it can
 * leave. Both stopping rules measure progress relative to the first sweep, which from a warm
 * start has already made most of it: taken literally, a warm fit would run until its own small
 * decreases shrank as far relative to each other as a cold fit's do, and from a converged model
 * it ran longer than a cold fit (weighted HALS on the module's test: 281 sweeps against 35; mu
 * 164 against 81; kl 209 against 108). So for a warm fit the loss rule's reference is the
 * larger of the first sweep's loss and that of the best constant model (rank 0: every
 * prediction the mean of the entries that count, no penalty), which measures the decrease as a
 * share of all the progress a model makes, the earlier model's included; and the
 * projected-gradient rule, which has no such reference (the gradient at a cold start is not
 * computed), is off: 2 to 3 sweeps on those tests, to the same loss. A warm start of another
 * rank or shape is refused with an {@link IllegalArgumentException}.
 *
 * <h2>Threads and determinism</h2>
 * Used by one thread; rows and columns are updated in fixed blocks on
 * {@link FitContext#pool()} and partial sums combined in block order, so the same seed and data
 * give the same model on any number of threads.
 */
public final class NmfSolver implements Solver {
  private final SolverConfig config;
  private final Loss loss;
  private final Method method;
  private final Init init;
  private final int maxIterations;
  private final int innerSweeps;
  private final boolean extrapolate;
  private final double tolerance;
  private final double regularization;
  private final double alphaW;
  private final double alphaH;
  private final double l1Ratio;
  private final boolean biases;
  private final double biasLambda;

  /**
   * Creates a solver for one fit.
   *
   * @param config the rank, seed and parameters, already resolved against
   *     {@link NmfSolverProvider#parameters()}
   * @throws InvalidParameterException naming {@code "method"} for {@code method=hals} with
   *     {@code loss=kl}: HALS minimises the Frobenius loss only
   */
  public NmfSolver(SolverConfig config) {
    this.config = Objects.requireNonNull(config, "config");
    Parameters p = config.parameters();
    this.loss = Loss.of(p.getChoice(NmfSolverProvider.LOSS));
    Method chosen = Method.of(p.getChoice(NmfSolverProvider.METHOD));
    if (loss == Loss.KL && chosen == Method.HALS) {
      throw new InvalidParameterException(NmfSolverProvider.METHOD, "method 'hals' minimises the"
          + " frobenius loss only; with loss 'kl' use method 'mu' (or 'auto')");
    }
    this.method = chosen.resolve(loss);
    this.init = Init.of(p.getChoice(NmfSolverProvider.INIT));
    this.maxIterations = p.getInt(ParameterSpec.MAX_ITERATIONS);
    this.innerSweeps = p.getInt(NmfSolverProvider.INNER_SWEEPS);
    this.extrapolate = p.getBool(NmfSolverProvider.EXTRAPOLATE);
    this.tolerance = p.getDouble(NmfSolverProvider.TOLERANCE);
    this.regularization = p.getDouble(ParameterSpec.REGULARIZATION);
    this.alphaW = p.getDouble(NmfSolverProvider.ALPHA_W);
    this.alphaH = p.getDouble(NmfSolverProvider.ALPHA_H);
    this.l1Ratio = p.getDouble(NmfSolverProvider.L1_RATIO);
    this.biases = p.getBool(NmfSolverProvider.BIASES);
    this.biasLambda = p.getDouble(NmfSolverProvider.BIAS_REGULARIZATION);
  }

  /**
   * {@inheritDoc}
   *
   * <p>What absent entries mean is read from {@link TrainingMatrix#absentEntries()}, as the
   * {@link Solver} contract says.
   *
   * @throws InvalidParameterException naming {@code "matrix"} if an entry is negative,
   *     {@code "absent_entries"} if a sparse matrix's absent entries are implicit feedback, or
   *     {@code "num_factors"} if a factor would not fit in one Java array
   */
  @Override
  public FactorModel fit(TrainingMatrix data, FitContext context) {
    long started = System.nanoTime();
    AbsentEntries absent = data.absentEntries();
    boolean weighted = !data.isDense() && absent == AbsentEntries.UNKNOWN;
    if (!data.isDense() && absent == AbsentEntries.IMPLICIT) {
      throw new InvalidParameterException("absent_entries", "nmf does not support absent entries"
          + " meaning IMPLICIT; use ZERO (counts) or UNKNOWN (ratings)");
    }
    // Biased NMF on ratings: the factors fit the shifted residual of the bias baseline.
    Centering centering = biases && weighted && loss == Loss.FROBENIUS
        ? Centering.of(data, biasLambda) : null;
    TrainingMatrix ratings = data;
    if (centering != null) {
      data = centering.residuals;
    }
    // Checked after centring: a biased fit's residuals are ≥ 0 by construction, whatever the
    // rating scale.
    requireNonNegative(data);
    int rows = data.rows();
    int cols = data.cols();
    int k = config.numFactors();
    WarmStart warm = context.warmStart();
    if (warm != null) {
      warm.requireShape(rows, cols, k);
    }
    if ((long) Math.max(rows, cols) * k > Integer.MAX_VALUE - 8) {
      // One contiguous float array per side is the model's layout; it cannot be longer.
      throw new InvalidParameterException("num_factors", "num_factors " + k + " times "
          + Math.max(rows, cols) + " rows exceeds the largest factor array, 2^31 - 9 floats");
    }

    Init start = init.resolve(data.isDense(), absent, k);
    float[][] wh = warm == null
        ? Initializer.start(start, data, k, config.seed(), !weighted, context.pool(),
            () -> context.throwIfCancelled(0))
        : Initializer.warmStart(warm, start, data, k, config.seed(), !weighted,
            method == Method.MU, context.pool(), () -> context.throwIfCancelled(0));
    float[] w = wh[0];
    float[] h = wh[1];
    Penalty penalty = Penalty.of(regularization, alphaW, alphaH, l1Ratio, rows, cols);
    Updater updater;
    if (loss == Loss.KL) {
      updater = new KlUpdater(data, k, penalty, weighted, w, h, context.pool());
    } else if (weighted) {
      updater = new WeightedUpdater(data, k, penalty, method, innerSweeps, w, h, context.pool());
    } else {
      updater = new FullUpdater(data, k, penalty, method, innerSweeps, extrapolate, w, h,
          context.pool());
    }
    ValidationSet validation = context.validation();
    List<IterationProgress> history = new ArrayList<>();
    double first = Double.NaN;
    double previous = Double.NaN;
    double beforePrevious = Double.NaN;
    double firstViolation = Double.NaN;
    // A warm fit's reference for the loss rule (see the class comment); NaN for a cold one.
    double constantLoss = warm == null ? Double.NaN : constantModelLoss(data, loss, weighted);
    int judged = 0;
    for (int iter = 1; iter <= maxIterations; iter++) {
      context.throwIfCancelled(iter - 1);
      updater.updateW();
      // A sweep of a large matrix takes a while; give a cancel a second chance to land.
      context.throwIfCancelled(iter - 1);
      double value = updater.updateH();
      if (!Double.isFinite(value)) {
        throw new FitDivergedException("nmf (method=" + method.parameterValue() + ", loss="
            + loss.parameterValue() + ") diverged at iteration " + iter + ": the loss is "
            + value + "; raise regularization or try the other method");
      }
      double rmse = validation.isEmpty() ? Double.NaN
          : validation.rmse((r, c) -> predict(w, h, k, r, c) + (centering == null ? 0
              : centering.mean + centering.userBias[r] + centering.itemBias[c]));
      IterationProgress progress =
          new IterationProgress(iter, value, System.nanoTime() - started, rmse);
      history.add(progress);
      context.report(progress);
      if (updater.rejected()) {
        // An undone extrapolated sweep left the factors (and the loss) as they were: no news
        // for the stopping rule, which would read the zero decrease as convergence.
        continue;
      }
      judged++;
      double violation = updater.violation();
      if (judged == 1) {
        // Warm: no gradient rule (a NaN reference never stops), and the rank-0 loss as the
        // loss rule's reference where it is the larger.
        first = warm == null ? value : Math.max(value, constantLoss);
        firstViolation = warm == null ? violation : Double.NaN;
      } else if (judged == 2 ? converged(first, previous, value, 1, tolerance)
          : converged(first, beforePrevious, value, 2, tolerance)) {
        if (!updater.plainSweepNext()) {
          break;
        }
      } else if (stationary(firstViolation, violation, tolerance)) {
        break;
      }
      beforePrevious = previous;
      previous = value;
    }
    FactorModel.Biases b = null;
    if (centering != null) {
      centering.refitBiases(ratings, w, h, k, biasLambda);
      b = new FactorModel.Biases(centering.mean, centering.userBias, centering.itemBias);
    }
    return new FactorModel(rows, cols, k, w, h, b, history);
  }

  /**
   * The stopping rule: the mean decrease per sweep over the last {@code span} sweeps (from
   * {@code earlier} to {@code current}) is at most {@code tolerance} times the decrease since the
   * first sweep (a rise, from rounding at a minimum, also stops). 0 never stops.
   */
  static boolean converged(double first, double earlier, double current, int span,
      double tolerance) {
    return tolerance > 0 && (earlier - current) / span <= tolerance * (first - current);
  }

  /**
   * The other stopping rule, scikit-learn's for its coordinate descent: the projected
   * gradient's L1 norm ({@link Updater#violation}) has fallen to at most {@code tolerance}
   * times its value at the first sweep. Never true where the updater does not measure it (NaN)
   * or for tolerance 0.
   */
  static boolean stationary(double firstViolation, double violation, double tolerance) {
    return tolerance > 0 && violation <= tolerance * firstViolation;
  }

  /**
   * Returns the data term of the best constant model, every prediction c = the mean of the
   * entries that count (every entry when {@code !weighted}, absent ones as zeros; else the
   * observed ones): ½ Σ (x − c)² for Frobenius, Σ (x log(x/c) − x + c) for KL, each minimised by
   * that c. Computed from the stored entries, in the updaters' conventions (KL's x log x terms
   * over x &gt; 0 only).
   */
  static double constantModelLoss(TrainingMatrix x, Loss loss, boolean weighted) {
    double count = weighted ? x.nnz() : (double) x.rows() * x.cols();
    double sum = 0;
    for (int r = 0; r < x.rows(); r++) {
      for (int p = x.rowStart(r); p < x.rowEnd(r); p++) {
        sum += x.rowValue(p);
      }
    }
    double c = count > 0 ? sum / count : 0;
    double total = 0;
    for (int r = 0; r < x.rows(); r++) {
      for (int p = x.rowStart(r); p < x.rowEnd(r); p++) {
        double v = x.rowValue(p);
        if (loss == Loss.FROBENIUS) {
          total += 0.5 * (v - c) * (v - c);
        } else if (v > 0) {
          total += v * Math.log(v / c) - v;
        }
      }
    }
    double absent = count - x.nnz();
    return loss == Loss.FROBENIUS ? total + 0.5 * absent * c * c : total + count * c;
  }

  /** Refuses negative input: NMF's factors are non-negative, so it cannot represent it. */
  private static void requireNonNegative(TrainingMatrix data) {
    for (int r = 0; r < data.rows(); r++) {
      for (int p = data.rowStart(r); p < data.rowEnd(r); p++) {
        float v = data.rowValue(p);
        if (v < 0) {
          throw new InvalidParameterException("matrix", "NMF needs non-negative values; entry ("
              + r + ", " + data.rowColumn(p) + ") is " + v);
        }
      }
    }
  }

  private static double predict(float[] w, float[] h, int k, int r, int c) {
    double sum = 0;
    for (int t = 0; t < k; t++) {
      sum += (double) w[r * k + t] * h[c * k + t];
    }
    return sum;
  }
}
