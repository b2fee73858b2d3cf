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

  @Test
  void resolveForData_tinyFlatData_penaltiesCappedAndTheFitStaysFinite() {
    // 6 × 5, a few entries of nearly one value: no measurable bias variance, so the rule's
    // λ_b is 10⁶ / n̄; capped at 1 per entry, and the fit must not diverge.
    int[] r = {0, 0, 1, 2, 3, 4, 5, 5};
    int[] c = {0, 1, 2, 3, 4, 0, 1, 4};
    float[] v = {3, 3, 3, 3.01f, 3, 3, 2.99f, 3};
    TrainingMatrix train = TrainingMatrix.fromCoordinates(6, 5, r, c, v, AbsentEntries.UNKNOWN);
    SolverConfig config = provider.resolveForData(new SolverConfig(2, 1, AbsentEntries.UNKNOWN,
        Parameters.resolve(provider.parameters(), Map.of())), train);
    Parameters p = config.parameters();
    assertTrue(p.getDouble(SgdSolverProvider.BIAS_REGULARIZATION) <= 1);
    double s = SgdSolver.standardDeviation(train, train.mean());
    assertTrue(p.getDouble(ParameterSpec.REGULARIZATION) <= s * (1 + 1e-12));
    try (TestFitContext ctx = new TestFitContext(1)) {
      FactorModel m = provider.create(config).fit(train, ctx);
      for (int n = 0; n < r.length; n++) {
        assertTrue(Double.isFinite(m.predict(r[n], c[n])));
      }
    }
  }
}
