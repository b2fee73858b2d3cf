package io.mfserve.solver.sgd;

import io.mfserve.solver.AbsentEntries;
import io.mfserve.solver.FactorModel;
import io.mfserve.solver.FitCancelledException;
import io.mfserve.solver.FitContext;
import io.mfserve.solver.FitDivergedException;
import io.mfserve.solver.IterationProgress;
import io.mfserve.solver.ParameterSpec;
import io.mfserve.solver.Parameters;
import io.mfserve.solver.Solver;
import io.mfserve.solver.SolverConfig;
import io.mfserve.solver.TrainingMatrix;
import io.mfserve.solver.ValidationSet;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Fits a biased matrix factorisation by stochastic gradient descent over the observed entries
 * (Funk 2006; Koren, Bell and Volinsky, "Matrix Factorization Techniques for Recommender
 * Systems", IEEE Computer 42(8), 2009, equations 4–5 and the SGD rule that follows them).
 *
 * <h2>Model and objective</h2>
 * The prediction is {@code r̂(u, i) = mu + b_u + b_i + p_u·q_i}, with mu the mean of the observed
 * entries, held fixed (it is the least-squares intercept, so learning it would only slow the
 * biases down). Over the set K of observed entries the solver minimises, as in the paper,
 * <pre>
 *   L = Σ_{(u,i)∈K} [ (r_ui − r̂_ui)² + λ(‖p_u‖² + ‖q_i‖²) + λ_b(b_u² + b_i²) ]
 *     = Σ_K (r_ui − r̂_ui)² + λ(Σ_u n_u‖p_u‖² + Σ_i n_i‖q_i‖²)
 *       + λ_b(Σ_u n_u b_u² + Σ_i n_i b_i²)
 * </pre>
 * where n_u and n_i count the observed entries of user u and item i. The penalty sits inside
 * the sum because that is the objective the per-entry update below descends: each visit of an
 * entry shrinks the factors it touches, so a user with many ratings is shrunk more often. This
 * {@code L}, computed exactly after each epoch from the current parameters and accumulated in
 * double, is the {@link IterationProgress#loss()} reported.
 *
 * <h2>Update rule</h2>
 * Each epoch visits every observed entry once, in an order drawn afresh from the seeded random
 * stream, and for entry (u, i) with error {@code e = r_ui − r̂_ui} and step γ applies
 * <pre>
 *   b_u ← b_u + γ(e − λ_b b_u)        b_i ← b_i + γ(e − λ_b b_i)
 *   p_u ← p_u + γ(e q_i − λ p_u)      q_i ← q_i + γ(e p_u − λ q_i)
 * </pre>
 * with both factor updates reading the old p_u and q_i. γ starts at {@code learning_rate} and is
 * multiplied by {@code learning_rate_decay} after every epoch. The factors start from
 * N(0, init_std²) and the biases from 0. With init_std = 0 the factors' gradients are products
 * of zeros, so they stay zero and the result is the regularised bias-only baseline.
 *
 * <h2>Guards</h2>
 * After each epoch the solver reports progress (with the validation RMSE when the context has a
 * validation set) and then checks for cancellation; within an epoch it checks every 2^17
 * updates, so a cancel on a large matrix is seen within milliseconds. If the loss becomes
 * non-finite or exceeds 1000 times the loss of the initial parameters,
 * the step is too large for the data's scale and the fit fails with a
 * {@link FitDivergedException} that says to lower {@code learning_rate}.
 *
 * <h2>Threading and determinism</h2>
 * One thread does all the work; the same seed, data and parameters give the same model bit for
 * bit. Block-parallel SGD (FPSGD, Chin et al. 2015) is left for later. A solver serves one fit.
 */
public final class SgdSolver implements Solver {
  /** The loss may grow to this multiple of the initial loss before the fit counts as diverged. */
  static final double DIVERGENCE_FACTOR = 1e3;

  /** Checks for cancellation and divergence every this many updates within an epoch (2^17). */
  private static final int CHECK_MASK = (1 << 17) - 1;

  private final int numFactors;
  private final long seed;
  private final int maxIterations;
  private final double regularization;
  private final double learningRate;
  private final double biasRegularization;
  private final double initStd;
  private final double learningRateDecay;

  /**
   * Creates a solver for one fit.
   *
   * @param config the rank, seed and parameters, already resolved against
   *     {@link SgdSolverProvider#parameters()}
   */
  public SgdSolver(SolverConfig config) {
    Parameters p = config.parameters();
    this.numFactors = config.numFactors();
    this.seed = config.seed();
    this.maxIterations = p.getInt(ParameterSpec.MAX_ITERATIONS);
    this.regularization = p.getDouble(ParameterSpec.REGULARIZATION);
    this.learningRate = p.getDouble(ParameterSpec.LEARNING_RATE);
    this.biasRegularization = p.getDouble(SgdSolverProvider.BIAS_REGULARIZATION);
    this.initStd = p.getDouble(SgdSolverProvider.INIT_STD);
    this.learningRateDecay = p.getDouble(SgdSolverProvider.LEARNING_RATE_DECAY);
  }

  /**
   * {@inheritDoc}
   *
   * @throws IllegalArgumentException if {@code data} is sparse and its absent entries are not
   *     {@link AbsentEntries#UNKNOWN}: this solver fits observed entries only
   */
  @Override
  public FactorModel fit(TrainingMatrix data, FitContext context) {
    long start = System.nanoTime();
    if (!data.isDense() && data.absentEntries() != AbsentEntries.UNKNOWN) {
      throw new IllegalArgumentException("the sgd solver treats absent entries as unknown; got "
          + data.absentEntries());
    }
    context.throwIfCancelled(0);
    int rows = data.rows();
    int cols = data.cols();
    int k = numFactors;
    int nnz = data.nnz();

    SplittableRandom rnd = new SplittableRandom(seed);
    float[] p = new float[Math.multiplyExact(rows, k)];
    float[] q = new float[Math.multiplyExact(cols, k)];
    if (initStd > 0) {
      for (int n = 0; n < p.length; n++) {
        p[n] = (float) (rnd.nextGaussian() * initStd);
      }
      for (int n = 0; n < q.length; n++) {
        q[n] = (float) (rnd.nextGaussian() * initStd);
      }
    }
    float[] bu = new float[rows];
    float[] bi = new float[cols];
    double mu = data.mean();

    // A private copy of the entries as (row, column, value) triplets, shuffled in place each
    // epoch: the update loop then walks three arrays in order and touches memory at random
    // only for the factors, with no permutation to chase and nothing allocated per update.
    int[] entryRow = new int[nnz];
    int[] entryCol = new int[nnz];
    float[] entryVal = new float[nnz];
    for (int r = 0; r < rows; r++) {
      for (int pos = data.rowStart(r); pos < data.rowEnd(r); pos++) {
        entryRow[pos] = r;
        entryCol[pos] = data.rowColumn(pos);
        entryVal[pos] = data.rowValue(pos);
      }
    }

    Model m = new Model(k, mu, p, q, bu, bi);
    ValidationSet validation = context.validation();
    // The reference for the divergence guard is the loss before any update, not after the
    // first epoch: a step that is far too large can blow up within that first epoch.
    double initialLoss = loss(data, m);
    double divergenceLimit = DIVERGENCE_FACTOR * initialLoss;

    List<IterationProgress> history = new ArrayList<>(Math.min(maxIterations, 1024));
    double step = learningRate;
    for (int epoch = 1; epoch <= maxIterations; epoch++) {
      shuffle(entryRow, entryCol, entryVal, rnd);
      runEpoch(entryRow, entryCol, entryVal, m, step, epoch, context);
      double loss = loss(data, m);
      if (!Double.isFinite(loss) || loss > divergenceLimit) {
        throw diverged(epoch, Double.isFinite(loss)
            ? "the loss grew from " + initialLoss + " before training to " + loss
            : "the loss became " + loss);
      }
      double validationRmse = validation.isEmpty() ? Double.NaN : validation.rmse(m::predict);
      IterationProgress progress =
          new IterationProgress(epoch, loss, System.nanoTime() - start, validationRmse);
      history.add(progress);
      context.report(progress);
      context.throwIfCancelled(epoch);
      step *= learningRateDecay;
    }
    return new FactorModel(rows, cols, k, p, q, new FactorModel.Biases(mu, bu, bi), history);
  }

  /** One pass of the update rule over the entries in their current order. */
  private void runEpoch(int[] entryRow, int[] entryCol, float[] entryVal, Model m, double step,
      int epoch, FitContext context) {
    final int k = m.k;
    final float[] p = m.p;
    final float[] q = m.q;
    final float[] bu = m.bu;
    final float[] bi = m.bi;
    final double mu = m.mu;
    // (1 − γλ) p + γ e q is the factor update regrouped so that the inner loop does two
    // multiply-adds per factor and per side.
    final float shrink = (float) (1 - step * regularization);
    final double biasShrink = 1 - step * biasRegularization;
    double squaredErrors = 0;
    for (int n = 0, nnz = entryVal.length; n < nnz; n++) {
      int u = entryRow[n];
      int i = entryCol[n];
      int a = u * k;
      int b = i * k;
      float dot = 0;
      for (int f = 0; f < k; f++) {
        dot += p[a + f] * q[b + f];
      }
      double e = entryVal[n] - (mu + bu[u] + bi[i] + dot);
      squaredErrors += e * e;
      bu[u] = (float) (biasShrink * bu[u] + step * e);
      bi[i] = (float) (biasShrink * bi[i] + step * e);
      float g = (float) (step * e);
      for (int f = 0; f < k; f++) {
        float pf = p[a + f];
        float qf = q[b + f];
        p[a + f] = shrink * pf + g * qf;
        q[b + f] = shrink * qf + g * pf;
      }
      if ((n & CHECK_MASK) == CHECK_MASK) {
        if (context.isCancelled()) {
          throw new FitCancelledException(epoch - 1);
        }
        // Once a number overflows the rest of the epoch only spreads NaN; stop early.
        if (!Double.isFinite(squaredErrors)) {
          throw diverged(epoch, "the error became non-finite after " + (n + 1) + " updates");
        }
      }
    }
  }

  private FitDivergedException diverged(int epoch, String what) {
    return new FitDivergedException("sgd diverged in epoch " + epoch + ": " + what
        + "; lower learning_rate (now " + learningRate + ") or raise regularization");
  }

  /** Fisher–Yates over the three parallel arrays, drawing from the fit's seeded stream. */
  private static void shuffle(int[] row, int[] col, float[] val, SplittableRandom rnd) {
    for (int n = val.length - 1; n > 0; n--) {
      int j = rnd.nextInt(n + 1);
      int r = row[n];
      row[n] = row[j];
      row[j] = r;
      int c = col[n];
      col[n] = col[j];
      col[j] = c;
      float v = val[n];
      val[n] = val[j];
      val[j] = v;
    }
  }

  /**
   * The objective L of the class Javadoc at the current parameters, walking the matrix by rows
   * (sequential reads) rather than in the shuffled order. Accumulates in double.
   */
  private double loss(TrainingMatrix data, Model m) {
    int k = m.k;
    double errors = 0;
    double userPenalty = 0;
    double userBiasPenalty = 0;
    for (int u = 0; u < data.rows(); u++) {
      for (int pos = data.rowStart(u); pos < data.rowEnd(u); pos++) {
        double e = data.rowValue(pos) - m.predict(u, data.rowColumn(pos));
        errors += e * e;
      }
      int count = data.rowLength(u);
      userPenalty += count * squaredNorm(m.p, u * k, k);
      userBiasPenalty += count * (double) m.bu[u] * m.bu[u];
    }
    double itemPenalty = 0;
    double itemBiasPenalty = 0;
    for (int i = 0; i < data.cols(); i++) {
      int count = data.colLength(i);
      itemPenalty += count * squaredNorm(m.q, i * k, k);
      itemBiasPenalty += count * (double) m.bi[i] * m.bi[i];
    }
    return errors + regularization * (userPenalty + itemPenalty)
        + biasRegularization * (userBiasPenalty + itemBiasPenalty);
  }

  private static double squaredNorm(float[] x, int from, int k) {
    double s = 0;
    for (int f = from; f < from + k; f++) {
      s += (double) x[f] * x[f];
    }
    return s;
  }

  /** The parameters being trained, and the prediction the update rule and the loss share. */
  private static final class Model {
    final int k;
    final double mu;
    final float[] p;
    final float[] q;
    final float[] bu;
    final float[] bi;

    Model(int k, double mu, float[] p, float[] q, float[] bu, float[] bi) {
      this.k = k;
      this.mu = mu;
      this.p = p;
      this.q = q;
      this.bu = bu;
      this.bi = bi;
    }

    /** Returns mu + b_u + b_i + p_u·q_i, the dot product summed in float as in the update. */
    double predict(int u, int i) {
      int a = u * k;
      int b = i * k;
      float dot = 0;
      for (int f = 0; f < k; f++) {
        dot += p[a + f] * q[b + f];
      }
      return mu + bu[u] + bi[i] + dot;
    }
  }
}
