package io.mfserve.server.model.tune;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One finished trial of a search.
 *
 * @param number 1-based, its place in the schedule (bracket, rung, then rank in the rung
 *     before): the same for a seed however many trials run at once
 * @param setting the searched settings' values by name, as text, in the spec's order
 * @param bracket the bracket of the schedule, from 0 (always 0 for successive halving)
 * @param rung the rung of successive halving within its bracket, from 0
 * @param iterations the iterations it was given
 * @param metric its held-out score; NaN when it failed
 * @param seconds the seconds it took, fitting and scoring
 * @param error why it failed, or null
 * @param best whether its setting was chosen
 */
public record TuneTrial(int number, Map<String, String> setting, int bracket, int rung,
    int iterations, double metric, double seconds, String error, boolean best) {
  /** Copies the setting, keeping its order. */
  public TuneTrial {
    setting = Collections.unmodifiableMap(new LinkedHashMap<>(setting));
  }

  /** Returns this trial marked as the chosen one. */
  TuneTrial asBest() {
    return new TuneTrial(number, setting, bracket, rung, iterations, metric, seconds, error, true);
  }
}
