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
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The ALS options beyond plain explicit feedback: exact answers, implicit feedback (CG against
 * Cholesky, the loss against a brute-force objective), non-negativity, biases, early stopping,
 * determinism and cancellation of every mode.
 */
class AlsFeaturesTest {
  private static final AlsSolverProvider PROVIDER = new AlsSolverProvider();

  private static FactorModel fit(TrainingMatrix data, FitContext context, int k, long seed,
      AbsentEntries absent, Map<String, String> params) {
    Parameters resolved = Parameters.resolve(PROVIDER.parameters(), params);
    return PROVIDER.create(new SolverConfig(k, seed, absent, resolved)).fit(data, context);
  }

  private static FactorModel fit(TrainingMatrix data, int k, AbsentEntries absent,
      Map<String, String> params) {
    try (TestFitContext context = new TestFitContext(2)) {
      return fit(data, context, k, 42, absent, params);
    }
  }

  /** A sparse count matrix: each user clicks a few items of their own cluster, with counts. */
  private static TrainingMatrix clicks(int users, int items, long seed) {
    Random rnd = new Random(seed);
    int[] r = new int[users * items];
    int[] c = new int[users * items];
    float[] v = new float[users * items];
    int n = 0;
    for (int u = 0; u < users; u++) {
      for (int i = 0; i < items; i++) {
        boolean sameCluster = u % 3 == i % 3;
        if (rnd.nextDouble() < (sameCluster ? 0.5 : 0.05)) {
          r[n] = u;
          c[n] = i;
          v[n++] = 1 + rnd.nextInt(5);
        }
      }
    }
    return TrainingMatrix.fromCoordinates(users, items, java.util.Arrays.copyOf(r, n),
        java.util.Arrays.copyOf(c, n), java.util.Arrays.copyOf(v, n), AbsentEntries.IMPLICIT);
  }

  @Test
  void fit_threeByThreeRankOne_isTheBestRankOneApproximation() {
    // Eigenvalues 3, 1, 1: the best rank-1 approximation (Eckart–Young) is 3·vvᵀ with
    // v = (1, 1, 0)/√2, i.e. 1.5 in the top-left 2 × 2 block and 0 elsewhere.
    float[] x = {2, 1, 0, 1, 2, 0, 0, 0, 1};
    TrainingMatrix data = TrainingMatrix.fromDense(3, 3, x, AbsentEntries.UNKNOWN);

    FactorModel model = fit(data, 1, AbsentEntries.UNKNOWN, Map.of("regularization", "1e-9",
        "weighted_lambda", "false", "max_iterations", "40"));

    double[] expected = {1.5, 1.5, 0, 1.5, 1.5, 0, 0, 0, 0};
    for (int r = 0; r < 3; r++) {
      for (int c = 0; c < 3; c++) {
        assertEquals(expected[r * 3 + c], model.predict(r, c), 1e-4, "(" + r + ", " + c + ")");
      }
    }
  }

  @Test
  void fit_oneSweepFromKnownItems_solvesEachUserExactly() {
    // One user half-sweep given V is a ridge regression per user: with k = 1, λ plain, and a
    // user's ratings r over items with factors v, u = Σ r v / (Σ v² + λ). After the item half
    // the check is that the user side is again its own exact least-squares answer.
    float[] x = {1, 2, 3, 2, 4, 7, 0, 1, 1};
    TrainingMatrix data = TrainingMatrix.fromDense(3, 3, x, AbsentEntries.UNKNOWN);
    double lambda = 0.5;

    FactorModel model = fit(data, 1, AbsentEntries.UNKNOWN, Map.of("regularization",
        Double.toString(lambda), "weighted_lambda", "false", "max_iterations", "1"));

    // Item half: each v_i = Σ_u r_ui u_u / (Σ_u u_u² + λ) must hold for the stored U.
    for (int i = 0; i < 3; i++) {
      double num = 0;
      double den = lambda;
      for (int u = 0; u < 3; u++) {
        num += x[u * 3 + i] * model.userFactor(u, 0);
        den += (double) model.userFactor(u, 0) * model.userFactor(u, 0);
      }
      assertEquals(num / den, model.itemFactor(i, 0), 1e-5, "item " + i);
    }
  }

