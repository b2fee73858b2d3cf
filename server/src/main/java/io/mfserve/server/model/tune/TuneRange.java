package io.mfserve.server.model.tune;

import java.util.List;

/**
 * One searched setting: a numeric range, drawn uniformly (on a log scale when asked), or a
 * list of values drawn uniformly.
 *
 * @param name a fit option (num_factors, max_iterations, regularization, learning_rate) or a
 *     declared solver parameter
 * @param min the lower end of a numeric range
 * @param max the upper end, at least {@code min}
 * @param logScale draw log-uniformly (then min &gt; 0)
 * @param values the values to choose among, as text; empty for a numeric range
 */
public record TuneRange(String name, double min, double max, boolean logScale,
    List<String> values) {
  /** Copies the values. */
  public TuneRange {
    values = List.copyOf(values);
  }

  /** Returns whether this range lists its values. */
  public boolean isList() {
    return !values.isEmpty();
  }
}
