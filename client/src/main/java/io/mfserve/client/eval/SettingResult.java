package io.mfserve.client.eval;

import java.util.List;
import java.util.Map;

/**
 * One setting of the grid with its per-fold results and their aggregates.
 *
 * <p>Aggregates are the mean and the population standard deviation over folds ({@code
 * numpy.std}, as Surprise's {@code cross_validate} and {@code GridSearchCV} report them). A
 * setting with a failed fold has no aggregates (NaN) and ranks last.
 *
 * @param index the setting's 0-based position in the grid's order
 * @param setting the grid values, by name (empty without a grid)
 * @param folds one result per fold, in fold order
 */
public record SettingResult(int index, Map<String, String> setting, List<FoldResult> folds) {
  /**
   * A result; the collections are copied.
   *
   * @param index the setting's position
   * @param setting the grid values
   * @param folds the per-fold results
   */
  public SettingResult {
    setting = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(setting));
    folds = List.copyOf(folds);
  }

  /**
   * Whether any fold failed.
   *
   * @return true when a fold has an error
   */
  public boolean failed() {
    return folds.stream().anyMatch(FoldResult::failed);
  }

  /**
   * The first failure, if any.
   *
   * @return the error text, or null
   */
  public String error() {
    return folds.stream().filter(FoldResult::failed).map(FoldResult::error).findFirst()
        .orElse(null);
  }

  /**
   * The mean of a metric over folds.
   *
   * @param metric the metric
   * @return the mean; NaN when a fold failed or lacks the metric
   */
  public double mean(Metric metric) {
    double sum = 0;
    for (FoldResult f : folds) {
      Double v = f.values().get(metric);
      if (v == null) {
        return Double.NaN;
      }
      sum += v;
    }
    return folds.isEmpty() ? Double.NaN : sum / folds.size();
  }

  /**
   * The population standard deviation of a metric over folds (0 for one fold).
   *
   * @param metric the metric
   * @return the standard deviation; NaN when the mean is NaN
   */
  public double std(Metric metric) {
    double mean = mean(metric);
    if (Double.isNaN(mean)) {
      return Double.NaN;
    }
    double sum = 0;
    for (FoldResult f : folds) {
      double d = f.values().get(metric) - mean;
      sum += d * d;
    }
    return Math.sqrt(sum / folds.size());
  }
}
