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
import io.mfserve.solver.InvalidParameterException;
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
import org.junit.jupiter.api.Test;

class SgdSolverTest {
  private static final SgdSolverProvider PROVIDER = new SgdSolverProvider();

  /** Parameters under which the rank-3 synthetic matrix is recovered in well under a second. */
  private static final Map<String, String> RECOVERY = Map.of("max_iterations", "150",
      "regularization", "0.005", "bias_regularization", "0.005");

  /** The same with the fixed schedule, whose step must decay to settle. */
  private static final Map<String, String> RECOVERY_FIXED = Map.of("max_iterations", "150",
      "schedule", "fixed", "learning_rate", "0.02", "regularization", "0.005",
      "bias_regularization", "0.005", "learning_rate_decay", "0.99");

  private static FactorModel fit(TrainingMatrix data, TestFitContext context, int k, long seed,
      Map<String, String> params) {
    return fit(data, context, k, seed, params, AbsentEntries.UNKNOWN);
  }

  /** Fits the sgd solver with {@code params} over its defaults; shared with SvdppTest. */
  static FactorModel fit(TrainingMatrix data, FitContext context, int k, long seed,
      Map<String, String> params, AbsentEntries absent) {
    SolverConfig config = new SolverConfig(k, seed, absent,
        Parameters.resolve(PROVIDER.parameters(), params));
    return PROVIDER.create(config).fit(data, context);
  }

