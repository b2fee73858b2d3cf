package io.mfserve.solver.als;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

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
    assertFalse(defaults.getBool(AlsSolverProvider.BIASES));
    assertEquals(1.0, defaults.getDouble(AlsSolverProvider.ALPHA));
    assertEquals("linear", defaults.getChoice(AlsSolverProvider.CONFIDENCE));
    assertEquals("auto", defaults.getChoice(AlsSolverProvider.IMPLICIT_SOLVER));
    assertEquals(3, defaults.getInt(AlsSolverProvider.CG_STEPS));
    assertFalse(defaults.getBool(AlsSolverProvider.NONNEGATIVE));
    assertEquals(0, defaults.getInt(AlsSolverProvider.EARLY_STOPPING_ROUNDS));
    assertEquals(12, defaults.asText().size());
    assertEquals(Set.of(AbsentEntries.UNKNOWN, AbsentEntries.IMPLICIT),
        new AlsSolverProvider().supportedAbsentEntries());
    assertTrue(new AlsSolverProvider().description().contains("Zhou"));
  }

  @ParameterizedTest(name = "{0} at rank {1}")
  @CsvSource({"cholesky, 128, true", "cg, 2, false", "auto, 1, true", "auto, 23, true",
      "auto, 95, true", "auto, 96, false", "auto, 128, false"})
  void exactImplicitSolve_choiceAndRank_picksCholeskyOnlyWhereMeant(String choice, int rank,
      boolean exact) {
    // The tests run with the Vector API module (solvers/als/pom.xml), so auto's threshold is
    // the vector kernels' one.
    assertEquals(AlsSolverProvider.AUTO_CG_MIN_RANK_VECTOR, AlsSolverProvider.autoCgMinRank());
    assertEquals(exact, AlsSolverProvider.exactImplicitSolve(choice, rank));
  }

  @Test
  void parameters_negativeRegularization_rejectedNamingIt() {
    InvalidParameterException e = assertThrows(InvalidParameterException.class,
        () -> Parameters.resolve(new AlsSolverProvider().parameters(),
            Map.of(ParameterSpec.REGULARIZATION, "-1")));

    assertEquals(ParameterSpec.REGULARIZATION, e.parameter());
  }

  @ParameterizedTest(name = "{0}={1}")
  @CsvSource({"alpha, -1", "regularization, -0.5", "max_iterations, 0", "cg_steps, 0",
      "epsilon, 0", "implicit_solver, lu", "confidence, exp", "early_stopping_rounds, -1",
      "bias_regularization, -1"})
  void parameters_outOfRange_rejectedNamingIt(String name, String value) {
    InvalidParameterException e = assertThrows(InvalidParameterException.class,
        () -> Parameters.resolve(new AlsSolverProvider().parameters(), Map.of(name, value)));

    assertEquals(name, e.parameter());
  }

  @Test
  void estimateWorkingBytes_implicitAndEarlyStopping_larger() {
    AlsSolverProvider provider = new AlsSolverProvider();
    Parameters plain = Parameters.resolve(provider.parameters(), Map.of());
    Parameters early = Parameters.resolve(provider.parameters(),
        Map.of(AlsSolverProvider.EARLY_STOPPING_ROUNDS, "2"));
    Parameters log = Parameters.resolve(provider.parameters(),
        Map.of(AlsSolverProvider.CONFIDENCE, "log"));

    long explicit = provider.estimateWorkingBytes(1000, 1000, 10_000,
        new SolverConfig(5, 1, AbsentEntries.UNKNOWN, plain));
    long implicit = provider.estimateWorkingBytes(1000, 1000, 10_000,
        new SolverConfig(5, 1, AbsentEntries.IMPLICIT, plain));
    long implicitLog = provider.estimateWorkingBytes(1000, 1000, 10_000,
        new SolverConfig(5, 1, AbsentEntries.IMPLICIT, log));
    long stopping = provider.estimateWorkingBytes(1000, 1000, 10_000,
        new SolverConfig(5, 1, AbsentEntries.UNKNOWN, early));

    // YᵀY's partial sums; the log confidences' table, two floats per entry, on top.
    assertTrue(implicit > explicit);
    assertEquals(implicit + 2 * 10_000 * Float.BYTES, implicitLog);
    assertTrue(stopping > explicit);
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