  @ParameterizedTest(name = "noise={0}")
  @ValueSource(doubles = {0, 0.1})
  void fit_lowRankWithAndWithoutNoise_recoversHeldOutEntries(double noise) {
    SyntheticData truth = SyntheticData.lowRank(80, 60, 3, false, 0, noise, 17);
    SyntheticData.Sample sample = truth.sample(0.5, 500, AbsentEntries.UNKNOWN, 19);

    FactorModel model = fit(sample.train(), 3, AbsentEntries.UNKNOWN,
        Map.of("regularization", noise == 0 ? "1e-6" : "0.01", "max_iterations", "40"));

    double heldOut = sample.heldOut().rmse(model::predict);
    double baseline = sample.heldOut().rmse((r, c) -> sample.train().mean());
    assertTrue(baseline > 0.5, "baseline " + baseline);
    assertTrue(heldOut < (noise == 0 ? 1e-2 : 2 * noise), "held-out RMSE " + heldOut);
  }

  @Test
  void fit_implicitConjugateGradientWithKSteps_matchesCholesky() {
    TrainingMatrix data = clicks(60, 40, 3);
    int k = 4;
    FactorModel exact = fit(data, k, AbsentEntries.IMPLICIT, Map.of("implicit_solver",
        "cholesky", "max_iterations", "8", "alpha", "2"));
    // k CG steps solve a k × k system exactly (up to rounding), so the trajectories agree.
    FactorModel cg = fit(data, k, AbsentEntries.IMPLICIT, Map.of("implicit_solver", "cg",
        "cg_steps", Integer.toString(k), "max_iterations", "8", "alpha", "2"));

    for (int u = 0; u < data.rows(); u++) {
      for (int i = 0; i < data.cols(); i++) {
        assertEquals(exact.predict(u, i), cg.predict(u, i), 1e-3, "(" + u + ", " + i + ")");
      }
    }
  }

  @Test
  void fit_implicitCgDefaultThreeSteps_reachesNearlyTheCholeskyLoss() {
    TrainingMatrix data = clicks(90, 60, 5);
    FactorModel exact = fit(data, 6, AbsentEntries.IMPLICIT, Map.of("implicit_solver",
        "cholesky", "max_iterations", "15"));
    FactorModel cg = fit(data, 6, AbsentEntries.IMPLICIT, Map.of("implicit_solver", "cg",
        "max_iterations", "15"));

    double exactLoss = exact.history().get(14).loss();
    double cgLoss = cg.history().get(14).loss();
    assertTrue(cgLoss <= exactLoss * 1.02, "cg " + cgLoss + " vs cholesky " + exactLoss);
  }

  @Test
  void fit_implicitAutoBelowCgRank_isTheCholeskyFit() {
    TrainingMatrix data = clicks(60, 40, 3);
    int k = AlsSolverProvider.autoCgMinRank() - 1;
    FactorModel exact = fit(data, k, AbsentEntries.IMPLICIT, Map.of("implicit_solver",
        "cholesky", "max_iterations", "3"));
    FactorModel auto = fit(data, k, AbsentEntries.IMPLICIT, Map.of("max_iterations", "3"));

    assertArrayEquals(exact.copyUserFactors(0, data.rows()), auto.copyUserFactors(0,
        data.rows()));
    assertArrayEquals(exact.copyItemFactors(0, data.cols()), auto.copyItemFactors(0,
        data.cols()));
  }

  @Test
  void fit_implicitAutoFromCgRank_isTheCgFit() {
    TrainingMatrix data = clicks(60, 40, 3);
    int k = AlsSolverProvider.autoCgMinRank();
    FactorModel cg = fit(data, k, AbsentEntries.IMPLICIT, Map.of("implicit_solver", "cg",
        "max_iterations", "3"));
    FactorModel auto = fit(data, k, AbsentEntries.IMPLICIT, Map.of("max_iterations", "3"));

    assertArrayEquals(cg.copyUserFactors(0, data.rows()), auto.copyUserFactors(0, data.rows()));
    assertArrayEquals(cg.copyItemFactors(0, data.cols()), auto.copyItemFactors(0, data.cols()));
  }

  private static double squaredNorm(float[] v) {
    double s = 0;
    for (float x : v) {
      s += (double) x * x;
    }
    return s;
  }

