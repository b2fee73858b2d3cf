package io.mfserve.client.eval;

/**
 * One train/test split of a data set: the positions of its training entries and of its test
 * entries in an {@link Interactions}.
 *
 * <p>The arrays are held as given, not copied (a fold of a large data set is millions of
 * indices): callers must not modify them. Immutable in that sense, hence thread-safe.
 */
public final class Fold {
  private final int number;
  private final int[] train;
  private final int[] test;

  /**
   * A fold.
   *
   * @param number its 1-based number, for reports
   * @param train the training entries' positions
   * @param test the test entries' positions
   */
  public Fold(int number, int[] train, int[] test) {
    this.number = number;
    this.train = train;
    this.test = test;
  }

  /**
   * Its 1-based number.
   *
   * @return the fold's number
   */
  public int number() {
    return number;
  }

  /**
   * The positions of the training entries, in ascending order. Do not modify.
   *
   * @return the training entries
   */
  public int[] train() {
    return train;
  }

  /**
   * The positions of the test entries, in ascending order. Do not modify.
   *
   * @return the test entries
   */
  public int[] test() {
    return test;
  }
}
