package io.mfserve.solver.als;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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

/** The data-scaled defaults of explicit ratings ({@link AlsSolverProvider#resolveForData}). */
class AlsDefaultsTest {
  private final AlsSolverProvider provider = new AlsSolverProvider();

  private SolverConfig config(Map<String, String> given, AbsentEntries absent) {
    return new SolverConfig(5, 42, absent, Parameters.resolve(provider.parameters(), given));
  }

  @Test
  void resolveForData_sparseRatingsNothingGiven_biasesPlainLambdaByTheRule() {
    SyntheticData truth = SyntheticData.lowRank(300, 200, 5, false, 0.5, 0.5, 3);
    TrainingMatrix train = truth.sample(0.2, 0, AbsentEntries.UNKNOWN, 4).train();

    SolverConfig c = provider.resolveForData(config(Map.of(), AbsentEntries.UNKNOWN), train);

    RatingStatistics s = RatingStatistics.of(train);
    Parameters p = c.parameters();
    assertTrue(p.getBool(AlsSolverProvider.BIASES));
    assertFalse(p.getBool(AlsSolverProvider.WEIGHTED_LAMBDA));
    assertEquals(s.factorLambda(), p.getDouble(ParameterSpec.REGULARIZATION), 1e-12);
    assertEquals(s.biasLambda(), p.getDouble(AlsSolverProvider.BIAS_REGULARIZATION), 1e-12);
    assertEquals(String.valueOf(s.factorLambda()), p.asText().get("regularization"));
  }

  @Test
  void resolveForData_givenValuesKept_weightedGivenGetsTheWeightedRule() {
    SyntheticData truth = SyntheticData.lowRank(300, 200, 5, false, 0.5, 0.5, 3);
    TrainingMatrix train = truth.sample(0.2, 0, AbsentEntries.UNKNOWN, 4).train();

    SolverConfig c = provider.resolveForData(config(Map.of("weighted_lambda", "true",
        "bias_regularization", "3", "biases", "false"), AbsentEntries.UNKNOWN), train);

    Parameters p = c.parameters();
    assertFalse(p.getBool(AlsSolverProvider.BIASES));
    assertTrue(p.getBool(AlsSolverProvider.WEIGHTED_LAMBDA));
    assertEquals(3.0, p.getDouble(AlsSolverProvider.BIAS_REGULARIZATION));
    assertEquals(RatingStatistics.of(train).weightedFactorLambda(),
        p.getDouble(ParameterSpec.REGULARIZATION), 1e-12);
    SolverConfig all = config(Map.of("weighted_lambda", "true", "bias_regularization", "3",
        "biases", "false", "regularization", "0.2"), AbsentEntries.UNKNOWN);
    assertSame(all, provider.resolveForData(all, train));
  }

  @Test
  void resolveForData_denseOrImplicit_keepsTheConstantDefaults() {
    TrainingMatrix dense = SyntheticData.seedExample(10, 20, 1);
    SolverConfig c = config(Map.of(), AbsentEntries.UNKNOWN);
    assertSame(c, provider.resolveForData(c, dense));
    SyntheticData truth = SyntheticData.lowRank(100, 80, 3, true, 0, 0, 5);
    TrainingMatrix clicks = truth.sample(0.1, 0, AbsentEntries.IMPLICIT, 6).train();
    SolverConfig implicit = config(Map.of(), AbsentEntries.IMPLICIT);
    assertSame(implicit, provider.resolveForData(implicit, clicks));
  }

  @Test
  void defaults_sparseNoisyRatings_beatTheBiasBaselineHeldOut() {
    // Rank 5 with biases and noise 0.5 on 20% of 300 × 200: the defaults (the rule) must
    // beat a model of biases alone on held-out entries.
    SyntheticData truth = SyntheticData.lowRank(300, 200, 5, false, 0.5, 0.5, 7);
    SyntheticData.Sample sample = truth.sample(0.2, 2000, AbsentEntries.UNKNOWN, 8);
    SolverConfig c = provider.resolveForData(new SolverConfig(5, 42, AbsentEntries.UNKNOWN,
        Parameters.resolve(provider.parameters(), Map.of())), sample.train());
    SolverConfig biasOnly = provider.resolveForData(new SolverConfig(1, 42,
        AbsentEntries.UNKNOWN, Parameters.resolve(provider.parameters(),
            Map.of("regularization", "1e9"))), sample.train());
    try (TestFitContext ctx = new TestFitContext(2)) {
      FactorModel model = provider.create(c).fit(sample.train(), ctx);
      FactorModel biases = provider.create(biasOnly).fit(sample.train(), ctx);
      double rmse = sample.heldOut().rmse(model::predict);
      double base = sample.heldOut().rmse(biases::predict);
      assertTrue(rmse < 0.9 * base, "defaults " + rmse + " vs biases alone " + base);
    }
  }
}
