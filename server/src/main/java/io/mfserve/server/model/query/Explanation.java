package io.mfserve.server.model.query;

import io.mfserve.server.model.ids.IdIndex;

/**
 * Why a known user's score of an item is what it is: the entries of the user's history that
 * contributed most, largest contribution first (ties to the lower item position).
 *
 * @param items the ids the positions name
 * @param score the model's predicted score of the item for the user (as Predict answers)
 * @param method how the contributions were computed
 * @param base for {@link Method#LEAST_SQUARES}, what the score holds besides the entries'
 *     shares (global mean plus the item's bias, or 0); NaN for {@link Method#SIMILARITY}
 * @param explainedScore for {@link Method#LEAST_SQUARES}, base plus the shares of every entry
 *     (not only those returned): the score of the user's factors solved again from the
 *     history, which is {@code score} up to how far training was from converged; NaN otherwise
 * @param positions the history's items, in this order
 * @param values the user's value of each
 * @param contributions each entry's share of the score, or its item's factor cosine with the
 *     explained item
 * @param entries the number of entries in the user's history, all of which were weighed
 */
public record Explanation(IdIndex items, float score, Method method, double base,
    double explainedScore, int[] positions, float[] values, double[] contributions,
    int entries) {

  /** How an explanation's contributions were computed. */
  public enum Method {
    /**
     * The solver's fold-in is a regularised least-squares solve, linear in the entries'
     * targets: each entry's exact share of the score (ALS, as Oryx's /because).
     */
    LEAST_SQUARES("least_squares"),
    /** The cosine between each history item's factors and the explained item's (other solvers). */
    SIMILARITY("similarity");

    private final String label;

    Method(String label) {
      this.label = label;
    }

    /** Returns the name responses report the method by. */
    public String label() {
      return label;
    }
  }
}
