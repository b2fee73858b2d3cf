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
 */
public record FoldResult(int fold, String modelId, Map<Metric, Double> values, String error) {
  /**
   * A result; the map is copied.
   *
   * @param fold the fold's number
   * @param modelId the model's id
   * @param values the metric values
   * @param error the failure, or null
   */
  public FoldResult {
    EnumMap<Metric, Double> copy = new EnumMap<>(Metric.class);
    copy.putAll(values);
    values = Collections.unmodifiableMap(copy);
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
