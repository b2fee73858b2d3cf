package io.mfserve.solver.sgd;

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
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** SGD fits that start from an earlier model ({@link io.mfserve.solver.FitContext#warmStart}). */
class SgdWarmStartTest {
  private static final int K = 3;

  /** One of the solver's models: its data and parameters. */
  private record Mode(String name, TrainingMatrix data, Map<String, String> params) {
    boolean implicit() {
      return data.absentEntries() == AbsentEntries.IMPLICIT;
    }

    /**
     * The training RMSE, or for BPR (where RMSE means nothing) the training ranking error: the
     * fraction of (user, positive, non-positive) triples the model orders wrongly, 1 − AUC.
     */
    double error(FactorModel model) {
      return error(model, data);
    }

    /** As {@link #error(FactorModel)}, over the entries of {@code d} instead. */
    double error(FactorModel model, TrainingMatrix d) {
      return implicit() ? rankingError(model, d) : model.rmse(d);
    }
  }

  private static Mode mode(String name) {
    Map<String, String> params = new HashMap<>(Map.of("regularization", "0.005",
        "bias_regularization", "0.005"));
    AbsentEntries absent = AbsentEntries.UNKNOWN;
    SyntheticData truth = SyntheticData.lowRank(80, 60, K, false, 0.5, 0.05, 7);
    switch (name) {
      case "biased" -> { }
      case "svdpp" -> params.put("model", "svdpp");
      case "bpr" -> {
        params.put("regularization", "0.01");
        return new Mode(name, clicks(80, 60, 13), params);
      }
      default -> throw new AssertionError(name);
    }
    return new Mode(name, truth.sample(0.4, 0, absent, 11).train(), params);
  }

  /**
   * Implicit feedback in K groups: user u and item i belong to groups u % K and i % K, and a
   * user clicks an item of their group with probability 0.5, any other with 0.05.
   */
  private static TrainingMatrix clicks(int users, int items, long seed) {
    Random rnd = new Random(seed);
    int[] r = new int[users * items];
    int[] c = new int[users * items];
    int n = 0;
    for (int u = 0; u < users; u++) {
      for (int i = 0; i < items; i++) {
        if (rnd.nextDouble() < (u % K == i % K ? 0.5 : 0.05)) {
          r[n] = u;
          c[n++] = i;
        }
      }
    }
    float[] v = new float[n];
    Arrays.fill(v, 1f);
    return TrainingMatrix.fromCoordinates(users, items, Arrays.copyOf(r, n), Arrays.copyOf(c, n),
        v, AbsentEntries.IMPLICIT);
  }

  private static FactorModel fit(TrainingMatrix data, Map<String, String> params, int epochs,
      long seed, WarmStart warm) {
    Map<String, String> p = new HashMap<>(params);
    p.put("max_iterations", Integer.toString(epochs));
    try (TestFitContext context = new TestFitContext(2).withWarmStart(warm)) {
      return SgdSolverTest.fit(data, context, K, seed, p, data.absentEntries());
    }
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"biased", "svdpp", "bpr"})
  void fit_warmFromConvergedModel_firstEpochIsNearConverged(String name) {
    Mode m = mode(name);
    FactorModel converged = fit(m.data(), m.params(), 100, 42, null);
    double convergedError = m.error(converged);
    double coldOne = m.error(fit(m.data(), m.params(), 1, 5, null));

    double warmOne = m.error(fit(m.data(), m.params(), 1, 5, WarmStarts.of(converged)));

    // AdaGrad's accumulators start fresh, so the first epoch takes full steps from the warm
    // factors and lands a little above the converged error (biased: 0.047 against 0.044),
    // where a cold first epoch is still near the mean baseline.
    assertTrue(coldOne > 3 * convergedError, name + ": cold " + coldOne + ", converged "
        + convergedError);
    assertTrue(warmOne < 1.2 * convergedError, name + ": warm " + warmOne + ", converged "
        + convergedError);
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"biased", "svdpp", "bpr"})
  void fit_warmWithNewRowsAndColumns_knownPartGoodAtOnceAndAllBetterThanCold(String name) {
    // Today's matrix is yesterday's 70 × 52 plus 10 new users and 8 new items.
    Mode today = mode(name);
    TrainingMatrix yesterday = WarmStarts.topLeft(today.data(), 70, 52);
    WarmStart warm = WarmStarts.mapped(fit(yesterday, today.params(), 100, 42, null),
        WarmStarts.prefix(70, 10), WarmStarts.prefix(52, 8));
    FactorModel converged = fit(today.data(), today.params(), 100, 42, null);
    double coldThree = today.error(fit(today.data(), today.params(), 3, 5, null));

    FactorModel model = fit(today.data(), today.params(), 3, 5, warm);

    // The new rows start from the seeded random draws and learn at SGD's pace, and until they
    // have, their entries also pull the known rows they meet off (biased: the known part
    // 0.077 after three epochs, against 0.044 converged and 0.81 for a cold fit), so the
    // known part is near, not at, its converged error; the whole matrix is far ahead of a
    // cold fit.
    double knownPart = today.error(model, yesterday);
    double knownConverged = today.error(converged, yesterday);
    double all = today.error(model);
    assertTrue(knownPart < 2.5 * knownConverged, name + ": " + knownPart + ", converged "
        + knownConverged);
    assertTrue(all < 0.4 * coldThree, name + ": " + all + ", cold " + coldThree);
  }

  /**
   * With a learning rate of 1e-9 one epoch leaves the start as it was: known rows must hold the
   * warm factors, and unknown rows the very values a cold fit with the same seed starts from.
   */
  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"biased", "svdpp", "bpr"})
  void fit_tinyStep_knownRowsStartWarmAndUnknownRowsAsCold(String name) {
    Mode today = mode(name);
    Map<String, String> still = new HashMap<>(today.params());
    still.put("learning_rate", "1e-9");
    FactorModel old = fit(WarmStarts.topLeft(today.data(), 70, 52), today.params(), 20, 42,
        null);
    WarmStart withBiases = WarmStarts.mapped(old, WarmStarts.prefix(70, 10),
        WarmStarts.prefix(52, 8));
    // Without biases mu and the scale are the data's, as in the cold fit, so the unknown rows'
    // exported draws are comparable bit for bit (up to the 1e-9 step).
    WarmStart warm = new WarmStart(K, withBiases.userFactors(), withBiases.knownUsers(),
        withBiases.itemFactors(), withBiases.knownItems(), null);

    FactorModel model = fit(today.data(), still, 1, 5, warm);
    FactorModel cold = fit(today.data(), still, 1, 5, null);

    float[] users = model.copyUserFactors(0, 80);
    float[] items = model.copyItemFactors(0, 60);
    float[] coldUsers = cold.copyUserFactors(0, 80);
    float[] coldItems = cold.copyItemFactors(0, 60);
    for (int n = 0; n < 80 * K; n++) {
      float expected = n < 70 * K ? warm.userFactors()[n] : coldUsers[n];
      assertEquals(expected, users[n], 1e-5, "user factor " + n);
    }
    for (int n = 0; n < 60 * K; n++) {
      float expected = n < 52 * K ? warm.itemFactors()[n] : coldItems[n];
      assertEquals(expected, items[n], 1e-5, "item factor " + n);
    }
  }

  @Test
  void fit_warmWithBiases_keepsTheirGlobalMeanAndStartsFromTheirBiases() {
    Mode m = mode("biased");
    Map<String, String> still = new HashMap<>(m.params());
    still.put("learning_rate", "1e-9");
    FactorModel old = fit(WarmStarts.topLeft(m.data(), 70, 52), m.params(), 20, 42, null);
    WarmStart warm = WarmStarts.mapped(old, WarmStarts.prefix(70, 10),
        WarmStarts.prefix(52, 8));
    assertTrue(Math.abs(old.globalMean() - m.data().mean()) > 1e-3,
        "the test needs yesterday's mean to differ from today's");

    FactorModel model = fit(m.data(), still, 1, 5, warm);

    assertEquals(old.globalMean(), model.globalMean(), 0.0);
    for (int u = 0; u < 80; u++) {
      assertEquals(u < 70 ? old.userBias(u) : 0f, model.userBias(u), 1e-5, "b_u " + u);
    }
    for (int i = 0; i < 60; i++) {
      assertEquals(i < 52 ? old.itemBias(i) : 0f, model.itemBias(i), 1e-5, "b_i " + i);
    }
    for (int u = 0; u < 70; u++) {
      for (int i = 0; i < 52; i++) {
        assertEquals(old.predict(u, i), model.predict(u, i), 1e-4, "(" + u + ", " + i + ")");
      }
    }
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"biased", "bpr"})
  void fit_warmStartOfOtherRank_throwsIllegalArgument(String name) {
    Mode m = mode(name);
    FactorModel rankTwo;
    try (TestFitContext context = new TestFitContext(1)) {
      rankTwo = SgdSolverTest.fit(m.data(), context, 2, 1, Map.of("max_iterations", "1"),
          m.data().absentEntries());
    }

    assertThrows(IllegalArgumentException.class,
        () -> fit(m.data(), m.params(), 1, 5, WarmStarts.of(rankTwo)));
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"biased", "svdpp", "bpr"})
  void fit_sameSeedAndWarmStart_identicalModelUnlikeTheColdOne(String name) {
    Mode m = mode(name);
    WarmStart warm = WarmStarts.mapped(
        fit(WarmStarts.topLeft(m.data(), 70, 52), m.params(), 5, 42, null),
        WarmStarts.prefix(70, 10), WarmStarts.prefix(52, 8));

    FactorModel a = fit(m.data(), m.params(), 2, 5, warm);
    FactorModel b = fit(m.data(), m.params(), 2, 5, warm);
    FactorModel cold = fit(m.data(), m.params(), 2, 5, null);

    SgdSolverTest.assertSameModel(a, b);
    assertFalse(Arrays.equals(a.copyUserFactors(0, 80), cold.copyUserFactors(0, 80)));
  }

  private static double rankingError(FactorModel model, TrainingMatrix data) {
    long wrong = 0;
    long pairs = 0;
    for (int u = 0; u < data.rows(); u++) {
      for (int p = data.rowStart(u); p < data.rowEnd(u); p++) {
        double positive = model.predict(u, data.rowColumn(p));
        for (int j = 0; j < data.cols(); j++) {
          if (!data.contains(u, j)) {
            wrong += model.predict(u, j) >= positive ? 1 : 0;
            pairs++;
          }
        }
      }
    }
    return (double) wrong / pairs;
  }
}
