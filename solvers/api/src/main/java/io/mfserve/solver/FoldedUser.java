package io.mfserve.solver;

import java.util.Objects;

/**
 * The factors (and bias) of a user solved against a trained model's fixed item factors: what
 * {@link SolverProvider#foldInUser} returns. The prediction for item i is
 * {@code globalMean + bias + itemBias(i) + factors · V[i]}, the bias terms being zero for a
 * model without biases.
 *
 * @param factors k floats; the record owns the array
 * @param bias the user's bias b_u, 0 for a model without biases
 */
public record FoldedUser(float[] factors, float bias) {
  /** Checks the arguments. */
  public FoldedUser {
    Objects.requireNonNull(factors, "factors");
  }
}
