package io.mfserve.client.eval;

import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;

/**
 * One setting's scores on one fold.
 *
 * @param fold the fold's 1-based number
 * @param modelId the model trained on the fold (deleted after scoring unless kept)
 * @param values each metric measured; empty when the fit failed
 * @param error the failure, as {@code CODE: description}, when the fit or scoring failed;
 *     null otherwise
 * @param tuned what a tuned fit ({@code FitRequest.tune}) chose on this fold; null when the
 *     fit did not tune
 */
public record FoldResult(int fold, String modelId, Map<Metric, Double> values, String error,
    TuneChoice tuned) {
  /**
   * A result; the map is copied.
   *
   * @param fold the fold's number
   * @param modelId the model's id
   * @param values the metric values
   * @param error the failure, or null
   * @param tuned what a tuned fit chose on this fold, or null
   */
  public FoldResult {
    EnumMap<Metric, Double> copy = new EnumMap<>(Metric.class);
    copy.putAll(values);
    values = Collections.unmodifiableMap(copy);
  }

  /**
   * A result of a fit that did not tune.
   *
   * @param fold the fold's number
   * @param modelId the model's id
   * @param values the metric values
   * @param error the failure, or null
   */
  public FoldResult(int fold, String modelId, Map<Metric, Double> values, String error) {
    this(fold, modelId, values, error, null);
  }

  /**
   * Whether this fold failed.
   *
   * @return true when {@link #error()} is set
   */
  public boolean failed() {
    return error != null;
  }
}
