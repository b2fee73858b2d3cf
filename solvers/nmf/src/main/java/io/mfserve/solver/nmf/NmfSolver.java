package io.mfserve.solver.nmf;

import io.mfserve.solver.AbsentEntries;
import io.mfserve.solver.FactorModel;
import io.mfserve.solver.FitContext;
import io.mfserve.solver.FitDivergedException;
import io.mfserve.solver.InvalidParameterException;
import io.mfserve.solver.IterationProgress;
import io.mfserve.solver.ParameterSpec;
import io.mfserve.solver.Solver;
import io.mfserve.solver.SolverConfig;
import io.mfserve.solver.TrainingMatrix;
import io.mfserve.solver.ValidationSet;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Random;

/**
 * Non-negative matrix factorisation: fits {@code X ≈ W Hᵀ} with W (rows × k) ≥ 0 and
 * H (cols × k) ≥ 0, returned as the model's user and item factors, so that
 * {@code predict(u, i) = W[u] · H[i]}.
 *
 * <h2>Objective</h2>
 * When every entry counts (a dense matrix, or absent entries meaning zero) the loss is
 * <pre>  ½ ‖X − W Hᵀ‖²_F + ½ λ (‖W‖²_F + ‖H‖²_F),</pre>
 * computed from the stored entries as {@code ½(‖X‖² − 2 tr(Wᵀ X H) + tr((WᵀW)(HᵀH)))} plus the
 * penalty, so a sparse matrix is never densified. When absent entries are unknown (ratings on a
 * sparse matrix) it is weighted NMF: the first term sums over the observed entries only. λ is
 * the {@code regularization} parameter. The reported loss is this objective after each sweep.
 *
 * <h2>Updates</h2>
 * Each iteration updates all of W with H fixed, then all of H with W fixed.
 * <ul>
 *   <li>{@code method=hals} (default): hierarchical alternating least squares, A. Cichocki and
 *       A.-H. Phan, "Fast local algorithms for large scale nonnegative matrix and tensor
 *       factorizations", IEICE Trans. Fundamentals E92-A(3), 2009. Column t of W becomes
 *       {@code max(0, W_t + ((X H)_t − W (HᵀH)_t − λ W_t) / ((HᵀH)_tt + λ))}, the columns in turn,
 *       and likewise for H with Xᵀ W and WᵀW. With unknown absent entries the same coordinate
 *       step uses each row's own Gram matrix over its observed entries (a weighted HALS; see
 *       {@code WeightedUpdater}); it is implemented, not a fallback to MU.
 *   <li>{@code method=mu}: multiplicative updates, D. D. Lee and H. S. Seung, "Algorithms for
 *       non-negative matrix factorization", NIPS 13, 2001:
 *       {@code W ← W ∘ (X H) / (W HᵀH + λ W + ε)}, {@code H ← H ∘ (Xᵀ W) / (H WᵀW + λ H + ε)},
 *       with X H and the denominator restricted to observed entries in the weighted case.
 * </ul>
 * Both never increase the objective (up to float rounding), and both keep every factor
 * non-negative: HALS clamps at 0, MU multiplies by non-negative ratios.
 *
 * <h2>Start, stop, failure</h2>
 * W and H start seeded at {@code sqrt(mean(X)/k) · |N(0,1)|} (scikit-learn's {@code 'random'}
 * init), the mean taken over every entry when absent ones are zeros and over the observed ones
 * when they are unknown. The fit stops after {@code max_iterations} sweeps, or earlier once
 * {@code |L_prev − L| ≤ tolerance · max(L_prev, L)}. A matrix holding a negative value is refused
 * with an {@link InvalidParameterException} on {@code "matrix"} before anything is allocated (the
 * SPI has no separate data check). A non-finite loss throws {@link FitDivergedException}.
 *
 * <h2>Threads and determinism</h2>
 * Used by one thread; rows and columns are updated in fixed blocks on
 * {@link FitContext#pool()} and partial sums combined in block order, so the same seed and data
 * give the same model on any number of threads.
 */
