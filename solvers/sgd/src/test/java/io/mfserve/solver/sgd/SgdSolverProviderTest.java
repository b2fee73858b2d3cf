package io.mfserve.solver.sgd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mfserve.solver.AbsentEntries;
import io.mfserve.solver.InvalidParameterException;
import io.mfserve.solver.ParameterSpec;
import io.mfserve.solver.Parameters;
import io.mfserve.solver.SolverConfig;
import io.mfserve.solver.SolverProvider;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SgdSolverProviderTest {
  private final SgdSolverProvider provider = new SgdSolverProvider();

  @Test
  void serviceLoader_classpath_findsProviderNamedSgd() {
    List<SolverProvider> found = ServiceLoader.load(SolverProvider.class).stream()
        .map(ServiceLoader.Provider::get)
        .filter(p -> p.name().equals("sgd"))
        .toList();
    assertEquals(1, found.size());
    assertTrue(found.get(0) instanceof SgdSolverProvider);
  }

  @Test
  void provider_metadata_citesPapersAndDeclaresCommonParameters() {
    assertTrue(provider.description().contains("Koren"), provider.description());
    assertTrue(provider.description().contains("Funk"), provider.description());
    List<String> names = provider.parameters().stream().map(ParameterSpec::name).toList();
    assertEquals(List.of(ParameterSpec.MAX_ITERATIONS, ParameterSpec.REGULARIZATION,
        ParameterSpec.LEARNING_RATE, "bias_regularization", "init_std", "learning_rate_decay"),
        names);
    assertEquals(Set.of(AbsentEntries.UNKNOWN), provider.supportedAbsentEntries());
    assertEquals(AbsentEntries.UNKNOWN, provider.defaultAbsentEntries());
  }

  @Test
  void resolve_noValues_givesDefaults() {
    Parameters p = Parameters.resolve(provider.parameters(), Map.of());
    assertEquals(20, p.getInt(ParameterSpec.MAX_ITERATIONS));
    assertEquals(0.01, p.getDouble(ParameterSpec.LEARNING_RATE));
    assertEquals(0.05, p.getDouble(ParameterSpec.REGULARIZATION));
    double decay = p.getDouble("learning_rate_decay");
    assertTrue(decay > 0 && decay <= 1, "decay " + decay);
    assertEquals(0.1, p.getDouble("init_std"));
  }

  @Test
  void resolve_badParameterText_namesTheParameter() {
    for (Map<String, String> bad : List.of(Map.of("learning_rate", "0"),
        Map.of("learning_rate", "11"), Map.of("regularization", "-0.1"),
        Map.of("init_std", "abc"), Map.of("learning_rate_decay", "1.5"),
        Map.of("learning_rate_decay", "0"), Map.of("max_iterations", "0"))) {
      InvalidParameterException e = assertThrows(InvalidParameterException.class,
          () -> Parameters.resolve(provider.parameters(), bad));
      String name = bad.keySet().iterator().next();
      assertEquals(name, e.parameter());
      assertTrue(e.getMessage().contains(name), e.getMessage());
    }
  }

  @Test
  void estimateWorkingBytes_growsWithEntries() {
    SolverConfig config = new SolverConfig(8, 1, AbsentEntries.UNKNOWN,
        Parameters.resolve(provider.parameters(), Map.of()));
    assertEquals(12L * 1_000_000, provider.estimateWorkingBytes(100, 200, 1_000_000, config));
  }
}
