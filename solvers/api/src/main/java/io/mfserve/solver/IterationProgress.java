package io.mfserve.solver;

/**
 * What a solver reports after each iteration (sweep, epoch).
 *
 * @param iteration the 1-based number of the iteration just completed
 * @param loss the solver's training objective after it (its own definition, stated in its
 *     Javadoc), finite; or NaN from a solver that cannot compute it (an engine that does not
 *     report its objective), which says so in its description
 * @param elapsedNanos time since the fit started
 * @param validationRmse RMSE on the held-out entries after it, or NaN when the fit has no
 *     validation set
 */
public record IterationProgress(int iteration, double loss, long elapsedNanos,
    double validationRmse) {
  /** Returns whether the solver computed its training loss. */
  public boolean hasLoss() {
    return !Double.isNaN(loss);
  }

  /** Returns whether a validation RMSE was computed. */
  public boolean hasValidation() {
    return !Double.isNaN(validationRmse);
  }
}
