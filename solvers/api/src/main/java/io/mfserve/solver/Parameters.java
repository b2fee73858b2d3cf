package io.mfserve.solver;

import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * A solver's parameters after resolution: every declared parameter has a typed value, either
 * the one the client gave or the declared default, and remembers which the client gave, so
 * that a solver can replace a declared default by one its rule derives from the data
 * ({@link SolverProvider#resolveForData}). Immutable.
 */
public final class Parameters {
  private final Map<String, Object> values;
  private final Set<String> given;
  private final Map<String, Object> defaults;

  private Parameters(Map<String, Object> values, Set<String> given,
      Map<String, Object> defaults) {
    this.values = Collections.unmodifiableMap(values);
    this.given = Set.copyOf(given);
    this.defaults = defaults;
  }

  /**
   * Resolves a client's text values against the declared parameters.
   *
   * @param declared what the solver declares
   * @param given the client's values by name; every name must be declared
   * @return every declared parameter with its value, in declaration order
   * @throws InvalidParameterException for the first unknown name (listing the known ones) or
   *     the first value that does not parse or is out of range
   */
  public static Parameters resolve(List<ParameterSpec> declared, Map<String, String> given) {
    Map<String, ParameterSpec> byName = new HashMap<>();
    for (ParameterSpec spec : declared) {
      byName.put(spec.name(), spec);
    }
    for (String name : new TreeSet<>(given.keySet())) {
      if (!byName.containsKey(name)) {
        throw new InvalidParameterException(name, "unknown parameter '" + name
            + "'; this solver takes " + String.join(", ", new TreeSet<>(byName.keySet())));
      }
    }
    Map<String, Object> values = new LinkedHashMap<>();
    Map<String, Object> defaults = new HashMap<>();
    for (ParameterSpec spec : declared) {
      String text = given.get(spec.name());
      values.put(spec.name(), text == null ? spec.defaultValue() : spec.parse(text));
      defaults.put(spec.name(), spec.defaultValue());
    }
    return new Parameters(values, given.keySet(), Collections.unmodifiableMap(defaults));
  }

  /**
   * Returns whether the client gave this parameter (false when it holds the declared default
   * or a value derived from the data).
   */
  public boolean isGiven(String name) {
    return given.contains(name);
  }

  /**
   * Returns a copy with one parameter that the client did not give set to a value derived
   * from the data; it still counts as not given. The value must have the parameter's type.
   *
   * @throws IllegalArgumentException if the parameter is not declared, was given, or the value
   *     has another type than its current one
   */
  public Parameters withDerived(String name, Object value) {
    Object old = require(name);
    if (given.contains(name)) {
      throw new IllegalArgumentException("parameter '" + name + "' was given by the client");
    }
    if (value == null || value.getClass() != old.getClass()) {
      throw new IllegalArgumentException("parameter '" + name + "' holds a "
          + old.getClass().getSimpleName() + ", not " + value);
    }
    Map<String, Object> copy = new LinkedHashMap<>(values);
    copy.put(name, value);
    return new Parameters(copy, given, defaults);
  }

  /**
   * Returns the default in effect for a parameter: the one its declaration gave to this
   * resolution, which is the solver's own or the server operator's launch-time default
   * ({@link ParameterSpec#withDefault}). A solver whose parameter holds a list of settings
   * can use it to lay a client's value over the operator's rather than replace it.
   *
   * @throws IllegalArgumentException if the parameter is not declared
   */
  public Object defaultValue(String name) {
    require(name);
    return defaults.get(name);
  }

  /** Returns true if a parameter of this name is declared. */
  public boolean has(String name) {
    return values.containsKey(name);
  }

  /** Returns an INT parameter's value. */
  public int getInt(String name) {
    return (Integer) require(name);
  }

  /** Returns a DOUBLE parameter's value. */
  public double getDouble(String name) {
    return (Double) require(name);
  }

  /** Returns a BOOL parameter's value. */
  public boolean getBool(String name) {
    return (Boolean) require(name);
  }

  /** Returns a CHOICE parameter's value, spelled as declared. */
  public String getChoice(String name) {
    return (String) require(name);
  }

  /** Returns a STRING parameter's value, as given (the default when none was). */
  public String getString(String name) {
    return (String) require(name);
  }

  /** Returns every value as text, in declaration order, for a model's provenance. */
  public Map<String, String> asText() {
    Map<String, String> text = new LinkedHashMap<>();
    values.forEach((k, v) -> text.put(k, String.valueOf(v)));
    return Collections.unmodifiableMap(text);
  }

  private Object require(String name) {
    Object v = values.get(name);
    if (v == null) {
      throw new IllegalArgumentException("no parameter '" + name + "' is declared");
    }
    return v;
  }

  @Override
  public String toString() {
    return values.toString();
  }
}
