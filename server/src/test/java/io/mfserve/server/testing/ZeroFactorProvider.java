package io.mfserve.server.testing;

import io.mfserve.solver.FactorModel;
import io.mfserve.solver.ParameterSpec;
import io.mfserve.solver.Solver;
import io.mfserve.solver.SolverConfig;
import io.mfserve.solver.SolverProvider;
import java.util.List;

/**
 * A solver that takes no parameters and returns all-zero factors without biases: for tests of
 * registration and discovery, where what the solver computes does not matter. Stateless and
 * thread-safe. Not final, so a test can subclass it with the public no-argument constructor a
 * {@link java.util.ServiceLoader} services file needs.
 */
public class ZeroFactorProvider implements SolverProvider {
  private final String name;
  private final String description;

  /** Creates a provider registered under {@code name}. */
  public ZeroFactorProvider(String name, String description) {
    this.name = name;
    this.description = description;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public String description() {
    return description;
  }

  @Override
  public List<ParameterSpec> parameters() {
    return List.of();
  }

  @Override
  public Solver create(SolverConfig config) {
    return (data, context) -> new FactorModel(data.rows(), data.cols(), config.numFactors(),
        new float[data.rows() * config.numFactors()],
        new float[data.cols() * config.numFactors()], null, List.of());
  }
}
