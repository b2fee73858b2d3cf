package io.mfserve.solver;

import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * A parameter a solver declares: its name, type, default, valid range and documentation.
 *
 * <p>Values arrive as text (from a request's parameter map, or from the typed fields of a fit
 * request, which the server turns into text under the common names {@link #MAX_ITERATIONS},
 * {@link #REGULARIZATION} and {@link #LEARNING_RATE}). {@link #parse(String)} turns the text
 * into a typed value or fails with an {@link InvalidParameterException} whose message names
 * the parameter and the range. Instances are immutable.
 */
public final class ParameterSpec {
  /** The common name of the iteration limit (sweeps, epochs). */
  public static final String MAX_ITERATIONS = "max_iterations";
  /** The common name of the regularisation strength. */
  public static final String REGULARIZATION = "regularization";
  /** The common name of the learning rate. */
  public static final String LEARNING_RATE = "learning_rate";
  /** The common name of the early-stopping patience; 0 turns early stopping off. */
  public static final String EARLY_STOPPING_ROUNDS = "early_stopping_rounds";

  private final String name;
  private final ParameterType type;
  private final Object defaultValue;
  private final double min;
  private final boolean minInclusive;
  private final double max;
  private final boolean maxInclusive;
  private final List<String> choices;
  private final String doc;

  private ParameterSpec(String name, ParameterType type, Object defaultValue, double min,
      boolean minInclusive, double max, boolean maxInclusive, List<String> choices, String doc) {
    if (!name.matches("[a-z][a-z0-9_]*")) {
      throw new IllegalArgumentException("parameter names are lower_snake_case: " + name);
    }
    this.name = name;
    this.type = type;
    this.defaultValue = defaultValue;
    this.min = min;
    this.minInclusive = minInclusive;
    this.max = max;
    this.maxInclusive = maxInclusive;
    this.choices = List.copyOf(choices);
    this.doc = Objects.requireNonNull(doc, "doc");
    // A default outside its own range is a plugin bug; fail when the plugin loads.
    parse(formatValue(defaultValue));
  }

  /**
   * The iteration limit under its common name {@link #MAX_ITERATIONS}: an integer in
   * [1, max]. The doc says what one iteration is for the solver (a sweep, an epoch).
   */
  public static ParameterSpec maxIterations(int defaultValue, int max, String doc) {
    return ofInt(MAX_ITERATIONS, defaultValue, 1, max, doc);
  }

  /**
   * The regularisation strength under its common name {@link #REGULARIZATION}: a double in
   * [0, +∞). The doc says what it penalises and how it is scaled, which differs by solver.
   */
  public static ParameterSpec regularization(double defaultValue, String doc) {
    return ofDouble(REGULARIZATION, defaultValue, 0, Double.POSITIVE_INFINITY, doc);
  }

  /**
   * The early-stopping patience under its common name {@link #EARLY_STOPPING_ROUNDS}: an
   * integer in [0, max], default 0 (off). The doc says what is measured and how often.
   */
  public static ParameterSpec earlyStoppingRounds(int max, String doc) {
    return ofInt(EARLY_STOPPING_ROUNDS, 0, 0, max, doc);
  }

  /** An integer parameter valid in the closed range [min, max]. */
  public static ParameterSpec ofInt(String name, int defaultValue, int min, int max, String doc) {
    return new ParameterSpec(name, ParameterType.INT, defaultValue, min, true, max, true,
        List.of(), doc);
  }

  /** A double parameter valid in the closed range [min, max] (max may be infinite). */
  public static ParameterSpec ofDouble(String name, double defaultValue, double min, double max,
      String doc) {
    return new ParameterSpec(name, ParameterType.DOUBLE, defaultValue, min, true, max, true,
        List.of(), doc);
  }

  /** A double parameter valid in the half-open range (min, max]: strictly above min. */
  public static ParameterSpec ofPositiveDouble(String name, double defaultValue, double max,
      String doc) {
    return new ParameterSpec(name, ParameterType.DOUBLE, defaultValue, 0, false, max, true,
        List.of(), doc);
  }

  /** A double parameter valid in the half-open range [min, max): strictly below max. */
  public static ParameterSpec ofDoubleBelow(String name, double defaultValue, double min,
      double max, String doc) {
    return new ParameterSpec(name, ParameterType.DOUBLE, defaultValue, min, true, max, false,
        List.of(), doc);
  }

  /** A boolean parameter. */
  public static ParameterSpec ofBool(String name, boolean defaultValue, String doc) {
    return new ParameterSpec(name, ParameterType.BOOL, defaultValue, 0, true, 0, true, List.of(),
        doc);
  }

  /** A parameter that takes one of {@code choices}; the default must be one of them. */
  public static ParameterSpec ofChoice(String name, String defaultValue, List<String> choices,
      String doc) {
    if (choices.isEmpty()) {
      throw new IllegalArgumentException("a choice parameter needs at least one choice: " + name);
    }
    return new ParameterSpec(name, ParameterType.CHOICE, defaultValue, 0, true, 0, true, choices,
        doc);
  }

  /**
   * A free-text parameter of at most {@code maxLength} characters (the default may be empty).
   * The solver gives the text its meaning and refuses text it cannot use with an
   * {@link InvalidParameterException} from {@link SolverProvider#create}.
   */
  public static ParameterSpec ofString(String name, String defaultValue, int maxLength,
      String doc) {
    if (maxLength < 1) {
      throw new IllegalArgumentException("maxLength must be at least 1: " + name);
    }
    return new ParameterSpec(name, ParameterType.STRING, Objects.requireNonNull(defaultValue),
        0, true, maxLength, true, List.of(), doc);
  }

  /**
   * Returns this parameter with another default, given as text in the form {@link #parse}
   * accepts; name, type, range and documentation stay. The server uses it for an operator's
   * launch-time defaults ({@code --solver-default SOLVER.PARAM=VALUE}), so that a fit that
   * leaves the parameter unset gets the operator's value and {@code ListSolvers} shows it.
   *
   * @throws InvalidParameterException naming this parameter if the text does not parse or is
   *     out of range
   */
  public ParameterSpec withDefault(String text) {
    return new ParameterSpec(name, type, parse(text), min, minInclusive, max, maxInclusive,
        choices, doc);
  }

  /** Returns the name, lower_snake_case. */
  public String name() {
    return name;
  }

  /** Returns the type. */
  public ParameterType type() {
    return type;
  }

  /** Returns the default value: an Integer, Double, Boolean or String per {@link #type()}. */
  public Object defaultValue() {
    return defaultValue;
  }

  /** Returns the default value as text, in the form {@link #parse(String)} accepts. */
  public String defaultText() {
    return formatValue(defaultValue);
  }

  /** Returns the allowed values of a {@link ParameterType#CHOICE}; empty for other types. */
  public List<String> choices() {
    return choices;
  }

  /** Returns what the parameter does. */
  public String doc() {
    return doc;
  }

  /**
   * Returns the valid range in interval notation, e.g. {@code "[0, inf)"}, or an empty string
   * for booleans, choices and strings.
   */
  public String rangeText() {
    if (type != ParameterType.INT && type != ParameterType.DOUBLE) {
      return "";
    }
    return (minInclusive ? "[" : "(") + bound(min) + ", " + bound(max)
        + (maxInclusive && !Double.isInfinite(max) ? "]" : ")");
  }

  /**
   * Parses a client's text into this parameter's typed value.
   *
   * @throws InvalidParameterException naming this parameter if the text does not parse or is
   *     out of range
   */
  public Object parse(String text) {
    Objects.requireNonNull(text, "text");
    String t = text.trim();
    switch (type) {
      case INT: {
        int v;
        try {
          v = Integer.parseInt(t);
        } catch (NumberFormatException e) {
          throw invalid(text, "an integer in " + rangeText());
        }
        if (!inRange(v)) {
          throw invalid(text, "an integer in " + rangeText());
        }
        return v;
      }
      case DOUBLE: {
        double v;
        try {
          v = Double.parseDouble(t);
        } catch (NumberFormatException e) {
          throw invalid(text, "a number in " + rangeText());
        }
        if (!Double.isFinite(v) || !inRange(v)) {
          throw invalid(text, "a finite number in " + rangeText());
        }
        return v;
      }
      case BOOL: {
        String lower = t.toLowerCase(Locale.ROOT);
        if (lower.equals("true") || lower.equals("false")) {
          return Boolean.parseBoolean(lower);
        }
        throw invalid(text, "true or false");
      }
      case STRING: {
        if (text.length() > max) {
          throw invalid(text.substring(0, 40) + "…", "text of at most " + (long) max
              + " characters");
        }
        return text;
      }
      case CHOICE: {
        for (String c : choices) {
          if (c.equalsIgnoreCase(t)) {
            return c;
          }
        }
        throw invalid(text, "one of " + String.join(", ", choices));
      }
      default:
        throw new AssertionError(type);
    }
  }

  private boolean inRange(double v) {
    boolean aboveMin = minInclusive ? v >= min : v > min;
    boolean belowMax = maxInclusive ? v <= max : v < max;
    return aboveMin && belowMax;
  }

  private InvalidParameterException invalid(String text, String expected) {
    return new InvalidParameterException(name,
        "parameter '" + name + "' is '" + text + "'; it must be " + expected);
  }

  private static String bound(double v) {
    if (v == Double.POSITIVE_INFINITY) {
      return "inf";
    }
    if (v == Double.NEGATIVE_INFINITY) {
      return "-inf";
    }
    return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : Double.toString(v);
  }

  private static String formatValue(Object value) {
    return String.valueOf(value);
  }

  @Override
  public String toString() {
    return name + " (" + type.name().toLowerCase(Locale.ROOT) + ", default " + defaultText() + ")";
  }
}
