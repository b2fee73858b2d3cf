package io.mfserve.solver;

import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * A solver's parameters after resolution: every declared parameter has a typed value, either
 * the one the client gave or the declared default. Immutable.
 */
public final class Parameters {
  private final Map<String, Object> values;

  private Parameters(Map<String, Object> values) {
    this.values = Collections.unmodifiableMap(values);
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
    for (ParameterSpec spec : declared) {
      String text = given.get(spec.name());
      values.put(spec.name(), text == null ? spec.defaultValue() : spec.parse(text));
    }
    return new Parameters(values);
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
