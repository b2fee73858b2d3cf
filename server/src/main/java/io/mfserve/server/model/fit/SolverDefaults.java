package io.mfserve.server.model.fit;

import io.mfserve.solver.InvalidParameterException;
import io.mfserve.solver.ParameterSpec;
import io.mfserve.solver.SolverProvider;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The operator's launch-time defaults of solver parameters ({@code --solver-default
 * SOLVER.PARAM=VALUE}, repeatable): where a plugin's settings belong to the deployment rather
 * than to each request (a Spark master and its settings, a thread count), they are given once
 * when the server starts. A fit that leaves the parameter unset gets the operator's value; a
 * fit that sets it overrides it. The server learns nothing of any solver to do this: a default
 * replaces the declared one ({@link ParameterSpec#withDefault}), checked against the solver's
 * declaration when the server starts, and {@code ListSolvers} shows it. Immutable.
 */
public final class SolverDefaults {
  /** The flag the defaults come from, named in every message. */
  public static final String FLAG = "--solver-default";

  private static final SolverDefaults NONE = new SolverDefaults(Map.of());

  private final Map<String, Map<String, String>> bySolver;

  private SolverDefaults(Map<String, Map<String, String>> bySolver) {
    this.bySolver = bySolver;
  }

  /** No launch-time defaults: every solver keeps its declared ones. */
  public static SolverDefaults none() {
    return NONE;
  }

  /**
   * Parses {@code SOLVER.PARAM=VALUE} entries. The solver name is what precedes the first dot,
   * the value everything after the first {@code =} (it may hold dots and {@code =} itself).
   *
   * @throws IllegalArgumentException naming {@value #FLAG} for an entry of another shape or a
   *     parameter given twice
   */
  public static SolverDefaults parse(List<String> entries) {
    Map<String, Map<String, String>> map = new LinkedHashMap<>();
    for (String entry : entries) {
      int eq = entry.indexOf('=');
      int dot = entry.indexOf('.');
      if (eq < 0 || dot <= 0 || dot > eq - 2) {
        throw new IllegalArgumentException(FLAG + " '" + entry + "' must look like"
            + " SOLVER.PARAM=VALUE, e.g. spark-als.master=spark://host:7077");
      }
      String solver = entry.substring(0, dot).trim();
      String param = entry.substring(dot + 1, eq).trim();
      String old = map.computeIfAbsent(solver, s -> new LinkedHashMap<>())
          .put(param, entry.substring(eq + 1));
      if (old != null) {
        throw new IllegalArgumentException(FLAG + " gives " + solver + "." + param
            + " twice; give each parameter once");
      }
    }
    return map.isEmpty() ? NONE : new SolverDefaults(Collections.unmodifiableMap(map));
  }

  /** Returns whether no default is set. */
  public boolean isEmpty() {
    return bySolver.isEmpty();
  }

  /**
   * Returns the providers with the defaults applied: each provider named by an entry is
   * wrapped so that its declared parameters carry the new defaults; the others are returned
   * as they are.
   *
   * @throws IllegalArgumentException naming {@value #FLAG} for a solver that is not among
   *     {@code providers}, a parameter it does not declare, or a value its declaration refuses
   */
  public List<SolverProvider> apply(List<SolverProvider> providers) {
    Map<String, SolverProvider> byName = new LinkedHashMap<>();
    for (SolverProvider p : providers) {
      byName.putIfAbsent(p.name(), p);
    }
    for (String solver : bySolver.keySet()) {
      if (!byName.containsKey(solver)) {
        throw new IllegalArgumentException(FLAG + " names solver '" + solver + "', which this"
            + " server does not have; it has " + String.join(", ",
                new TreeSet<>(byName.keySet())) + " (is its plugin in --plugins-dir?)");
      }
    }
    List<SolverProvider> out = new ArrayList<>(providers.size());
    for (SolverProvider p : providers) {
      Map<String, String> given = bySolver.get(p.name());
      out.add(given == null ? p
          : new DefaultedSolverProvider(p, withDefaults(p, given), given.keySet()));
    }
    return out;
  }

  private static List<ParameterSpec> withDefaults(SolverProvider p, Map<String, String> given) {
    Map<String, String> left = new LinkedHashMap<>(given);
    List<ParameterSpec> specs = new ArrayList<>();
    for (ParameterSpec spec : p.parameters()) {
      String text = left.remove(spec.name());
      try {
        specs.add(text == null ? spec : spec.withDefault(text));
      } catch (InvalidParameterException e) {
        throw new IllegalArgumentException(FLAG + " " + p.name() + "." + spec.name() + ": "
            + e.getMessage(), e);
      }
    }
    if (!left.isEmpty()) {
      TreeSet<String> known = new TreeSet<>();
      p.parameters().forEach(s -> known.add(s.name()));
      throw new IllegalArgumentException(FLAG + " names parameter '" + left.keySet().iterator()
          .next() + "' of solver '" + p.name() + "', which it does not declare; it takes "
          + String.join(", ", known));
    }
    return List.copyOf(specs);
  }

  /**
   * Returns the class loader of the plugin behind {@code provider}, seeing through the wrapper
   * that carries launch-time defaults: the loader a fit runs under is the plugin's own.
   */
  public static ClassLoader pluginLoader(SolverProvider provider) {
    SolverProvider p = provider instanceof DefaultedSolverProvider d ? d.delegate() : provider;
    return p.getClass().getClassLoader();
  }

  @Override
  public String toString() {
    return bySolver.toString();
  }
}
