package io.mfserve.server.inject;

import io.mfserve.solver.ParameterSpec;
import io.mfserve.solver.Solver;
import io.mfserve.solver.SolverConfig;
import io.mfserve.solver.SolverProvider;
import java.util.List;

/**
 * A provider that uses nothing but the SPI and the JDK, so that its class file alone makes an
 * isolated plugin: {@link SolverModuleTest} copies it into a plugin directory.
 */
public final class IsolatedTestProvider implements SolverProvider {
  /** Called by ServiceLoader. */
  public IsolatedTestProvider() {
  }

  @Override
  public String name() {
    return "isolated";
  }

  @Override
  public String description() {
    return "a provider loaded in a plugin directory's own class loader";
  }

  @Override
  public List<ParameterSpec> parameters() {
    return List.of();
  }

  @Override
  public Solver create(SolverConfig config) {
    throw new UnsupportedOperationException("never fits");
  }
}
