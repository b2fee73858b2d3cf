package io.mfserve.solver;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * A trained low-rank model: user factors U (users × k), item factors V (items × k), optional
 * biases, and the training history. The prediction for (u, i) is
 * {@code mu + b_u + b_i + U[u]·V[i]}, the bias terms being zero for a model without biases.
 *
 * <p>Factors are float32, row-major, one contiguous array per side. The constructor takes
 * ownership of the arrays without copying them (a model may be gigabytes): the solver must not
 * touch them afterwards. After that nothing changes, so any number of threads may read a model
 * without locks. The constructor rejects non-finite numbers, so no model that diverged can
 * exist.
 */
public final class FactorModel {
  private final int numUsers;
  private final int numItems;
  private final int numFactors;
  private final float[] userFactors;
  private final float[] itemFactors;
  private final Biases biases;
  private final List<IterationProgress> history;

  /**
   * Global mean and per-user and per-item offsets of a biased model.
   *
   * @param globalMean mu
   * @param user b_u, one per user
   * @param item b_i, one per item
   */
  public record Biases(double globalMean, float[] user, float[] item) {
    /** Checks the arguments. */
    public Biases {
      Objects.requireNonNull(user, "user");
      Objects.requireNonNull(item, "item");
    }
  }

  /**
   * Creates a model, taking ownership of the arrays.
   *
   * @param numUsers users (rows)
   * @param numItems items (columns)
   * @param numFactors k, at least 1
   * @param userFactors numUsers × k, row-major
   * @param itemFactors numItems × k, row-major
   * @param biases the biases, or null for a model without them
   * @param history one entry per completed iteration, in order
   * @throws FitDivergedException if any number is not finite
   * @throws IllegalArgumentException if an array's length does not match the shape
   */
  public FactorModel(int numUsers, int numItems, int numFactors, float[] userFactors,
      float[] itemFactors, Biases biases, List<IterationProgress> history) {
    if (numFactors < 1 || numUsers < 0 || numItems < 0) {
      throw new IllegalArgumentException("bad shape " + numUsers + " × " + numItems + " × "
          + numFactors);
    }
    if (userFactors.length != (long) numUsers * numFactors
        || itemFactors.length != (long) numItems * numFactors) {
      throw new IllegalArgumentException("factor arrays do not match " + numUsers + " users, "
          + numItems + " items, " + numFactors + " factors");
    }
    if (biases != null && (biases.user().length != numUsers || biases.item().length != numItems)) {
      throw new IllegalArgumentException("bias arrays do not match the shape");
    }
    this.numUsers = numUsers;
    this.numItems = numItems;
    this.numFactors = numFactors;
    this.userFactors = userFactors;
    this.itemFactors = itemFactors;
    this.biases = biases;
    this.history = List.copyOf(history);
    requireFinite();
  }

  private void requireFinite() {
    if (!allFinite(userFactors) || !allFinite(itemFactors)
        || (biases != null && (!Double.isFinite(biases.globalMean()) || !allFinite(biases.user())
            || !allFinite(biases.item())))) {
      throw new FitDivergedException("training diverged: the factors hold non-finite numbers"
          + " after " + history.size() + " iteration(s); lower learning_rate or raise"
          + " regularization");
    }
  }

  private static boolean allFinite(float[] a) {
    for (float v : a) {
      if (!Float.isFinite(v)) {
        return false;
      }
    }
    return true;
  }

  /**
   * Returns the bytes a model of this shape occupies, so a caller can check a memory budget
   * before training one.
   */
  public static long estimateBytes(long numUsers, long numItems, int numFactors,
      boolean withBiases) {
    return (numUsers + numItems) * (long) numFactors * Float.BYTES
        + (withBiases ? (numUsers + numItems) * Float.BYTES : 0);
  }

  /** Returns the number of users (rows). */
  public int numUsers() {
    return numUsers;
  }

  /** Returns the number of items (columns). */
  public int numItems() {
    return numItems;
  }

  /** Returns k, the number of latent factors. */
  public int numFactors() {
    return numFactors;
  }

  /** Returns whether the model has a global mean and user and item biases. */
  public boolean hasBiases() {
    return biases != null;
  }

  /** Returns mu, or 0 for a model without biases. */
  public double globalMean() {
    return biases == null ? 0 : biases.globalMean();
  }

  /** Returns b_u, or 0 for a model without biases. */
  public float userBias(int u) {
    return biases == null ? 0f : biases.user()[u];
  }

  /** Returns b_i, or 0 for a model without biases. */
  public float itemBias(int i) {
    return biases == null ? 0f : biases.item()[i];
  }

  /** Returns U[u][f]. */
  public float userFactor(int u, int f) {
    return userFactors[u * numFactors + f];
  }

  /** Returns V[i][f]. */
  public float itemFactor(int i, int f) {
    return itemFactors[i * numFactors + f];
  }

  /** Returns the predicted value of (u, i). */
  public double predict(int u, int i) {
    int ub = u * numFactors;
    int ib = i * numFactors;
    double dot = 0;
    for (int f = 0; f < numFactors; f++) {
      dot += userFactors[ub + f] * itemFactors[ib + f];
    }
    return biases == null ? dot : biases.globalMean() + biases.user()[u] + biases.item()[i] + dot;
  }

  /**
   * Writes the predicted value of (u, i) for every item i into {@code out}, which must hold at
   * least {@link #numItems()} floats. Allocates nothing.
   */
  public void scoreAllItems(int u, float[] out) {
    int k = numFactors;
    int ub = u * k;
    double offset = biases == null ? 0 : biases.globalMean() + biases.user()[u];
    for (int i = 0, ib = 0; i < numItems; i++, ib += k) {
      float dot = 0;
      for (int f = 0; f < k; f++) {
        dot += userFactors[ub + f] * itemFactors[ib + f];
      }
      out[i] = (float) (offset + dot + (biases == null ? 0 : biases.item()[i]));
    }
  }

  /** Returns a copy of rows [from, to) of U, row-major. */
  public float[] copyUserFactors(int from, int to) {
    return Arrays.copyOfRange(userFactors, from * numFactors, to * numFactors);
  }

  /** Returns a copy of rows [from, to) of V, row-major. */
  public float[] copyItemFactors(int from, int to) {
    return Arrays.copyOfRange(itemFactors, from * numFactors, to * numFactors);
  }

  /** Returns the training history, one entry per completed iteration. */
  public List<IterationProgress> history() {
    return history;
  }

  /** Returns the number of completed iterations. */
  public int iterations() {
    return history.size();
  }

  /**
   * Returns the root mean squared error over the stored entries of {@code data} (for a dense
   * matrix, every entry). Accumulates in double.
   */
  public double rmse(TrainingMatrix data) {
    if (data.nnz() == 0) {
      return 0;
    }
    double sum = 0;
    for (int r = 0; r < data.rows(); r++) {
      for (int p = data.rowStart(r); p < data.rowEnd(r); p++) {
        double e = data.rowValue(p) - predict(r, data.rowColumn(p));
        sum += e * e;
      }
    }
    return Math.sqrt(sum / data.nnz());
  }

  /** Returns the bytes this model occupies. */
  public long memoryBytes() {
    return estimateBytes(numUsers, numItems, numFactors, biases != null);
  }
}
