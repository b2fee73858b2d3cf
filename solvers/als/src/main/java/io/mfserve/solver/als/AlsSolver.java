package io.mfserve.solver.als;

import io.mfserve.solver.AbsentEntries;
import io.mfserve.solver.FactorModel;
import io.mfserve.solver.FitContext;
import io.mfserve.solver.FitDivergedException;
import io.mfserve.solver.IterationProgress;
import io.mfserve.solver.ParameterSpec;
import io.mfserve.solver.Solver;
import io.mfserve.solver.TrainingMatrix;
import io.mfserve.solver.ValidationSet;
import io.mfserve.solver.WarmStart;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.Objects;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.atomic.AtomicInteger;

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
 * the default, picks by rank: see {@link AlsSolverProvider#AUTO_CG_MIN_RANK}).
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
 * pairs the model orders wrongly (1 − AUC, four seeded negatives per positive). With
 * {@code early_stopping_rounds} = n &gt; 0 it stops once the metric has not improved for n
 * sweeps and returns the factors of the best sweep, with the history up to that sweep (the
 * later sweeps were reported as progress while they ran), so that {@link
 * FactorModel#iterations()} and the last history entry describe the model returned.
 *
 * <h2>Threads and determinism</h2>
 * The rows of each half-sweep are independent, so they are solved on {@link FitContext#pool()}
 * by one task per worker, each owning its scratch buffers for the whole fit and claiming
 * blocks of rows until none are left; nothing is allocated per row. Every row's result depends
 * only on the seed and the other side's factors, and sums are formed per fixed block and then
 * in block order, so the model and the reported losses are bit-for-bit the same for a seed
 * whatever the number of threads. An instance serves one fit and is used by one thread.
 */
public final class AlsSolver implements Solver {
  /** Rows claimed at a time by a worker: enough to amortise the claim, few enough to balance. */
  static final int BLOCK_ROWS = 64;
  /**
   * Bytes of packed fixed-side vectors per chunk: the chunk of a row's entries gathered and
   * accumulated at a time holds this many bytes of factors (within [256, 4096] entries), so it
   * stays in the L2 cache while the Gram, the right-hand side and the loss read it.
   */
  static final int CHUNK_BYTES = 256 * 1024;
  /** Rows per partial sum of YᵀY for implicit feedback; fixed, so sums do not depend on threads. */
  static final int GRAM_ROWS = 2048;
  /** Sampled negatives per held-out positive in the implicit early-stopping metric. */
  static final int NEGATIVES = 4;

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

  /** Returns the number of partial sums of YᵀY for {@code n} rows. */
  static int gramBlockCount(int n) {
    return (int) (((long) n + GRAM_ROWS - 1) / GRAM_ROWS);
  }

  /** Returns the number of entries per chunk for rank {@code k}. */
  static int chunkEntries(int k) {
    return Math.max(256, Math.min(4096, CHUNK_BYTES / (k * Float.BYTES)));
  }

  /** Returns the bytes of one worker's scratch buffers for rank {@code k}. */
  static long scratchBytes(int k) {
    long w = k + 1L;
    long chunk = chunkEntries(k);
    return k * (long) k * Float.BYTES + 2 * w * w * Double.BYTES + 8 * w * Double.BYTES
        + chunk * (k + 4L) * Float.BYTES + 256;
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
    return new Fit(data, context).run();
  }

  /** The state of one fit: factors, scratch and bookkeeping. */
  private final class Fit {
    private final TrainingMatrix data;
    private final FitContext context;
    private final int k = numFactors;
    private final boolean implicit = options.implicit();
    private final boolean biases = options.biases() && !options.implicit();
    /** Unknowns per row: the factors, plus the bias when there are biases. */
    private final int w = biases ? numFactors + 1 : numFactors;
    private final double mu;
    private final float[] userFactors;
    private final float[] itemFactors;
    private final float[] userBias;
    private final float[] itemBias;
    /** c − 1 per entry, in row and in column order (implicit feedback only). */
    private final float[] rowConfidence;
    private final float[] colConfidence;
    private final Scratch[] scratch;
    private final double[] userTerms;
    private final double[] itemTerms;
    private final double[] userGram;
    private final double[] itemGram;
    private final double[] gramParts;
    private final long start = System.nanoTime();

    Fit(TrainingMatrix data, FitContext context) {
      this.data = data;
      this.context = context;
      userFactors = new float[factorLength(data.rows(), k, "users")];
      itemFactors = new float[factorLength(data.cols(), k, "items")];
      mu = biases ? data.mean() : 0;
      userBias = biases ? new float[data.rows()] : null;
      itemBias = biases ? new float[data.cols()] : null;
      rowConfidence = implicit ? confidences(true) : null;
      colConfidence = implicit ? confidences(false) : null;
      int workers = Math.max(1, Math.min(context.parallelism(),
          Math.max(blockCount(data.rows()), blockCount(data.cols()))));
      scratch = new Scratch[workers];
      for (int t = 0; t < workers; t++) {
        scratch[t] = new Scratch(k, w);
      }
      userTerms = new double[blockCount(data.rows())];
      itemTerms = new double[blockCount(data.cols())];
      userGram = implicit ? new double[k * k] : null;
      itemGram = implicit ? new double[k * k] : null;
      gramParts = implicit
          ? new double[Math.max(gramBlockCount(data.rows()), gramBlockCount(data.cols())) * k * k]
          : null;
    }

    FactorModel run() {
      initialise();
      WarmStart warm = context.warmStart();
      if (warm != null && warm.knownItems().cardinality() < data.cols()
          && warm.knownUsers().cardinality() >= k) {
        // New items first, against the earlier users (see the class comment).
        if (implicit) {
          gram(userFactors, data.rows(), userGram, 0);
        }
        halfSweep(false, 0, warm.knownItems());
      }
      ValidationSet validation = context.validation();
      int rounds = options.earlyStoppingRounds();
      boolean earlyStopping = rounds > 0 && !validation.isEmpty();
      List<IterationProgress> history = new ArrayList<>(Math.min(options.maxIterations(), 1024));
      Snapshot best = null;
      double bestMetric = Double.POSITIVE_INFINITY;
      int bestIteration = 0;
      int iterations = options.maxIterations();
      if (implicit) {
        gram(itemFactors, data.cols(), itemGram, 0);
      }
      for (int iter = 1; iter <= iterations; iter++) {
        context.throwIfCancelled(iter - 1);
        halfSweep(true, iter - 1);
        if (implicit) {
          gram(userFactors, data.rows(), userGram, iter - 1);
        }
        halfSweep(false, iter - 1);
        double allPairs = 0;
        if (implicit) {
          gram(itemFactors, data.cols(), itemGram, iter - 1);
          allPairs = frobenius(userGram, itemGram);
        }
        double loss = (sum(userTerms) + sum(itemTerms) + allPairs) / Math.max(1, data.nnz());
        if (!Double.isFinite(loss)) {
          throw new FitDivergedException("als diverged at iteration " + iter + ": the training"
              + " loss is " + loss + "; raise " + ParameterSpec.REGULARIZATION + " (now "
              + options.lambda() + ") or lower the number of factors");
        }
        double validationRmse = implicit || validation.isEmpty() ? Double.NaN
            : validation.rmse(this::predict);
        IterationProgress progress =
            new IterationProgress(iter, loss, System.nanoTime() - start, validationRmse);
        history.add(progress);
        context.report(progress);
        if (earlyStopping) {
          double metric = implicit ? rankingError(validation) : validationRmse;
          if (metric < bestMetric) {
            bestMetric = metric;
            bestIteration = iter;
            best = Snapshot.take(best, userFactors, itemFactors, userBias, itemBias);
          } else if (iter - bestIteration >= rounds) {
            break;
          }
        }
      }
      // The caller may have given up during the last sweep; it then wants no model.
      context.throwIfCancelled(history.size());
      if (best != null && bestIteration != history.size()) {
        best.restore(userFactors, itemFactors, userBias, itemBias);
        // The model is the best sweep's: its history ends there, as SGD's does (the later
        // sweeps were reported as progress while they ran).
        history = new ArrayList<>(history.subList(0, bestIteration));
      }
      FactorModel.Biases b = biases ? new FactorModel.Biases(mu, userBias, itemBias) : null;
      return new FactorModel(data.rows(), data.cols(), k, userFactors, itemFactors, b, history);
    }

    /**
     * Draws V from N(0, σ²) with σ² = rms/k (rms of the values, or of the values less their
     * mean with biases; 1 for implicit preferences), so that u·v starts at the data's
     * magnitude: too small a start lets the penalty pull every factor to zero. Then copies a
     * warm start's known rows over the draws (see the class comment).
     */
    private void initialise() {
      double rms = 1;
      if (!implicit && data.nnz() > 0) {
        double sumSquares = 0;
        for (int p = 0; p < data.nnz(); p++) {
          double r = data.rowValue(p) - mu;
          sumSquares += r * r;
        }
        rms = Math.sqrt(sumSquares / data.nnz());
      }
      double sigma = Math.sqrt((rms > 0 ? rms : 1) / k);
      Random random = new Random(seed);
      for (int n = 0; n < itemFactors.length; n++) {
        double v = random.nextGaussian() * sigma;
        itemFactors[n] = (float) (options.nonnegative() ? Math.abs(v) : v);
      }
      WarmStart warm = context.warmStart();
      if (warm != null) {
        boolean clamp = options.nonnegative();
        copyKnown(warm.userFactors(), warm.knownUsers(), userFactors, k, clamp);
        copyKnown(warm.itemFactors(), warm.knownItems(), itemFactors, k, clamp);
        if (biases && warm.biases() != null) {
          copyKnown(warm.biases().user(), warm.knownUsers(), userBias, 1, false);
          copyKnown(warm.biases().item(), warm.knownItems(), itemBias, 1, false);
        }
      }
    }

    private float[] confidences(boolean rows) {
      float[] c = new float[data.nnz()];
      double alpha = options.alpha();
      double epsilon = options.epsilon();
      for (int p = 0; p < c.length; p++) {
        double r = Math.abs(rows ? data.rowValue(p) : data.colValue(p));
        c[p] = (float) (options.logConfidence() ? alpha * Math.log1p(r / epsilon) : alpha * r);
      }
      return c;
    }

    private double predict(int r, int c) {
      double d = Gram.dot(userFactors, r * k, itemFactors, c * k, k);
      return biases ? mu + userBias[r] + itemBias[c] + d : d;
    }

    /**
     * Returns the fraction of (held-out positive, seeded random item) pairs scored in the wrong
     * order, ties counting half: a sampled 1 − AUC. Lower is better.
     */
    private double rankingError(ValidationSet validation) {
      double wrong = 0;
      long pairs = 0;
      int cols = data.cols();
      for (int n = 0; n < validation.size(); n++) {
        if (!(validation.value(n) > 0)) {
          continue;
        }
        int r = validation.row(n);
        double positive = predict(r, validation.col(n));
        SplittableRandom random = new SplittableRandom(seed ^ (0x9E3779B97F4A7C15L * (n + 1)));
        for (int s = 0; s < NEGATIVES; s++) {
          int c = random.nextInt(cols);
          if (c == validation.col(n)) {
            continue;
          }
          double negative = predict(r, c);
          wrong += negative > positive ? 1 : negative == positive ? 0.5 : 0;
          pairs++;
        }
      }
      return pairs == 0 ? Double.NaN : wrong / pairs;
    }

    /** Computes YᵀY (upper triangle, double) of the n × k {@code factors} into {@code out}. */
    private void gram(float[] factors, int n, double[] out, int completed) {
      int kk = k * k;
      int blocks = gramBlockCount(n);
      Arrays.fill(gramParts, 0, blocks * kk, 0);
      runBlocks(blocks, (s, b) -> {
        int from = b * GRAM_ROWS;
        int to = Math.min(n, from + GRAM_ROWS);
        int chunkSize = s.offsets.length;
        for (int chunk = from; chunk < to; chunk += chunkSize) {
          int cn = Math.min(chunkSize, to - chunk);
          for (int q = 0; q < cn; q++) {
            s.gramOffsets[q] = (chunk + q) * k;
            s.weights[q] = 1f;
          }
          Gram.accumulateUpper(factors, k, s.gramOffsets, s.weights, cn, s.a);
          Gram.drainUpper(s.a, k, gramParts, b * kk, k);
        }
        return 0;
      }, null, completed);
      Arrays.fill(out, 0);
      for (int b = 0; b < blocks; b++) {
        for (int e = 0; e < kk; e++) {
          out[e] += gramParts[b * kk + e];
        }
      }
    }

    /**
     * Solves every row of one side in parallel, writing each block's share of the loss into
     * the side's terms. Throws FitCancelledException if cancelled meanwhile.
     *
     * @param users true to solve U (walking rows), false to solve V (walking columns)
     */
    private void halfSweep(boolean users, int completed) {
      halfSweep(users, completed, null);
    }

    /** As {@link #halfSweep(boolean, int)}, leaving the rows whose bit is set in {@code skip}. */
    private void halfSweep(boolean users, int completed, BitSet skip) {
      int n = users ? data.rows() : data.cols();
      runBlocks(blockCount(n), (s, b) -> {
        int from = b * BLOCK_ROWS;
        int to = Math.min(n, from + BLOCK_ROWS);
        double blockTerm = 0;
        for (int r = from; r < to; r++) {
          if (skip != null && skip.get(r)) {
            continue;
          }
          blockTerm += implicit ? implicitRow(users, r, s) : explicitRow(users, r, s);
        }
        return blockTerm;
      }, users ? userTerms : itemTerms, completed);
    }

    /**
     * Runs {@code body} for every block on the pool, one task per worker claiming blocks in
     * turn, and stores each block's result in {@code terms} (when not null).
     */
    private void runBlocks(int blocks, BlockBody body, double[] terms, int completed) {
      AtomicInteger nextBlock = new AtomicInteger();
      int tasks = Math.min(scratch.length, blocks);
      ForkJoinPool pool = context.pool();
      ForkJoinTask<?>[] running = new ForkJoinTask<?>[tasks];
      for (int t = 0; t < tasks; t++) {
        Scratch s = scratch[t];
        running[t] = pool.submit(() -> {
          int b;
          // Checking the flag once per block keeps a cancelled fit from finishing a long sweep.
          while (!context.isCancelled() && (b = nextBlock.getAndIncrement()) < blocks) {
            double term = body.run(s, b);
            if (terms != null) {
              terms[b] = term;
            }
          }
        });
      }
      // Join every task before rethrowing, so that none still writes into the factors after
      // fit returns or throws.
      RuntimeException failure = null;
      for (ForkJoinTask<?> task : running) {
        try {
          task.join();
        } catch (RuntimeException e) {
          if (failure == null) {
            failure = e;
          } else {
            failure.addSuppressed(e);
          }
        }
      }
      if (failure != null) {
        throw failure;
      }
      context.throwIfCancelled(completed);
    }

    /**
     * Gathers entries [chunk, chunk + cn) of a row into the worker's packed buffer: the fixed
     * side's vectors one after another, and per entry the target (explicit: r − μ − b_j;
     * implicit: c·p) and the Gram weight (explicit: 1; implicit: c − 1). Copying first and
     * computing after lets the processor overlap the cache misses of the scattered vectors.
     */
    private void pack(boolean users, int chunk, int cn, Scratch s, float[] fixed,
        float[] fixedBias, float[] confidence) {
      float[] packed = s.packed;
      for (int q = 0; q < cn; q++) {
        int p = chunk + q;
        int j = users ? data.rowColumn(p) : data.colRow(p);
        float value = users ? data.rowValue(p) : data.colValue(p);
        int o = j * k;
        int d = q * k;
        // A plain loop: System.arraycopy's call overhead dominates a copy of k ≈ 10 floats.
        for (int f = 0; f < k; f++) {
          packed[d + f] = fixed[o + f];
        }
        if (implicit) {
          float c1 = confidence[p];
          s.weights[q] = c1;
          s.targets[q] = value > 0 ? 1f + c1 : 0f;
        } else {
          s.weights[q] = 1f;
          s.targets[q] = (float) (value - mu - (biases ? fixedBias[j] : 0));
        }
      }
    }

    /**
     * Adds the packed chunk's Gram matrix into the upper triangle of {@code s.m} and Σ t·y into
     * {@code s.b} (and, with biases, Σ y into {@code s.sums} and Σ t into {@code b[k]}).
     */
    private void accumulate(Scratch s, int cn) {
      float[] packed = s.packed;
      double[] b = s.b;
      for (int q = 0; q < cn; q++) {
        double t = s.targets[q];
        int o = q * k;
        if (t != 0) {
          for (int f = 0; f < k; f++) {
            b[f] += t * packed[o + f];
          }
        }
      }
      if (biases) {
        double[] sums = s.sums;
        for (int q = 0; q < cn; q++) {
          b[k] += s.targets[q];
          int o = q * k;
          for (int f = 0; f < k; f++) {
            sums[f] += packed[o + f];
          }
        }
      }
      Gram.accumulateUpper(packed, k, s.offsets, s.weights, cn, s.a);
      Gram.drainUpper(s.a, k, s.m, 0, w);
    }

    /**
     * Solves one explicit row's normal equations and stores its factors (and bias).
     *
     * @return the row's term of f: λ_r‖x‖² + λ_b b², plus, on the item side, the squared errors
     *     of the column's entries (U being final for this sweep by then)
     */
    private double explicitRow(boolean users, int r, Scratch s) {
      float[] solved = users ? userFactors : itemFactors;
      float[] fixed = users ? itemFactors : userFactors;
      float[] solvedBias = users ? userBias : itemBias;
      float[] fixedBias = users ? itemBias : userBias;
      int base = r * k;
      int from = users ? data.rowStart(r) : data.colStart(r);
      int to = users ? data.rowEnd(r) : data.colEnd(r);
      if (from == to) {
        Arrays.fill(solved, base, base + k, 0f);
        if (biases) {
          solvedBias[r] = 0f;
        }
        return 0;
      }
      Arrays.fill(s.m, 0);
      Arrays.fill(s.b, 0);
      Arrays.fill(s.sums, 0);
      int chunkSize = s.offsets.length;
      for (int chunk = from; chunk < to; chunk += chunkSize) {
        int cn = Math.min(chunkSize, to - chunk);
        pack(users, chunk, cn, s, fixed, fixedBias, null);
        accumulate(s, cn);
      }
      int count = to - from;
      if (biases) {
        for (int f = 0; f < k; f++) {
          s.m[f * w + k] = s.sums[f];
        }
        s.m[k * w + k] = count;
      }
      double reg = options.weightedLambda() ? options.lambda() * count : options.lambda();
      solveSystem(s, reg, solved, base, biases ? solvedBias : null, r);
      double term = reg * storedNorm2(solved, base, null, r)
          + (biases ? options.biasLambda() * solvedBias[r] * solvedBias[r] : 0);
      if (!users) {
        double ownBias = biases ? itemBias[r] : 0;
        if (count <= chunkSize) {
          // The packed chunk still holds the whole column: no second gather.
          for (int q = 0; q < count; q++) {
            double e = s.targets[q] - ownBias - Gram.dot(s.packed, q * k, itemFactors, base, k);
            term += e * e;
          }
        } else {
          for (int p = from; p < to; p++) {
            int u = data.colRow(p);
            double e = data.colValue(p) - mu - (biases ? userBias[u] + ownBias : 0)
                - Gram.dot(userFactors, u * k, itemFactors, base, k);
            term += e * e;
          }
        }
      }
      return term;
    }

    /**
     * Adds {@code reg} to the diagonal of the system in {@code s.m} / {@code s.b}, solves it
     * (Cholesky, with a ridge retry; or NNLS warm-started from the stored row) and stores the
     * result as float32.
     */
    private void solveSystem(Scratch s, double reg, float[] solved, int base, float[] bias,
        int r) {
      double[] m = s.m;
      double[] x = s.x;
      for (int f = 0; f < w; f++) {
        m[f * w + f] += f < k ? reg : options.biasLambda();
        s.diag[f] = m[f * w + f];
      }
      if (options.nonnegative()) {
        for (int f = 0; f < k; f++) {
          x[f] = solved[base + f];
        }
        if (w > k) {
          x[k] = bias[r];
        }
        Nnls.solve(m, s.b, x, s.g, w, k);
      } else {
        System.arraycopy(m, 0, s.m2, 0, w * w);
        if (Cholesky.factor(m, w, s.diag) || factorWithRidge(s)) {
          Cholesky.solve(m, s.b, x, w);
        } else {
          Arrays.fill(x, 0, w, 0);
        }
      }
      for (int f = 0; f < k; f++) {
        solved[base + f] = (float) x[f];
      }
      if (w > k) {
        bias[r] = (float) x[k];
      }
    }

    /**
     * Retries the factorisation with a growing ridge on the diagonal; only a singular system
     * (λ = 0 and fewer independent entries than unknowns) gets here.
     */
    private boolean factorWithRidge(Scratch s) {
      double trace = 0;
      for (int f = 0; f < w; f++) {
        trace += s.diag[f];
      }
      double mean = trace / w;
      if (!(mean > 0) || Double.isInfinite(mean)) {
        return false;
      }
      for (double ridge = 1e-10 * mean; ridge <= 1e-2 * mean; ridge *= 100) {
        System.arraycopy(s.m2, 0, s.m, 0, w * w);
        for (int f = 0; f < w; f++) {
          s.m[f * w + f] += ridge;
        }
        if (Cholesky.factor(s.m, w, s.diag)) {
          return true;
        }
      }
      return false;
    }

    /**
     * Solves one implicit row and stores its factors.
     *
     * @return the row's term of f: λ_r‖x‖², plus, on the item side, Σ over the column's
     *     observed entries of c(p − s)² − s² (s the score), the all-pairs part Σ s² being
     *     added per sweep as ⟨UᵀU, VᵀV⟩
     */
    private double implicitRow(boolean users, int r, Scratch s) {
      float[] solved = users ? userFactors : itemFactors;
      float[] fixed = users ? itemFactors : userFactors;
      float[] confidence = users ? rowConfidence : colConfidence;
      double[] gram = users ? itemGram : userGram;
      int base = r * k;
      int from = users ? data.rowStart(r) : data.colStart(r);
      int to = users ? data.rowEnd(r) : data.colEnd(r);
      if (from == to) {
        // Every entry is absent (p = 0, c = 1), so x = 0 minimises the row's terms.
        Arrays.fill(solved, base, base + k, 0f);
        return 0;
      }
      int count = to - from;
      int chunkSize = s.offsets.length;
      double reg = options.weightedLambda() ? options.lambda() * count : options.lambda();
      if (options.cholesky() || options.nonnegative()) {
        Arrays.fill(s.m, 0);
        Arrays.fill(s.b, 0);
        for (int chunk = from; chunk < to; chunk += chunkSize) {
          int cn = Math.min(chunkSize, to - chunk);
          pack(users, chunk, cn, s, fixed, null, confidence);
          accumulate(s, cn);
        }
        for (int e = 0; e < k * k; e++) {
          s.m[e] += gram[e];
        }
        solveSystem(s, reg, solved, base, null, r);
      } else {
        conjugateGradient(users, s, from, to, reg, solved, fixed, confidence, gram, base);
      }
      double term = reg * storedNorm2(solved, base, null, r);
      if (!users) {
        if (count <= chunkSize) {
          // The packed chunk still holds the whole column (packed by the solve above).
          for (int q = 0; q < count; q++) {
            double score = Gram.dot(s.packed, q * k, itemFactors, base, k);
            double c1 = s.weights[q];
            double e = (s.targets[q] > 0 ? 1 : 0) - score;
            term += (1.0 + c1) * e * e - score * score;
          }
        } else {
          for (int p = from; p < to; p++) {
            double score = Gram.dot(userFactors, data.colRow(p) * k, itemFactors, base, k);
            double e = (data.colValue(p) > 0 ? 1 : 0) - score;
            term += (1.0 + confidence[p]) * e * e - score * score;
          }
        }
      }
      return term;
    }

    /**
     * Takes {@code cg_steps} conjugate-gradient steps on the row's implicit normal equations
     * from its stored factors, applying A·v = YᵀY v + λ_r v + Σ (c − 1)(y·v) y without forming
     * A (Takács, Pilászy and Tikk 2011), and stores the result. A row that fits one chunk is
     * packed once for all steps.
     */
    private void conjugateGradient(boolean users, Scratch s, int from, int to, double reg,
        float[] solved, float[] fixed, float[] confidence, double[] gram, int base) {
      double[] x = s.x;
      double[] res = s.b;
      double[] dir = s.dir;
      double[] ad = s.g;
      int chunkSize = s.offsets.length;
      boolean single = to - from <= chunkSize;
      if (single) {
        pack(users, from, to - from, s, fixed, null, confidence);
      }
      for (int f = 0; f < k; f++) {
        x[f] = solved[base + f];
      }
      // res = b − A x = Σ c p y − YᵀY x − λ x − Σ (c − 1)(y·x) y.
      Gram.symmetricTimes(gram, x, res, k);
      for (int f = 0; f < k; f++) {
        res[f] = -res[f] - reg * x[f];
      }
      for (int chunk = from; chunk < to; chunk += chunkSize) {
        int cn = Math.min(chunkSize, to - chunk);
        if (!single) {
          pack(users, chunk, cn, s, fixed, null, confidence);
        }
        confidenceTimes(s, cn, x, res, true);
      }
      double rsOld = 0;
      for (int f = 0; f < k; f++) {
        dir[f] = res[f];
        rsOld += res[f] * res[f];
      }
      for (int step = 0; step < options.cgSteps() && rsOld > 1e-20; step++) {
        Gram.symmetricTimes(gram, dir, ad, k);
        for (int f = 0; f < k; f++) {
          ad[f] += reg * dir[f];
        }
        for (int chunk = from; chunk < to; chunk += chunkSize) {
          int cn = Math.min(chunkSize, to - chunk);
          if (!single) {
            pack(users, chunk, cn, s, fixed, null, confidence);
          }
          confidenceTimes(s, cn, dir, ad, false);
        }
        double dad = 0;
        for (int f = 0; f < k; f++) {
          dad += dir[f] * ad[f];
        }
        if (!(dad > 0)) {
          break;
        }
        double stepSize = rsOld / dad;
        double rsNew = 0;
        for (int f = 0; f < k; f++) {
          x[f] += stepSize * dir[f];
          res[f] -= stepSize * ad[f];
          rsNew += res[f] * res[f];
        }
        double beta = rsNew / rsOld;
        for (int f = 0; f < k; f++) {
          dir[f] = res[f] + beta * dir[f];
        }
        rsOld = rsNew;
      }
      for (int f = 0; f < k; f++) {
        solved[base + f] = (float) x[f];
      }
    }

    /**
     * Over the packed chunk, adds Σ_q coef_q y_q to {@code out}, where coef_q = (c_q − 1)(v·y_q)
     * (the observed part of A·v), or, with {@code residual}, coef_q = c_q p_q − (c_q − 1)(v·y_q)
     * (the observed part of b − A·v). Four entries at a time, so that the four dot products run
     * side by side and each element of {@code out} is loaded and stored once per four entries.
     */
    private void confidenceTimes(Scratch s, int cn, double[] v, double[] out, boolean residual) {
      float[] packed = s.packed;
      float[] weights = s.weights;
      float[] targets = s.targets;
      double sign = residual ? -1 : 1;
      int q = 0;
      for (; q + 4 <= cn; q += 4) {
        int o0 = q * k;
        int o1 = o0 + k;
        int o2 = o1 + k;
        int o3 = o2 + k;
        double d0 = 0;
        double d1 = 0;
        double d2 = 0;
        double d3 = 0;
        for (int f = 0; f < k; f++) {
          double vf = v[f];
          d0 += vf * packed[o0 + f];
          d1 += vf * packed[o1 + f];
          d2 += vf * packed[o2 + f];
          d3 += vf * packed[o3 + f];
        }
        double c0 = sign * weights[q] * d0 + (residual ? targets[q] : 0);
        double c1 = sign * weights[q + 1] * d1 + (residual ? targets[q + 1] : 0);
        double c2 = sign * weights[q + 2] * d2 + (residual ? targets[q + 2] : 0);
        double c3 = sign * weights[q + 3] * d3 + (residual ? targets[q + 3] : 0);
        for (int f = 0; f < k; f++) {
          out[f] += c0 * packed[o0 + f] + c1 * packed[o1 + f] + c2 * packed[o2 + f]
              + c3 * packed[o3 + f];
        }
      }
      for (; q < cn; q++) {
        int o = q * k;
        double d = 0;
        for (int f = 0; f < k; f++) {
          d += v[f] * packed[o + f];
        }
        double c = sign * weights[q] * d + (residual ? targets[q] : 0);
        for (int f = 0; f < k; f++) {
          out[f] += c * packed[o + f];
        }
      }
    }

    /** Returns ‖stored row‖² (with its bias when {@code bias} is not null), in double. */
    private double storedNorm2(float[] solved, int base, float[] bias, int r) {
      double norm2 = 0;
      for (int f = 0; f < k; f++) {
        double v = solved[base + f];
        norm2 += v * v;
      }
      if (bias != null) {
        norm2 += (double) bias[r] * bias[r];
      }
      return norm2;
    }

    /** Returns Σ_{x,c} A[x][c]·B[x][c] for symmetric A and B given by their upper triangles. */
    private double frobenius(double[] a, double[] b) {
      double total = 0;
      for (int x = 0; x < k; x++) {
        total += a[x * k + x] * b[x * k + x];
        for (int c = x + 1; c < k; c++) {
          total += 2 * a[x * k + c] * b[x * k + c];
        }
      }
      return total;
    }
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

  private static int factorLength(int n, int k, String side) {
    long length = (long) n * k;
    // The largest array length HotSpot allows, with a margin for its header.
    if (length > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException(n + " " + side + " × " + k
          + " factors exceed the largest Java array");
    }
    return (int) length;
  }

  /** Sums in index order, so that the total does not depend on which thread wrote what. */
  private static double sum(double[] terms) {
    double total = 0;
    for (double t : terms) {
      total += t;
    }
    return total;
  }

  /** Work on one block of rows with one worker's scratch; returns the block's loss term. */
  @FunctionalInterface
  private interface BlockBody {
    double run(Scratch s, int block);
  }

  /** The factors of the best sweep so far, for early stopping. */
  private static final class Snapshot {
    private final float[] user;
    private final float[] item;
    private final float[] userBias;
    private final float[] itemBias;

    private Snapshot(float[] user, float[] item, float[] userBias, float[] itemBias) {
      this.user = user;
      this.item = item;
      this.userBias = userBias;
      this.itemBias = itemBias;
    }

    /** Copies the current factors into {@code into} (allocated on first use) and returns it. */
    static Snapshot take(Snapshot into, float[] user, float[] item, float[] userBias,
        float[] itemBias) {
      Snapshot s = into != null ? into : new Snapshot(new float[user.length],
          new float[item.length], userBias == null ? null : new float[userBias.length],
          itemBias == null ? null : new float[itemBias.length]);
      System.arraycopy(user, 0, s.user, 0, user.length);
      System.arraycopy(item, 0, s.item, 0, item.length);
      if (userBias != null) {
        System.arraycopy(userBias, 0, s.userBias, 0, userBias.length);
        System.arraycopy(itemBias, 0, s.itemBias, 0, itemBias.length);
      }
      return s;
    }

    void restore(float[] user, float[] item, float[] userBias, float[] itemBias) {
      System.arraycopy(this.user, 0, user, 0, user.length);
      System.arraycopy(this.item, 0, item, 0, item.length);
      if (userBias != null) {
        System.arraycopy(this.userBias, 0, userBias, 0, userBias.length);
        System.arraycopy(this.itemBias, 0, itemBias, 0, itemBias.length);
      }
    }
  }

  /** One worker's buffers, allocated once per fit so that the row loop allocates nothing. */
  private static final class Scratch {
    final float[] a;
    final double[] m;
    final double[] m2;
    final double[] b;
    final double[] x;
    final double[] g;
    final double[] dir;
    final double[] diag;
    final double[] sums;
    /** q·k for every q: the packed chunk's vector offsets, fixed for the fit. */
    final int[] offsets;
    /** Scratch offsets for {@code gram}, which reads the factor array in place. */
    final int[] gramOffsets;
    final float[] weights;
    final float[] targets;
    final float[] packed;

    Scratch(int k, int w) {
      int chunk = chunkEntries(k);
      offsets = new int[chunk];
      for (int q = 0; q < chunk; q++) {
        offsets[q] = q * k;
      }
      gramOffsets = new int[chunk];
      weights = new float[chunk];
      targets = new float[chunk];
      packed = new float[chunk * k];
      a = new float[k * k];
      m = new double[w * w];
      m2 = new double[w * w];
      b = new double[w];
      x = new double[w];
      g = new double[w];
      dir = new double[w];
      diag = new double[w];
      sums = new double[w];
    }
  }
}
