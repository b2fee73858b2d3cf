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

  /**
   * Fits a model to training data the solver reads itself, from where its parameters say
   * (a file or table on a distributed filesystem, say), so that the data never passes through
   * the server. The server calls this instead of {@link #fit} when
   * {@link SolverProvider#readsOwnInput} said so for this fit's parameters; the request then
   * carries no matrix.
   *
   * <p>The same duties as {@link #fit}: report progress, honour cancellation within seconds.
   * Before the solver brings anything large into the server's memory (the factors, the ids) it
   * claims the bytes with {@link FitContext#reserveMemory}. {@link FitContext#validation()} is
   * empty and {@link FitContext#warmStart()} null for such fits.
   *
   * @param context the progress sink, cancellation flag and memory claims
   * @return the model with the ids of its rows and columns
   * @throws FitCancelledException if the context was cancelled
   * @throws InvalidParameterException naming the parameter if the data it names cannot be read
   *     or holds no usable entry
   * @throws UnsupportedOperationException if the solver never reads its own input (the default)
   */
  default SourcedModel fitFromSource(FitContext context) {
    throw new UnsupportedOperationException("this solver trains only on the matrix it is sent");
  }
}
