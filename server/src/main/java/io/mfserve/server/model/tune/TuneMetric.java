package io.mfserve.server.model.tune;

/** What a search ranks its trials by. */
public enum TuneMetric {
  /** Root mean squared error on the held-out entries; lower is better. */
  RMSE,
  /** NDCG@k of each held-out user's top k, training items excluded; higher is better. */
  NDCG;

  /** Returns whether a lower value is better. */
  public boolean lowerIsBetter() {
    return this == RMSE;
  }

  /** Returns whether {@code a} is strictly better than {@code b} (NaN is never better). */
  public boolean better(double a, double b) {
    if (Double.isNaN(a)) {
      return false;
    }
    if (Double.isNaN(b)) {
      return true;
    }
    return lowerIsBetter() ? a < b : a > b;
  }
}
