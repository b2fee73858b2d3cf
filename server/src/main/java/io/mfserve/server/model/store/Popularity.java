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
 * <p>8 bytes per item (a count and a float mean). The best {@value #KEPT} of each order are
 * sorted once, on first use, and kept; a request that pages or filters past them ranks every
 * item. Thread-safe: immutable but for those two lists, published through volatile fields.
 */
public final class Popularity {
  /** The virtual entries of the shrunk mean's prior. */
  public static final int PRIOR_ENTRIES = 10;
  /** The length of each kept best-first list. */
  public static final int KEPT = 1024;

  private final int[] counts;
  /** Per item, the mean of its entries' values (0 without entries); null when unknown. */
  private final float[] means;
  private final double globalMean;
  private volatile int[] topByCount;
  private volatile int[] topByMean;

  private Popularity(int[] counts, float[] means, double globalMean) {
    this.counts = counts;
    this.means = means;
    this.globalMean = globalMean;
  }

  /** Returns the bytes a popularity table of {@code items} items takes (kept lists included). */
  public static long estimateBytes(long items, boolean means) {
    return items * (Integer.BYTES + (means ? Float.BYTES : 0)) + 2L * KEPT * Integer.BYTES
        + 4 * 16;
  }

  /** Counts and averages the columns of {@code m}. */
  public static Popularity of(TrainingMatrix m) {
    int[] counts = new int[m.cols()];
    float[] means = new float[m.cols()];
    for (int c = 0; c < m.cols(); c++) {
      counts[c] = m.colLength(c);
      double s = 0;
      for (int q = m.colStart(c); q < m.colEnd(c); q++) {
        s += m.colValue(q);
      }
      means[c] = counts[c] == 0 ? 0f : (float) (s / counts[c]);
    }
    return new Popularity(counts, means, m.mean());
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
   * Wraps counts and means read back from a snapshot, after checking them.
   *
   * @param means null when the values are not known
   * @throws IllegalArgumentException for a negative count or a non-finite mean
   */
  public static Popularity of(int[] counts, float[] means, double globalMean) {
    if (means != null && means.length != counts.length) {
      throw new IllegalArgumentException("popularity: " + counts.length + " counts but "
          + means.length + " means");
    }
    if (!Double.isFinite(globalMean)) {
      throw new IllegalArgumentException("popularity: the global mean is not finite");
    }
    for (int i = 0; i < counts.length; i++) {
      if (counts[i] < 0) {
        throw new IllegalArgumentException("popularity: item " + i + " has a negative count");
      }
      if (means != null && !Float.isFinite(means[i])) {
        throw new IllegalArgumentException("popularity: item " + i + "'s mean is not finite");
      }
    }
    return new Popularity(counts, means, globalMean);
  }

  /** Returns the number of items. */
  public int items() {
    return counts.length;
  }

  /** Returns item i's training entries. */
  public int count(int i) {
    return counts[i];
  }

  /** Returns the mean of item i's values; only when {@link #hasMeans()}. */
  public float mean(int i) {
    return means[i];
  }

  /** Whether the values are known, so that the shrunk mean can be ranked by. */
  public boolean hasMeans() {
    return means != null;
  }

  /** Returns the mean the shrunk means are pulled towards. */
  public double globalMean() {
    return globalMean;
  }

  /** Returns item i's score by count: the count itself. */
  public float countScore(int i) {
    return counts[i];
  }

  /** Returns item i's shrunk mean. */
  public float meanScore(int i) {
    return (float) (((double) means[i] * counts[i] + PRIOR_ENTRIES * globalMean)
        / (counts[i] + PRIOR_ENTRIES));
  }

  /** Returns item i's score by count, or by shrunk mean. */
  public float score(int i, boolean mean) {
    return mean ? meanScore(i) : countScore(i);
  }

  /**
   * Returns the best {@value #KEPT} items (all, when there are fewer), best first, ties to the
   * lower position; do not modify.
   */
  public int[] top(boolean mean) {
    int[] o = mean ? topByMean : topByCount;
    if (o == null) {
      o = best(mean, Math.min(KEPT, counts.length));
      if (mean) {
        topByMean = o;
      } else {
        topByCount = o;
      }
    }
    return o;
  }

  /**
   * The best {@code n} items on primitive keys: the score's float bits, flipped so that signed
   * order is descending score, above the position, so that ties go to the lower one; a bounded
   * buffer re-sorted when full, so memory stays O(n).
   */
  private int[] best(boolean mean, int n) {
    if (n == 0) {
      return new int[0];
    }
    long[] keys = new long[2 * n];
    int size = 0;
    long worst = Long.MAX_VALUE;
    for (int i = 0; i < counts.length; i++) {
      long key = key(score(i, mean), i);
      if (size == keys.length) {
        Arrays.sort(keys);
        size = n;
        worst = keys[n - 1];
      }
      if (key < worst) {
        keys[size++] = key;
      }
    }
    Arrays.sort(keys, 0, size);
    int[] out = new int[Math.min(n, size)];
    for (int j = 0; j < out.length; j++) {
      out[j] = (int) keys[j];
    }
    return out;
  }

  private static long key(float score, int position) {
    int bits = Float.floatToIntBits(-score);
    bits ^= (bits >> 31) & 0x7fffffff;
    return ((long) bits << 32) | position;
  }

  /** Copies the counts. */
  public int[] counts() {
    return counts.clone();
  }

  /** Returns the bytes held. */
  public long memoryBytes() {
    return estimateBytes(counts.length, means != null);
  }
}
