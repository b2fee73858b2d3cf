package io.mfserve.client.eval;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Seeded ways to divide {@code n} entries into training and test parts, as in Surprise's {@code
 * model_selection.split} (Hug 2020, "Surprise: A Python library for recommender systems",
 * JOSS 5(52)).
 *
 * <p>The entries are shuffled with a Fisher–Yates shuffle driven by {@link Random} seeded with
 * the given seed; {@code java.util.Random}'s algorithm is fixed by its specification, so the
 * same seed gives the same folds on every JVM. Each fold's arrays are sorted ascending, so a
 * training matrix keeps the input order of its entries.
 *
 * <p>Stateless and thread-safe.
 */
public final class Splits {
  private Splits() {}

  /**
   * A seeded random holdout: {@code ceil(testFraction × n)} entries for testing, the rest for
   * training (Surprise's {@code train_test_split(test_size=f)}).
   *
   * @param n the number of entries
   * @param testFraction the fraction held out, {@code 0 < f < 1}
   * @param seed the shuffle's seed
   * @return one fold
   * @throws IllegalArgumentException if the fraction is outside (0, 1) or leaves either part
   *     empty
   */
  public static Fold holdout(int n, double testFraction, long seed) {
    if (!(testFraction > 0 && testFraction < 1)) {
      throw new IllegalArgumentException("the test fraction must be between 0 and 1 "
          + "(exclusive), got " + testFraction);
    }
    int test = (int) Math.ceil(testFraction * n);
    if (test >= n) {
      throw new IllegalArgumentException("a test fraction of " + testFraction + " of " + n
          + " entries leaves no training entries");
    }
    int[] order = shuffled(n, seed);
    return new Fold(1, sorted(order, test, n), sorted(order, 0, test));
  }

  /**
   * Seeded K-fold cross-validation (Surprise's {@code KFold(n_splits=k, shuffle=True)}): the
   * shuffled entries are cut into {@code k} consecutive parts, the first {@code n mod k} one
   * entry larger than the rest; fold {@code j} tests on part {@code j} and trains on the
   * others. Every entry is tested in exactly one fold.
   *
   * @param n the number of entries
   * @param k the number of folds, {@code 2 ≤ k ≤ n}
   * @param seed the shuffle's seed
   * @return the {@code k} folds, in order
   * @throws IllegalArgumentException if {@code k} is outside [2, n]
   */
  public static List<Fold> kFold(int n, int k, long seed) {
    if (k < 2 || k > n) {
      throw new IllegalArgumentException("the number of folds must be between 2 and the "
          + "number of entries (" + n + "), got " + k);
    }
    int[] order = shuffled(n, seed);
    List<Fold> folds = new ArrayList<>(k);
    int stop = 0;
    for (int j = 0; j < k; j++) {
      int start = stop;
      stop += n / k + (j < n % k ? 1 : 0);
      int[] train = new int[n - (stop - start)];
      System.arraycopy(order, 0, train, 0, start);
      System.arraycopy(order, stop, train, start, n - stop);
      Arrays.sort(train);
      folds.add(new Fold(j + 1, train, sorted(order, start, stop)));
    }
    return folds;
  }

  /**
   * The split given by two files: entries {@code 0 .. train - 1} train, the next {@code test}
   * entries test (the layout of {@link Interactions#concat}).
   *
   * @param train the number of training entries
   * @param test the number of test entries
   * @return one fold
   */
  public static Fold predefined(int train, int test) {
    int[] a = new int[train];
    int[] b = new int[test];
    Arrays.setAll(a, i -> i);
    Arrays.setAll(b, i -> train + i);
    return new Fold(1, a, b);
  }

  /** 0 .. n-1 in a seeded random order (Fisher–Yates, as Collections.shuffle does it). */
  static int[] shuffled(int n, long seed) {
    int[] order = new int[n];
    Arrays.setAll(order, i -> i);
    Random random = new Random(seed);
    for (int i = n - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      int t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    return order;
  }

  private static int[] sorted(int[] order, int from, int to) {
    int[] part = Arrays.copyOfRange(order, from, to);
    Arrays.sort(part);
    return part;
  }
}
