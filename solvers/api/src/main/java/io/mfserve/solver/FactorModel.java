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
  /** VᵀV, computed on first use by {@link #itemGram()}; a cache, not state. */
  private volatile double[] itemGram;

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

  /**
   * Copies U[u] into {@code out[0..k)}. Allocates nothing.
   *
   * @throws IndexOutOfBoundsException if {@code u} is not a user or {@code out} is shorter than k
   */
  public void userVector(int u, float[] out) {
    System.arraycopy(userFactors, Math.multiplyExact(u, numFactors), out, 0, numFactors);
  }

  /**
   * Copies V[i] into {@code out[0..k)}. Allocates nothing.
   *
   * @throws IndexOutOfBoundsException if {@code i} is not an item or {@code out} is shorter than k
   */
  public void itemVector(int i, float[] out) {
    System.arraycopy(itemFactors, Math.multiplyExact(i, numFactors), out, 0, numFactors);
  }

  /**
   * Writes {@code query · V[i]} for every item i in [from, to) into {@code out[i - from]}: one
   * block of the matrix-vector product V q, the kernel of top-k scoring. Allocates nothing.
   *
   * <p>Each product is formed exactly as {@link #predict} forms it (float32 products summed in
   * double in factor order), so for {@code query = U[u]} the value plus
   * {@code globalMean() + userBias(u) + itemBias(i)}, added in that order, is
   * {@code predict(u, i)} bit for bit: a top-k list and Predict never disagree on a score. Four
   * rows are walked at once so that four independent sums keep the floating-point units busy
   * (one dependent chain of additions would leave them waiting on latency).
   *
   * @param query k floats
   * @param out at least {@code to - from} doubles
   * @throws IndexOutOfBoundsException if the range is outside the items
   */
  public void dotItems(float[] query, int from, int to, double[] out) {
    Objects.checkFromToIndex(from, to, numItems);
    dotRows(itemFactors, numFactors, query, from, to, out);
  }

  /**
   * Writes {@code query · U[u]} for every user u in [from, to) into {@code out[u - from]}, summed
   * as in {@link #dotItems}. Allocates nothing.
   *
   * @param query k floats
   * @param out at least {@code to - from} doubles
   * @throws IndexOutOfBoundsException if the range is outside the users
   */
  public void dotUsers(float[] query, int from, int to, double[] out) {
    Objects.checkFromToIndex(from, to, numUsers);
    dotRows(userFactors, numFactors, query, from, to, out);
  }

  private static void dotRows(float[] rows, int k, float[] q, int from, int to, double[] out) {
    if (q.length < k || out.length < to - from) {
      throw new IndexOutOfBoundsException("query needs " + k + " floats and out "
          + (to - from) + " doubles");
    }
    int r = from;
    int o = 0;
    for (; r + 3 < to; r += 4, o += 4) {
      int b0 = r * k;
      int b1 = b0 + k;
      int b2 = b1 + k;
      int b3 = b2 + k;
      double s0 = 0;
      double s1 = 0;
      double s2 = 0;
      double s3 = 0;
      for (int f = 0; f < k; f++) {
        float x = q[f];
        s0 += x * rows[b0 + f];
        s1 += x * rows[b1 + f];
        s2 += x * rows[b2 + f];
        s3 += x * rows[b3 + f];
      }
      out[o] = s0;
      out[o + 1] = s1;
      out[o + 2] = s2;
      out[o + 3] = s3;
    }
    for (; r < to; r++, o++) {
      int b = r * k;
      double s = 0;
      for (int f = 0; f < k; f++) {
        s += q[f] * rows[b + f];
      }
      out[o] = s;
    }
  }

  /**
   * Returns VᵀV, the k × k Gram matrix of the item factors (row-major, accumulated in double):
   * what a fold-in needs when every absent entry counts (zeros, implicit feedback). Computed on
   * first use and kept (k² doubles, not counted in {@link #memoryBytes()}); each call returns a
   * fresh copy, so the model stays immutable. Thread-safe: two threads may both compute it once.
   */
  public double[] itemGram() {
    double[] g = itemGram;
    if (g == null) {
      int k = numFactors;
      g = new double[k * k];
      for (int i = 0, b = 0; i < numItems; i++, b += k) {
        for (int x = 0; x < k; x++) {
          double vx = itemFactors[b + x];
          int row = x * k;
          for (int y = 0; y <= x; y++) {
            g[row + y] += vx * itemFactors[b + y];
          }
        }
      }
      for (int x = 0; x < k; x++) {
        for (int y = 0; y < x; y++) {
          g[y * k + x] = g[x * k + y];
        }
      }
      itemGram = g;
    }
    return g.clone();
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
