package io.mfserve.solver.nmf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mfserve.solver.AbsentEntries;
import io.mfserve.solver.FactorModel;
import io.mfserve.solver.TrainingMatrix;
import io.mfserve.solver.WarmStart;
import io.mfserve.solver.testing.SyntheticData;
import io.mfserve.solver.testing.TestFitContext;
import io.mfserve.solver.testing.WarmStarts;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ForkJoinPool;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** NMF fits that start from an earlier model ({@link io.mfserve.solver.FitContext#warmStart}). */
class NmfWarmStartTest {
  private static final int K = 3;

  /** One of the solver's modes: its data and parameters (key-value pairs). */
  private record Mode(String name, TrainingMatrix data, String... params) { }

  private static Mode mode(String name) {
    SyntheticData truth = SyntheticData.lowRank(60, 50, K, true, 0, 0.05, 7);
    return switch (name) {
      // Weighted HALS over the observed entries (ratings).
      case "hals-ratings" -> new Mode(name,
          truth.sample(0.4, 0, AbsentEntries.UNKNOWN, 11).train());
      // HALS with extrapolation where absent entries are zeros (counts).
      case "hals-counts" -> new Mode(name, truth.sample(0.4, 0, AbsentEntries.ZERO, 11).train());
      case "mu-counts" -> new Mode(name, truth.sample(0.4, 0, AbsentEntries.ZERO, 11).train(),
          "method", "mu");
      case "kl-counts" -> new Mode(name, truth.sample(0.4, 0, AbsentEntries.ZERO, 11).train(),
          "loss", "kl");
      default -> throw new AssertionError(name);
    };
  }

  private static FactorModel fit(TrainingMatrix data, String[] params, int iterations,
      long seed, WarmStart warm, String... more) {
    List<String> kv = new ArrayList<>(List.of(params));
    kv.addAll(List.of("max_iterations", Integer.toString(iterations), "tolerance", "0"));
    kv.addAll(List.of(more));
    try (TestFitContext context = new TestFitContext(2).withWarmStart(warm)) {
      return NmfFits.fit(data, K, seed, context, kv.toArray(String[]::new));
    }
  }

  private static double loss(FactorModel model) {
    return model.history().get(model.iterations() - 1).loss();
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"hals-ratings", "hals-counts", "mu-counts", "kl-counts"})
  void fit_warmFromConvergedModel_firstSweepIsNearConverged(String name) {
    Mode m = mode(name);
    FactorModel converged = fit(m.data(), m.params(), 200, 42, null);
    double convergedLoss = loss(converged);
    double coldOne = loss(fit(m.data(), m.params(), 1, 5, null));

    double warmOne = loss(fit(m.data(), m.params(), 1, 5, WarmStarts.of(converged)));

    // Where absent entries are zeros most of the loss cannot be fitted at rank 3, so compare
    // what is left above the converged loss.
    assertTrue(warmOne - convergedLoss < 0.02 * (coldOne - convergedLoss), name + ": warm "
        + warmOne + ", cold " + coldOne + ", converged " + convergedLoss);
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"hals-ratings", "hals-counts", "mu-counts", "kl-counts"})
  void fit_warmWithNewRowsAndColumns_firstSweepNearConvergedAndNonnegative(String name) {
    // Today's matrix is yesterday's 55 × 46 plus 5 new rows and 4 new columns.
    Mode today = mode(name);
    TrainingMatrix yesterday = WarmStarts.topLeft(today.data(), 55, 46);
    WarmStart warm = WarmStarts.mapped(fit(yesterday, today.params(), 200, 42, null),
        WarmStarts.prefix(55, 5), WarmStarts.prefix(46, 4));
    double converged = loss(fit(today.data(), today.params(), 200, 42, null));
    double coldOne = loss(fit(today.data(), today.params(), 1, 5, null));

    FactorModel model = fit(today.data(), today.params(), 1, 5, warm);

    // Measured: 2% (ratings) to 10% (counts) of a cold first sweep's excess.
    assertTrue(loss(model) - converged < 0.25 * (coldOne - converged), name + ": warm "
        + loss(model) + ", cold " + coldOne + ", converged " + converged);
    assertTrue(min(model.copyUserFactors(0, 60)) >= 0 && min(model.copyItemFactors(0, 50)) >= 0);
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"hals-ratings", "hals-counts", "mu-counts", "kl-counts"})
  void fit_warmFromConvergedModelAtDefaultTolerance_stopsFarSoonerThanCold(String name) {
    Mode m = mode(name);
    List<String> kv = new ArrayList<>(List.of(m.params()));
    kv.addAll(List.of("max_iterations", "500"));
    String[] params = kv.toArray(String[]::new);
    FactorModel cold = NmfFits.fit(m.data(), K, 42, params);
    FactorModel warm;
    try (TestFitContext context = new TestFitContext(2).withWarmStart(WarmStarts.of(cold))) {
      warm = NmfFits.fit(m.data(), K, 5, context, params);
    }

    assertTrue(warm.iterations() * 4 <= cold.iterations(), name + ": warm "
        + warm.iterations() + " sweeps, cold " + cold.iterations());
    assertTrue(loss(warm) <= loss(cold) * (1 + 1e-4), name + ": warm " + loss(warm)
        + ", cold " + loss(cold));
  }

  /**
   * A warm start from a model that was not an NMF (negative factors): the values are clamped,
   * and the fit ends non-negative and good.
   */
  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"hals-ratings", "hals-counts", "mu-counts", "kl-counts"})
  void fit_warmStartWithNegativeFactors_clampsAndFitsNonnegative(String name) {
    // Measured after 100 sweeps: 0.0% (HALS), 1.1% (mu) and 1.0% (kl) above the cold loss;
    // with the clamped zeros kept, mu stayed 58% and kl 1260% above it.
    Mode m = mode(name);
    Random rnd = new Random(3);
    float[] users = new float[60 * K];
    float[] items = new float[50 * K];
    for (int n = 0; n < users.length; n++) {
      users[n] = (float) rnd.nextGaussian();
    }
    for (int n = 0; n < items.length; n++) {
      items[n] = (float) rnd.nextGaussian();
    }
    WarmStart warm = new WarmStart(K, users, all(60), items, all(50), null);
    double converged = loss(fit(m.data(), m.params(), 200, 42, null));

    FactorModel model = fit(m.data(), m.params(), 100, 5, warm);

    assertTrue(min(model.copyUserFactors(0, 60)) >= 0 && min(model.copyItemFactors(0, 50)) >= 0);
    assertTrue(loss(model) < 1.05 * converged, name + ": " + loss(model) + ", converged "
        + converged);
  }

  @Test
  void fit_warmStartOfOtherRank_throwsIllegalArgument() {
    Mode m = mode("hals-ratings");
    FactorModel rankTwo = NmfFits.fit(m.data(), 2, 1, "max_iterations", "1");

    assertThrows(IllegalArgumentException.class,
        () -> fit(m.data(), m.params(), 1, 5, WarmStarts.of(rankTwo)));
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"hals-ratings", "hals-counts", "mu-counts", "kl-counts"})
  void fit_sameSeedAndWarmStart_identicalModelUnlikeTheColdOne(String name) {
    Mode m = mode(name);
    WarmStart warm = WarmStarts.mapped(
        fit(WarmStarts.topLeft(m.data(), 55, 46), m.params(), 5, 42, null),
        WarmStarts.prefix(55, 5), WarmStarts.prefix(46, 4));

    FactorModel a = fit(m.data(), m.params(), 3, 5, warm);
    FactorModel b = fit(m.data(), m.params(), 3, 5, warm);
    FactorModel cold = fit(m.data(), m.params(), 3, 5, null);

    assertArrayEquals(a.copyUserFactors(0, 60), b.copyUserFactors(0, 60));
    assertArrayEquals(a.copyItemFactors(0, 50), b.copyItemFactors(0, 50));
    assertFalse(Arrays.equals(a.copyItemFactors(0, 50), cold.copyItemFactors(0, 50)));
  }

  /**
   * The start itself: known rows hold the warm values clamped at 0, unknown rows exactly the
   * cold start's; with every row known the cold start is not needed.
   */
  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"RANDOM", "NNDSVDA"})
  void warmStart_knownRowsWarmAndClamped_unknownRowsAsCold(String initName) {
    Init init = Init.valueOf(initName);
    TrainingMatrix x = mode("hals-counts").data();
    float[] users = new float[60 * K];
    float[] items = new float[50 * K];
    for (int n = 0; n < users.length; n++) {
      users[n] = n % 2 == 0 ? n : -n;
    }
    for (int n = 0; n < items.length; n++) {
      items[n] = n + 0.5f;
    }
    BitSet knownUsers = new BitSet();
    knownUsers.set(0, 40);
    BitSet knownItems = new BitSet();
    knownItems.set(10, 50);
    WarmStart warm = new WarmStart(K, users, knownUsers, items, knownItems, null);
    float[][] cold;
    float[][] start;
    float[][] allKnown;
    float[][] multiplicative;
    try (TestFitContext context = new TestFitContext(2)) {
      ForkJoinPool pool = context.pool();
      cold = Initializer.start(init, x, K, 9, true, pool, () -> { });
      start = Initializer.warmStart(warm, init, x, K, 9, true, false, pool, () -> { });
      allKnown = Initializer.warmStart(new WarmStart(K, users, all(60), items, all(50), null),
          init, x, K, 9, true, false, pool, () -> { });
      multiplicative = Initializer.warmStart(warm, init, x, K, 9, true, true, pool, () -> { });
    }
    // Multiplicative updates start a clamped value at a small positive floor instead.
    float floor = multiplicative[0][1];
    assertTrue(floor > 0 && floor < 0.01, "floor " + floor);

    for (int n = 0; n < 60 * K; n++) {
      float expected = n < 40 * K ? Math.max(0, users[n]) : cold[0][n];
      assertEquals(expected, start[0][n], 0.0, "W entry " + n);
      assertEquals(Math.max(0, users[n]), allKnown[0][n], 0.0, "W entry " + n);
      float warmOrFloor = users[n] > 0 ? users[n] : floor;
      assertEquals(n < 40 * K ? warmOrFloor : cold[0][n], multiplicative[0][n], 0.0,
          "W entry " + n);
    }
    for (int n = 0; n < 50 * K; n++) {
      float expected = n >= 10 * K ? items[n] : cold[1][n];
      assertEquals(expected, start[1][n], 0.0, "H entry " + n);
      assertEquals(items[n], allKnown[1][n], 0.0, "H entry " + n);
    }
  }

  @ParameterizedTest(name = "{0} weighted={1}")
  @CsvSource({"FROBENIUS, true", "FROBENIUS, false", "KL, true", "KL, false"})
  void constantModelLoss_isTheLossOfTheMeanEverywhere(String lossName, boolean weighted) {
    Loss loss = Loss.valueOf(lossName);
    // 3 × 4, five stored entries (one of them a stored zero).
    TrainingMatrix x = TrainingMatrix.fromCoordinates(3, 4, new int[] {0, 0, 1, 2, 2},
        new int[] {0, 3, 1, 0, 2}, new float[] {2, 4, 0, 1, 3},
        weighted ? AbsentEntries.UNKNOWN : AbsentEntries.ZERO);
    double[] values = weighted ? new double[] {2, 4, 0, 1, 3}
        : new double[] {2, 0, 0, 4, 0, 0, 0, 0, 1, 0, 3, 0};
    double c = Arrays.stream(values).average().orElseThrow();
    double expected = 0;
    for (double v : values) {
      expected += loss == Loss.FROBENIUS ? 0.5 * (v - c) * (v - c)
          : (v > 0 ? v * Math.log(v / c) : 0) - v + c;
    }

    assertEquals(expected, NmfSolver.constantModelLoss(x, loss, weighted), 1e-12);
  }

  private static BitSet all(int n) {
    BitSet b = new BitSet();
    b.set(0, n);
    return b;
  }

  private static float min(float[] a) {
    float min = Float.POSITIVE_INFINITY;
    for (float v : a) {
      min = Math.min(min, v);
    }
    return min;
  }
}