  @ParameterizedTest(name = "biases={0} weighted_lambda={1}")
  @CsvSource({"false, false", "true, false", "false, true", "true, true"})
  void fit_explicit_reportedLossIsTheObjective(boolean biases, boolean weighted) {
    // The item half-sweep reports the loss from each column's system (Σ t² − 2 v·b + vᵀMv)
    // rather than entry by entry: it must still be the objective of AlsSolver's Javadoc.
    TrainingMatrix data = clicks(40, 30, 11);
    double lambda = weighted ? 0.1 : 2.0;
    double biasLambda = 1.5;
    FactorModel model = fit(data, 4, AbsentEntries.UNKNOWN, Map.of("max_iterations", "3",
        "regularization", Double.toString(lambda), "weighted_lambda",
        Boolean.toString(weighted), "biases", Boolean.toString(biases), "bias_regularization",
        Double.toString(biasLambda)));

    double total = 0;
    for (int u = 0; u < data.rows(); u++) {
      for (int p = data.rowStart(u); p < data.rowEnd(u); p++) {
        double e = data.rowValue(p) - model.predict(u, data.rowColumn(p));
        total += e * e;
      }
      float[] row = model.copyUserFactors(u, u + 1);
      double bias = biases ? model.userBias(u) : 0;
      total += (weighted ? lambda * data.rowLength(u) : lambda) * squaredNorm(row)
          + biasLambda * bias * bias;
    }
    for (int i = 0; i < data.cols(); i++) {
      float[] row = model.copyItemFactors(i, i + 1);
      double bias = biases ? model.itemBias(i) : 0;
      total += (weighted ? lambda * data.colLength(i) : lambda) * squaredNorm(row)
          + biasLambda * bias * bias;
    }
    assertEquals(total / data.nnz(), model.history().get(2).loss(), 1e-5 * total / data.nnz());
  }

  @ParameterizedTest(name = "confidence={0}")
  @ValueSource(strings = {"linear", "log"})
  void fit_implicit_reportedLossIsTheWeightedObjective(String confidence) {
    TrainingMatrix data = clicks(30, 20, 7);
    double alpha = 3;
    double epsilon = 0.5;
    double lambda = 0.1;
    FactorModel model = fit(data, 3, AbsentEntries.IMPLICIT, Map.of("max_iterations", "3",
        "alpha", Double.toString(alpha), "confidence", confidence, "epsilon",
        Double.toString(epsilon), "regularization", Double.toString(lambda)));

    // Brute force over every (u, i): c (p − x·y)² plus the weighted-λ penalty.
    double total = 0;
    for (int u = 0; u < data.rows(); u++) {
      for (int i = 0; i < data.cols(); i++) {
        double s = model.predict(u, i);
        total += s * s;
      }
      double norm = 0;
      for (int f = 0; f < 3; f++) {
        norm += (double) model.userFactor(u, f) * model.userFactor(u, f);
      }
      total += lambda * data.rowLength(u) * norm;
      for (int p = data.rowStart(u); p < data.rowEnd(u); p++) {
        int i = data.rowColumn(p);
        double r = data.rowValue(p);
        double c = 1 + (confidence.equals("log") ? alpha * Math.log1p(r / epsilon) : alpha * r);
        double s = model.predict(u, i);
        total += c * (1 - s) * (1 - s) - s * s;
      }
    }
    for (int i = 0; i < data.cols(); i++) {
      double norm = 0;
      for (int f = 0; f < 3; f++) {
        norm += (double) model.itemFactor(i, f) * model.itemFactor(i, f);
      }
      total += lambda * data.colLength(i) * norm;
    }
    assertEquals(total / data.nnz(), model.history().get(2).loss(), 1e-4 * total / data.nnz());
  }

  @Test
  void fit_implicit_ranksEachUsersClusterFirst() {
    TrainingMatrix data = clicks(60, 45, 11);

    FactorModel model = fit(data, 3, AbsentEntries.IMPLICIT, Map.of("max_iterations", "10"));

    int right = 0;
    for (int u = 0; u < data.rows(); u++) {
      double same = 0;
      double other = 0;
      for (int i = 0; i < data.cols(); i++) {
        if (i % 3 == u % 3) {
          same += model.predict(u, i);
        } else {
          other += model.predict(u, i) / 2;
        }
      }
      right += same > other ? 1 : 0;
    }
    assertEquals(data.rows(), right);
    assertFalse(model.hasBiases());
  }

