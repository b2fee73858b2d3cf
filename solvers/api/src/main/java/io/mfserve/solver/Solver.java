package io.mfserve.solver;

/**
 * Trains one model. Created by {@link SolverProvider#create(SolverConfig)} for a single fit and
 * used by one thread (it may fan work out to {@link FitContext#pool()}).
 */
public interface Solver {
  /**
   * Fits a model to {@code data}.
   *
   * <p>Reports each completed iteration through {@link FitContext#report(IterationProgress)},
   * checks {@link FitContext#isCancelled()} at least once per iteration, and never modifies
   * {@code data}.
   *
   * @param data the training matrix; its absent entries mean what
   *     {@link TrainingMatrix#absentEntries()} says
   * @param context the pool, validation set, progress sink and cancellation flag
   * @return the trained model, which owns its arrays
   * @throws FitCancelledException if the context was cancelled
   * @throws FitDivergedException if training became numerically unstable
   */
  FactorModel fit(TrainingMatrix data, FitContext context);
}
