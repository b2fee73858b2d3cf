package io.mfserve.solver.als;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mfserve.solver.AbsentEntries;
import io.mfserve.solver.FactorModel;
import io.mfserve.solver.Parameters;
import io.mfserve.solver.SolverConfig;
import io.mfserve.solver.TrainingMatrix;
import io.mfserve.solver.WarmStart;
import io.mfserve.solver.testing.SyntheticData;
import io.mfserve.solver.testing.TestFitContext;
import io.mfserve.solver.testing.WarmStarts;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** ALS fits that start from an earlier model ({@link io.mfserve.solver.FitContext#warmStart}). */
class AlsWarmStartTest {
  private static final AlsSolverProvider PROVIDER = new AlsSolverProvider();
  private static final int K = 3;

  /** One of the solver's modes: its data and parameters. */
  private record Mode(String name, TrainingMatrix data, Map<String, String> params) {
    boolean implicit() {
      return data.absentEntries() == AbsentEntries.IMPLICIT;
    }

    /** The training RMSE, or for implicit feedback (where RMSE means nothing) the loss. */
    double error(FactorModel model) {
      return implicit() ? model.history().get(model.iterations() - 1).loss() : model.rmse(data);
    }
  }

  private static Mode mode(String name) {
    Map<String, String> params = new HashMap<>(Map.of("regularization", "0.01"));
    AbsentEntries absent = AbsentEntries.UNKNOWN;
    SyntheticData truth;
    switch (name) {
      case "explicit" -> truth = SyntheticData.lowRank(60, 50, K, false, 0, 0.05, 7);
      case "biases" -> {
        truth = SyntheticData.lowRank(60, 50, K, false, 0.5, 0.05, 7);
        params.put("biases", "true");
        params.put("bias_regularization", "0.1");
      }
      case "nonnegative" -> {
        truth = SyntheticData.lowRank(60, 50, K, true, 0, 0.05, 7);
        params.put("nonnegative", "true");
      }
      case "implicit" -> {
        truth = SyntheticData.lowRank(60, 50, K, true, 0, 0.05, 7);
        absent = AbsentEntries.IMPLICIT;
      }
      default -> throw new AssertionError(name);
    }
    return new Mode(name, truth.sample(0.4, 0, absent, 11).train(), params);
  }

  private static FactorModel fit(TrainingMatrix data, Map<String, String> params, int iterations,
      long seed, WarmStart warm) {
    Map<String, String> p = new HashMap<>(params);
    p.put("max_iterations", Integer.toString(iterations));
    Parameters resolved = Parameters.resolve(PROVIDER.parameters(), p);
    try (TestFitContext context = new TestFitContext(2).withWarmStart(warm)) {
      return PROVIDER.create(new SolverConfig(K, seed, data.absentEntries(), resolved))
          .fit(data, context);
    }
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"explicit", "biases", "nonnegative", "implicit"})
  void fit_warmFromConvergedModel_firstSweepIsNearConverged(String name) {
    Mode m = mode(name);
    FactorModel converged = fit(m.data(), m.params(), 30, 42, null);
    double convergedError = m.error(converged);
    double coldOne = m.error(fit(m.data(), m.params(), 1, 5, null));

    double warmOne = m.error(fit(m.data(), m.params(), 1, 5, WarmStarts.of(converged)));

    // A cold first sweep starts from random items and ends far from the converged error; from
    // the converged items the users are solved against the answer, and the sweep ends there.
    assertTrue(coldOne > 1.5 * convergedError, name + ": cold " + coldOne + ", converged "
        + convergedError);
    assertTrue(warmOne < 1.01 * convergedError, name + ": warm " + warmOne + ", converged "
        + convergedError);
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"explicit", "biases", "nonnegative", "implicit"})
  void fit_warmWithNewRowsAndColumns_fitsWellInTwoSweeps(String name) {
    // Today's matrix is yesterday's 50 × 43 plus 10 new users and 7 new items. Without the
    // new items' first solve against the known users, explicit ALS was at 1.2 times the
    // converged RMSE after two sweeps; a cold fit is at 9 times it.
    Mode today = mode(name);
    int oldRows = 50;
    int oldCols = 43;
    TrainingMatrix yesterday = WarmStarts.topLeft(today.data(), oldRows, oldCols);
    FactorModel old = fit(yesterday, today.params(), 30, 42, null);
    WarmStart warm = WarmStarts.mapped(old, WarmStarts.prefix(oldRows, 10),
        WarmStarts.prefix(oldCols, 7));
    double converged = today.error(fit(today.data(), today.params(), 30, 42, null));
    double coldTwo = today.error(fit(today.data(), today.params(), 2, 5, null));

    FactorModel model = fit(today.data(), today.params(), 2, 5, warm);

    double warmTwo = today.error(model);
    assertTrue(warmTwo < 1.05 * converged, name + ": warm " + warmTwo + ", converged "
        + converged + ", cold " + coldTwo);
  }

  @Test
  void fit_warmWithBiases_firstSweepBeatsTheSameFactorsWithoutThem() {
    Mode m = mode("biases");
    FactorModel converged = fit(m.data(), m.params(), 30, 42, null);
    WarmStart withBiases = WarmStarts.of(converged);
    WarmStart without = new WarmStart(K, withBiases.userFactors(), withBiases.knownUsers(),
        withBiases.itemFactors(), withBiases.knownItems(), null);

    double biased = m.error(fit(m.data(), m.params(), 1, 5, withBiases));
    double unbiased = m.error(fit(m.data(), m.params(), 1, 5, without));

    // Without b_i the first user half-sweep cannot account for the item offsets.
    assertTrue(biased < 0.8 * unbiased, "with biases " + biased + ", without " + unbiased);
  }

  @Test
  void fit_nonnegativeWarmFromUnconstrainedModel_clampsAndStaysNonnegative() {
    Mode m = mode("nonnegative");
    Map<String, String> free = new HashMap<>(m.params());
    free.put("nonnegative", "false");
    FactorModel unconstrained = fit(m.data(), free, 10, 42, null);
    float[] u = unconstrained.copyUserFactors(0, unconstrained.numUsers());
    assertTrue(min(u) < 0, "the test needs negative warm factors");

    FactorModel model = fit(m.data(), m.params(), 3, 5, WarmStarts.of(unconstrained));

    assertTrue(min(model.copyUserFactors(0, model.numUsers())) >= 0);
    assertTrue(min(model.copyItemFactors(0, model.numItems())) >= 0);
    assertTrue(model.rmse(m.data()) < 0.2, "rmse " + model.rmse(m.data()));
  }

  @Test
  void fit_warmStartOfOtherRank_throwsIllegalArgument() {
    Mode m = mode("explicit");
    FactorModel rankTwo;
    Parameters params = Parameters.resolve(PROVIDER.parameters(), Map.of("max_iterations", "1"));
    try (TestFitContext context = new TestFitContext(1)) {
      rankTwo = PROVIDER.create(new SolverConfig(2, 1, AbsentEntries.UNKNOWN, params))
          .fit(m.data(), context);
    }
    WarmStart warm = WarmStarts.of(rankTwo);

    assertThrows(IllegalArgumentException.class,
        () -> fit(m.data(), m.params(), 1, 5, warm));
  }

  @Test
  void fit_warmStartOfOtherShape_throwsIllegalArgument() {
    Mode m = mode("explicit");
    FactorModel model = fit(m.data(), m.params(), 1, 5, null);
    WarmStart fewerRows = WarmStarts.mapped(model, WarmStarts.prefix(59, 0),
        WarmStarts.prefix(50, 0));

    assertThrows(IllegalArgumentException.class,
        () -> fit(m.data(), m.params(), 1, 5, fewerRows));
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"explicit", "implicit"})
  void fit_sameSeedAndWarmStart_identicalModelUnlikeTheColdOne(String name) {
    Mode m = mode(name);
    TrainingMatrix yesterday = WarmStarts.topLeft(m.data(), 50, 43);
    WarmStart warm = WarmStarts.mapped(fit(yesterday, m.params(), 5, 42, null),
        WarmStarts.prefix(50, 10), WarmStarts.prefix(43, 7));

    FactorModel a = fit(m.data(), m.params(), 2, 5, warm);
    FactorModel b = fit(m.data(), m.params(), 2, 5, warm);
    FactorModel cold = fit(m.data(), m.params(), 2, 5, null);

    assertArrayEquals(a.copyUserFactors(0, 60), b.copyUserFactors(0, 60));
    assertArrayEquals(a.copyItemFactors(0, 50), b.copyItemFactors(0, 50));
    assertFalse(Arrays.equals(a.copyItemFactors(0, 50), cold.copyItemFactors(0, 50)));
  }

  @Test
  void copyKnown_setBits_copiesThoseRowsAndClampsWhenAsked() {
    float[] from = {1, -2, 3, -4, 5, -6};
    BitSet known = new BitSet();
    known.set(0);
    known.set(2);
    float[] to = {9, 9, 9, 9, 9, 9};

    AlsSolver.copyKnown(from, known, to, 2, true);

    assertArrayEquals(new float[] {1, 0, 9, 9, 5, 0}, to);
  }

  private static float min(float[] a) {
    float min = Float.POSITIVE_INFINITY;
    for (float v : a) {
      min = Math.min(min, v);
    }
    return min;
  }
}