public final class NmfSolver implements Solver {
  private final SolverConfig config;
  private final Method method;
  private final int maxIterations;
  private final double regularization;
  private final double tolerance;

  /**
   * Creates a solver for one fit.
   *
   * @param config the rank, seed and parameters, already resolved against
   *     {@link NmfSolverProvider#parameters()}
   */
  public NmfSolver(SolverConfig config) {
    this.config = Objects.requireNonNull(config, "config");
    this.method = Method.of(config.parameters().getChoice(NmfSolverProvider.METHOD));
    this.maxIterations = config.parameters().getInt(ParameterSpec.MAX_ITERATIONS);
    this.regularization = config.parameters().getDouble(ParameterSpec.REGULARIZATION);
    this.tolerance = config.parameters().getDouble(NmfSolverProvider.TOLERANCE);
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
    requireNonNegative(data);
    AbsentEntries absent = data.absentEntries();
    boolean weighted = !data.isDense() && absent == AbsentEntries.UNKNOWN;
    if (!data.isDense() && absent == AbsentEntries.IMPLICIT) {
      throw new InvalidParameterException("absent_entries", "nmf does not support absent entries"
          + " meaning IMPLICIT; use ZERO (counts) or UNKNOWN (ratings)");
    }
    int rows = data.rows();
    int cols = data.cols();
    int k = config.numFactors();
    if ((long) Math.max(rows, cols) * k > Integer.MAX_VALUE - 8) {
      // One contiguous float array per side is the model's layout; it cannot be longer.
      throw new InvalidParameterException("num_factors", "num_factors " + k + " times "
          + Math.max(rows, cols) + " rows exceeds the largest factor array, 2^31 - 9 floats");
    }

    // Scale the start so W Hᵀ has about the data's mean: E|N(0,1)|² = 1, so each of the k
    // terms of w·h averages mean/k.
    double mean = weighted ? data.mean() : data.mean() * data.nnz() / ((double) rows * cols);
    double scale = Math.sqrt(Math.max(0, mean) / k);
    Random rnd = new Random(config.seed());
    float[] w = new float[rows * k];
    float[] h = new float[cols * k];
    for (int n = 0; n < w.length; n++) {
      w[n] = (float) (scale * Math.abs(rnd.nextGaussian()));
    }
    for (int n = 0; n < h.length; n++) {
      h[n] = (float) (scale * Math.abs(rnd.nextGaussian()));
    }

    Updater updater = weighted
        ? new WeightedUpdater(data, k, regularization, method, w, h, context.pool())
        : new FullUpdater(data, k, regularization, method, w, h, context.pool());
    ValidationSet validation = context.validation();
    List<IterationProgress> history = new ArrayList<>();
    double previous = Double.NaN;
    for (int iter = 1; iter <= maxIterations; iter++) {
      context.throwIfCancelled(iter - 1);
      updater.updateW();
      // A sweep of a large matrix takes a while; give a cancel a second chance to land.
      context.throwIfCancelled(iter - 1);
      double loss = updater.updateH();
      if (!Double.isFinite(loss)) {
        throw new FitDivergedException("nmf (method=" + method.parameterValue()
            + ") diverged at iteration " + iter + ": the loss is " + loss
            + "; raise regularization or try the other method");
      }
      double rmse = validation.isEmpty() ? Double.NaN
          : validation.rmse((r, c) -> predict(w, h, k, r, c));
      IterationProgress progress =
          new IterationProgress(iter, loss, System.nanoTime() - started, rmse);
      history.add(progress);
      context.report(progress);
      if (tolerance > 0 && iter > 1
          && Math.abs(previous - loss) <= tolerance * Math.max(previous, loss)) {
        break;
      }
      previous = loss;
    }
    return new FactorModel(rows, cols, k, w, h, null, history);
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
