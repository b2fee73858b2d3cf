package io.mfserve.solver;

/**
 * Entries held out of training to measure generalisation after each iteration. Immutable;
 * empty when the fit has no validation split.
 */
public final class ValidationSet {
  private static final ValidationSet EMPTY =
      new ValidationSet(new int[0], new int[0], new float[0]);

  private final int[] rows;
  private final int[] cols;
  private final float[] values;

  private ValidationSet(int[] rows, int[] cols, float[] values) {
    this.rows = rows;
    this.cols = cols;
    this.values = values;
  }

  /** Returns the empty set. */
  public static ValidationSet empty() {
    return EMPTY;
  }

  /** Creates a set from parallel arrays, which it copies. */
  public static ValidationSet of(int[] rows, int[] cols, float[] values) {
    if (rows.length != values.length || cols.length != values.length) {
      throw new IllegalArgumentException("rows, cols and values differ in length");
    }
    return new ValidationSet(rows.clone(), cols.clone(), values.clone());
  }

  /** Returns the number of held-out entries. */
  public int size() {
    return values.length;
  }

  /** Returns whether there are no held-out entries. */
  public boolean isEmpty() {
    return values.length == 0;
  }

  /** Returns the row of entry {@code n}. */
  public int row(int n) {
    return rows[n];
  }

  /** Returns the column of entry {@code n}. */
  public int col(int n) {
    return cols[n];
  }

  /** Returns the value of entry {@code n}. */
  public float value(int n) {
    return values[n];
  }

  /**
   * Returns the root mean squared error of {@code predictor} on these entries, or NaN when the
   * set is empty. Accumulates in double.
   */
  public double rmse(PairScorer predictor) {
    if (values.length == 0) {
      return Double.NaN;
    }
    double sum = 0;
    for (int n = 0; n < values.length; n++) {
      double e = values[n] - predictor.score(rows[n], cols[n]);
      sum += e * e;
    }
    return Math.sqrt(sum / values.length);
  }

  /** Scores one (row, column) pair; solvers pass their current factors as one. */
  @FunctionalInterface
  public interface PairScorer {
    /** Returns the predicted value of entry (row, col). */
    double score(int row, int col);
  }
}
