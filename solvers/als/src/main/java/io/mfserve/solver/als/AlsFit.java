package io.mfserve.solver.als;

import io.mfserve.solver.EarlyStopping;
import io.mfserve.solver.FactorModel;
import io.mfserve.solver.FitContext;
import io.mfserve.solver.FitDivergedException;
import io.mfserve.solver.IterationProgress;
import io.mfserve.solver.ParameterSpec;
import io.mfserve.solver.TrainingMatrix;
import io.mfserve.solver.ValidationSet;
import io.mfserve.solver.WarmStart;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Random;

/**
 * One fit of ALS, start to end: the initial factors, the sweeps (every user row, then every
 * item row, on a {@link BlockRunner}), the loss and validation after each sweep, and early
 * stopping. How one row is solved is the job of {@link ExplicitRows} or {@link ImplicitRows};
 * see {@link AlsSolver} for the objective. Used once, by one thread.
 */
final class AlsFit {
  private final long seed;
  private final FitState state;
  private final TrainingMatrix data;
  private final AlsOptions options;
  private final FitContext context;
  private final int k;
  private final RowSolver rows;
  /** The same object as {@link #rows} for implicit feedback, else null. */
  private final ImplicitRows implicitRows;
  private final BlockRunner runner;
  /** Each block's share of the loss from the last half-sweep of each side. */
  private final double[] userTerms;
  private final double[] itemTerms;
  private final long start = System.nanoTime();

  AlsFit(TrainingMatrix data, FitContext context, int k, long seed, AlsOptions options) {
    this.seed = seed;
    this.data = data;
    this.options = options;
    this.context = context;
    this.k = k;
    state = new FitState(data, options, k);
    implicitRows = state.implicit ? new ImplicitRows(state) : null;
    rows = state.implicit ? implicitRows : new ExplicitRows(state);
    int workers = Math.max(1, Math.min(context.parallelism(),
        Math.max(AlsSolver.blockCount(data.rows()), AlsSolver.blockCount(data.cols()))));
    runner = new BlockRunner(context, workers, k, state.w);
    userTerms = new double[AlsSolver.blockCount(data.rows())];
    itemTerms = new double[AlsSolver.blockCount(data.cols())];
  }

  FactorModel run() {
    initialise();
    WarmStart warm = context.warmStart();
    if (warm != null && warm.knownItems().cardinality() < data.cols()
        && warm.knownUsers().cardinality() >= k) {
      // New items first, against the earlier users (see AlsSolver's class comment).
      if (implicitRows != null) {
        implicitRows.updateGram(true, runner, 0);
      }
      halfSweep(false, 0, warm.knownItems());
    }
    ValidationSet validation = context.validation();
    int rounds = options.earlyStoppingRounds();
    EarlyStopping stopping = rounds > 0 && !validation.isEmpty()
        ? new EarlyStopping(rounds) : null;
    List<IterationProgress> history = new ArrayList<>(Math.min(options.maxIterations(), 1024));
    FactorSnapshot best = null;
    int iterations = options.maxIterations();
    if (implicitRows != null) {
      implicitRows.updateGram(false, runner, 0);
    }
    for (int iter = 1; iter <= iterations; iter++) {
      context.throwIfCancelled(iter - 1);
      double loss = sweep(iter);
      double validationRmse = state.implicit || validation.isEmpty() ? Double.NaN
          : validation.rmse(state::predict);
      IterationProgress progress =
          new IterationProgress(iter, loss, System.nanoTime() - start, validationRmse);
      history.add(progress);
      context.report(progress);
      if (stopping != null) {
        double metric = state.implicit
            ? RankingError.of(validation, state::predict, data.cols(), seed) : validationRmse;
        EarlyStopping.Verdict verdict = stopping.record(iter, metric);
        if (verdict == EarlyStopping.Verdict.IMPROVED) {
          best = FactorSnapshot.take(best, state);
        } else if (verdict == EarlyStopping.Verdict.STOP) {
          break;
        }
      }
    }
    // The caller may have given up during the last sweep; it then wants no model.
    context.throwIfCancelled(history.size());
    if (best != null && stopping.bestIteration() != history.size()) {
      best.restore(state);
      // The model is the best sweep's: its history ends there, as SGD's does (the later
      // sweeps were reported as progress while they ran).
      history = new ArrayList<>(history.subList(0, stopping.bestIteration()));
    }
    FactorModel.Biases b = state.biases
        ? new FactorModel.Biases(state.mu, state.userBias, state.itemBias) : null;
    return new FactorModel(data.rows(), data.cols(), k, state.userFactors, state.itemFactors, b,
        history);
  }

