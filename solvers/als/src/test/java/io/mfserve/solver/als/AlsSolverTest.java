package io.mfserve.solver.als;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mfserve.solver.AbsentEntries;
import io.mfserve.solver.FactorModel;
import io.mfserve.solver.FitCancelledException;
import io.mfserve.solver.FitContext;
import io.mfserve.solver.IterationProgress;
import io.mfserve.solver.Parameters;
import io.mfserve.solver.SolverConfig;
import io.mfserve.solver.TrainingMatrix;
import io.mfserve.solver.ValidationSet;
import io.mfserve.solver.testing.SyntheticData;
import io.mfserve.solver.testing.TestFitContext;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class AlsSolverTest {
  private static final AlsSolverProvider PROVIDER = new AlsSolverProvider();

  private static FactorModel fit(TrainingMatrix data, FitContext context, int k, long seed,
      Map<String, String> params) {
    Parameters resolved = Parameters.resolve(PROVIDER.parameters(), params);
    return PROVIDER.create(new SolverConfig(k, seed, AbsentEntries.UNKNOWN, resolved))
        .fit(data, context);
  }

  private static FactorModel fit(TrainingMatrix data, int k, Map<String, String> params) {
    try (TestFitContext context = new TestFitContext(2)) {
      return fit(data, context, k, 42, params);
    }
  }

  /** The RMSE of predicting every held-out entry by the training mean. */
  private static double baselineRmse(ValidationSet heldOut, double mean) {
    return heldOut.rmse((r, c) -> mean);
  }

  @Test
  void fit_rankOneExactDense_reconstructsMatrix() {
    int rows = 6;
    int cols = 5;
    float[] x = new float[rows * cols];
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        x[r * cols + c] = (0.5f + r) * (1f + 0.25f * c);
      }
    }
    TrainingMatrix data = TrainingMatrix.fromDense(rows, cols, x, AbsentEntries.UNKNOWN);

    FactorModel model = fit(data, 1, Map.of("regularization", "1e-6", "max_iterations", "30"));

    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        assertEquals(x[r * cols + c], model.predict(r, c), 1e-3, "entry (" + r + ", " + c + ")");
      }
    }
  }

  @ParameterizedTest(name = "weighted_lambda={0}")
  @ValueSource(booleans = {true, false})
  void fit_lowRankSparse_recoversHeldOutEntries(boolean weighted) {
    SyntheticData truth = SyntheticData.lowRank(60, 50, 3, false, 0, 0.01, 7);
    SyntheticData.Sample sample = truth.sample(0.4, 400, AbsentEntries.UNKNOWN, 11);

    FactorModel model = fit(sample.train(), 3, Map.of("regularization", "0.001",
        "max_iterations", "25", "weighted_lambda", Boolean.toString(weighted)));

    double heldOutRmse = sample.heldOut().rmse(model::predict);
    double baseline = baselineRmse(sample.heldOut(), sample.train().mean());
    assertTrue(baseline > 0.5, "baseline " + baseline);
    // Noise is 0.01; a solver that does not recover the structure stays near the baseline.
    assertTrue(heldOutRmse < 0.05, "held-out RMSE " + heldOutRmse + ", baseline " + baseline);
  }

  @ParameterizedTest(name = "weighted_lambda={0}")
  @ValueSource(booleans = {true, false})
  void fit_anySweep_trainingLossNeverRises(boolean weighted) {
    SyntheticData truth = SyntheticData.lowRank(40, 30, 4, false, 0, 0.3, 3);
    SyntheticData.Sample sample = truth.sample(0.3, 0, AbsentEntries.UNKNOWN, 5);

    FactorModel model = fit(sample.train(), 6, Map.of("regularization", "0.05",
        "max_iterations", "20", "weighted_lambda", Boolean.toString(weighted)));

    List<IterationProgress> history = model.history();
    assertEquals(20, history.size());
    for (int n = 1; n < history.size(); n++) {
      double before = history.get(n - 1).loss();
      double after = history.get(n).loss();
      // Exact block minimisation cannot raise the loss; the slack covers the float32 rounding
      // of the stored factors.
      assertTrue(after <= before * (1 + 1e-6), "loss rose at iteration " + (n + 1) + ": "
          + before + " -> " + after);
    }
    assertTrue(history.get(history.size() - 1).loss() < history.get(0).loss());
  }

  @Test
  void fit_seedExample_beatsMeanBaseline() {
    TrainingMatrix data = SyntheticData.seedExample(10, 20, 42);

    FactorModel model = fit(data, 5, Map.of());

    assertEquals(10, model.numUsers());
    assertEquals(20, model.numItems());
    assertEquals(5, model.numFactors());
    assertEquals(50, model.copyUserFactors(0, 10).length);
    assertEquals(100, model.copyItemFactors(0, 20).length);
    assertFalse(model.hasBiases());
    assertEquals(10, model.iterations());
    assertTrue(model.rmse(data) < SyntheticData.meanBaselineRmse(data),
        "RMSE " + model.rmse(data) + " vs baseline " + SyntheticData.meanBaselineRmse(data));
  }

  @Test
  void fit_sameSeed_identicalFactorsWithOneAndTwoThreads() {
    SyntheticData.Sample sample = SyntheticData.lowRank(150, 140, 3, false, 0, 0.1, 9)
        .sample(0.3, 0, AbsentEntries.UNKNOWN, 9);
    Map<String, String> params = Map.of("max_iterations", "5");

    FactorModel one;
    FactorModel two;
    try (TestFitContext context = new TestFitContext(1)) {
      one = fit(sample.train(), context, 4, 123, params);
    }
    try (TestFitContext context = new TestFitContext(2)) {
      two = fit(sample.train(), context, 4, 123, params);
    }

    assertArrayEquals(one.copyUserFactors(0, 150), two.copyUserFactors(0, 150));
    assertArrayEquals(one.copyItemFactors(0, 140), two.copyItemFactors(0, 140));
    for (int n = 0; n < one.iterations(); n++) {
      assertEquals(one.history().get(n).loss(), two.history().get(n).loss(), 0.0);
    }
  }

  @Test
  void fit_differentSeed_differentFactors() {
    TrainingMatrix data = SyntheticData.seedExample(10, 20, 1);

    FactorModel a;
    FactorModel b;
    try (TestFitContext context = new TestFitContext(1)) {
      a = fit(data, context, 3, 1, Map.of("max_iterations", "2"));
    }
    try (TestFitContext context = new TestFitContext(1)) {
      b = fit(data, context, 3, 2, Map.of("max_iterations", "2"));
    }

    assertFalse(java.util.Arrays.equals(a.copyItemFactors(0, 20), b.copyItemFactors(0, 20)));
  }

  @Test
  void fit_cancelledAfterTwoIterations_throwsCancelled() {
    TrainingMatrix data = SyntheticData.seedExample(30, 20, 4);
    try (TestFitContext context = new TestFitContext(2).cancelAfter(2)) {
      assertThrows(FitCancelledException.class,
          () -> fit(data, context, 3, 1, Map.of("max_iterations", "50")));
      assertEquals(2, context.reports().size());
    }
  }

  @Test
  void fit_cancelledBeforeStart_reportsNothing() {
    TrainingMatrix data = SyntheticData.seedExample(30, 20, 4);
    try (TestFitContext context = new TestFitContext(2)) {
      context.cancel();
      assertThrows(FitCancelledException.class, () -> fit(data, context, 3, 1, Map.of()));
      assertTrue(context.reports().isEmpty());
    }
  }

  @Test
  void fit_withValidationSet_reportsRmseEveryIteration() {
    SyntheticData.Sample sample = SyntheticData.lowRank(40, 30, 2, false, 0, 0.01, 21)
        .sample(0.5, 100, AbsentEntries.UNKNOWN, 22);
    try (TestFitContext context = new TestFitContext(2, sample.heldOut())) {
      FactorModel model = fit(sample.train(), context, 2, 1,
          Map.of("max_iterations", "12", "regularization", "0.001"));

      List<IterationProgress> reports = context.reports();
      assertEquals(12, reports.size());
      assertEquals(reports, model.history());
      for (int n = 0; n < reports.size(); n++) {
        IterationProgress p = reports.get(n);
        assertEquals(n + 1, p.iteration());
        assertTrue(p.hasValidation());
        assertTrue(Double.isFinite(p.loss()) && p.elapsedNanos() >= 0);
      }
      assertEquals(sample.heldOut().rmse(model::predict),
          reports.get(reports.size() - 1).validationRmse(), 1e-6);
      // Noise is 0.01; predicting the mean scores about 0.9 here.
      assertTrue(reports.get(reports.size() - 1).validationRmse() < 0.05);
      assertTrue(reports.get(reports.size() - 1).validationRmse()
          < reports.get(0).validationRmse());
    }
  }

  @Test
  void fit_withoutValidationSet_reportsNaN() {
    FactorModel model = fit(SyntheticData.seedExample(10, 20, 3), 2, Map.of("max_iterations", "2"));

    assertTrue(model.history().stream().noneMatch(IterationProgress::hasValidation));
  }

  @ParameterizedTest(name = "weighted_lambda={0}")
  @ValueSource(booleans = {true, false})
  void fit_emptyRowAndColumn_zeroFactors(boolean weighted) {
    // Row 2 and column 3 exist but hold no entries.
    int[] rows = {0, 0, 1, 1, 3, 3, 0};
    int[] cols = {0, 1, 1, 2, 0, 2, 2};
    float[] values = {1, 2, 3, 4, 5, 6, 7};
    TrainingMatrix data = TrainingMatrix.fromCoordinates(4, 4, rows, cols, values,
        AbsentEntries.UNKNOWN);

    FactorModel model = fit(data, 2, Map.of("weighted_lambda", Boolean.toString(weighted)));

    assertArrayEquals(new float[2], model.copyUserFactors(2, 3));
    assertArrayEquals(new float[2], model.copyItemFactors(3, 4));
    assertTrue(Double.isFinite(model.rmse(data)));
  }

  @Test
  void fit_zeroRegularizationUnderdetermined_staysFinite() {
    // k = 4 but most rows and columns have one or two entries: singular normal equations.
    int[] rows = {0, 1, 1, 2, 3, 4};
    int[] cols = {0, 0, 1, 2, 2, 3};
    float[] values = {1, 2, 3, 4, 5, 6};
    TrainingMatrix data = TrainingMatrix.fromCoordinates(5, 4, rows, cols, values,
        AbsentEntries.UNKNOWN);

    FactorModel model = fit(data, 4, Map.of("regularization", "0", "max_iterations", "5"));

    assertTrue(model.rmse(data) < 1e-2, "training RMSE " + model.rmse(data));
  }

  @Test
  void fit_sparseZeroAbsentEntries_rejected() {
    TrainingMatrix data = TrainingMatrix.fromCoordinates(2, 2, new int[] {0}, new int[] {0},
        new float[] {1}, AbsentEntries.ZERO);

    assertThrows(IllegalArgumentException.class, () -> fit(data, 1, Map.of()));
  }
}
