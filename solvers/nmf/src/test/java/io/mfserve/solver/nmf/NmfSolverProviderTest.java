package io.mfserve.solver.nmf;

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

class NmfSolverProviderTest {
  private final NmfSolverProvider provider = new NmfSolverProvider();

  @Test
  void serviceLoader_onClasspath_findsNmf() {
    List<String> names = ServiceLoader.load(SolverProvider.class).stream()
        .map(p -> p.get().name()).toList();
    assertTrue(names.contains("nmf"), () -> "found " + names);
  }

  @Test
  void parameters_declared_haveCommonNamesAndDefaults() {
    Parameters p = Parameters.resolve(provider.parameters(), Map.of());
    assertEquals(200, p.getInt(ParameterSpec.MAX_ITERATIONS));
    assertEquals(0.0, p.getDouble(ParameterSpec.REGULARIZATION));
    assertEquals("auto", p.getChoice(NmfSolverProvider.METHOD));
    assertEquals(1e-4, p.getDouble(NmfSolverProvider.TOLERANCE));
    assertEquals("frobenius", p.getChoice(NmfSolverProvider.LOSS));
    assertEquals("auto", p.getChoice(NmfSolverProvider.INIT));
    assertEquals(0.0, p.getDouble(NmfSolverProvider.ALPHA_W));
    assertEquals(0.0, p.getDouble(NmfSolverProvider.ALPHA_H));
    assertEquals(0.0, p.getDouble(NmfSolverProvider.L1_RATIO));
    assertEquals(0, p.getInt(NmfSolverProvider.INNER_SWEEPS));
    assertEquals(List.of("auto", "hals", "mu"), provider.parameters().get(2).choices());
  }

  @Test
  void parameters_outOfRange_rejectedNamingParameter() {
    InvalidParameterException e = assertThrows(InvalidParameterException.class,
        () -> Parameters.resolve(provider.parameters(), Map.of("method", "als")));
    assertEquals("method", e.parameter());
    e = assertThrows(InvalidParameterException.class,
        () -> Parameters.resolve(provider.parameters(), Map.of("regularization", "-1")));
    assertEquals("regularization", e.parameter());
    e = assertThrows(InvalidParameterException.class,
        () -> Parameters.resolve(provider.parameters(), Map.of("loss", "itakura-saito")));
    assertEquals("loss", e.parameter());
    e = assertThrows(InvalidParameterException.class,
        () -> Parameters.resolve(provider.parameters(), Map.of("l1_ratio", "1.5")));
    assertEquals("l1_ratio", e.parameter());
    e = assertThrows(InvalidParameterException.class,
        () -> Parameters.resolve(provider.parameters(), Map.of("init", "svd")));
    assertEquals("init", e.parameter());
  }

  @Test
  void create_klWithHals_throwsNamingMethod() {
    SolverConfig config = new SolverConfig(2, 1, AbsentEntries.ZERO,
        Parameters.resolve(provider.parameters(), Map.of("loss", "kl", "method", "hals")));
    InvalidParameterException e =
        assertThrows(InvalidParameterException.class, () -> provider.create(config));
    assertEquals("method", e.parameter());
    // auto and mu are fine with kl.
    provider.create(new SolverConfig(2, 1, AbsentEntries.ZERO,
        Parameters.resolve(provider.parameters(), Map.of("loss", "kl"))));
    provider.create(new SolverConfig(2, 1, AbsentEntries.ZERO,
        Parameters.resolve(provider.parameters(), Map.of("loss", "kl", "method", "mu"))));
  }

  @Test
  void absentEntries_supported_zeroDefaultAndUnknown() {
    assertEquals(AbsentEntries.ZERO, provider.defaultAbsentEntries());
    assertEquals(Set.of(AbsentEntries.ZERO, AbsentEntries.UNKNOWN),
        provider.supportedAbsentEntries());
    assertTrue(provider.description().contains("Lee & Seung 2001"));
    assertTrue(provider.description().contains("Cichocki & Phan 2009"));
  }

  @Test
  void create_implicit_throwsNamingAbsentEntries() {
    SolverConfig config = new SolverConfig(2, 1, AbsentEntries.IMPLICIT,
        Parameters.resolve(provider.parameters(), Map.of()));
    InvalidParameterException e =
        assertThrows(InvalidParameterException.class, () -> provider.create(config));
    assertEquals("absent_entries", e.parameter());
  }

  @Test
  void estimateWorkingBytes_randomStart_independentOfNnzAndGrowsWithRank() {
    Parameters p = Parameters.resolve(provider.parameters(),
        Map.of("init", "random", "extrapolate", "false"));
    long k10 = provider.estimateWorkingBytes(1_000_000, 100_000, 50_000_000L,
        new SolverConfig(10, 1, AbsentEntries.ZERO, p));
    long k10fewer = provider.estimateWorkingBytes(1_000_000, 100_000, 1_000L,
        new SolverConfig(10, 1, AbsentEntries.ZERO, p));
    long k100 = provider.estimateWorkingBytes(1_000_000, 100_000, 50_000_000L,
        new SolverConfig(100, 1, AbsentEntries.ZERO, p));
    assertEquals(k10, k10fewer);
    assertTrue(k100 > k10 && k100 < 64L << 20, () -> "k=100 estimate " + k100);
  }

  @Test
  void estimateWorkingBytes_extrapolation_addsTwoCopiesOfTheFactors() {
    Parameters off = Parameters.resolve(provider.parameters(),
        Map.of("init", "random", "extrapolate", "false"));
    Parameters on = Parameters.resolve(provider.parameters(), Map.of("init", "random"));
    long without = provider.estimateWorkingBytes(1_000_000, 100_000, 50_000_000L,
        new SolverConfig(10, 1, AbsentEntries.ZERO, off));
    long with = provider.estimateWorkingBytes(1_000_000, 100_000, 50_000_000L,
        new SolverConfig(10, 1, AbsentEntries.ZERO, on));
    assertEquals(2L * 1_100_000 * 10 * Float.BYTES, with - without);
    // Ratings (absent entries unknown) do not extrapolate.
    assertEquals(without, provider.estimateWorkingBytes(1_000_000, 100_000, 50_000_000L,
        new SolverConfig(10, 1, AbsentEntries.UNKNOWN, on)));
  }

  @Test
  void estimateWorkingBytes_svdStart_coversTheBasesOfBothSides() {
    long rows = 1_000_000;
    long cols = 100_000;
    Parameters svd = Parameters.resolve(provider.parameters(),
        Map.of("init", "nndsvda", "extrapolate", "false"));
    Parameters random = Parameters.resolve(provider.parameters(),
        Map.of("init", "random", "extrapolate", "false"));
    long withSvd = provider.estimateWorkingBytes((int) rows, (int) cols, 50_000_000L,
        new SolverConfig(10, 1, AbsentEntries.ZERO, svd));
    long without = provider.estimateWorkingBytes((int) rows, (int) cols, 50_000_000L,
        new SolverConfig(10, 1, AbsentEntries.ZERO, random));
    assertTrue(withSvd - without >= (rows + cols) * 20 * Float.BYTES,
        () -> "svd start estimate " + withSvd + " vs " + without);
    // auto means random for ratings: no SVD buffers.
    Parameters auto = Parameters.resolve(provider.parameters(), Map.of());
    assertEquals(without, provider.estimateWorkingBytes((int) rows, (int) cols, 50_000_000L,
        new SolverConfig(10, 1, AbsentEntries.UNKNOWN, auto)));
  }
}
