package io.mfserve.client.eval;

import java.util.Arrays;

/**
 * The two models with no factors that every evaluation reports beside the model, fitted on
 * the client from a fold's training part, so that a report always shows whether the factors
 * learned anything beyond averages and counts.
 *
 * <p><b>Bias baseline</b> (explicit ratings): r̂ = μ + b_u + b_i, Surprise's {@code
 * BaselineOnly} with its default alternating least squares (Koren, "Factor in the
 * Neighbors", TKDD 2010, section 2.1): {@value #EPOCHS} epochs, each setting every item's
 * bias to Σ_u (r − μ − b_u) / (λ_i + n_i) with λ_i = {@value #ITEM_REG}, then every user's
 * to Σ_i (r − μ − b_i) / (λ_u + n_u) with λ_u = {@value #USER_REG}. A user or item absent
 * from the training part contributes no bias (μ alone for a pair with neither), as Surprise
 * predicts.
 *
 * <p><b>Popularity</b> (ranking metrics): every user gets the items with the most training
 * entries (with a relevance threshold, the most training entries at or above it), ties to the
 * lower item index, leaving out the user's own training items, as the model's
 * recommendations do.
 *
 * <p>Stateless; thread-safe.
 */
public final class Baselines {
  /** Surprise BaselineOnly's default number of ALS epochs. */
  public static final int EPOCHS = 10;
  /** Surprise BaselineOnly's default λ on the item biases. */
  public static final double ITEM_REG = 10;
  /** Surprise BaselineOnly's default λ on the user biases. */
  public static final double USER_REG = 15;

  private Baselines() {}

  /**
   * Fits the bias baseline on some entries.
   *
   * @param data the entries
   * @param train the positions of the training entries
   * @return the fitted biases
   */
  public static BiasModel fitBiases(Interactions data, int[] train) {
    int users = data.numUsers();
    int items = data.numItems();
    int[] userCount = new int[users];
    int[] itemCount = new int[items];
    double sum = 0;
    for (int e : train) {
      userCount[data.user(e)]++;
      itemCount[data.item(e)]++;
      sum += data.value(e);
    }
    double mu = train.length == 0 ? 0 : sum / train.length;
    double[] bu = new double[users];
    double[] bi = new double[items];
    double[] dev = new double[Math.max(users, items)];
    for (int epoch = 0; epoch < EPOCHS; epoch++) {
      Arrays.fill(dev, 0, items, 0);
      for (int e : train) {
        dev[data.item(e)] += data.value(e) - mu - bu[data.user(e)];
      }
      for (int i = 0; i < items; i++) {
        bi[i] = itemCount[i] == 0 ? 0 : dev[i] / (ITEM_REG + itemCount[i]);
      }
      Arrays.fill(dev, 0, users, 0);
      for (int e : train) {
        dev[data.user(e)] += data.value(e) - mu - bi[data.item(e)];
      }
      for (int u = 0; u < users; u++) {
        bu[u] = userCount[u] == 0 ? 0 : dev[u] / (USER_REG + userCount[u]);
      }
    }
    return new BiasModel(mu, bu, bi);
  }

  /**
   * Orders the items by their training entries, most first, ties to the lower index.
   *
   * @param data the entries
   * @param train the positions of the training entries
   * @param threshold count only entries at or above this value; null counts every entry
   * @return every item index, most popular first
   */
  public static int[] popularity(Interactions data, int[] train, Float threshold) {
    int items = data.numItems();
    long[] keyed = new long[items];
    int[] count = new int[items];
    for (int e : train) {
      if (threshold == null || data.value(e) >= threshold) {
        count[data.item(e)]++;
      }
    }
    // Sort by (−count, index) in one long: the count in the high bits, the index below.
    for (int i = 0; i < items; i++) {
      keyed[i] = ((long) (Integer.MAX_VALUE - count[i]) << 32) | i;
    }
    Arrays.sort(keyed);
    int[] order = new int[items];
    for (int i = 0; i < items; i++) {
      order[i] = (int) keyed[i];
    }
    return order;
  }

  /**
   * The first {@code k} items of {@code order} that are not among a user's training items.
   *
   * @param order items, best first
   * @param seen the user's training items, sorted ascending
   * @param k how many
   * @return at most {@code k} items, best first
   */
  public static int[] topUnseen(int[] order, int[] seen, int k) {
    int[] out = new int[Math.min(k, order.length)];
    int n = 0;
    for (int i = 0; i < order.length && n < out.length; i++) {
      if (Arrays.binarySearch(seen, order[i]) < 0) {
        out[n++] = order[i];
      }
    }
    return n == out.length ? out : Arrays.copyOf(out, n);
  }

  /**
   * A fitted bias baseline, μ + b_u + b_i over the data's user and item indices.
   *
   * @param mean μ, the training mean
   * @param userBias b_u per user index (0 for users without training entries)
   * @param itemBias b_i per item index (0 for items without training entries)
   */
  public record BiasModel(double mean, double[] userBias, double[] itemBias) {
    /**
     * The prediction for a pair.
     *
     * @param user a user index of the data
     * @param item an item index of the data
     * @return μ + b_u + b_i
     */
    public double predict(int user, int item) {
      return mean + userBias[user] + itemBias[item];
    }
  }
}
