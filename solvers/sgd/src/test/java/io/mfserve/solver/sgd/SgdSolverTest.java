package io.mfserve.solver.sgd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mfserve.solver.AbsentEntries;
import io.mfserve.solver.FactorModel;
import io.mfserve.solver.FitCancelledException;
import io.mfserve.solver.FitContext;
import io.mfserve.solver.FitDivergedException;
import io.mfserve.solver.IterationProgress;
import io.mfserve.solver.Parameters;
import io.mfserve.solver.SolverConfig;
import io.mfserve.solver.TrainingMatrix;
import io.mfserve.solver.ValidationSet;
import io.mfserve.solver.testing.SyntheticData;
import io.mfserve.solver.testing.TestFitContext;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class SgdSolverTest {
  private static final SgdSolverProvider PROVIDER = new SgdSolverProvider();

  /** Parameters under which the rank-3 synthetic matrix is recovered in well under a second. */
  private static final Map<String, String> RECOVERY = Map.of("max_iterations", "150",
      "learning_rate", "0.02", "regularization", "0.005", "bias_regularization", "0.005",
      "learning_rate_decay", "0.99");

  private static FactorModel fit(TrainingMatrix data, TestFitContext context, int k, long seed,
      Map<String, String> params) {
    SolverConfig config = new SolverConfig(k, seed, AbsentEntries.UNKNOWN,
        Parameters.resolve(PROVIDER.parameters(), params));
    return PROVIDER.create(config).fit(data, context);
  }

  private static SyntheticData.Sample recoverySample() {
    SyntheticData truth = SyntheticData.lowRank(80, 60, 3, false, 0.5, 0.05, 7);
    return truth.sample(0.4, 600, AbsentEntries.UNKNOWN, 11);
  }

  /** RMSE on {@code set} of predicting every entry by the training mean. */
  private static double meanBaseline(TrainingMatrix train, ValidationSet set) {
    double mean = train.mean();
    return set.rmse((r, c) -> mean);
  }

  @Test
  void fit_lowRankWithBiases_recoversHeldOut() {
    SyntheticData.Sample sample = recoverySample();
    try (TestFitContext context = new TestFitContext(1)) {
      FactorModel model = fit(sample.train(), context, 3, 42, RECOVERY);
      double heldOut = sample.heldOut().rmse(model::predict);
      double baseline = meanBaseline(sample.train(), sample.heldOut());
      // The noise is 0.05 and the mean baseline about 1.2: a solver that learnt the biases but
      // not the factors stays near 1, one that learnt both lands near the noise.
      assertTrue(heldOut < 0.15 * baseline, "held-out " + heldOut + " vs baseline " + baseline);
      assertTrue(model.hasBiases());
      assertEquals(sample.train().mean(), model.globalMean(), 1e-12);
      assertEquals(150, model.iterations());
    }
  }

  @Test
  void fit_validationSet_reportsDecreasingRmseEachEpoch() {
    SyntheticData.Sample sample = recoverySample();
    try (TestFitContext context = new TestFitContext(1, sample.heldOut())) {
      FactorModel model = fit(sample.train(), context, 3, 42, RECOVERY);
      List<IterationProgress> reports = context.reports();
      assertEquals(150, reports.size());
      assertEquals(reports, model.history());
      for (int n = 0; n < reports.size(); n++) {
        IterationProgress p = reports.get(n);
        assertEquals(n + 1, p.iteration());
        assertTrue(p.hasValidation());
        assertTrue(Double.isFinite(p.loss()));
        assertTrue(n == 0 || p.elapsedNanos() >= reports.get(n - 1).elapsedNanos());
      }
      double first = reports.get(0).validationRmse();
      double last = reports.get(reports.size() - 1).validationRmse();
      assertTrue(last < 0.2 * first, "validation RMSE " + first + " -> " + last);
      assertEquals(sample.heldOut().rmse(model::predict), last, 1e-4);
      // SGD is noisy within an epoch, but the loss over the whole run must have come down.
      assertTrue(reports.get(reports.size() - 1).loss() < 0.1 * reports.get(0).loss());
    }
  }

  @Test
  void fit_noValidationSet_reportsNaN() {
    TrainingMatrix data = SyntheticData.seedExample(10, 20, 3);
    try (TestFitContext context = new TestFitContext(1)) {
      fit(data, context, 2, 1, Map.of("max_iterations", "3"));
      assertEquals(3, context.reports().size());
      assertTrue(context.reports().stream().noneMatch(IterationProgress::hasValidation));
    }
  }

  @Test
  void fit_seedExampleDefaults_beatsMeanBaseline() {
    TrainingMatrix data = SyntheticData.seedExample(10, 20, 2024);
    try (TestFitContext context = new TestFitContext(1)) {
      FactorModel model = fit(data, context, 5, 2024, Map.of());
      assertEquals(10, model.numUsers());
      assertEquals(20, model.numItems());
      assertEquals(5, model.numFactors());
      assertEquals(10 * 5, model.copyUserFactors(0, 10).length);
      assertEquals(20 * 5, model.copyItemFactors(0, 20).length);
      assertTrue(model.rmse(data) < SyntheticData.meanBaselineRmse(data),
          model.rmse(data) + " vs " + SyntheticData.meanBaselineRmse(data));
    }
  }

  /**
   * With zero factors (init_std 0) and no regularisation, SGD with a decaying step must land on
   * the least-squares fit of r ≈ mu + b_u + b_i. The system below has a cycle (more entries than
   * free parameters), so the fit leaves residuals and matching it tests the bias updates
   * themselves, not just an interpolation. The reference is computed independently by exact
   * block coordinate descent on the same least-squares problem.
   */
  @Test
  void fit_biasOnlyNoRegularization_matchesLeastSquares() {
    int[] rows = {0, 0, 1, 1, 1, 2, 2};
    int[] cols = {0, 1, 0, 1, 2, 1, 2};
    float[] vals = {5, 3, 4, 1, 2, 4, 5};
    TrainingMatrix data = TrainingMatrix.fromCoordinates(3, 3, rows, cols, vals,
        AbsentEntries.UNKNOWN);
    double[][] reference = leastSquaresAdditive(3, 3, rows, cols, vals);
    try (TestFitContext context = new TestFitContext(1)) {
      FactorModel model = fit(data, context, 2, 5, Map.of("init_std", "0",
          "regularization", "0", "bias_regularization", "0", "learning_rate", "0.1",
          "learning_rate_decay", "0.997", "max_iterations", "3000"));
      for (int u = 0; u < 3; u++) {
        for (int i = 0; i < 3; i++) {
          assertEquals(reference[u][i], model.predict(u, i), 2e-3, "(" + u + ", " + i + ")");
          assertEquals(0f, model.userFactor(u, 0));
          assertEquals(0f, model.itemFactor(i, 1));
        }
      }
      // The data are not additive, so the fit must leave a residual: otherwise this test would
      // not distinguish least squares from interpolation.
      double residual = 0;
      for (int n = 0; n < vals.length; n++) {
        residual += Math.abs(vals[n] - reference[rows[n]][cols[n]]);
      }
      assertTrue(residual > 1, "residual " + residual);
    }
  }

  /**
   * Least-squares predictions of r ≈ a_u + c_i by alternating exact minimisation (Gauss–Seidel
   * on the normal equations), for every (u, i) pair; the bipartite graph of the entries must be
   * connected so that every prediction is determined.
   */
  private static double[][] leastSquaresAdditive(int numRows, int numCols, int[] rows,
      int[] cols, float[] vals) {
    double[] a = new double[numRows];
    double[] c = new double[numCols];
    for (int sweep = 0; sweep < 20_000; sweep++) {
      for (int u = 0; u < numRows; u++) {
        double sum = 0;
        int count = 0;
        for (int n = 0; n < vals.length; n++) {
          if (rows[n] == u) {
            sum += vals[n] - c[cols[n]];
            count++;
          }
        }
        a[u] = sum / count;
      }
      for (int i = 0; i < numCols; i++) {
        double sum = 0;
        int count = 0;
        for (int n = 0; n < vals.length; n++) {
          if (cols[n] == i) {
            sum += vals[n] - a[rows[n]];
            count++;
          }
        }
        c[i] = sum / count;
      }
    }
    double[][] pred = new double[numRows][numCols];
    for (int u = 0; u < numRows; u++) {
      for (int i = 0; i < numCols; i++) {
        pred[u][i] = a[u] + c[i];
      }
    }
    return pred;
  }

  @Test
  void fit_hugeLearningRate_throwsDivergedNamingLearningRate() {
    TrainingMatrix data = SyntheticData.seedExample(10, 20, 9);
    try (TestFitContext context = new TestFitContext(1)) {
      FitDivergedException e = assertThrows(FitDivergedException.class,
          () -> fit(data, context, 5, 1, Map.of("learning_rate", "5")));
      assertTrue(e.getMessage().contains("learning_rate"), e.getMessage());
      assertTrue(e.getMessage().contains("5.0"), e.getMessage());
      assertTrue(context.reports().isEmpty(), "a diverged epoch must not be reported");
    }
  }

  @Test
  void fit_sameSeed_givesIdenticalModel() {
    SyntheticData.Sample sample = recoverySample();
    Map<String, String> params = Map.of("max_iterations", "5");
    FactorModel first;
    FactorModel second;
    FactorModel other;
    try (TestFitContext context = new TestFitContext(1)) {
      first = fit(sample.train(), context, 4, 99, params);
      second = fit(sample.train(), context, 4, 99, params);
      other = fit(sample.train(), context, 4, 100, params);
    }
    int rows = sample.train().rows();
    int cols = sample.train().cols();
    assertArrayEquals(first.copyUserFactors(0, rows), second.copyUserFactors(0, rows));
    assertArrayEquals(first.copyItemFactors(0, cols), second.copyItemFactors(0, cols));
    for (int u = 0; u < rows; u++) {
      assertEquals(first.userBias(u), second.userBias(u));
    }
    for (int i = 0; i < cols; i++) {
      assertEquals(first.itemBias(i), second.itemBias(i));
    }
    for (int n = 0; n < 5; n++) {
      assertEquals(first.history().get(n).loss(), second.history().get(n).loss());
    }
    assertFalse(java.util.Arrays.equals(first.copyUserFactors(0, rows),
        other.copyUserFactors(0, rows)), "another seed should give another model");
  }

  @Test
  void fit_cancelledAfterTwoEpochs_throwsCancelled() {
    SyntheticData.Sample sample = recoverySample();
    try (TestFitContext context = new TestFitContext(1).cancelAfter(2)) {
      FitCancelledException e = assertThrows(FitCancelledException.class,
          () -> fit(sample.train(), context, 3, 1, Map.of("max_iterations", "50")));
      assertEquals(2, context.reports().size());
      assertTrue(e.getMessage().contains("2"), e.getMessage());
    }
  }

  @Test
  void fit_cancelledBeforeStart_throwsWithoutEpochs() {
    TrainingMatrix data = SyntheticData.seedExample(10, 20, 3);
    try (TestFitContext context = new TestFitContext(1)) {
      context.cancel();
      assertThrows(FitCancelledException.class, () -> fit(data, context, 2, 1, Map.of()));
      assertTrue(context.reports().isEmpty());
    }
  }

  /**
   * A cancel that arrives during a long epoch is seen within it: on 160k entries the solver
   * asks once before the first epoch and again after 2^17 updates, when this context says yes.
   */
  @Test
  void fit_cancelledMidEpoch_throwsBeforeEpochEnds() {
    TrainingMatrix data = SyntheticData.seedExample(400, 400, 4);
    AtomicInteger asked = new AtomicInteger();
    FitContext context = new FitContext() {
      @Override
      public ForkJoinPool pool() {
        return ForkJoinPool.commonPool();
      }

      @Override
      public ValidationSet validation() {
        return ValidationSet.empty();
      }

      @Override
      public boolean isCancelled() {
        return asked.incrementAndGet() >= 2;
      }

      @Override
      public void report(IterationProgress progress) {
        throw new AssertionError("no epoch should complete, got " + progress);
      }
    };
    SolverConfig config = new SolverConfig(2, 1, AbsentEntries.UNKNOWN,
        Parameters.resolve(PROVIDER.parameters(), Map.of()));
    FitCancelledException e = assertThrows(FitCancelledException.class,
        () -> PROVIDER.create(config).fit(data, context));
    assertTrue(e.getMessage().contains("after 0"), e.getMessage());
    assertEquals(2, asked.get());
  }

  @Test
  void fit_sparseWithZeroMeaning_isRefused() {
    TrainingMatrix data = TrainingMatrix.fromCoordinates(2, 2, new int[] {0, 1},
        new int[] {0, 1}, new float[] {1, 2}, AbsentEntries.ZERO);
    try (TestFitContext context = new TestFitContext(1)) {
      assertThrows(IllegalArgumentException.class, () -> fit(data, context, 1, 1, Map.of()));
    }
  }
}
