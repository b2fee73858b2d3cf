package io.mfserve.example.baseline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mfserve.solver.AbsentEntries;
import io.mfserve.solver.FactorModel;
import io.mfserve.solver.FitCancelledException;
import io.mfserve.solver.FoldedUser;
import io.mfserve.solver.IterationProgress;
import io.mfserve.solver.ParameterSpec;
import io.mfserve.solver.Parameters;
import io.mfserve.solver.SolverConfig;
import io.mfserve.solver.SolverProvider;
import io.mfserve.solver.TrainingMatrix;
import io.mfserve.solver.ValidationSet;
import io.mfserve.solver.testing.SyntheticData;
import io.mfserve.solver.testing.TestFitContext;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;

/** The bias baseline against hand-computed sweeps, planted additive data and the SPI's rules. */
class BaselineSolverTest {
  private static final BaselineSolverProvider PROVIDER = new BaselineSolverProvider();

  private static SolverConfig config(int k, Map<String, String> params) {
    return new SolverConfig(k, 42, AbsentEntries.UNKNOWN,
        Parameters.resolve(PROVIDER.parameters(), params));
  }

  private static FactorModel fit(TrainingMatrix data, Map<String, String> params,
      TestFitContext context) {
    return PROVIDER.create(config(2, params)).fit(data, context);
  }

  @Test
  void fit_twoSweeps_matchTheClosedFormsComputedByHand() {
    // r(0,0) = 5, r(0,1) = 3, r(1,0) = 4: mu = 4, lambda_u = lambda_i = 1.
    // Sweep 1: b_u = (0, 0); b_i0 = (1 + 0) / 3 = 1/3, b_i1 = -1 / 2.
    // Sweep 2: b_u0 = ((1 - 1/3) + (-1 + 1/2)) / 3 = 1/18, b_u1 = (-1/3) / 2 = -1/6;
    //          b_i0 = ((1 - 1/18) + (0 + 1/6)) / 3 = 10/27, b_i1 = (-1 - 1/18) / 2 = -19/36.
    TrainingMatrix data = TrainingMatrix.fromCoordinates(2, 2, new int[] {0, 0, 1},
        new int[] {0, 1, 0}, new float[] {5, 3, 4}, AbsentEntries.UNKNOWN);
    try (TestFitContext context = new TestFitContext(1)) {
      FactorModel m = fit(data, Map.of(ParameterSpec.MAX_ITERATIONS, "2",
          BaselineSolverProvider.USER_REGULARIZATION, "1",
          BaselineSolverProvider.ITEM_REGULARIZATION, "1"), context);
      assertEquals(4.0, m.globalMean(), 1e-12);
      assertEquals(1.0 / 18, m.userBias(0), 1e-6);
      assertEquals(-1.0 / 6, m.userBias(1), 1e-6);
      assertEquals(10.0 / 27, m.itemBias(0), 1e-6);
      assertEquals(-19.0 / 36, m.itemBias(1), 1e-6);
      assertEquals(4 + 1.0 / 18 - 19.0 / 36, m.predict(0, 1), 1e-6);
      for (int u = 0; u < 2; u++) {
        for (int f = 0; f < 2; f++) {
          assertEquals(0f, m.userFactor(u, f));
          assertEquals(0f, m.itemFactor(u, f));
        }
      }
      assertEquals(2, context.reports().size());
    }
  }

  @Test
  void fit_additiveMatrixHalfObserved_recoversTheHeldOutEntries() {
    // r = 3 + a_u + c_i exactly: with almost no shrinkage the biases are identified up to a
    // constant shared between the sides, so every unseen entry is predicted.
    int rows = 60;
    int cols = 40;
    Random rnd = new Random(5);
    double[] a = rnd.doubles(rows, -1, 1).toArray();
    double[] c = rnd.doubles(cols, -1, 1).toArray();
    int[] rr = new int[rows * cols];
    int[] cc = new int[rows * cols];
    float[] vv = new float[rows * cols];
    int[] hr = new int[rows * cols];
    int[] hc = new int[rows * cols];
    float[] hv = new float[rows * cols];
    int n = 0;
    int h = 0;
    for (int r = 0; r < rows; r++) {
      for (int col = 0; col < cols; col++) {
        float v = (float) (3 + a[r] + c[col]);
        if (col == r % cols || rnd.nextBoolean()) {
          rr[n] = r;
          cc[n] = col;
          vv[n++] = v;
        } else {
          hr[h] = r;
          hc[h] = col;
          hv[h++] = v;
        }
      }
    }
    TrainingMatrix train = TrainingMatrix.fromCoordinates(rows, cols,
        java.util.Arrays.copyOf(rr, n), java.util.Arrays.copyOf(cc, n),
        java.util.Arrays.copyOf(vv, n), AbsentEntries.UNKNOWN);
    ValidationSet test = ValidationSet.of(java.util.Arrays.copyOf(hr, h),
        java.util.Arrays.copyOf(hc, h), java.util.Arrays.copyOf(hv, h));
    try (TestFitContext context = new TestFitContext(1, test)) {
      FactorModel m = fit(train, Map.of(ParameterSpec.MAX_ITERATIONS, "200",
          BaselineSolverProvider.USER_REGULARIZATION, "1e-9",
          BaselineSolverProvider.ITEM_REGULARIZATION, "1e-9"), context);
      double rmse = test.rmse(m::predict);
      assertTrue(rmse < 1e-3, "held-out RMSE " + rmse);
      List<IterationProgress> reports = context.reports();
      assertEquals(rmse, reports.get(reports.size() - 1).validationRmse(), 1e-9);
    }
  }

