package io.mfserve.solver.nmf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mfserve.solver.AbsentEntries;
import io.mfserve.solver.FactorModel;
import io.mfserve.solver.FitCancelledException;
import io.mfserve.solver.InvalidParameterException;
import io.mfserve.solver.IterationProgress;
import io.mfserve.solver.TrainingMatrix;
import io.mfserve.solver.testing.SyntheticData;
import io.mfserve.solver.testing.TestFitContext;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class NmfSolverTest {
  private static FactorModel fit(TrainingMatrix m, int k, long seed, TestFitContext context,
      String... keyValues) {
    return NmfFits.fit(m, k, seed, context, keyValues);
  }

  private static FactorModel fit(TrainingMatrix m, int k, long seed, String... keyValues) {
    return NmfFits.fit(m, k, seed, keyValues);
  }

  /** ‖X − W Hᵀ‖ / ‖X‖ over every entry of the rows × cols array x. */
  private static double relativeError(FactorModel model, float[] x, int rows, int cols) {
    double err = 0;
    double norm = 0;
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        double v = x[r * cols + c];
        double e = v - model.predict(r, c);
        err += e * e;
        norm += v * v;
      }
    }
    return Math.sqrt(err / norm);
  }

  private static float[] dense(SyntheticData d) {
    float[] x = new float[d.rows() * d.cols()];
    for (int r = 0; r < d.rows(); r++) {
      for (int c = 0; c < d.cols(); c++) {
        x[r * d.cols() + c] = d.value(r, c);
      }
    }
    return x;
  }

  private static void assertNonNegative(FactorModel model) {
    float[] u = model.copyUserFactors(0, model.numUsers());
    float[] v = model.copyItemFactors(0, model.numItems());
    for (float f : u) {
      assertTrue(f >= 0, "user factor " + f);
    }
    for (float f : v) {
      assertTrue(f >= 0, "item factor " + f);
    }
  }

  /** A rows × cols count-like matrix with about {@code density} of its entries non-zero. */
  private static float[] sparseCounts(int rows, int cols, double density, long seed) {
    Random rnd = new Random(seed);
    float[] x = new float[rows * cols];
    for (int n = 0; n < x.length; n++) {
      if (rnd.nextDouble() < density) {
        x[n] = 1 + rnd.nextInt(5);
      }
    }
    return x;
  }

  @ParameterizedTest
  @ValueSource(strings = {"hals", "mu"})
  void fit_exactNonNegativeRank2_reconstructsMatrix(String method) {
    float[] w0 = {1, 2, 0.5f, 3, 2, 1, 0.2f, 1.5f, 4, 0.5f, 1, 1};
    float[] h0 = {2, 1, 0.5f, 3, 1, 1, 3, 0.2f, 0.7f, 2};
    int rows = 6;
    int cols = 5;
    float[] x = new float[rows * cols];
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        x[r * cols + c] = w0[2 * r] * h0[2 * c] + w0[2 * r + 1] * h0[2 * c + 1];
      }
    }
    FactorModel model = fit(TrainingMatrix.fromDense(rows, cols, x, AbsentEntries.ZERO), 2, 7,
        "method", method, "tolerance", "0", "max_iterations", "5000");
    double err = relativeError(model, x, rows, cols);
    assertTrue(err < 1e-3, () -> method + " relative error " + err);
    assertNonNegative(model);
  }

  @ParameterizedTest
  @ValueSource(strings = {"hals", "mu"})
  void fit_nonNegativeLowRankDense_recoversMatrix(String method) {
    SyntheticData d = SyntheticData.lowRank(40, 30, 3, true, 0, 0, 11);
    FactorModel model = fit(d.dense(), 3, 3, "method", method, "tolerance", "0",
        "max_iterations", "1000");
    double err = relativeError(model, dense(d), d.rows(), d.cols());
    assertTrue(err < 0.02, () -> method + " relative error " + err);
    assertNonNegative(model);
  }

  @ParameterizedTest
  @ValueSource(strings = {"hals", "mu"})
  void fit_sparseUnknown_heldOutRmseWellBelowMeanBaseline(String method) {
    SyntheticData d = SyntheticData.lowRank(60, 50, 3, true, 0, 0.01, 5);
    SyntheticData.Sample s = d.sample(0.3, 400, AbsentEntries.UNKNOWN, 6);
    FactorModel model;
    try (TestFitContext context = new TestFitContext(2, s.heldOut())) {
      model = fit(s.train(), 3, 9, context, "method", method, "tolerance", "0",
          "max_iterations", "300");
      List<IterationProgress> reports = context.reports();
      assertEquals(model.iterations(), reports.size());
      assertTrue(reports.stream().allMatch(IterationProgress::hasValidation));
    }
    double mean = s.train().mean();
    double baseline = s.heldOut().rmse((r, c) -> mean);
    double rmse = s.heldOut().rmse(model::predict);
    assertTrue(rmse < 0.1 * baseline, () -> method + " held-out RMSE " + rmse
        + " vs mean baseline " + baseline);
    assertNonNegative(model);
  }

  @ParameterizedTest
  @ValueSource(strings = {"hals", "mu"})
  void fit_sparseZero_matchesDenseWithExplicitZeros(String method) {
    int rows = 30;
    int cols = 20;
    float[] x = sparseCounts(rows, cols, 0.25, 17);
    TrainingMatrix sparse = NmfObjectivesTest.nonZeros(x, rows, cols, AbsentEntries.ZERO);
    assertFalse(sparse.isDense());
    TrainingMatrix dense = TrainingMatrix.fromDense(rows, cols, x, AbsentEntries.ZERO);
    // A fixed number of HALS passes: by default a row's passes follow its stored entries, and
    // the dense form stores the zeros.
    FactorModel a = fit(sparse, 4, 21, "method", method, "max_iterations", "50",
        "inner_sweeps", "2");
    FactorModel b = fit(dense, 4, 21, "method", method, "max_iterations", "50",
        "inner_sweeps", "2");
    assertEquals(a.iterations(), b.iterations());
    float[] au = a.copyUserFactors(0, rows);
    float[] bu = b.copyUserFactors(0, rows);
    float[] av = a.copyItemFactors(0, cols);
    float[] bv = b.copyItemFactors(0, cols);
    for (int n = 0; n < au.length; n++) {
      assertEquals(bu[n], au[n], 1e-4 * (1 + Math.abs(bu[n])), "W entry " + n);
    }
    for (int n = 0; n < av.length; n++) {
      assertEquals(bv[n], av[n], 1e-4 * (1 + Math.abs(bv[n])), "H entry " + n);
    }
  }

  static Stream<Arguments> everyCase() {
    return Stream.of("hals", "mu").flatMap(method -> Stream.of("0", "0.5").flatMap(lambda ->
        Stream.of("dense", "sparse-zero", "sparse-unknown")
            .map(kind -> Arguments.of(method, lambda, kind))));
  }

  @ParameterizedTest(name = "{0} lambda={1} {2}")
  @MethodSource("everyCase")
  void fit_anyMethod_factorsNonNegativeAndLossNeverRises(String method, String lambda,
      String kind) {
    int rows = 25;
    int cols = 18;
    float[] x = sparseCounts(rows, cols, 0.4, 3);
    TrainingMatrix m = NmfObjectivesTest.matrix(kind, x, rows, cols);
    FactorModel model = fit(m, 4, 1, "method", method, "regularization", lambda,
        "tolerance", "0", "max_iterations", "100");
    assertNonNegative(model);
    List<IterationProgress> h = model.history();
    assertEquals(100, h.size());
    double slack = 1e-6 * h.get(0).loss();
    for (int n = 1; n < h.size(); n++) {
      double before = h.get(n - 1).loss();
      double after = h.get(n).loss();
      int iter = n + 1;
      assertTrue(after <= before + slack,
          () -> "loss rose at iteration " + iter + ": " + before + " -> " + after);
    }
    assertTrue(h.get(h.size() - 1).loss() < h.get(0).loss());
  }

  @ParameterizedTest
  @ValueSource(strings = {"hals", "mu"})
  void fit_seedExample_beatsMeanBaseline(String method) {
    TrainingMatrix m = SyntheticData.seedExample(10, 20, 42);
    FactorModel model = fit(m, 5, 42, "method", method);
    assertEquals(10, model.numUsers());
    assertEquals(20, model.numItems());
    assertEquals(5, model.numFactors());
    assertFalse(model.hasBiases());
    assertNonNegative(model);
    double rmse = model.rmse(m);
    double baseline = SyntheticData.meanBaselineRmse(m);
    assertTrue(rmse < baseline, () -> "RMSE " + rmse + " vs baseline " + baseline);
  }

  @Test
  void fit_negativeValue_throwsInvalidParameterNamingMatrix() {
    TrainingMatrix m = TrainingMatrix.fromCoordinates(3, 4, new int[] {0, 1, 2},
        new int[] {0, 2, 3}, new float[] {1, -3, 2}, AbsentEntries.ZERO);
    try (TestFitContext context = new TestFitContext(1)) {
      InvalidParameterException e =
          assertThrows(InvalidParameterException.class, () -> fit(m, 2, 1, context));
      assertEquals("matrix", e.parameter());
      assertTrue(e.getMessage().contains("(1, 2) is -3.0"), e.getMessage());
      assertTrue(context.reports().isEmpty());
    }
  }

  @Test
  void fit_sameSeedAnyThreadCount_sameFactors() {
    SyntheticData.Sample s = SyntheticData.lowRank(70, 40, 3, true, 0, 0.05, 2)
        .sample(0.4, 0, AbsentEntries.UNKNOWN, 3);
    for (String method : List.of("hals", "mu")) {
      FactorModel a;
      FactorModel b;
      try (TestFitContext one = new TestFitContext(1); TestFitContext two = new TestFitContext(2)) {
        a = fit(s.train(), 3, 99, one, "method", method, "max_iterations", "20");
        b = fit(s.train(), 3, 99, two, "method", method, "max_iterations", "20");
      }
      assertArrayEquals(a.copyUserFactors(0, 70), b.copyUserFactors(0, 70), method);
      assertArrayEquals(a.copyItemFactors(0, 40), b.copyItemFactors(0, 40), method);
      FactorModel c = fit(s.train(), 3, 100, "method", method, "max_iterations", "20");
      assertFalse(Arrays.equals(a.copyUserFactors(0, 70), c.copyUserFactors(0, 70)), method);
    }
  }

  @Test
  void fit_cancelledAfterTwoIterations_throwsFitCancelled() {
    TrainingMatrix m = SyntheticData.seedExample(10, 20, 1);
    try (TestFitContext context = new TestFitContext(2).cancelAfter(2)) {
      assertThrows(FitCancelledException.class,
          () -> fit(m, 3, 1, context, "tolerance", "0"));
      assertEquals(2, context.reports().size());
    }
  }

  @Test
  void fit_toleranceOnEasyCase_stopsBeforeMaxIterations() {
    // Noise puts a floor under the loss, so the relative change between sweeps dies out.
    SyntheticData d = SyntheticData.lowRank(30, 20, 2, true, 0, 0.05, 4);
    FactorModel model = fit(d.dense(), 2, 1, "tolerance", "1e-3", "max_iterations", "500");
    assertTrue(model.iterations() < 500, () -> "ran " + model.iterations());
    assertTrue(relativeError(model, dense(d), 30, 20) < 0.1);
    FactorModel full = fit(d.dense(), 2, 1, "tolerance", "0", "max_iterations", "50");
    assertEquals(50, full.iterations());
  }

  @Test
  void fit_regularization_shrinksFactors() {
    TrainingMatrix m = SyntheticData.seedExample(15, 12, 8);
    FactorModel plain = fit(m, 3, 5, "tolerance", "0", "max_iterations", "50");
    FactorModel shrunk = fit(m, 3, 5, "tolerance", "0", "max_iterations", "50",
        "regularization", "20");
    assertTrue(squaredNorm(shrunk) < squaredNorm(plain));
  }

  @Test
  void fit_allZeroCounts_returnsZeroModel() {
    TrainingMatrix m = TrainingMatrix.fromCoordinates(4, 3, new int[] {0, 3},
        new int[] {1, 2}, new float[] {0, 0}, AbsentEntries.ZERO);
    for (String method : List.of("hals", "mu")) {
      FactorModel model = fit(m, 2, 1, "method", method);
      assertEquals(0.0, squaredNorm(model), method);
      assertEquals(0.0, model.history().get(0).loss(), method);
    }
  }

  private static double squaredNorm(FactorModel model) {
    double sum = 0;
    for (float f : model.copyUserFactors(0, model.numUsers())) {
      sum += f * f;
    }
    for (float f : model.copyItemFactors(0, model.numItems())) {
      sum += f * f;
    }
    return sum;
  }

  /** Asserts every entry of both factors is ≥ 0 and finite. */
  static void assertNonNegativeFactors(FactorModel model) {
    assertNonNegative(model);
  }

  /** Counts the factor entries (both sides) below {@code eps}. */
  static int countBelow(FactorModel model, float eps) {
    int n = 0;
    for (float f : model.copyUserFactors(0, model.numUsers())) {
      n += f < eps ? 1 : 0;
    }
    for (float f : model.copyItemFactors(0, model.numItems())) {
      n += f < eps ? 1 : 0;
    }
    return n;
  }
}
