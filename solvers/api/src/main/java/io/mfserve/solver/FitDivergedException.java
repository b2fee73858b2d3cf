package io.mfserve.solver;

/**
 * Thrown out of {@link Solver#fit} when training became numerically unstable (a non-finite or
 * exploding loss or factor). The message says which parameter to change; no model with
 * non-finite numbers is ever returned.
 */
public final class FitDivergedException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception.
   *
   * @param message what diverged, at which iteration, and which parameter to lower or raise
   */
  public FitDivergedException(String message) {
    super(message);
  }
}
