package io.mfserve.client.eval;

/**
 * Accumulates rating-prediction errors over test pairs: RMSE and MAE, defined as in Surprise's
 * {@code accuracy.rmse} and {@code accuracy.mae}:
 *
 * <pre>
 *   RMSE = sqrt( (1/n) Σ (r̂ − r)² )        MAE = (1/n) Σ |r̂ − r|
 * </pre>
 *
 * <p>over all {@code n} test pairs, each weighted equally (pairs with users or items unseen in
 * training included, scored by whatever the server answered for them, the global mean under
 * {@code UNKNOWN_ID_POLICY_GLOBAL_MEAN}). Sums are kept in double.
 *
 * <p>Not thread-safe: one accumulator per scoring thread.
 */
public final class ErrorMetrics {
  private long count;
  private double squared;
  private double absolute;

  /** An empty accumulator. */
  public ErrorMetrics() {}

  /**
   * Adds one test pair.
   *
   * @param predicted the predicted value
   * @param actual the held-out true value
   * @return this, for chaining
   */
  public ErrorMetrics add(double predicted, double actual) {
    double d = predicted - actual;
    squared += d * d;
    absolute += Math.abs(d);
    count++;
    return this;
  }

  /**
   * The number of pairs added.
   *
   * @return the count
   */
  public long count() {
    return count;
  }

  /**
   * The root mean squared error.
   *
   * @return RMSE, NaN when no pair was added
   */
  public double rmse() {
    return count == 0 ? Double.NaN : Math.sqrt(squared / count);
  }

  /**
   * The mean absolute error.
   *
   * @return MAE, NaN when no pair was added
   */
  public double mae() {
    return count == 0 ? Double.NaN : absolute / count;
  }
}
