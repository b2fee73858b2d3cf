package io.mfserve.solver.als;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mfserve.solver.AbsentEntries;
import io.mfserve.solver.InvalidParameterException;
import io.mfserve.solver.ParameterSpec;
import io.mfserve.solver.Parameters;
import io.mfserve.solver.SolverConfig;
import io.mfserve.solver.SolverProvider;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class AlsSolverProviderTest {
  @Test
  void serviceLoader_classpath_findsAls() {
    Set<String> names = ServiceLoader.load(SolverProvider.class).stream()
        .map(p -> p.get().name())
        .collect(Collectors.toSet());

    assertTrue(names.contains("als"), "found " + names);
  }

  @Test
  void parameters_declared_namesAndDefaults() {
    Parameters defaults = Parameters.resolve(new AlsSolverProvider().parameters(), Map.of());

    assertEquals(10, defaults.getInt(ParameterSpec.MAX_ITERATIONS));
    assertEquals(0.1, defaults.getDouble(ParameterSpec.REGULARIZATION));
    assertTrue(defaults.getBool(AlsSolverProvider.WEIGHTED_LAMBDA));
    assertEquals(3, defaults.asText().size());
    assertEquals(Set.of(AbsentEntries.UNKNOWN), new AlsSolverProvider().supportedAbsentEntries());
    assertTrue(new AlsSolverProvider().description().contains("Zhou"));
  }

  @Test
  void parameters_negativeRegularization_rejectedNamingIt() {
    InvalidParameterException e = assertThrows(InvalidParameterException.class,
        () -> Parameters.resolve(new AlsSolverProvider().parameters(),
            Map.of(ParameterSpec.REGULARIZATION, "-1")));

    assertEquals(ParameterSpec.REGULARIZATION, e.parameter());
  }

  @Test
  void estimateWorkingBytes_largerRank_larger() {
    AlsSolverProvider provider = new AlsSolverProvider();
    Parameters p = Parameters.resolve(provider.parameters(), Map.of());

    long small = provider.estimateWorkingBytes(1000, 1000, 10_000,
        new SolverConfig(5, 1, AbsentEntries.UNKNOWN, p));
    long large = provider.estimateWorkingBytes(1000, 1000, 10_000,
        new SolverConfig(50, 1, AbsentEntries.UNKNOWN, p));

    assertTrue(small > 0 && large > small);
  }
}
