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
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Random;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One fit of explicit-feedback alternating least squares with weighted-λ regularisation (Y.
 * Zhou, D. Wilkinson, R. Schreiber and R. Pan, "Large-scale Parallel Collaborative Filtering for
 * the Netflix Prize", AAIM 2008).
 *
 * <h2>What it minimises</h2>
 * <pre>
 *   f(U, V) = Σ_{(u,i) observed} (r_ui − u·v_i)² + Σ_u λ_u ‖u‖² + Σ_i λ_i ‖v_i‖²
 * </pre>
 * with λ_u = λ·n_u and λ_i = λ·n_i (n = number of observed entries of the row or column) when
 * {@code weighted_lambda} is true, else λ_u = λ_i = λ. There are no bias terms.
 *
 * <h2>Algorithm</h2>
 * Item factors V are drawn from N(0, σ²) with σ² = rms(r)/k, so that u·v starts at the data's
 * magnitude (too small a start lets the penalty pull every factor to zero); U needs no start
 * because the first half-sweep solves it from V alone. Each iteration (sweep) then
 * <ol>
 *   <li>fixes V and, for every user u, solves the normal equations
 *       (Σ_{i ∈ I_u} v_i v_iᵀ + λ_u I) u = Σ_{i ∈ I_u} r_ui v_i, and
 *   <li>fixes U and solves the same for every item.
 * </ol>
 * Each k × k system is accumulated in double and solved by Cholesky. Each half-sweep minimises f
 * exactly over one side, so f never rises (up to float32 rounding of the stored factors). A row
 * with no observed entries gets zero factors (its term of f does not depend on them). Should a
 * system be singular to working precision (possible only with λ = 0), a ridge of 10⁻¹⁰ times its
 * mean diagonal, grown a hundredfold per retry, is added until it factors; failing that, the
 * row gets zero factors.
 *
 * <h2>Progress</h2>
 * After each sweep it reports, as {@link IterationProgress#loss()}, f(U, V) divided by the number
 * of observed entries (so that the number reads as a mean squared error plus penalty, comparable
 * across data sizes), and the RMSE on {@link FitContext#validation()} when that is non-empty.
 *
 * <h2>Threads and determinism</h2>
 * The rows of each half-sweep are independent, so they are solved on {@link FitContext#pool()}
 * by one task per worker, each owning its scratch buffers for the whole fit and claiming blocks
 * of rows until none are left. Every row's result depends only on the seed and the other side's
 * factors, and the loss is summed per fixed block and then in block order, so the model and the
 * reported losses are bit-for-bit the same for a seed whatever the number of threads. An
 * instance serves one fit and is used by one thread.
 */
public final class AlsSolver implements Solver {
  /** Rows claimed at a time by a worker: enough to amortise the claim, few enough to balance. */
  static final int BLOCK_ROWS = 64;

  private final int numFactors;
  private final long seed;
  private final int maxIterations;
  private final double lambda;
  private final boolean weightedLambda;

  /**
   * Creates a solver for one fit; {@link AlsSolverProvider#create} is the public way in.
   *
   * @param numFactors k
   * @param seed seeds the initial item factors
   * @param maxIterations sweeps to run
   * @param lambda λ, at least 0
   * @param weightedLambda whether λ is scaled by each row's number of observed entries
   */
  AlsSolver(int numFactors, long seed, int maxIterations, double lambda,
      boolean weightedLambda) {
    // k² doubles must fit in one scratch array.
    if (numFactors < 1 || numFactors > 46_340 || maxIterations < 1 || !(lambda >= 0)
        || Double.isInfinite(lambda)) {
      throw new IllegalArgumentException("bad ALS configuration: k=" + numFactors
          + ", iterations=" + maxIterations + ", λ=" + lambda);
    }
    this.numFactors = numFactors;
    this.seed = seed;
    this.maxIterations = maxIterations;
    this.lambda = lambda;
    this.weightedLambda = weightedLambda;
  }

  /** Returns the number of blocks {@code n} rows are split into. */
  static int blockCount(int n) {
    return (int) (((long) n + BLOCK_ROWS - 1) / BLOCK_ROWS);
  }

  /** Returns the bytes of one worker's scratch buffers for rank {@code k}. */
  static long scratchBytes(int k) {
    return (2L * k * k + 3L * k) * Double.BYTES + 128;
  }

  /**
   * Fits U and V to the observed entries of {@code data}; see the class comment for the
   * objective and the reported loss.
   *
   * @throws IllegalArgumentException if {@code data} is sparse and its absent entries do not
   *     mean {@link AbsentEntries#UNKNOWN}, or a factor array would exceed a Java array
   */
  @Override
  public FactorModel fit(TrainingMatrix data, FitContext context) {
    Objects.requireNonNull(data, "data");
    Objects.requireNonNull(context, "context");
    if (!data.isDense() && data.absentEntries() != AbsentEntries.UNKNOWN) {
      throw new IllegalArgumentException("the als solver supports absent entries UNKNOWN only, got "
          + data.absentEntries());
    }
    long start = System.nanoTime();
    int k = numFactors;
    float[] userFactors = new float[factorLength(data.rows(), k, "users")];
    float[] itemFactors = new float[factorLength(data.cols(), k, "items")];
    initialise(data, itemFactors);

    int workers = Math.max(1, Math.min(context.parallelism(),
        Math.max(blockCount(data.rows()), blockCount(data.cols()))));
    Scratch[] scratch = new Scratch[workers];
    for (int w = 0; w < workers; w++) {
      scratch[w] = new Scratch(k);
    }
    double[] userTerms = new double[blockCount(data.rows())];
    double[] itemTerms = new double[blockCount(data.cols())];
    ValidationSet validation = context.validation();
    List<IterationProgress> history = new ArrayList<>(Math.min(maxIterations, 1024));

    for (int iter = 1; iter <= maxIterations; iter++) {
      context.throwIfCancelled(iter - 1);
      halfSweep(true, data, context, scratch, userFactors, itemFactors, userTerms, iter - 1);
      context.throwIfCancelled(iter - 1);
      halfSweep(false, data, context, scratch, itemFactors, userFactors, itemTerms, iter - 1);

      double loss = (sum(userTerms) + sum(itemTerms)) / Math.max(1, data.nnz());
      if (!Double.isFinite(loss)) {
        throw new FitDivergedException("als diverged at iteration " + iter + ": the training loss"
            + " is " + loss + "; raise " + ParameterSpec.REGULARIZATION + " (now " + lambda
            + ") or lower the number of factors");
      }
      double validationRmse = validation.isEmpty() ? Double.NaN
          : validation.rmse((r, c) -> dot(userFactors, r, itemFactors, c, k));
      IterationProgress progress =
          new IterationProgress(iter, loss, System.nanoTime() - start, validationRmse);
      history.add(progress);
      context.report(progress);
    }
    // The caller may have given up during the last sweep; it then wants no model.
    context.throwIfCancelled(maxIterations);
    return new FactorModel(data.rows(), data.cols(), k, userFactors, itemFactors, null, history);
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

  /**
   * Draws V from N(0, rms/k): then u·v, a sum of k products, has roughly the data's magnitude
   * from the first sweep on.
   */
  private void initialise(TrainingMatrix data, float[] itemFactors) {
    double sumSquares = 0;
    for (int p = 0; p < data.nnz(); p++) {
      double r = data.rowValue(p);
      sumSquares += r * r;
    }
    double rms = data.nnz() == 0 ? 0 : Math.sqrt(sumSquares / data.nnz());
    double sigma = Math.sqrt((rms > 0 ? rms : 1) / numFactors);
    Random random = new Random(seed);
    for (int n = 0; n < itemFactors.length; n++) {
      itemFactors[n] = (float) (random.nextGaussian() * sigma);
    }
  }

  /**
   * Solves every row of one side in parallel, writing each block's share of the loss into
   * {@code terms}. Throws FitCancelledException if cancelled meanwhile.
   *
   * @param users true to solve U (walking rows), false to solve V (walking columns)
   */
  private void halfSweep(boolean users, TrainingMatrix data, FitContext context,
      Scratch[] scratch, float[] solved, float[] fixed, double[] terms, int completed) {
    int n = users ? data.rows() : data.cols();
    int blocks = blockCount(n);
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
          int from = b * BLOCK_ROWS;
          int to = Math.min(n, from + BLOCK_ROWS);
          double blockTerm = 0;
          for (int r = from; r < to; r++) {
            blockTerm += solveRow(users, data, r, s, solved, fixed);
          }
          terms[b] = blockTerm;
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
   * Solves one row's normal equations and stores its factors as float32.
   *
   * @return the row's term of the objective: λ_r‖x‖², plus, on the item side, the squared
   *     errors of the column's entries (U being final for this sweep by then)
   */
  private double solveRow(boolean users, TrainingMatrix data, int r, Scratch s, float[] solved,
      float[] fixed) {
    int k = numFactors;
    int base = r * k;
    int from = users ? data.rowStart(r) : data.colStart(r);
    int to = users ? data.rowEnd(r) : data.colEnd(r);
    if (from == to) {
      Arrays.fill(solved, base, base + k, 0f);
      return 0;
    }
    double[] a = s.a;
    double[] b = s.b;
    Arrays.fill(a, 0);
    Arrays.fill(b, 0);
    // A = Σ y yᵀ (lower triangle only) and b = Σ r y over the row's entries, y the fixed side.
    for (int p = from; p < to; p++) {
      int j = users ? data.rowColumn(p) : data.colRow(p);
      double value = users ? data.rowValue(p) : data.colValue(p);
      int jb = j * k;
      for (int x = 0; x < k; x++) {
        double fx = fixed[jb + x];
        b[x] += value * fx;
        int xr = x * k;
        for (int y = 0; y <= x; y++) {
          a[xr + y] += fx * fixed[jb + y];
        }
      }
    }
    double reg = weightedLambda ? lambda * (to - from) : lambda;
    for (int x = 0; x < k; x++) {
      a[x * k + x] += reg;
    }
    double[] x = s.x;
    if (Cholesky.factor(a, s.l, k) || factorWithRidge(a, s)) {
      Cholesky.solve(s.l, b, x, k);
    } else {
      Arrays.fill(x, 0);
    }
    double norm2 = 0;
    for (int f = 0; f < k; f++) {
      float xf = (float) x[f];
      solved[base + f] = xf;
      norm2 += (double) xf * xf;
    }
    double term = reg * norm2;
    if (!users) {
      for (int p = from; p < to; p++) {
        double e = data.colValue(p) - dot(fixed, data.colRow(p), solved, r, k);
        term += e * e;
      }
    }
    return term;
  }

  /**
   * Retries the factorisation with a growing ridge on the diagonal; only a singular system (λ =
   * 0 and fewer independent entries than factors) gets here.
   */
  private boolean factorWithRidge(double[] a, Scratch s) {
    int k = numFactors;
    double trace = 0;
    for (int x = 0; x < k; x++) {
      s.diag[x] = a[x * k + x];
      trace += s.diag[x];
    }
    double mean = trace / k;
    if (!(mean > 0) || Double.isInfinite(mean)) {
      return false;
    }
    boolean ok = false;
    for (double ridge = 1e-10 * mean; !ok && ridge <= 1e-2 * mean; ridge *= 100) {
      for (int x = 0; x < k; x++) {
        a[x * k + x] = s.diag[x] + ridge;
      }
      ok = Cholesky.factor(a, s.l, k);
    }
    return ok;
  }

  private static double dot(float[] left, int l, float[] right, int r, int k) {
    int lb = l * k;
    int rb = r * k;
    double d = 0;
    for (int f = 0; f < k; f++) {
      d += (double) left[lb + f] * right[rb + f];
    }
    return d;
  }

  /** Sums in index order, so that the total does not depend on which thread wrote what. */
  private static double sum(double[] terms) {
    double total = 0;
    for (double t : terms) {
      total += t;
    }
    return total;
  }

  /** One worker's buffers, allocated once per fit so that the row loop allocates nothing. */
  private static final class Scratch {
    final double[] a;
    final double[] l;
    final double[] b;
    final double[] x;
    final double[] diag;

    Scratch(int k) {
      a = new double[k * k];
      l = new double[k * k];
      b = new double[k];
      x = new double[k];
      diag = new double[k];
    }
  }
}
