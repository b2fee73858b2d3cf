package io.mfserve.solver.als;

import io.mfserve.solver.AbsentEntries;
import io.mfserve.solver.FactorModel;
import io.mfserve.solver.FitContext;
import io.mfserve.solver.Solver;
import io.mfserve.solver.TrainingMatrix;
import io.mfserve.solver.WarmStart;
import java.util.BitSet;
import java.util.Objects;

/**
 * One fit of alternating least squares, for explicit ratings (Zhou, Wilkinson, Schreiber and
 * Pan 2008) or implicit feedback (Hu, Koren and Volinsky 2008).
 *
 * <h2>Explicit feedback: what it minimises</h2>
 * <pre>
 *   f = Σ_{(u,i) observed} (r_ui − μ − b_u − b_i − x_u·y_i)² + Σ_u (λ_u ‖x_u‖² + λ_b b_u²)
 *       + Σ_i (λ_i ‖y_i‖² + λ_b b_i²)
 * </pre>
 * with λ_u = λ·n_u and λ_i = λ·n_i (n = number of observed entries of the row or column) when
 * {@code weighted_lambda} is true, else λ_u = λ_i = λ, and λ_b = {@code bias_regularization}
 * (not scaled by the count: a bias is one number, shrunk like a baseline predictor's). Without
 * biases μ = b = 0; with them μ is
 * the training mean (fixed) and each half-sweep solves the augmented system for (x_u, b_u)
 * against (y_i, 1), a (k + 1) × (k + 1) system.
 *
 * <h2>Implicit feedback: what it minimises</h2>
 * <pre>
 *   f = Σ_{all (u,i)} c_ui (p_ui − x_u·y_i)² + Σ_u λ_u ‖x_u‖² + Σ_i λ_i ‖y_i‖²
 * </pre>
 * with p_ui = 1 where r_ui &gt; 0 (else 0), c_ui = 1 + α·|r_ui| (or 1 + α·log(1 + |r_ui|/ε))
 * for an observed entry and c_ui = 1 for every absent one. Each row's normal equations
 * (YᵀY + Σ_{i observed} (c_ui − 1) y_i y_iᵀ + λ_u I) x_u = Σ_i c_ui p_ui y_i use YᵀY computed
 * once per half-sweep; they are solved by a few conjugate-gradient steps warm-started from the
 * row's previous factors (Takács, Pilászy and Tikk 2011), or exactly by Cholesky ({@code auto},
 * the default, picks by rank: see {@link AlsSolverProvider#autoCgMinRank}).
 *
 * <h2>Algorithm</h2>
 * Item factors are drawn from N(0, σ²) (|N| for non-negative factors); user factors start at
 * zero, since the first half-sweep solves them from the items. Each sweep solves every user row
 * with the items fixed, then every item row with the users fixed. The explicit Gram matrices
 * are accumulated in float32 per chunk of a few thousand entries and summed in double (see
 * {@link Gram}); each system is solved in double by {@link Cholesky}, or by {@link Nnls} for
 * non-negative factors. Exact block minimisation never raises f (up to the float32 rounding of
 * the stored factors); three CG steps need not reach the block minimum, so an implicit loss may
 * fall more slowly. Rows with no entries get zero factors. A singular explicit system (λ = 0)
 * is retried with a growing ridge; failing that, the row gets zero factors.
 *
 * <h2>Warm start</h2>
 * With {@link FitContext#warmStart()} the item factors the warm start knows replace their
 * seeded draws (the draws are still made for every item, in the same order as in a cold fit),
 * and the known user factors replace the zero start. Since a sweep solves the users first, the
 * first half-sweep already solves every user against the earlier model's items, and the first
 * sweep ends about where the earlier fit did. Items the warm start does not know would enter
 * that half-sweep as random vectors and pull every user who has an entry for one of them off
 * the mark (on a 60 × 50 test with 7 new items, training RMSE 0.057 after two sweeps against a
 * converged 0.047); so when it knows at least k users, the new items are first solved once, as
 * in an item half-sweep, against the known users' factors (a user it does not know has zero
 * factors then and adds nothing but, with biases, its entries to b_i), starting from their
 * draws where the solve reads a start (CG, NNLS): 0.0475 after two sweeps on that test. With
 * fewer than k known users those solves could leave every new item in a subspace of fewer than
 * k dimensions, which the sweeps never leave, so the new items keep their draws. The stored
 * user factors matter only where a row's solve starts from them (the conjugate-gradient steps
 * of implicit feedback, and NNLS). With {@code nonnegative}, negative warm values (an earlier
 * model that was not non-negative) are clamped to 0. With biases, a warm start that has them
 * supplies b_u and b_i of its known rows (the others start at 0, as in a cold fit), while μ
 * stays the new training mean, as always: the first user half-sweep solves every b_u afresh and
 * so absorbs a change of the mean. The warm start's biases are ignored when the fit has none
 * (and a fit with biases starts them at 0 from a warm start that has none). A warm start of
 * another rank or shape is refused with an {@link IllegalArgumentException} before anything is
 * allocated.
 *
 * <h2>Progress, validation and early stopping</h2>
 * After each sweep it reports f divided by the number of observed entries as the loss (for
 * implicit feedback the sum over all pairs is formed exactly as ⟨UᵀU, VᵀV⟩ plus corrections on
 * the observed entries). With a validation set it reports the validation RMSE of explicit
 * models; for implicit models RMSE is meaningless and NaN is reported, and early stopping
 * watches a sampled ranking error instead: the fraction of (held-out positive, random item)
 * pairs the model orders wrongly (1 − AUC, four seeded negatives per positive; see {@link
 * RankingError}). With
 * {@code early_stopping_rounds} = n &gt; 0 it stops once the metric has not improved for n
 * sweeps and returns the factors of the best sweep, with the history up to that sweep (the
 * later sweeps were reported as progress while they ran), so that {@link
 * FactorModel#iterations()} and the last history entry describe the model returned (the rule
 * is {@link io.mfserve.solver.EarlyStopping}, shared with the other solvers).
 *
 * <h2>Where the parts live</h2>
 * This class checks the request and starts an {@link AlsFit}, which runs the sweeps; one row
 * is solved by {@link ExplicitRows} or {@link ImplicitRows} (conjugate gradient or Cholesky)
 * on their shared {@link RowSolver} base, the Gram kernels are in {@link Gram} and the dense
 * solves in {@link Cholesky} and {@link Nnls}.
 *
 * <h2>Threads and determinism</h2>
 * The rows of each half-sweep are independent, so they are solved on {@link FitContext#pool()}
 * by one task per worker ({@link BlockRunner}), each owning its scratch buffers for the whole
 * fit and claiming
 * blocks of rows until none are left; nothing is allocated per row. Every row's result depends
 * only on the seed and the other side's factors, and sums are formed per fixed block and then
 * in block order, so the model and the reported losses are bit-for-bit the same for a seed
 * whatever the number of threads. An instance serves one fit and is used by one thread.
 */
