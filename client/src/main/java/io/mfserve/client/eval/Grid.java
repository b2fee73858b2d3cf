package io.mfserve.client.eval;

import io.mfserve.proto.v1.FitRequest;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * A parameter grid for a search, like scikit-learn's {@code ParameterGrid} and Surprise's
 * {@code GridSearchCV(param_grid=...)}: each name takes a list of values, and the settings are
 * the cartesian product, the first name varying slowest.
 *
 * <p>The text form is whitespace-separated tokens {@code NAME=V1,V2,...}, for example {@code
 * "regularization=0.01,0.05,0.1 factors=10,20,50"}. A name is a fit option — {@code solver},
 * {@code factors} (or {@code num_factors}), {@code iterations} (or {@code max_iterations}),
 * {@code regularization}, {@code learning_rate} (or {@code learning-rate}), {@code seed} — or
 * else any solver parameter name, sent in {@code FitRequest.params} for the server to check.
 * Fit-option values are checked here (integers, numbers); a parse error names the token.
 *
 * <p>Immutable and thread-safe.
 */
public final class Grid {
  private static final Pattern NAME = Pattern.compile("[A-Za-z][A-Za-z0-9_.-]*");
  private static final Pattern WHITESPACE = Pattern.compile("\\s+");

  private final List<String> names;
  private final List<List<String>> values;

  private Grid(List<String> names, List<List<String>> values) {
    this.names = List.copyOf(names);
    List<List<String>> v = new ArrayList<>();
    values.forEach(l -> v.add(List.copyOf(l)));
    this.values = Collections.unmodifiableList(v);
  }

  /**
   * The grid with no names: one setting, the base fit unchanged.
   *
   * @return the empty grid
   */
  public static Grid none() {
    return new Grid(List.of(), List.of());
  }

  /**
   * Parses grid text; several texts are read as one, in order.
   *
   * @param specs texts of whitespace-separated {@code NAME=V1,V2,...} tokens
   * @return the grid; {@link #none()} when there are no tokens at all
   * @throws IllegalArgumentException naming the bad token: no {@code =}, an empty or malformed
   *     name, no values, an empty value, a value of the wrong type, a repeated name, or a name
   *     that cannot vary ({@code absent})
   */
  public static Grid parse(List<String> specs) {
    List<String> names = new ArrayList<>();
    List<String> canonical = new ArrayList<>();
    List<List<String>> values = new ArrayList<>();
    for (String spec : specs) {
      for (String token : WHITESPACE.split(spec.strip())) {
        if (token.isEmpty()) {
          continue;
        }
        int eq = token.indexOf('=');
        if (eq < 0) {
          throw bad(token, "expected NAME=V1,V2,... (e.g. factors=10,20)");
        }
        String name = token.substring(0, eq);
        if (!NAME.matcher(name).matches()) {
          throw bad(token, name.isEmpty() ? "the name is empty"
              : "'" + name + "' is not a parameter name");
        }
        String c = canonical(name);
        if (c.equals("absent") || c.equals("absent_entries")) {
          throw bad(token, "what absent entries mean decides the metrics; set it with --absent");
        }
        if (canonical.contains(c)) {
          throw bad(token, "'" + name + "' is already in the grid");
        }
        String list = token.substring(eq + 1);
        if (list.isEmpty()) {
          throw bad(token, "no values after '='");
        }
        List<String> vs = new ArrayList<>();
        for (String v : list.split(",", -1)) {
          if (v.isEmpty()) {
            throw bad(token, "an empty value (two commas, or a comma at an end)");
          }
          check(token, c, v);
          if (!vs.contains(v)) {
            vs.add(v);
          }
        }
        names.add(name);
        canonical.add(c);
        values.add(vs);
      }
    }
    return new Grid(names, values);
  }

  /**
   * The names, in the order given.
   *
   * @return the names as written
   */
  public List<String> names() {
    return names;
  }

  /**
   * Whether the grid has no names (a single setting: the base fit).
   *
   * @return true when empty
   */
  public boolean isEmpty() {
    return names.isEmpty();
  }

  /**
   * Every setting: the cartesian product of the values, the first name varying slowest. The
   * empty grid has one, empty, setting.
   *
   * @return the settings, each a map from name (as written) to value, in name order
   */
  public List<Map<String, String>> settings() {
    List<Map<String, String>> out = new ArrayList<>();
    out.add(new LinkedHashMap<>());
    for (int n = 0; n < names.size(); n++) {
      List<Map<String, String>> next = new ArrayList<>();
      for (Map<String, String> partial : out) {
        for (String v : values.get(n)) {
          Map<String, String> s = new LinkedHashMap<>(partial);
          s.put(names.get(n), v);
          next.add(s);
        }
      }
      out = next;
    }
    List<Map<String, String>> frozen = new ArrayList<>(out.size());
    out.forEach(m -> frozen.add(Collections.unmodifiableMap(m)));
    return Collections.unmodifiableList(frozen);
  }

  /**
   * Sets one setting's values on a fit request: fit options on their fields, any other name
   * in {@code params}. Values override what the builder had.
   *
   * @param setting names (as accepted by {@link #parse}) and values
   * @param fit the request to change
   * @return the same builder
   * @throws IllegalArgumentException if a fit-option value does not parse
   */
  public static FitRequest.Builder apply(Map<String, String> setting, FitRequest.Builder fit) {
    for (Map.Entry<String, String> e : setting.entrySet()) {
      String v = e.getValue();
      switch (canonical(e.getKey())) {
        case "solver" -> fit.setSolver(v);
        case "factors" -> fit.setNumFactors(Integer.parseInt(v));
        case "iterations" -> fit.setMaxIterations(Integer.parseInt(v));
        case "regularization" -> fit.setRegularization(Double.parseDouble(v));
        case "learning_rate" -> fit.setLearningRate(Double.parseDouble(v));
        case "seed" -> fit.setSeed(Long.parseUnsignedLong(v));
        default -> fit.putParams(e.getKey(), v);
      }
    }
    return fit;
  }

  /** The fit option a name stands for, or the name itself for a solver parameter. */
  static String canonical(String name) {
    String n = name.toLowerCase(Locale.ROOT).replace('-', '_');
    return switch (n) {
      case "factors", "num_factors", "rank" -> "factors";
      case "iterations", "max_iterations" -> "iterations";
      case "regularization" -> "regularization";
      case "learning_rate" -> "learning_rate";
      case "solver", "seed" -> n;
      default -> name;
    };
  }

  private static void check(String token, String canonical, String v) {
    switch (canonical) {
      case "factors", "iterations" -> {
        try {
          Integer.parseInt(v);
        } catch (NumberFormatException e) {
          throw bad(token, "'" + v + "' is not an integer");
        }
      }
      case "regularization", "learning_rate" -> {
        try {
          if (!Double.isFinite(Double.parseDouble(v))) {
            throw new NumberFormatException();
          }
        } catch (NumberFormatException e) {
          throw bad(token, "'" + v + "' is not a finite number");
        }
      }
      case "seed" -> {
        try {
          Long.parseUnsignedLong(v);
        } catch (NumberFormatException e) {
          throw bad(token, "'" + v + "' is not an integer between 0 and 2^64-1");
        }
      }
      default -> { }
    }
  }

  private static IllegalArgumentException bad(String token, String why) {
    return new IllegalArgumentException("grid token '" + token + "': " + why);
  }
}