  /**
   * Solves every user row, then every item row, and returns f divided by the number of
   * observed entries.
   *
   * @throws FitDivergedException if the loss is not finite
   */
  private double sweep(int iter) {
    halfSweep(true, iter - 1, null);
    if (implicitRows != null) {
      implicitRows.updateGram(true, runner, iter - 1);
    }
    halfSweep(false, iter - 1, null);
    double allPairs = 0;
    if (implicitRows != null) {
      implicitRows.updateGram(false, runner, iter - 1);
      allPairs = implicitRows.allPairs();
    }
    double loss = (sum(userTerms) + sum(itemTerms) + allPairs) / Math.max(1, data.nnz());
    if (!Double.isFinite(loss)) {
      throw new FitDivergedException("als diverged at iteration " + iter + ": the training"
          + " loss is " + loss + "; raise " + ParameterSpec.REGULARIZATION + " (now "
          + options.lambda() + ") or lower the number of factors");
    }
    return loss;
  }

  /**
   * Draws V from N(0, σ²) with σ² = rms/k (rms of the values, or of the values less their
   * mean with biases; 1 for implicit preferences), so that u·v starts at the data's
   * magnitude: too small a start lets the penalty pull every factor to zero. Then copies a
   * warm start's known rows over the draws (see AlsSolver's class comment).
   */
  private void initialise() {
    double rms = 1;
    if (!state.implicit && data.nnz() > 0) {
      double sumSquares = 0;
      for (int p = 0; p < data.nnz(); p++) {
        double r = data.rowValue(p) - state.mu;
        sumSquares += r * r;
      }
      rms = Math.sqrt(sumSquares / data.nnz());
    }
    double sigma = Math.sqrt((rms > 0 ? rms : 1) / k);
    Random random = new Random(seed);
    float[] itemFactors = state.itemFactors;
    for (int n = 0; n < itemFactors.length; n++) {
      double v = random.nextGaussian() * sigma;
      itemFactors[n] = (float) (options.nonnegative() ? Math.abs(v) : v);
    }
    WarmStart warm = context.warmStart();
    if (warm != null) {
      boolean clamp = options.nonnegative();
      AlsSolver.copyKnown(warm.userFactors(), warm.knownUsers(), state.userFactors, k, clamp);
      AlsSolver.copyKnown(warm.itemFactors(), warm.knownItems(), itemFactors, k, clamp);
      if (state.biases && warm.biases() != null) {
        AlsSolver.copyKnown(warm.biases().user(), warm.knownUsers(), state.userBias, 1, false);
        AlsSolver.copyKnown(warm.biases().item(), warm.knownItems(), state.itemBias, 1, false);
      }
    }
  }

  /**
   * Solves every row of one side in parallel but those whose bit is set in {@code skip} (when
   * not null), writing each block's share of the loss into the side's terms. Throws
   * FitCancelledException if cancelled meanwhile.
   *
   * @param users true to solve U (walking rows), false to solve V (walking columns)
   */
  private void halfSweep(boolean users, int completed, BitSet skip) {
    int n = users ? data.rows() : data.cols();
    runner.run(AlsSolver.blockCount(n), (s, b) -> {
      int from = b * AlsSolver.BLOCK_ROWS;
      int to = Math.min(n, from + AlsSolver.BLOCK_ROWS);
      double blockTerm = 0;
      for (int r = from; r < to; r++) {
        if (skip != null && skip.get(r)) {
          continue;
        }
        blockTerm += rows.solve(users, r, s);
      }
      return blockTerm;
    }, users ? userTerms : itemTerms, completed);
  }

  /** Sums in index order, so that the total does not depend on which thread wrote what. */
  private static double sum(double[] terms) {
    double total = 0;
    for (double t : terms) {
      total += t;
    }
    return total;
  }
}
