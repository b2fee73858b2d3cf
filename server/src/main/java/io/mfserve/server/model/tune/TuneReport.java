package io.mfserve.server.model.tune;

import java.util.List;
import java.util.Map;

/**
 * The outcome of a search: every trial in the order it ran, and the chosen setting.
 *
 * @param metric what ranked the trials
 * @param trials every trial; exactly one is marked best when {@code best} is not empty
 * @param best the chosen setting by name, as text (empty when every trial failed)
 */
public record TuneReport(TuneMetric metric, List<TuneTrial> trials, Map<String, String> best) {
  /** Copies the collections. */
  public TuneReport {
    trials = List.copyOf(trials);
    best = Map.copyOf(best);
  }
}
