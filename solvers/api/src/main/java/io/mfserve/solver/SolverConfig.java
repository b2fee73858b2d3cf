package io.mfserve.solver;

import java.util.Objects;

/**
 * Everything a solver is configured with for one fit: the rank, the seed, what absent entries
 * mean, and the resolved parameters.
 *
 * @param numFactors the number of latent factors, at least 1 and at most
 *     min(rows, cols) of the training matrix
 * @param seed the random seed; the same seed, data and thread count give the same model
 * @param absentEntries what an absent entry means; always one the solver declared it supports
 * @param parameters the solver's declared parameters with their values
 */
public record SolverConfig(int numFactors, long seed, AbsentEntries absentEntries,
    Parameters parameters) {
  /** Checks the arguments. */
  public SolverConfig {
    if (numFactors < 1) {
      throw new IllegalArgumentException("numFactors must be at least 1, got " + numFactors);
    }
    Objects.requireNonNull(absentEntries, "absentEntries");
    Objects.requireNonNull(parameters, "parameters");
  }
}
