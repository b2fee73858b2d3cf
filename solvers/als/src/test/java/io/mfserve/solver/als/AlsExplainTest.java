package io.mfserve.solver.als;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.mfserve.solver.AbsentEntries;
import io.mfserve.solver.FactorModel;
import io.mfserve.solver.FoldedUser;
import io.mfserve.solver.Parameters;
import io.mfserve.solver.ScoreContributions;
import io.mfserve.solver.SolverConfig;
import io.mfserve.solver.TrainingMatrix;
import io.mfserve.solver.testing.SyntheticData;
import io.mfserve.solver.testing.TestFitContext;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * ALS's explanations: each entry's share t_j x_iᵀ A⁻¹ x_j of a user's score, from the same
 * system the fold-in solves, must sum to the folded-in user's score of the item.
 */
class AlsExplainTest {
  private static final AlsSolverProvider PROVIDER = new AlsSolverProvider();

  @Test
  void shares_explicitWithBiasesAndWeightedLambda_sumToTheFoldedScore() {
    sharesSumToFoldedScore(AbsentEntries.UNKNOWN, Map.of("biases", "true",
        "regularization", "0.08", "bias_regularization", "3"));
  }

  @Test
  void shares_explicitPlainLambdaNoBiases_sumToTheFoldedScore() {
    sharesSumToFoldedScore(AbsentEntries.UNKNOWN, Map.of("biases", "false",
        "weighted_lambda", "false", "regularization", "0.5"));
  }

  @Test
  void shares_implicitFeedback_sumToTheFoldedScore() {
    sharesSumToFoldedScore(AbsentEntries.IMPLICIT, Map.of("alpha", "4",
        "regularization", "0.2"));
  }

  @Test
  void share_ofTheOnlyEntryForItself_isTheRidgeShrinkage() {
    // One entry (j, r), no biases: (v vᵀ + λ I)⁻¹ v = v / (|v|² + λ), so the share is
    // r |v|² / (|v|² + λ), whatever the rank.
    float[] v = {0.6f, -1.2f, 2.0f};
    FactorModel model = new FactorModel(1, 1, 3, new float[3], v, null, List.of());
    SolverConfig config = config(AbsentEntries.UNKNOWN, 3, Map.of("biases", "false",
        "regularization", "0.7"));
    ScoreContributions c = PROVIDER.explainScore(model, config, new int[] {0},
        new float[] {4f}, 0);
    double sq = 0.36 + 1.44 + 4.0;
    assertEquals(4 * sq / (sq + 0.7), c.contributions()[0], 1e-5);
    assertEquals(0, c.base());
  }

  @Test
  void explain_nonNegativeModel_isNotDecomposed() {
    SyntheticData d = SyntheticData.lowRank(30, 20, 2, true, 0, 0.05, 5);
    TrainingMatrix train = d.sample(0.5, 0, AbsentEntries.UNKNOWN, 6).train();
    SolverConfig config = config(AbsentEntries.UNKNOWN, 2, Map.of("nonnegative", "true",
        "max_iterations", "5"));
    FactorModel model = fit(config, train);
    assertNull(PROVIDER.explainScore(model, config, new int[] {0, 1}, new float[] {1, 2}, 3));
  }

  private static void sharesSumToFoldedScore(AbsentEntries absent, Map<String, String> params) {
    SyntheticData d = SyntheticData.lowRank(60, 40, 3, false, 0, 0.05, 31);
    TrainingMatrix train = d.sample(0.4, 0, absent, 32).train();
    java.util.HashMap<String, String> p = new java.util.HashMap<>(params);
    p.put("max_iterations", "15");
    SolverConfig config = config(absent, 3, p);
    FactorModel model = fit(config, train);
    float[] v = new float[3];
    for (int u : new int[] {0, 17, 59}) {
      int n = train.rowLength(u);
      int[] items = new int[n];
      float[] values = new float[n];
      for (int q = train.rowStart(u), j = 0; q < train.rowEnd(u); q++, j++) {
        items[j] = train.rowColumn(q);
        values[j] = train.rowValue(q);
      }
      FoldedUser folded = PROVIDER.foldInUser(model, config, items, values);
      for (int item : new int[] {0, 5, 39}) {
        model.itemVector(item, v);
        double score = folded.bias();
        for (int f = 0; f < 3; f++) {
          score += (double) folded.factors()[f] * v[f];
        }
        ScoreContributions c = PROVIDER.explainScore(model, config, items, values, item);
        assertNotNull(c);
        assertEquals(n, c.contributions().length);
        double base = model.hasBiases() ? model.globalMean() + model.itemBias(item) : 0;
        assertEquals(base, c.base(), 1e-9);
        assertEquals(base + score, c.score(), 1e-4 * Math.max(1, Math.abs(score)),
            "user " + u + ", item " + item);
      }
    }
  }

  private static SolverConfig config(AbsentEntries absent, int k, Map<String, String> params) {
    return new SolverConfig(k, 7, absent, Parameters.resolve(PROVIDER.parameters(), params));
  }

  private static FactorModel fit(SolverConfig config, TrainingMatrix train) {
    try (TestFitContext context = new TestFitContext(1)) {
      return PROVIDER.create(config).fit(train, context);
    }
  }
}
