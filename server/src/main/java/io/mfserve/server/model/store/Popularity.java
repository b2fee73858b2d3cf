package io.mfserve.server.model.store;

import io.mfserve.solver.TrainingMatrix;
import java.util.Arrays;

/**
 * How popular each item was in a model's training data, computed once when the model is made
 * and stored with it (the snapshot's POPULARITY section): the answer to a Recommend for a user
 * the model has never seen who brings no history.
 *
 * <ul>
 *   <li>By count: the number of training entries of the item (ratings, clicks, documents).
 *   <li>By mean with shrinkage: {@code (sum + m μ) / (count + m)}, the item's mean value pulled
 *       towards the global mean μ by {@value #PRIOR_ENTRIES} virtual entries (a Bayesian
 *       average, as IMDb's top list uses), so that an item with one 5-star rating does not top
 *       the list. Needs the entries' values: a model made from plain factors (ImportFactors) or
 *       read from a version-1 snapshot has counts only.
 * </ul>
 *
 * <p>Both orders are sorted once, on first use. Immutable after that (the orders are published
 * through a volatile field); thread-safe.
 */
public final class Popularity {
  /** The virtual entries of the shrunk mean's prior. */
  public static final int PRIOR_ENTRIES = 10;

  private final int[] counts;
  /** Per item, the sum of its entries' values; null when the values are not known. */
  private final double[] sums;
  private final double globalMean;
  private volatile int[] byCount;
  private volatile int[] byMean;

  private Popularity(int[] counts, double[] sums, double globalMean) {
    this.counts = counts;
    this.sums = sums;
    this.globalMean = globalMean;
  }

  /** Returns the bytes a popularity table of {@code items} items takes (orders included). */
  public static long estimateBytes(long items, boolean sums) {
    return items * (3L * Integer.BYTES + (sums ? Double.BYTES : 0)) + 4 * 16;
  }

  /** Counts and sums the columns of {@code m}. */
  public static Popularity of(TrainingMatrix m) {
    int[] counts = new int[m.cols()];
    double[] sums = new double[m.cols()];
    for (int c = 0; c < m.cols(); c++) {
      counts[c] = m.colLength(c);
      double s = 0;
      for (int q = m.colStart(c); q < m.colEnd(c); q++) {
        s += m.colValue(q);
      }
      sums[c] = s;
    }
    return new Popularity(counts, sums, m.mean());
  }

  /** Counts the items of a seen-items index (values unknown). */
  public static Popularity of(SeenItems seen, int items) {
    int[] counts = new int[items];
    int[] chunk = new int[1 << 16];
    for (long from = 0; from < seen.entries(); from += chunk.length) {
      int n = (int) Math.min(chunk.length, seen.entries() - from);
      int[] part = n == chunk.length ? chunk : new int[n];
      seen.copyEntries((int) from, part);
      for (int i : part) {
        counts[i]++;
      }
    }
    return new Popularity(counts, null, 0);
  }

  /**
   * Wraps counts and sums read back from a snapshot, after checking them.
   *
   * @param sums null when the values are not known
   * @throws IllegalArgumentException for a negative count or a non-finite sum
   */
  public static Popularity of(int[] counts, double[] sums, double globalMean) {
    for (int i = 0; i < counts.length; i++) {
      if (counts[i] < 0) {
        throw new IllegalArgumentException("popularity: item " + i + " has a negative count");
      }
      if (sums != null && !Double.isFinite(sums[i])) {
        throw new IllegalArgumentException("popularity: item " + i + "'s sum is not finite");
      }
    }
    if (sums != null && sums.length != counts.length) {
      throw new IllegalArgumentException("popularity: " + counts.length + " counts but "
          + sums.length + " sums");
    }
    return new Popularity(counts, sums, globalMean);
  }

  /** Returns the number of items. */
  public int items() {
    return counts.length;
  }

  /** Returns item i's training entries. */
  public int count(int i) {
    return counts[i];
  }

  /** Returns the sum of item i's values; only when {@link #hasMeans()}. */
  public double sum(int i) {
    return sums[i];
  }

  /** Whether the values are known, so that the shrunk mean can be ranked by. */
  public boolean hasMeans() {
    return sums != null;
  }

  /** Returns the mean the shrunk means are pulled towards. */
  public double globalMean() {
    return globalMean;
  }

  /** Returns item i's count, as the score a count fallback reports. */
  public float countScore(int i) {
    return counts[i];
  }

  /** Returns item i's shrunk mean. */
  public float meanScore(int i) {
    return (float) ((sums[i] + PRIOR_ENTRIES * globalMean) / (counts[i] + PRIOR_ENTRIES));
  }

  /** Returns every item, most entries first (ties to the lower position); do not modify. */
  public int[] byCount() {
    int[] o = byCount;
    if (o == null) {
      o = order(false);
      byCount = o;
    }
    return o;
  }

  /** Returns every item, largest shrunk mean first; do not modify. Needs the values. */
  public int[] byMean() {
    int[] o = byMean;
    if (o == null) {
      o = order(true);
      byMean = o;
    }
    return o;
  }

  /**
   * Sorts the positions best first on primitive keys: the score's float bits, flipped so that
   * signed order is descending score, above the position, so ties go to the lower one.
   */
  private int[] order(boolean mean) {
    int n = counts.length;
    long[] keys = new long[n];
    for (int i = 0; i < n; i++) {
      float s = mean ? meanScore(i) : countScore(i);
      int bits = Float.floatToIntBits(-s);
      bits ^= (bits >> 31) & 0x7fffffff;
      keys[i] = ((long) bits << 32) | i;
    }
    Arrays.sort(keys);
    int[] out = new int[n];
    for (int j = 0; j < n; j++) {
      out[j] = (int) keys[j];
    }
    return out;
  }

  /** Copies the counts. */
  public int[] counts() {
    return counts.clone();
  }

  /** Returns the bytes held. */
  public long memoryBytes() {
    return estimateBytes(counts.length, sums != null);
  }
}
