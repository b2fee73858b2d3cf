package io.mfserve.server.model.fit;

import io.mfserve.server.model.errors.InvalidRequestException;
import io.mfserve.solver.SolverProvider;
import jakarta.inject.Inject;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The solvers this server can train with, by their stable names. Built once at start-up from
 * what {@link java.util.ServiceLoader} found; immutable.
 */
public final class SolverRegistry {
  private final Map<String, SolverProvider> byName;

  /** Wraps the providers found at start-up, keyed by {@link SolverProvider#name()}. */
  @Inject
  public SolverRegistry(Map<String, SolverProvider> providers) {
    this.byName = new TreeMap<>(providers);
  }

  /**
   * Returns the solver of that name.
   *
   * @throws InvalidRequestException for field {@code solver}, listing the names there are
   */
  public SolverProvider get(String name) {
    SolverProvider p = byName.get(name);
    if (p == null) {
      throw new InvalidRequestException("solver", "unknown solver '" + name + "'; this server has "
          + (byName.isEmpty() ? "none" : String.join(", ", byName.keySet()))
          + " (ListSolvers describes them)");
    }
    return p;
  }

  /** Returns every solver, by name. */
  public List<SolverProvider> all() {
    return List.copyOf(byName.values());
  }

  /** Returns whether no solver was found. */
  public boolean isEmpty() {
    return byName.isEmpty();
  }
}