  @ParameterizedTest(name = "absent={0}")
  @ValueSource(strings = {"UNKNOWN", "IMPLICIT"})
  void fit_nonnegative_allFactorsNonNegativeAndFits(String absent) {
    SyntheticData truth = SyntheticData.lowRank(50, 40, 3, true, 0, 0.01, 23);
    AbsentEntries mode = AbsentEntries.valueOf(absent);
    SyntheticData.Sample sample = truth.sample(0.6, 300, mode, 29);

    FactorModel model = fit(sample.train(), 3, mode, Map.of("nonnegative", "true",
        "max_iterations", "30", "regularization", "0.001"));

    for (float f : model.copyUserFactors(0, 50)) {
      assertTrue(f >= 0, "user factor " + f);
    }
    for (float f : model.copyItemFactors(0, 40)) {
      assertTrue(f >= 0, "item factor " + f);
    }
    if (mode == AbsentEntries.UNKNOWN) {
      assertTrue(sample.heldOut().rmse(model::predict) < 0.1,
          "held-out RMSE " + sample.heldOut().rmse(model::predict));
      List<IterationProgress> h = model.history();
      for (int n = 1; n < h.size(); n++) {
        assertTrue(h.get(n).loss() <= h.get(n - 1).loss() * (1 + 1e-4), "iteration " + n);
      }
    }
  }

