package io.mfserve.client.eval;

import java.util.Locale;

/**
 * What an evaluation measures per fold, and which direction is better. See {@link
 * ErrorMetrics} and {@link RankingMetrics} for the definitions.
 */
public enum Metric {
  /** Seconds the server spent fitting ({@code ModelInfo.fit_seconds}); lower is better. */
  FIT_SECONDS("fit_seconds", "fit s", true),
  /** Root mean squared error on the test pairs; lower is better. */
  RMSE("rmse", "RMSE", true),
  /** Mean absolute error on the test pairs; lower is better. */
  MAE("mae", "MAE", true),
  /** Precision at k, implicit's definition; higher is better. */
  PRECISION("precision", "P@%d", false),
  /** Recall at k; higher is better. */
  RECALL("recall", "R@%d", false),
  /** Mean average precision at k; higher is better. */
  MAP("map", "MAP@%d", false),
  /** Normalized discounted cumulative gain at k; higher is better. */
  NDCG("ndcg", "NDCG@%d", false);

  private final String key;
  private final String label;
  private final boolean lowerIsBetter;

  Metric(String key, String label, boolean lowerIsBetter) {
    this.key = key;
    this.label = label;
    this.lowerIsBetter = lowerIsBetter;
  }

  /**
   * The metric's name in JSON and on the command line.
   *
   * @return e.g. {@code rmse}, {@code ndcg}
   */
  public String key() {
    return key;
  }

  /**
   * The metric's column heading.
   *
   * @param k the ranking cut-off
   * @return e.g. {@code RMSE}, {@code NDCG@10}
   */
  public String label(int k) {
    return label.contains("%d") ? String.format(Locale.ROOT, label, k) : label;
  }

  /**
   * Whether smaller values are better.
   *
   * @return true for errors and times
   */
  public boolean lowerIsBetter() {
    return lowerIsBetter;
  }

  /**
   * Whether this is one of the top-k ranking metrics.
   *
   * @return true for precision, recall, MAP and NDCG
   */
  public boolean isRanking() {
    return this == PRECISION || this == RECALL || this == MAP || this == NDCG;
  }

  /**
   * The metric with a key, case-insensitive.
   *
   * @param key e.g. {@code rmse}
   * @return the metric
   * @throws IllegalArgumentException listing the keys when none matches
   */
  public static Metric parse(String key) {
    for (Metric m : values()) {
      if (m.key.equalsIgnoreCase(key)) {
        return m;
      }
    }
    StringBuilder keys = new StringBuilder();
    for (Metric m : values()) {
      keys.append(keys.length() == 0 ? "" : ", ").append(m.key);
    }
    throw new IllegalArgumentException("unknown metric '" + key + "'; expected one of " + keys);
  }
}
