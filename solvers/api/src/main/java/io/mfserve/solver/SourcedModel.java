package io.mfserve.solver;

import java.util.Objects;

/**
 * What a fit returns when the solver read its training data itself
 * ({@link Solver#fitFromSource}): the trained factors, the ids of their rows and columns, and
 * what the server would otherwise have learnt from the matrix it was sent.
 *
 * <p>{@code seenRowPtr} and {@code seenCols} are the training entries' row structure without
 * values, in the model's positions (user u's items are {@code seenCols[seenRowPtr[u] ..
 * seenRowPtr[u + 1])}, strictly ascending): the server excludes them from a user's
 * recommendations, as it does for a model trained from a sent matrix. Both are null when the
 * solver was asked not to collect them (a matrix too large to hold even its structure); then
 * nothing is excluded. The server takes ownership of every array.
 *
 * @param model the trained factors; its rows are {@code users}' positions, its columns
 *     {@code items}'
 * @param users the id of each row, {@code users.size() == model.numUsers()}
 * @param items the id of each column, {@code items.size() == model.numItems()}
 * @param entries the number of training entries the solver read
 * @param mean the mean of their values
 * @param trainingRmse the model's RMSE on them, or NaN when the solver did not compute it
 * @param seenRowPtr numUsers + 1 offsets into {@code seenCols}, or null
 * @param seenCols the items of every user's training entries, or null
 * @param source where the data came from (a URI), shown with the model's provenance
 */
public record SourcedModel(FactorModel model, ExternalIds users, ExternalIds items,
    long entries, double mean, double trainingRmse, int[] seenRowPtr, int[] seenCols,
    String source) {
  /** Checks that the parts agree. */
  public SourcedModel {
    Objects.requireNonNull(model, "model");
    Objects.requireNonNull(users, "users");
    Objects.requireNonNull(items, "items");
    Objects.requireNonNull(source, "source");
    if (users.size() != model.numUsers() || items.size() != model.numItems()) {
      throw new IllegalArgumentException("ids do not match the model: " + users.size()
          + " user ids for " + model.numUsers() + " users, " + items.size()
          + " item ids for " + model.numItems() + " items");
    }
    if ((seenRowPtr == null) != (seenCols == null)) {
      throw new IllegalArgumentException("seenRowPtr and seenCols come together or not at all");
    }
    if (seenRowPtr != null && seenRowPtr.length != model.numUsers() + 1) {
      throw new IllegalArgumentException("seenRowPtr has " + seenRowPtr.length
          + " offsets for " + model.numUsers() + " users");
    }
  }

  /** Returns whether the training entries' structure came back. */
  public boolean hasSeen() {
    return seenRowPtr != null;
  }
}
