package io.mfserve.solver;

import java.util.BitSet;
import java.util.Objects;

/**
 * Factors a fit starts from instead of its own initialisation: an earlier model's rows for the
 * users and items the new training matrix shares with it, so that a nightly refit on slightly
 * changed data converges in a few iterations. The server builds it from the model a request
 * names in {@code warm_start_model_id}, matching ids; a solver reads it through
 * {@link FitContext#warmStart()}.
 *
 * <p>Rows are in the positions of the <em>new</em> matrix. A row whose bit is clear in
 * {@link #knownUsers()} (or {@link #knownItems()}) belongs to an id the earlier model did not
 * have: its values are zero and the solver initialises it as it would in a cold fit (ALS
 * solves it in its first half-sweep anyway; SGD and NMF draw it from their seeded random
 * start). Biases are present only when the earlier model had them. Immutable by contract: a
 * solver copies what it changes.
 *
 * @param numFactors k, equal to the fit's {@link SolverConfig#numFactors()}
 * @param userFactors rows × k, row-major, in the new matrix's row order
 * @param knownUsers which rows came from the earlier model
 * @param itemFactors cols × k, row-major, in the new matrix's column order
 * @param knownItems which columns came from the earlier model
 * @param biases the earlier model's global mean and the matched rows' biases (0 for new
 *     rows), or null when it had none
 */
public record WarmStart(int numFactors, float[] userFactors, BitSet knownUsers,
    float[] itemFactors, BitSet knownItems, FactorModel.Biases biases) {
  /** Checks the arguments. */
  public WarmStart {
    if (numFactors < 1) {
      throw new IllegalArgumentException("numFactors must be at least 1, got " + numFactors);
    }
    Objects.requireNonNull(userFactors, "userFactors");
    Objects.requireNonNull(itemFactors, "itemFactors");
    Objects.requireNonNull(knownUsers, "knownUsers");
    Objects.requireNonNull(knownItems, "knownItems");
    if (userFactors.length % numFactors != 0 || itemFactors.length % numFactors != 0) {
      throw new IllegalArgumentException("factor arrays are not a multiple of k = " + numFactors);
    }
  }

  /**
   * Checks that this warm start fits a fit of {@code rows} × {@code cols} at rank
   * {@code numFactors}: the same k, one factor row per row and column, no known bit beyond
   * them, and bias arrays (when present) of the same lengths. Every solver calls it before it
   * allocates anything, so a mismatch fails the fit instead of starting a wrong one.
   *
   * @throws IllegalArgumentException naming what differs
   */
  public void requireShape(int rows, int cols, int numFactors) {
    if (this.numFactors != numFactors) {
      throw new IllegalArgumentException("the warm start has " + this.numFactors
          + " factors but the fit has num_factors = " + numFactors
          + "; warm-start from a model of the same rank, or fit cold");
    }
    if (rows() != rows || cols() != cols) {
      throw new IllegalArgumentException("the warm start is " + rows() + " × " + cols()
          + " but the training matrix is " + rows + " × " + cols);
    }
    if (knownUsers.length() > rows || knownItems.length() > cols) {
      throw new IllegalArgumentException("the warm start marks a row or column beyond the"
          + " training matrix's " + rows + " × " + cols + " as known");
    }
    if (biases != null && (biases.user().length != rows || biases.item().length != cols)) {
      throw new IllegalArgumentException("the warm start's biases are for "
          + biases.user().length + " × " + biases.item().length + ", not " + rows + " × "
          + cols);
    }
  }

  /** Returns the number of rows (users) of the new matrix. */
  public int rows() {
    return userFactors.length / numFactors;
  }

  /** Returns the number of columns (items) of the new matrix. */
  public int cols() {
    return itemFactors.length / numFactors;
  }
}
