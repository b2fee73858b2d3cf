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
        ParameterSpec.LEARNING_RATE, "bias_regularization", "init_std", "learning_rate_decay",
        "schedule", "loss", "parallel", "blocks", "early_stopping_rounds", "model",
        "implicit_regularization"), names);
    assertEquals(Set.of(AbsentEntries.UNKNOWN, AbsentEntries.IMPLICIT),
        provider.supportedAbsentEntries());
    assertEquals(AbsentEntries.UNKNOWN, provider.defaultAbsentEntries());
  }

  @Test
  void resolve_noValues_givesDefaults() {
    Parameters p = Parameters.resolve(provider.parameters(), Map.of());
    assertEquals(20, p.getInt(ParameterSpec.MAX_ITERATIONS));
    assertEquals(0.1, p.getDouble(ParameterSpec.LEARNING_RATE));
    assertEquals(0.1, p.getDouble(ParameterSpec.REGULARIZATION));
    assertEquals(1.0, p.getDouble("learning_rate_decay"));
    assertEquals(0.1, p.getDouble("init_std"));
    assertEquals("adagrad", p.getChoice("schedule"));
    assertEquals("auto", p.getChoice("loss"));
    assertEquals("blocks", p.getChoice("parallel"));
    assertEquals(0, p.getInt("blocks"));
    assertEquals(0, p.getInt("early_stopping_rounds"));
    assertEquals("biased", p.getChoice("model"));
    assertEquals(1.0, p.getDouble("implicit_regularization"));
  }

  @Test
  void resolve_badParameterText_namesTheParameter() {
    for (Map<String, String> bad : List.of(Map.of("learning_rate", "0"),
        Map.of("learning_rate", "101"), Map.of("regularization", "-0.1"),
        Map.of("init_std", "abc"), Map.of("learning_rate_decay", "1.5"),
        Map.of("learning_rate_decay", "0"), Map.of("max_iterations", "0"),
        Map.of("schedule", "adam"), Map.of("loss", "hinge"), Map.of("parallel", "gpu"),
        Map.of("blocks", "-1"), Map.of("blocks", "1025"),
        Map.of("early_stopping_rounds", "-1"), Map.of("model", "timesvd"),
        Map.of("implicit_regularization", "-1"))) {
      InvalidParameterException e = assertThrows(InvalidParameterException.class,
          () -> Parameters.resolve(provider.parameters(), bad));
      String name = bad.keySet().iterator().next();
      assertEquals(name, e.parameter());
      assertTrue(e.getMessage().contains(name), e.getMessage());
    }
  }

  @Test
  void create_lossThatDoesNotSuitAbsentEntries_throwsNamingLoss() {
    for (Map.Entry<String, AbsentEntries> bad : List.of(
        Map.entry("bpr", AbsentEntries.UNKNOWN), Map.entry("squared", AbsentEntries.IMPLICIT))) {
      SolverConfig config = new SolverConfig(2, 1, bad.getValue(),
          Parameters.resolve(provider.parameters(), Map.of("loss", bad.getKey())));
      InvalidParameterException e = assertThrows(InvalidParameterException.class,
          () -> provider.create(config));
      assertEquals("loss", e.parameter());
    }
  }

  @Test
  void estimateWorkingBytes_entriesStateAndEarlyStoppingCopy_areCounted() {
    SolverConfig plain = new SolverConfig(8, 1, AbsentEntries.UNKNOWN,
        Parameters.resolve(provider.parameters(), Map.of()));
    SolverConfig early = new SolverConfig(8, 1, AbsentEntries.UNKNOWN,
        Parameters.resolve(provider.parameters(), Map.of("early_stopping_rounds", "3")));
    long state = (100L + 200) * (8 + 3) * Float.BYTES;
    long small = provider.estimateWorkingBytes(100, 200, 1_000, plain);
    long large = provider.estimateWorkingBytes(100, 200, 1_000_000, plain);
    // 12 bytes per entry (row, column, value), plus the working factors and accumulators.
    assertEquals(12L * 999_000, large - small);
    assertTrue(small >= 12L * 1_000 + state, "estimate " + small);
    assertEquals(state, provider.estimateWorkingBytes(100, 200, 1_000, early) - small);
    // SVD++ adds y (k + 1 floats per item), z (k per user) and the user index and order.
    SolverConfig svdpp = new SolverConfig(8, 1, AbsentEntries.UNKNOWN,
        Parameters.resolve(provider.parameters(), Map.of("model", "svdpp")));
    long implicit = (200L * (8 + 1) + 100L * 8) * Float.BYTES;
    // Its grid is one block instead of nb × nb: (nb² + nb + 2) block bounds become 4.
    int nb = SgdSolver.gridSize(0, Runtime.getRuntime().availableProcessors());
    long bounds = ((long) nb * nb + nb + 2 - 4) * Integer.BYTES;
    assertEquals(implicit + 2L * 101 * Integer.BYTES - bounds,
        provider.estimateWorkingBytes(100, 200, 1_000, svdpp) - small);
  }
}
