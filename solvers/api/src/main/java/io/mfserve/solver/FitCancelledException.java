package io.mfserve.solver;

/**
 * Thrown out of {@link Solver#fit} when {@link FitContext#isCancelled()} became true: the
 * caller gave up or the server is shutting down. Nothing is stored.
 */
public final class FitCancelledException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Creates the exception, saying after which iteration the fit stopped. */
  public FitCancelledException(int completedIterations) {
    super("fit cancelled after " + completedIterations + " completed iteration(s)");
  }
}