  @Test
  void fit_biases_recoverPlantedBiases() {
    int rows = 120;
    int cols = 90;
    Random rnd = new Random(31);
    double mu = 3.5;
    double[] bu = new double[rows];
    double[] bi = new double[cols];
    for (int r = 0; r < rows; r++) {
      bu[r] = rnd.nextGaussian() * 0.5;
    }
    for (int c = 0; c < cols; c++) {
      bi[c] = rnd.nextGaussian() * 0.5;
    }
    double[] u = new double[rows * 2];
    double[] v = new double[cols * 2];
    for (int n = 0; n < u.length; n++) {
      u[n] = rnd.nextGaussian() * 0.5;
    }
    for (int n = 0; n < v.length; n++) {
      v[n] = rnd.nextGaussian() * 0.5;
    }
    float[] x = new float[rows * cols];
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        x[r * cols + c] = (float) (mu + bu[r] + bi[c] + u[2 * r] * v[2 * c]
            + u[2 * r + 1] * v[2 * c + 1] + rnd.nextGaussian() * 0.01);
      }
    }
    TrainingMatrix data = TrainingMatrix.fromDense(rows, cols, x, AbsentEntries.UNKNOWN);

    FactorModel model = fit(data, 2, AbsentEntries.UNKNOWN, Map.of("biases", "true",
        "max_iterations", "30", "regularization", "0.001", "bias_regularization", "0.01"));

    assertTrue(model.hasBiases());
    assertEquals(data.mean(), model.globalMean(), 1e-9);
    // The factor part can absorb a constant per row, so compare centred biases.
    assertTrue(correlation(bu, model, true) > 0.95, "user " + correlation(bu, model, true));
    assertTrue(correlation(bi, model, false) > 0.95, "item " + correlation(bi, model, false));
    assertTrue(model.rmse(data) < 0.05, "training RMSE " + model.rmse(data));
  }

  private static double correlation(double[] truth, FactorModel model, boolean users) {
    int n = truth.length;
    double mt = 0;
    double mf = 0;
    for (int x = 0; x < n; x++) {
      mt += truth[x] / n;
      mf += (users ? model.userBias(x) : model.itemBias(x)) / (double) n;
    }
    double st = 0;
    double sf = 0;
    double sx = 0;
    for (int x = 0; x < n; x++) {
      double a = truth[x] - mt;
      double b = (users ? model.userBias(x) : model.itemBias(x)) - mf;
      st += a * a;
      sf += b * b;
      sx += a * b;
    }
    return sx / Math.sqrt(st * sf);
  }

  @Test
  void fit_earlyStopping_stopsAndKeepsTheBestSweep() {
    // λ = 0 with many factors overfits noisy data: the validation RMSE turns up.
    SyntheticData.Sample sample = SyntheticData.lowRank(60, 50, 2, false, 0, 0.5, 41)
        .sample(0.3, 0, AbsentEntries.UNKNOWN, 43);
    TrainingMatrix.Split split = sample.train().split(0.2, 7);
    try (TestFitContext context = new TestFitContext(2, split.validation())) {
      FactorModel model = fit(split.train(), context, 8, 1, AbsentEntries.UNKNOWN,
          Map.of("regularization", "0.0001", "max_iterations", "60",
              "early_stopping_rounds", "2"));

      List<IterationProgress> ran = context.reports();
      assertTrue(ran.size() < 60, "ran " + ran.size() + " sweeps");
      int best = 0;
      for (int n = 1; n < ran.size(); n++) {
        if (ran.get(n).validationRmse() < ran.get(best).validationRmse()) {
          best = n;
        }
      }
      assertEquals(ran.size() - 3, best, "stops two sweeps after the best");
      // The model is the best sweep's, and its history ends there.
      List<IterationProgress> h = model.history();
      assertEquals(best + 1, model.iterations());
      assertEquals(ran.subList(0, best + 1), h);
      assertEquals(h.get(best).validationRmse(), split.validation().rmse(model::predict), 1e-6);
    }
  }

  @Test
  void fit_earlyStoppingWithoutValidation_runsEverySweep() {
    FactorModel model = fit(SyntheticData.seedExample(20, 15, 2), 3, AbsentEntries.UNKNOWN,
        Map.of("max_iterations", "7", "early_stopping_rounds", "1"));

    assertEquals(7, model.iterations());
  }

  @Test
  void fit_implicitEarlyStopping_reportsNaNRmseAndFinishes() {
    TrainingMatrix data = clicks(60, 40, 13);
    TrainingMatrix.Split split = data.split(0.2, 3);
    try (TestFitContext context = new TestFitContext(2, split.validation())) {
      FactorModel model = fit(split.train(), context, 3, 1, AbsentEntries.IMPLICIT,
          Map.of("max_iterations", "40", "early_stopping_rounds", "3"));

      assertTrue(model.history().stream().noneMatch(IterationProgress::hasValidation));
      assertTrue(model.iterations() >= 4);
    }
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"biases", "implicit-cg", "implicit-cholesky", "nonnegative"})
  void fit_sameSeed_identicalWithOneAndTwoThreads(String mode) {
    Map<String, String> params = new HashMap<>(Map.of("max_iterations", "4"));
    AbsentEntries absent = AbsentEntries.UNKNOWN;
    TrainingMatrix data;
    switch (mode) {
      case "biases" -> params.put("biases", "true");
      case "implicit-cg" -> params.put("implicit_solver", "cg");
      case "implicit-cholesky" -> params.put("implicit_solver", "cholesky");
      case "nonnegative" -> params.put("nonnegative", "true");
      default -> { }
    }
    if (mode.startsWith("implicit")) {
      absent = AbsentEntries.IMPLICIT;
      data = clicks(150, 140, 9);
    } else {
      data = SyntheticData.lowRank(150, 140, 3, true, 0, 0.1, 9).sample(0.3, 0, absent, 9)
          .train();
    }
    FactorModel one;
    FactorModel two;
    try (TestFitContext context = new TestFitContext(1)) {
      one = fit(data, context, 4, 123, absent, params);
    }
    try (TestFitContext context = new TestFitContext(2)) {
      two = fit(data, context, 4, 123, absent, params);
    }

    assertArrayEquals(one.copyUserFactors(0, 150), two.copyUserFactors(0, 150));
    assertArrayEquals(one.copyItemFactors(0, 140), two.copyItemFactors(0, 140));
    for (int n = 0; n < one.iterations(); n++) {
      assertEquals(one.history().get(n).loss(), two.history().get(n).loss(), 0.0);
    }
    for (int u = 0; u < 150; u++) {
      assertEquals(one.userBias(u), two.userBias(u), 0.0);
    }
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"UNKNOWN", "IMPLICIT"})
  void fit_cancelledDuringASweep_stopsWithinTheSweep(String absent) {
    AbsentEntries mode = AbsentEntries.valueOf(absent);
    TrainingMatrix data = SyntheticData.lowRank(3000, 200, 5, true, 0, 0.1, 3)
        .sample(0.05, 0, mode, 3).train();
    AtomicInteger reports = new AtomicInteger();
    try (TestFitContext context = new TestFitContext(2)) {
      context.onReport(p -> {
        if (reports.incrementAndGet() == 1) {
          // Cancel from another thread while the second sweep runs.
          new Thread(context::cancel).start();
        }
      });
      assertThrows(FitCancelledException.class, () -> fit(data, context, 20, 1, mode,
          Map.of("max_iterations", "10000")));
      assertTrue(context.reports().size() < 10, "ran " + context.reports().size());
    }
  }

  @Test
  void fit_denseImplicitWithZeros_zeroEntriesAreNegatives() {
    // Dense implicit input: the zeros are observed non-preferences (p = 0, c = 1).
    float[] x = {3, 0, 0, 0, 2, 0, 0, 0, 4, 5, 0, 0};
    TrainingMatrix data = TrainingMatrix.fromDense(4, 3, x, AbsentEntries.IMPLICIT);

    FactorModel model = fit(data, 3, AbsentEntries.IMPLICIT, Map.of("max_iterations", "20",
        "regularization", "0.01", "alpha", "10"));

    for (int u = 0; u < 4; u++) {
      int liked = u == 3 ? 0 : u;
      for (int i = 0; i < 3; i++) {
        if (i != liked) {
          assertTrue(model.predict(u, liked) > model.predict(u, i), "user " + u);
        }
      }
    }
  }

  @Test
  void fit_validationSet_implicitSplitOfDenseMatrix_isAccepted() {
    TrainingMatrix data = SyntheticData.seedExample(12, 10, 5);
    TrainingMatrix implicitData = TrainingMatrix.fromDense(12, 10,
        data.isDense() ? denseValues(data) : null, AbsentEntries.IMPLICIT);
    // A dense matrix's split marks its training part UNKNOWN; the config still says IMPLICIT.
    TrainingMatrix.Split split = implicitData.split(0.2, 1);
    try (TestFitContext context = new TestFitContext(1, ValidationSet.empty())) {
      FactorModel model = fit(split.train(), context, 2, 1, AbsentEntries.IMPLICIT,
          Map.of("max_iterations", "3"));
      assertEquals(3, model.iterations());
    }
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"biases", "plain-lambda", "implicit", "nonnegative"})
  void foldInUser_trainingUsersEntries_matchesTheTrainedUser(String mode) {
    Map<String, String> params = new HashMap<>(Map.of("max_iterations", "80",
        "regularization", "0.05"));
    AbsentEntries absent = AbsentEntries.UNKNOWN;
    TrainingMatrix data;
    switch (mode) {
      case "biases" -> params.putAll(Map.of("biases", "true", "bias_regularization", "3"));
      case "plain-lambda" -> params.putAll(Map.of("weighted_lambda", "false",
          "regularization", "2"));
      case "implicit" -> params.put("implicit_solver", "cholesky");
      default -> params.put("nonnegative", "true");
    }
    if (mode.equals("implicit")) {
      absent = AbsentEntries.IMPLICIT;
      data = clicks(60, 40, 17);
    } else {
      data = SyntheticData.lowRank(60, 40, 3, true, 0.3, 0.05, 21).sample(0.5, 0, absent, 22)
          .train();
    }
    SolverConfig config = new SolverConfig(3, 5, absent,
        Parameters.resolve(PROVIDER.parameters(), params));
    FactorModel model;
    try (TestFitContext context = new TestFitContext(2)) {
      model = PROVIDER.create(config).fit(data, context);
    }
    for (int u : new int[] {0, 17, 59}) {
      int n = data.rowLength(u);
      int[] items = new int[n];
      float[] values = new float[n];
      for (int p = data.rowStart(u), j = 0; p < data.rowEnd(u); p++, j++) {
        items[j] = data.rowColumn(p);
        values[j] = data.rowValue(p);
      }
      io.mfserve.solver.FoldedUser folded = PROVIDER.foldInUser(model, config, items, values);
      for (int f = 0; f < 3; f++) {
        assertEquals(model.userFactor(u, f), folded.factors()[f], 2e-3, "user " + u);
      }
      assertEquals(model.userBias(u), folded.bias(), 2e-3, "user " + u);
    }
  }

  private static float[] denseValues(TrainingMatrix m) {
    float[] v = new float[m.rows() * m.cols()];
    for (int r = 0; r < m.rows(); r++) {
      for (int p = m.rowStart(r); p < m.rowEnd(r); p++) {
        v[r * m.cols() + m.rowColumn(p)] = m.rowValue(p);
      }
    }
    return v;
  }
}
