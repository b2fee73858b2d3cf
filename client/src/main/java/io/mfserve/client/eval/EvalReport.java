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
 * @param baseline the no-factor baseline of {@link Baselines} on the same folds (index -1,
 *     its setting {@code baseline=NAME}); null when not measured
 */
public record EvalReport(List<FoldInfo> folds, List<Metric> metrics, Metric primary, int k,
    List<SettingResult> ranked, SettingResult baseline) {
  /**
   * A report; the lists are copied.
   *
   * @param folds the folds
   * @param metrics the metrics
   * @param primary the ranking metric
   * @param k the cut-off
   * @param ranked the settings, best first
   * @param baseline the baseline, or null
   */
  public EvalReport {
    folds = List.copyOf(folds);
    metrics = List.copyOf(metrics);
    ranked = List.copyOf(ranked);
  }

  /**
   * A report without a baseline.
   *
   * @param folds the folds
   * @param metrics the metrics
   * @param primary the ranking metric
   * @param k the cut-off
   * @param ranked the settings, best first
   */
  public EvalReport(List<FoldInfo> folds, List<Metric> metrics, Metric primary, int k,
      List<SettingResult> ranked) {
    this(folds, metrics, primary, k, ranked, null);
  }

  /**
   * How much better than the baseline the best setting is on a metric, as a fraction of the
   * baseline's mean: positive when the model is better (a lower error or a higher ranking
   * score).
   *
   * @param metric the metric compared
   * @return the relative improvement, NaN when either is missing or the baseline is 0
   */
  public double improvementOverBaseline(Metric metric) {
    SettingResult best = best();
    if (best == null || baseline == null) {
      return Double.NaN;
    }
    double b = baseline.mean(metric);
    double m = best.mean(metric);
    if (Double.isNaN(b) || Double.isNaN(m) || b == 0) {
      return Double.NaN;
    }
    return metric.lowerIsBetter() ? (b - m) / b : (m - b) / b;
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
