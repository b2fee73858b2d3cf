package io.mfserve.solver.sgd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mfserve.solver.AbsentEntries;
import io.mfserve.solver.FactorModel;
import io.mfserve.solver.ParameterSpec;
import io.mfserve.solver.Parameters;
import io.mfserve.solver.RatingStatistics;
import io.mfserve.solver.SolverConfig;
import io.mfserve.solver.TrainingMatrix;
import io.mfserve.solver.testing.SyntheticData;
import io.mfserve.solver.testing.TestFitContext;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** SGD's data-scaled defaults on ratings: the plain rule expressed per entry. */
class SgdDefaultsTest {
  private final SgdSolverProvider provider = new SgdSolverProvider();

  @Test
  void resolveForData_sparseRatings_perEntryRule_givenKept_bprUntouched() {
    SyntheticData truth = SyntheticData.lowRank(300, 200, 5, false, 0.5, 0.5, 3);
    TrainingMatrix train = truth.sample(0.2, 0, AbsentEntries.UNKNOWN, 4).train();
    RatingStatistics s = RatingStatistics.of(train);

    Parameters p = provider.resolveForData(new SolverConfig(5, 1, AbsentEntries.UNKNOWN,
        Parameters.resolve(provider.parameters(), Map.of("bias_regularization", "0.5"))),
        train).parameters();

    assertEquals(s.factorLambda() / s.meanEntriesPerLine(),
        p.getDouble(ParameterSpec.REGULARIZATION), 1e-12);
    assertEquals(0.5, p.getDouble(SgdSolverProvider.BIAS_REGULARIZATION));
    // BPR: the implicit library's λ unless given; nothing else derived.
    SolverConfig bpr = new SolverConfig(5, 1, AbsentEntries.IMPLICIT,
        Parameters.resolve(provider.parameters(), Map.of()));
    Parameters q = provider.resolveForData(bpr, train).parameters();
    assertEquals(SgdSolverProvider.BPR_REGULARIZATION,
        q.getDouble(ParameterSpec.REGULARIZATION));
    assertEquals(0.02, q.getDouble(SgdSolverProvider.BIAS_REGULARIZATION));
    SolverConfig given = new SolverConfig(5, 1, AbsentEntries.UNKNOWN,
        Parameters.resolve(provider.parameters(), Map.of("loss", "bpr", "regularization", "0.2")));
    assertSame(given, provider.resolveForData(given, train));
  }

  @Test
  void resolveForData_biasesThatBarelyVary_penaltyStopsAtOneOverTheRate_andTheFitConverges() {
    // Small random ratings (1..5, every row and column rated, as the crash test's clients send
    // them) whose user and item means barely vary: the rule's λ_b (σ² over a bias variance
    // near 0) is enormous, which SGD's per-update penalty cannot take (the crash test's fit
    // of such a matrix diverged: the loss grew to 5e14 in the first epoch).
    double rate = 0.1;
    for (long seed = 1; seed <= 2000; seed++) {
      TrainingMatrix train = smallRandomRatings(new java.util.Random(seed));
      RatingStatistics s = RatingStatistics.of(train);
      if (s.biasLambda() / s.meanEntriesPerLine() < 100 / rate) {
        continue;
      }
      SolverConfig config = provider.resolveForData(new SolverConfig(3, seed,
          AbsentEntries.UNKNOWN, Parameters.resolve(provider.parameters(),
              Map.of("max_iterations", "4"))), train);
      assertEquals(rate, config.parameters().getDouble(ParameterSpec.LEARNING_RATE));
      assertEquals(1 / rate, config.parameters().getDouble(SgdSolverProvider.BIAS_REGULARIZATION));
      assertTrue(config.parameters().getDouble(ParameterSpec.REGULARIZATION) <= 1 / rate);
      try (TestFitContext context = new TestFitContext(1)) {
        FactorModel m = provider.create(config).fit(train, context);
        assertTrue(m.rmse(train) < 3, "seed " + seed + ": rmse " + m.rmse(train));
      }
      return;
    }
    throw new AssertionError("no seed gave a bias penalty above 100 / rate");
  }

  /** 18 x 6 ratings 1..5: every row and column once, then 20 random distinct cells. */
  private static TrainingMatrix smallRandomRatings(java.util.Random rnd) {
    int rows = 18;
    int cols = 6;
    java.util.Set<Integer> cells = new java.util.LinkedHashSet<>();
    for (int n = 0; n < rows; n++) {
      cells.add(n * cols + n % cols);
    }
    while (cells.size() < 38) {
      cells.add(rnd.nextInt(rows) * cols + rnd.nextInt(cols));
    }
    int[] r = new int[cells.size()];
    int[] c = new int[cells.size()];
    float[] v = new float[cells.size()];
    int n = 0;
    for (int cell : cells) {
      r[n] = cell / cols;
      c[n] = cell % cols;
      v[n++] = 1 + rnd.nextInt(5);
    }
    return TrainingMatrix.fromCoordinates(rows, cols, r, c, v, AbsentEntries.UNKNOWN);
  }

  @Test
  void defaults_sparseNoisyRatings_beatTheBiasBaselineHeldOut() {
    SyntheticData truth = SyntheticData.lowRank(300, 200, 5, false, 0.5, 0.5, 7);
    SyntheticData.Sample sample = truth.sample(0.2, 2000, AbsentEntries.UNKNOWN, 8);
    SolverConfig c = provider.resolveForData(new SolverConfig(5, 42, AbsentEntries.UNKNOWN,
        Parameters.resolve(provider.parameters(), Map.of())), sample.train());
    SolverConfig biasOnly = provider.resolveForData(new SolverConfig(5, 42,
        AbsentEntries.UNKNOWN, Parameters.resolve(provider.parameters(),
            Map.of("init_std", "0"))), sample.train());
    try (TestFitContext ctx = new TestFitContext(2)) {
      FactorModel model = provider.create(c).fit(sample.train(), ctx);
      FactorModel biases = provider.create(biasOnly).fit(sample.train(), ctx);
      double rmse = sample.heldOut().rmse(model::predict);
      double base = sample.heldOut().rmse(biases::predict);
      assertTrue(rmse < 0.9 * base, "defaults " + rmse + " vs biases alone " + base);
    }
  }
}
