package io.mfserve.solver.nmf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mfserve.solver.AbsentEntries;
import io.mfserve.solver.FactorModel;
import io.mfserve.solver.FoldedUser;
import io.mfserve.solver.ParameterSpec;
import io.mfserve.solver.Parameters;
import io.mfserve.solver.RatingStatistics;
import io.mfserve.solver.SolverConfig;
import io.mfserve.solver.TrainingMatrix;
import io.mfserve.solver.testing.SyntheticData;
import io.mfserve.solver.testing.TestFitContext;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** NMF on ratings: biases, the data rule, and the biased fold-in. */
class NmfBiasedTest {
  private final NmfSolverProvider provider = new NmfSolverProvider();

  private SolverConfig resolved(Map<String, String> given, TrainingMatrix train, int k) {
    return provider.resolveForData(new SolverConfig(k, 42, AbsentEntries.UNKNOWN,
        Parameters.resolve(provider.parameters(), given)), train);
  }

  @Test
  void resolveForData_sparseRatings_biasesAndRule_countsUntouched() {
    SyntheticData truth = SyntheticData.lowRank(300, 200, 5, false, 0.5, 0.5, 3);
    TrainingMatrix train = truth.sample(0.2, 0, AbsentEntries.UNKNOWN, 4).train();
    RatingStatistics s = RatingStatistics.of(train);

    Parameters p = resolved(Map.of(), train, 5).parameters();

    assertTrue(p.getBool(NmfSolverProvider.BIASES));
    assertEquals(s.factorLambda(), p.getDouble(ParameterSpec.REGULARIZATION), 1e-12);
    assertEquals(s.biasLambda(), p.getDouble(NmfSolverProvider.BIAS_REGULARIZATION), 1e-12);
    SolverConfig counts = new SolverConfig(5, 42, AbsentEntries.ZERO,
        Parameters.resolve(provider.parameters(), Map.of()));
    assertSame(counts, provider.resolveForData(counts, train));
  }

  @Test
  void defaults_sparseRatingsOfEitherSign_beatTheBiasBaselineHeldOut() {
    // Interactions of either sign around the biases (U, V Gaussian), values shifted to ≥ 0.
    SyntheticData truth = SyntheticData.lowRank(300, 200, 5, false, 0.5, 0.4, 7);
    SyntheticData.Sample sample = truth.sample(0.25, 2000, AbsentEntries.UNKNOWN, 8);
    try (TestFitContext ctx = new TestFitContext(2)) {
      FactorModel model = provider.create(resolved(Map.of(), sample.train(), 5))
          .fit(sample.train(), ctx);
      assertTrue(model.hasBiases());
      for (int u = 0; u < model.numUsers(); u++) {
        for (int f = 0; f < model.numFactors(); f++) {
          assertTrue(model.userFactor(u, f) >= 0);
        }
      }
      FactorModel biasOnly = provider.create(resolved(Map.of("regularization", "1e9"),
          sample.train(), 1)).fit(sample.train(), ctx);
      double rmse = sample.heldOut().rmse(model::predict);
      double base = sample.heldOut().rmse(biasOnly::predict);
      assertTrue(rmse < 0.95 * base, "biased nmf " + rmse + " vs biases alone " + base);

      // A training user folded in from its own entries lands near its trained prediction.
      TrainingMatrix t = sample.train();
      int r = 17;
      int n = t.rowLength(r);
      int[] items = new int[n];
      float[] values = new float[n];
      for (int p = 0; p < n; p++) {
        items[p] = t.rowColumn(t.rowStart(r) + p);
        values[p] = t.rowValue(t.rowStart(r) + p);
      }
      SolverConfig used = resolved(Map.of(), t, 5);
      FoldedUser folded = provider.foldInUser(model, used, items, values);
      double trained = 0;
      double refolded = 0;
      double apart = 0;
      for (int p = 0; p < n; p++) {
        double dot = 0;
        for (int f = 0; f < 5; f++) {
          dot += folded.factors()[f] * model.itemFactor(items[p], f);
          assertTrue(folded.factors()[f] >= 0);
        }
        double pred = model.globalMean() + folded.bias() + model.itemBias(items[p]) + dot;
        trained += Math.pow(values[p] - model.predict(r, items[p]), 2);
        refolded += Math.pow(values[p] - pred, 2);
        apart += Math.pow(model.predict(r, items[p]) - pred, 2);
      }
      // The fold-in solves the user's penalised problem against the trained items, training
      // solved it on the shifted residual with the biases fitted apart: close, not equal.
      assertTrue(refolded <= trained * 1.1, refolded + " vs " + trained);
      assertTrue(Math.sqrt(apart / n) < 0.3, "fold-in vs trained predictions, RMS "
          + Math.sqrt(apart / n));
    }
  }
}
