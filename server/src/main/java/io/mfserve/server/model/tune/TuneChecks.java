package io.mfserve.server.model.tune;

import io.mfserve.server.model.errors.InvalidRequestException;
import io.mfserve.solver.InvalidParameterException;
import io.mfserve.solver.ParameterSpec;
import io.mfserve.solver.ParameterType;
import io.mfserve.solver.SolverProvider;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;

/**
 * Checks a search against the solver it tunes, before anything is allocated: every error a
 * client can make comes back as INVALID_ARGUMENT naming the field ({@code tune.max_fits},
 * {@code tune.ranges[2].min}, ...) and the limit.
 */
public final class TuneChecks {
  private TuneChecks() {}

  /**
   * Checks {@code spec}.
   *
   * @param spec the search, defaults filled in
   * @param provider the solver the trials run
   * @param maxFactors the largest rank this matrix allows
   * @throws InvalidRequestException for the first problem found
   */
  public static void check(TuneSpec spec, SolverProvider provider, int maxFactors) {
    if (spec.ranges().isEmpty()) {
      throw new InvalidRequestException("tune.ranges", "is empty; name at least one setting to"
          + " search (num_factors, regularization, learning_rate, max_iterations or a solver"
          + " parameter)");
    }
    if (spec.ranges().size() > TuneSpec.MAX_RANGES) {
      throw new InvalidRequestException("tune.ranges", "has " + spec.ranges().size()
          + " settings; at most " + TuneSpec.MAX_RANGES);
    }
    range(spec.maxFits(), 1, TuneSpec.MAX_FITS, "tune.max_fits");
    range(spec.eta(), 2, 10, "tune.reduction_factor");
    range(spec.parallelTrials(), 0, TuneSpec.MAX_PARALLEL_TRIALS, "tune.parallel_trials");
    range(spec.k(), 1, 1000, "tune.k");
    if (!(spec.maxSeconds() >= 0) || Double.isInfinite(spec.maxSeconds())) {
      throw new InvalidRequestException("tune.max_seconds", "is " + spec.maxSeconds()
          + "; it must be finite and at least 0 (0: no time budget)");
    }
    if (!(spec.validationFraction() > 0 && spec.validationFraction() <= 0.5)) {
      throw new InvalidRequestException("tune.validation_fraction", "is "
          + spec.validationFraction() + "; it must be in (0, 0.5] (0: the default 0.2)");
    }
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < spec.ranges().size(); i++) {
      TuneRange r = spec.ranges().get(i);
      String field = "tune.ranges[" + i + "]";
      if (!seen.add(r.name())) {
        throw new InvalidRequestException(field + ".name", "repeats '" + r.name() + "'");
      }
      ParameterSpec p = r.name().equals(Tuner.NUM_FACTORS)
          ? ParameterSpec.ofInt(Tuner.NUM_FACTORS, 1, 1, maxFactors, "the rank")
          : find(provider, r.name());
      if (p == null) {
        StringBuilder names = new StringBuilder(Tuner.NUM_FACTORS);
        provider.parameters().forEach(s -> names.append(", ").append(s.name()));
        throw new InvalidRequestException(field + ".name", "is '" + r.name() + "', which"
            + " solver '" + provider.name() + "' does not take; it takes " + names);
      }
      if (r.isList()) {
        for (int v = 0; v < r.values().size(); v++) {
          parse(p, r.values().get(v), field + ".values[" + v + "]");
        }
        continue;
      }
      if (p.type() == ParameterType.BOOL || p.type() == ParameterType.CHOICE) {
        throw new InvalidRequestException(field + ".values", "is empty; '" + r.name()
            + "' is " + p.type().name().toLowerCase(Locale.ROOT) + ": list its values");
      }
      if (!Double.isFinite(r.min()) || !Double.isFinite(r.max()) || r.min() > r.max()) {
        throw new InvalidRequestException(field + ".max", "is " + r.max() + " with min "
            + r.min() + "; give finite min ≤ max");
      }
      if (r.logScale() && !(r.min() > 0)) {
        throw new InvalidRequestException(field + ".min", "is " + r.min() + "; a log-scale"
            + " range needs min > 0");
      }
      boolean integer = p.type() == ParameterType.INT;
      if (integer && Math.ceil(r.min()) > Math.floor(r.max())) {
        throw new InvalidRequestException(field + ".max", "[" + r.min() + ", " + r.max()
            + "] holds no integer for '" + r.name() + "'");
      }
      parse(p, integer ? Long.toString((long) Math.ceil(r.min())) : Double.toString(r.min()),
          field + ".min");
      parse(p, integer ? Long.toString((long) Math.floor(r.max())) : Double.toString(r.max()),
          field + ".max");
    }
  }

  private static void range(int v, int min, int max, String field) {
    if (v < min || v > max) {
      throw new InvalidRequestException(field, "is " + v + "; it must be in [" + min + ", "
          + max + "]");
    }
  }

  private static void parse(ParameterSpec p, String text, String field) {
    try {
      p.parse(text);
    } catch (InvalidParameterException e) {
      throw new InvalidRequestException(field, e.getMessage());
    }
  }

  private static ParameterSpec find(SolverProvider provider, String name) {
    for (ParameterSpec s : provider.parameters()) {
      if (s.name().equals(name)) {
        return s;
      }
    }
    return null;
  }
}