public final class AlsSolver implements Solver {
  /** Rows claimed at a time by a worker: enough to amortise the claim, few enough to balance. */
  static final int BLOCK_ROWS = 64;
  /**
   * Bytes of gathered fixed-side vectors per chunk: the chunk of a row's entries gathered and
   * accumulated at a time holds this many bytes of factors (within [256, 4096] entries), so it
   * stays in the L2 cache while the Gram, the right-hand side and the loss read it.
   */
  static final int CHUNK_BYTES = 256 * 1024;

  private final int numFactors;
  private final long seed;
  private final AlsOptions options;

  /**
   * Creates a solver for one fit; {@link AlsSolverProvider#create} is the public way in.
   *
   * @param numFactors k
   * @param seed seeds the initial item factors (and the implicit validation negatives)
   * @param options the resolved parameters
   */
  AlsSolver(int numFactors, long seed, AlsOptions options) {
    // (k + 1)² doubles must fit in one scratch array.
    if (numFactors < 1 || numFactors > 46_339) {
      throw new IllegalArgumentException("bad ALS rank k=" + numFactors);
    }
    this.numFactors = numFactors;
    this.seed = seed;
    this.options = Objects.requireNonNull(options, "options");
  }

  /** Returns the number of blocks {@code n} rows are split into. */
  static int blockCount(int n) {
    return (int) (((long) n + BLOCK_ROWS - 1) / BLOCK_ROWS);
  }

  /** Returns the number of entries per chunk for rank {@code k}. */
  static int chunkEntries(int k) {
    return Math.max(256, Math.min(4096, CHUNK_BYTES / (k * Float.BYTES)));
  }

  /** Returns the bytes of one worker's scratch buffers for rank {@code k}. */
  static long scratchBytes(int k) {
    long w = k + 1L;
    long chunk = chunkEntries(k);
    RowKernels kernel = RowKernels.preferred();
    // One float array per accumulator row and per chunk entry: the kernel's width in floats, a
    // 16-byte header and an 8-byte reference each (RowScratch).
    long row = kernel.width(k) * (long) Float.BYTES + 24;
    // m and m2; b, b2, x, g, dir, diag, sums (and a spare); the row-wise system (w + 1 rows,
    // RowKernels.systemRows, padded to at most 8 doubles more); the chunk's rows with their
    // weights, targets and unit coefficients; chunkSum and own.
    return kernel.accumulatorRows(k) * row + 2 * w * w * Double.BYTES + 8 * w * Double.BYTES
        + (w + 1) * ((w + 8) * Double.BYTES + 24)
        + chunk * (row + 3L * Float.BYTES) + 2 * row + 256;
  }

  /**
   * Fits the model; see the class comment for the objective and the reported loss.
   *
   * @throws IllegalArgumentException if {@code data} is sparse and its absent entries mean
   *     {@link AbsentEntries#ZERO}, or a factor array would exceed a Java array
   */
  @Override
  public FactorModel fit(TrainingMatrix data, FitContext context) {
    Objects.requireNonNull(data, "data");
    Objects.requireNonNull(context, "context");
    if (!data.isDense() && data.absentEntries() == AbsentEntries.ZERO) {
      throw new IllegalArgumentException("the als solver supports absent entries UNKNOWN and"
          + " IMPLICIT, got " + data.absentEntries());
    }
    WarmStart warm = context.warmStart();
    if (warm != null) {
      warm.requireShape(data.rows(), data.cols(), numFactors);
    }
    return new AlsFit(data, context, numFactors, seed, options).run();
  }

  /**
   * Copies rows {@code r} of {@code from} (each {@code width} floats) whose bit is set in
   * {@code known} into {@code to}, clamping negative values to 0 when {@code clamp}.
   */
  static void copyKnown(float[] from, BitSet known, float[] to, int width, boolean clamp) {
    for (int r = known.nextSetBit(0); r >= 0; r = known.nextSetBit(r + 1)) {
      int base = r * width;
      for (int f = 0; f < width; f++) {
        float v = from[base + f];
        to[base + f] = clamp && !(v >= 0) ? 0f : v;
      }
    }
  }
}
