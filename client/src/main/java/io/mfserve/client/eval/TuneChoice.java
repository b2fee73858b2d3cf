package io.mfserve.client.eval;

import io.mfserve.proto.v1.ModelInfo;
import io.mfserve.proto.v1.TuneMetric;
import io.mfserve.proto.v1.TuneTrial;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a tuned fit ({@code FitRequest.tune}) chose on one fold: the setting of the trial the
 * server marked best, its held-out score on the server's own validation part (not the fold's
 * test part), and how many trials the search ran. Per fold, because every fold's fit tunes on
 * its own training part: settings that differ a lot from fold to fold say the search is noisy.
 *
 * @param setting the chosen values by name, in name order
 * @param metric the search's metric: "rmse" or "ndcg"
 * @param heldOut the chosen trial's score on the server's validation part
 * @param trials the number of trials the search ran
 */
public record TuneChoice(Map<String, String> setting, String metric, double heldOut,
    int trials) {
  /** Copies the setting in name order. */
  public TuneChoice {
    setting = Collections.unmodifiableMap(new TreeMap<>(setting));
  }

  /**
   * Reads the choice from a fitted model's description.
   *
   * @param model the model a tuned fit returned
   * @return the choice, or null when the fit did not tune or every trial failed
   */
  public static TuneChoice of(ModelInfo model) {
    for (TuneTrial t : model.getTuneTrialsList()) {
      if (t.getBest()) {
        return new TuneChoice(t.getSettingMap(),
            model.getTuneMetric() == TuneMetric.TUNE_METRIC_NDCG ? "ndcg" : "rmse",
            t.getMetric(), model.getTuneTrialsCount());
      }
    }
    return null;
  }

  /** Returns "name=value name=value", in name order. */
  public String settingText() {
    StringBuilder sb = new StringBuilder();
    setting.forEach((n, v) -> sb.append(sb.length() == 0 ? "" : " ").append(n).append('=')
        .append(v));
    return sb.toString();
  }
}
