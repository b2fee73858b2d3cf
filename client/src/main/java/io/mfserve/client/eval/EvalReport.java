package io.mfserve.client.eval;

import java.util.List;

/**
 * The outcome of an evaluation: what each fold held and every setting's results, best first.
 *
 * @param folds one description per fold, in order
 * @param metrics the metrics measured, in report order ({@link Metric#FIT_SECONDS} first)
 * @param primary the metric the settings are ranked by
 * @param k the ranking cut-off (meaningful when ranking metrics were measured)
 * @param ranked every setting, best first by the mean of {@code primary}; failed settings
 *     last, in grid order
 */
public record EvalReport(List<FoldInfo> folds, List<Metric> metrics, Metric primary, int k,
    List<SettingResult> ranked) {
  /**
   * A report; the lists are copied.
   *
   * @param folds the folds
   * @param metrics the metrics
   * @param primary the ranking metric
   * @param k the cut-off
   * @param ranked the settings, best first
   */
  public EvalReport {
    folds = List.copyOf(folds);
    metrics = List.copyOf(metrics);
    ranked = List.copyOf(ranked);
  }

  /**
   * The best setting: the first of {@link #ranked()} unless every setting failed.
   *
   * @return the best setting, or null when all failed
   */
  public SettingResult best() {
    return ranked.isEmpty() || ranked.get(0).failed() ? null : ranked.get(0);
  }
}