  @Test
  void fit_objective_neverIncreasesAndEndsAtTheMinimum() {
    SyntheticData.Sample s = SyntheticData.lowRank(50, 30, 2, false, 0.8, 0.3, 11)
        .sample(0.3, 0, AbsentEntries.UNKNOWN, 12);
    TrainingMatrix data = s.train();
    double lu = 15;
    double li = 10;
    try (TestFitContext context = new TestFitContext(1)) {
      FactorModel m = fit(data, Map.of(ParameterSpec.MAX_ITERATIONS, "300"), context);
      List<IterationProgress> reports = context.reports();
      for (int t = 1; t < reports.size(); t++) {
        assertTrue(reports.get(t).loss() <= reports.get(t - 1).loss() * (1 + 1e-12),
            "sweep " + (t + 1) + " raised the objective");
      }
      // The minimum's first-order conditions: every user's and item's derivative is zero.
      for (int u = 0; u < data.rows(); u++) {
        double g = lu * m.userBias(u);
        for (int p = data.rowStart(u); p < data.rowEnd(u); p++) {
          g -= data.rowValue(p) - m.predict(u, data.rowColumn(p));
        }
        assertEquals(0, g, 1e-3, "user " + u);
      }
      for (int i = 0; i < data.cols(); i++) {
        double g = li * m.itemBias(i);
        for (int q = data.colStart(i); q < data.colEnd(i); q++) {
          g -= data.colValue(q) - m.predict(data.colRow(q), i);
        }
        assertEquals(0, g, 1e-3, "item " + i);
      }
    }
  }

  @Test
  void fit_biasedLowRankRatings_beatTheGlobalMeanOnHeldOutEntries() {
    SyntheticData.Sample s = SyntheticData.lowRank(200, 150, 3, false, 0.7, 0.4, 21)
        .sample(0.2, 3000, AbsentEntries.UNKNOWN, 22);
    try (TestFitContext context = new TestFitContext(1)) {
      FactorModel m = fit(s.train(), Map.of(), context);
      double mu = s.train().mean();
      double model = s.heldOut().rmse(m::predict);
      double mean = s.heldOut().rmse((u, i) -> mu);
      // Biases of standard deviation 0.7 on each side: the baseline removes most of them.
      assertTrue(model < 0.8 * mean, "baseline " + model + " vs global mean " + mean);
    }
  }

  @Test
  void fit_cancelledAfterTwoSweeps_throwsAndReportsTwo() {
    TrainingMatrix data = SyntheticData.seedExample(20, 10, 3);
    try (TestFitContext context = new TestFitContext(1).cancelAfter(2)) {
      assertThrows(FitCancelledException.class, () -> fit(data, Map.of(), context));
      assertEquals(2, context.reports().size());
    }
  }

  @Test
  void foldInUser_usesTheFitsRuleAgainstTheItemBiases() {
    TrainingMatrix data = SyntheticData.seedExample(30, 12, 4);
    SolverConfig config = config(3, Map.of());
    try (TestFitContext context = new TestFitContext(1)) {
      FactorModel m = PROVIDER.create(config).fit(data, context);
      int[] items = {0, 5, 7};
      float[] values = {5, 1, 4};
      FoldedUser f = PROVIDER.foldInUser(m, config, items, values);
      double sum = 0;
      for (int n = 0; n < items.length; n++) {
        sum += values[n] - m.globalMean() - m.itemBias(items[n]);
      }
      assertEquals(sum / (15 + items.length), f.bias(), 1e-6);
      assertEquals(3, f.factors().length);
      for (float x : f.factors()) {
        assertEquals(0f, x);
      }
    }
  }

  @Test
  void serviceLoader_findsTheProviderWithItsParameters() {
    SolverProvider found = ServiceLoader.load(SolverProvider.class).stream()
        .map(ServiceLoader.Provider::get).filter(p -> p.name().equals("baseline")).findFirst()
        .orElseThrow();
    assertEquals(List.of(ParameterSpec.MAX_ITERATIONS,
        BaselineSolverProvider.USER_REGULARIZATION, BaselineSolverProvider.ITEM_REGULARIZATION),
        found.parameters().stream().map(ParameterSpec::name).toList());
  }
}