  /** Returns {@code base} with the key-value pairs {@code kv} added; shared with SvdppTest. */
  static Map<String, String> with(Map<String, String> base, String... kv) {
    Map<String, String> m = new HashMap<>(base);
    for (int n = 0; n < kv.length; n += 2) {
      m.put(kv[n], kv[n + 1]);
    }
    return m;
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

  private static void assertRecovers(Map<String, String> params, int threads) {
    SyntheticData.Sample sample = recoverySample();
    try (TestFitContext context = new TestFitContext(threads)) {
      FactorModel model = fit(sample.train(), context, 3, 42, params);
      double heldOut = sample.heldOut().rmse(model::predict);
      double baseline = meanBaseline(sample.train(), sample.heldOut());
      // The noise is 0.05 and the mean baseline about 1.2: a solver that learnt the biases but
      // not the factors stays near 1, one that learnt both lands near the noise.
      assertTrue(heldOut < 0.15 * baseline, params + " on " + threads + " thread(s): held-out "
          + heldOut + " vs baseline " + baseline);
      assertTrue(model.hasBiases());
      assertEquals(sample.train().mean(), model.globalMean(), 1e-12);
      assertEquals(150, model.iterations());
    }
  }

  @Test
  void fit_lowRankWithBiasesAdaGrad_recoversHeldOut() {
    assertRecovers(RECOVERY, 1);
  }

  @Test
  void fit_lowRankWithBiasesFixedSchedule_recoversHeldOut() {
    assertRecovers(RECOVERY_FIXED, 1);
  }

  @Test
  void fit_lowRankWithBiasesThreeThreads_recoversHeldOut() {
    assertRecovers(RECOVERY, 3);
  }

  @Test
  void fit_lowRankWithBiasesHogwild_recoversHeldOut() {
    assertRecovers(with(RECOVERY, "parallel", "hogwild"), 2);
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
   * With zero factors (init_std 0) and no regularisation, SGD must land on the least-squares
   * fit of r ≈ mu + b_u + b_i, with either schedule. The system below has a cycle (more entries
   * than free parameters), so the fit leaves residuals and matching it tests the bias updates
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
    Map<String, String> biasOnly = Map.of("init_std", "0", "regularization", "0",
        "bias_regularization", "0", "max_iterations", "3000");
    for (Map<String, String> params : List.of(
        with(biasOnly, "schedule", "fixed", "learning_rate", "0.1",
            "learning_rate_decay", "0.997"),
        with(biasOnly, "learning_rate", "0.5", "learning_rate_decay", "0.997"))) {
      try (TestFitContext context = new TestFitContext(1)) {
        FactorModel model = fit(data, context, 2, 5, params);
        for (int u = 0; u < 3; u++) {
          for (int i = 0; i < 3; i++) {
            assertEquals(reference[u][i], model.predict(u, i), 2e-3,
                params + " (" + u + ", " + i + ")");
            assertEquals(0f, model.userFactor(u, 0));
            assertEquals(0f, model.itemFactor(i, 1));
          }
        }
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
  void fit_hugeFixedLearningRate_throwsDivergedNamingLearningRate() {
    TrainingMatrix data = SyntheticData.seedExample(10, 20, 9);
    try (TestFitContext context = new TestFitContext(1)) {
      FitDivergedException e = assertThrows(FitDivergedException.class,
          () -> fit(data, context, 5, 1, Map.of("schedule", "fixed", "learning_rate", "5")));
      assertTrue(e.getMessage().contains("learning_rate"), e.getMessage());
      assertTrue(e.getMessage().contains("5.0"), e.getMessage());
      assertTrue(context.reports().isEmpty(), "a diverged epoch must not be reported");
    }
  }

  @Test
  void fit_hugeAdaGradLearningRate_throwsDivergedNamingLearningRate() {
    TrainingMatrix data = SyntheticData.seedExample(30, 40, 9);
    try (TestFitContext context = new TestFitContext(2)) {
      FitDivergedException e = assertThrows(FitDivergedException.class,
          () -> fit(data, context, 5, 1, Map.of("learning_rate", "100")));
      assertTrue(e.getMessage().contains("learning_rate"), e.getMessage());
      assertTrue(context.reports().isEmpty(), "a diverged epoch must not be reported");
    }
  }

  @Test
  void fit_bprHugeLearningRate_throwsDiverged() {
    Planted planted = Planted.make(60, 40, 4, 17);
    for (String schedule : List.of("fixed", "adagrad")) {
      try (TestFitContext context = new TestFitContext(1)) {
        FitDivergedException e = assertThrows(FitDivergedException.class,
            () -> fit(planted.train, context, 4, 1, Map.of("schedule", schedule,
                "learning_rate", "100", "regularization", "0", "init_std", "1",
                "max_iterations", "50"), AbsentEntries.IMPLICIT), schedule);
        assertTrue(e.getMessage().contains("learning_rate"), e.getMessage());
      }
    }
  }

  @Test
  void fit_sameSeedOneThread_givesIdenticalModel() {
    SyntheticData.Sample sample = recoverySample();
    for (String parallel : List.of("blocks", "hogwild")) {
      Map<String, String> params = Map.of("max_iterations", "5", "parallel", parallel);
      FactorModel first;
      FactorModel second;
      FactorModel other;
      try (TestFitContext context = new TestFitContext(1)) {
        first = fit(sample.train(), context, 4, 99, params);
        second = fit(sample.train(), context, 4, 99, params);
        other = fit(sample.train(), context, 4, 100, params);
      }
      assertSameModel(first, second);
      for (int n = 0; n < 5; n++) {
        assertEquals(first.history().get(n).loss(), second.history().get(n).loss());
      }
      int rows = sample.train().rows();
      assertFalse(java.util.Arrays.equals(first.copyUserFactors(0, rows),
          other.copyUserFactors(0, rows)), "another seed should give another model");
    }
  }

  /**
   * The block schedule is a function of the seed and the grid size only, and the blocks that
   * run at once share no row or column: one thread and three give the same bits.
   */
  @Test
  void fit_blocksOneOrThreeThreads_giveIdenticalModels() {
    SyntheticData.Sample sample = recoverySample();
    Map<String, String> params = Map.of("max_iterations", "8");
    FactorModel one;
    FactorModel three;
    try (TestFitContext context = new TestFitContext(1)) {
      one = fit(sample.train(), context, 4, 7, params);
    }
    try (TestFitContext context = new TestFitContext(3)) {
      three = fit(sample.train(), context, 4, 7, params);
    }
    assertSameModel(one, three);
    assertEquals(one.history().get(7).loss(), three.history().get(7).loss());
    Planted planted = Planted.make(60, 40, 4, 5);
    try (TestFitContext c1 = new TestFitContext(1); TestFitContext c3 = new TestFitContext(3)) {
      assertSameModel(fit(planted.train, c1, 4, 3, Map.of(), AbsentEntries.IMPLICIT),
          fit(planted.train, c3, 4, 3, Map.of(), AbsentEntries.IMPLICIT));
    }
  }

  /**
   * The scalar and the Vector API kernels train the same model up to float rounding: both
   * recover the low-rank matrix, their held-out errors agree closely under both schedules, and
   * each gives the same bits for a seed.
   */
  @Test
  void fit_scalarAndVectorKernels_trainTheSameModel() {
    SyntheticData.Sample sample = recoverySample();
    double baseline = meanBaseline(sample.train(), sample.heldOut());
    for (Map<String, String> params : List.of(RECOVERY, RECOVERY_FIXED)) {
      double[] heldOut = new double[2];
      int x = 0;
      for (String name : List.of("scalar", "vector")) {
        SquaredKernels form = SquaredKernelTest.form(name);
        SolverConfig config = new SolverConfig(3, 42, AbsentEntries.UNKNOWN,
            Parameters.resolve(PROVIDER.parameters(), params));
        FactorModel first;
        FactorModel second;
        try (TestFitContext context = new TestFitContext(2)) {
          first = new SgdSolver(config, form).fit(sample.train(), context);
          second = new SgdSolver(config, form).fit(sample.train(), context);
        }
        assertSameModel(first, second);
        heldOut[x++] = sample.heldOut().rmse(first::predict);
      }
      assertTrue(heldOut[0] < 0.15 * baseline && heldOut[1] < 0.15 * baseline,
          params + ": held-out scalar " + heldOut[0] + ", vector " + heldOut[1]
              + ", baseline " + baseline);
      assertEquals(heldOut[0], heldOut[1], 0.02 * heldOut[0], params.toString());
    }
  }

  /** Asserts bit-identical factors and biases. */
  static void assertSameModel(FactorModel a, FactorModel b) {
    assertArrayEquals(a.copyUserFactors(0, a.numUsers()), b.copyUserFactors(0, b.numUsers()));
    assertArrayEquals(a.copyItemFactors(0, a.numItems()), b.copyItemFactors(0, b.numItems()));
    for (int u = 0; u < a.numUsers(); u++) {
      assertEquals(a.userBias(u), b.userBias(u));
    }
    for (int i = 0; i < a.numItems(); i++) {
      assertEquals(a.itemBias(i), b.itemBias(i));
    }
  }

  @Test
  void fit_earlyStopping_keepsBestEpochAndStopsAfterPatience() {
    SyntheticData truth = SyntheticData.lowRank(80, 60, 3, false, 0.5, 0.5, 7);
    SyntheticData.Sample sample = truth.sample(0.15, 800, AbsentEntries.UNKNOWN, 11);
    // Many factors and no regularisation over-fit the noisy, sparse sample quickly.
    Map<String, String> params = Map.of("max_iterations", "200", "regularization", "0",
        "bias_regularization", "0", "early_stopping_rounds", "5");
    try (TestFitContext context = new TestFitContext(2, sample.heldOut())) {
      FactorModel model = fit(sample.train(), context, 20, 3, params);
      List<IterationProgress> reports = context.reports();
      int best = model.iterations();
      assertTrue(best < 195, "stopped after " + reports.size() + " epochs, best " + best);
      assertEquals(best + 5, reports.size());
      assertKeptBestEpoch(model, reports, sample.heldOut());
    }
  }

  /**
   * Asserts that an early-stopped {@code model} is its best epoch's: the history ends there,
   * that epoch reported the lowest validation RMSE of all {@code reports}, and the model scores
   * that RMSE on {@code heldOut}.
   */
  static void assertKeptBestEpoch(FactorModel model, List<IterationProgress> reports,
      ValidationSet heldOut) {
    int best = model.iterations();
    assertEquals(reports.subList(0, best), model.history());
    double bestRmse = reports.stream().mapToDouble(IterationProgress::validationRmse).min()
        .orElseThrow();
    assertEquals(bestRmse, reports.get(best - 1).validationRmse());
    assertEquals(bestRmse, heldOut.rmse(model::predict), 1e-4);
  }

  @Test
  void fit_earlyStoppingWithoutValidation_throwsNamingParameter() {
    TrainingMatrix data = SyntheticData.seedExample(10, 20, 3);
    try (TestFitContext context = new TestFitContext(1)) {
      InvalidParameterException e = assertThrows(InvalidParameterException.class,
          () -> fit(data, context, 2, 1, Map.of("early_stopping_rounds", "3")));
      assertEquals("early_stopping_rounds", e.parameter());
    }
  }

  @Test
  void fit_cancelledAfterTwoEpochs_throwsCancelled() {
    SyntheticData.Sample sample = recoverySample();
    try (TestFitContext context = new TestFitContext(2).cancelAfter(2)) {
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
   * A cancel that arrives during an epoch is seen within it: the solver asks once before the
   * first epoch and again before each run of entries, when this context says yes; no epoch
   * completes. With several threads each may ask once more before it sees the others stop.
   */
  @Test
  void fit_cancelledMidEpoch_throwsBeforeEpochEnds() {
    TrainingMatrix data = SyntheticData.seedExample(400, 400, 4);
    for (int threads : new int[] {1, 2}) {
      try (TestFitContext context = new TestFitContext(threads).cancelAtCheck(2)
          .onReport(p -> {
            throw new AssertionError("no epoch should complete, got " + p);
          })) {
        FitCancelledException e = assertThrows(FitCancelledException.class,
            () -> fit(data, context, 2, 1, Map.of(), AbsentEntries.UNKNOWN));
        assertTrue(e.getMessage().contains("after 0"), e.getMessage());
        assertTrue(context.checks() >= 2 && context.checks() <= 1 + threads,
            "asked " + context.checks());
      }
    }
  }

  @Test
  void fit_sparseWithZeroMeaning_isRefused() {
    TrainingMatrix data = TrainingMatrix.fromCoordinates(2, 2, new int[] {0, 1},
        new int[] {0, 1}, new float[] {1, 2}, AbsentEntries.ZERO);
    try (TestFitContext context = new TestFitContext(1)) {
      assertThrows(IllegalArgumentException.class, () -> fit(data, context, 1, 1, Map.of()));
    }
  }

  /**
   * Implicit feedback with a planted structure: users and items fall into groups, and a user
   * clicks mostly items of their own group. Every item is about equally popular, so only a
   * personalised ranking can put a user's held-out clicks above other items.
   */
  @Test
  void fit_bprPlantedGroups_ranksHeldOutPositivesAboveRandomItems() {
    Planted planted = Planted.make(120, 80, 4, 21);
    try (TestFitContext context = new TestFitContext(2)) {
      FactorModel model = fit(planted.train, context, 8, 5, Map.of("max_iterations", "40",
          "regularization", "0.01"), AbsentEntries.IMPLICIT);
      assertEquals(40, model.iterations());
      double auc = planted.heldOutAuc(model);
      for (int u = 0; u < model.numUsers(); u++) {
        assertEquals(0f, model.userBias(u), "BPR leaves user biases at zero");
      }
      assertEquals(0, model.globalMean());
      List<IterationProgress> reports = context.reports();
      assertTrue(reports.get(39).loss() < 0.5 * reports.get(0).loss(),
          reports.get(0).loss() + " -> " + reports.get(39).loss());
    }
  }

  @Test
  void fit_bprWithValidation_reportsNoRmseAndStopsEarlyOnAuc() {
    Planted planted = Planted.make(120, 80, 4, 22);
    TrainingMatrix.Split split = planted.train.split(0.2, 3);
    try (TestFitContext context = new TestFitContext(1, split.validation())) {
      FactorModel model = fit(split.train(), context, 8, 5, Map.of("max_iterations", "300",
          "regularization", "0", "early_stopping_rounds", "3"), AbsentEntries.IMPLICIT);
      assertTrue(context.reports().stream().noneMatch(IterationProgress::hasValidation));
      assertTrue(context.reports().size() < 300, "ran " + context.reports().size());
      assertEquals(context.reports().size() - 3, model.iterations());
    }
  }

  @Test
  void fit_bprOnRatings_isRefusedAndSquaredOnImplicitToo() {
    TrainingMatrix ratings = SyntheticData.seedExample(10, 20, 3);
    try (TestFitContext context = new TestFitContext(1)) {
      assertThrows(InvalidParameterException.class, () -> fit(ratings, context, 2, 1,
          Map.of("loss", "bpr"), AbsentEntries.UNKNOWN));
      Planted planted = Planted.make(20, 20, 2, 1);
      assertThrows(InvalidParameterException.class, () -> fit(planted.train, context, 2, 1,
          Map.of("loss", "squared"), AbsentEntries.IMPLICIT));
    }
  }

  /** Planted-group clicks with one held-out click per user. */
  private static final class Planted {
    final TrainingMatrix train;
    final int[] heldOutItem;

    private Planted(TrainingMatrix train, int[] heldOutItem) {
      this.train = train;
      this.heldOutItem = heldOutItem;
    }

    /**
     * Users u and items i belong to group u % groups and i % groups; a user clicks an item of
     * their group with probability 0.6 and any other with 0.03. One click per user is held
     * out.
     */
    static Planted make(int users, int items, int groups, long seed) {
      java.util.Random rnd = new java.util.Random(seed);
      int[] r = new int[users * items];
      int[] c = new int[users * items];
      int[] held = new int[users];
      int n = 0;
      for (int u = 0; u < users; u++) {
        held[u] = -1;
        for (int i = 0; i < items; i++) {
          boolean click = rnd.nextDouble() < (u % groups == i % groups ? 0.6 : 0.03);
          if (!click) {
            continue;
          }
          if (held[u] < 0 && u % groups == i % groups && rnd.nextDouble() < 0.3) {
            held[u] = i;
          } else {
            r[n] = u;
            c[n++] = i;
          }
        }
      }
      float[] v = new float[n];
      java.util.Arrays.fill(v, 1f);
      TrainingMatrix train = TrainingMatrix.fromCoordinates(users, items,
          java.util.Arrays.copyOf(r, n), java.util.Arrays.copyOf(c, n), v,
          AbsentEntries.IMPLICIT);
      return new Planted(train, held);
    }

    /** The mean over users of the fraction of unclicked items scored below the held-out one. */
    double heldOutAuc(FactorModel model) {
      double sum = 0;
      int users = 0;
      float[] scores = new float[model.numItems()];
      for (int u = 0; u < model.numUsers(); u++) {
        if (heldOutItem[u] < 0) {
          continue;
        }
        model.scoreAllItems(u, scores);
        int below = 0;
        int negatives = 0;
        for (int i = 0; i < scores.length; i++) {
          if (i == heldOutItem[u] || train.contains(u, i)) {
            continue;
          }
          negatives++;
          below += scores[i] < scores[heldOutItem[u]] ? 1 : 0;
        }
        sum += below / (double) negatives;
        users++;
      }
      return sum / users;
    }
  }
}
