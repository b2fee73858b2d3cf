package io.mfserve.solver.nmf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mfserve.solver.AbsentEntries;
import io.mfserve.solver.FactorModel;
import io.mfserve.solver.IterationProgress;
import io.mfserve.solver.Parameters;
import io.mfserve.solver.SolverConfig;
import io.mfserve.solver.TrainingMatrix;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The Kullback–Leibler loss, the L1/L2 penalties, and the stopping rule. */
class NmfObjectivesTest {
  private static final NmfSolverProvider PROVIDER = new NmfSolverProvider();

  private static FactorModel fit(TrainingMatrix m, int k, long seed, String... keyValues) {
    return NmfFits.fit(m, k, seed, keyValues);
  }

  /** Poisson counts with mean W₀ H₀ᵀ (W₀, H₀ ~ U(0, scale)); returns {counts, means}. */
  private static float[][] poissonLowRank(int rows, int cols, int rank, double scale,
      long seed) {
    Random rnd = new Random(seed);
    double[] w = new double[rows * rank];
    double[] h = new double[cols * rank];
    for (int n = 0; n < w.length; n++) {
      w[n] = scale * rnd.nextDouble();
    }
    for (int n = 0; n < h.length; n++) {
      h[n] = scale * rnd.nextDouble();
    }
    float[] counts = new float[rows * cols];
    float[] means = new float[rows * cols];
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        double mu = 0;
        for (int t = 0; t < rank; t++) {
          mu += w[r * rank + t] * h[c * rank + t];
        }
        means[r * cols + c] = (float) mu;
        // Knuth's method: fine for the small means here.
        double limit = Math.exp(-mu);
        double p = rnd.nextDouble();
        int n = 0;
        while (p > limit) {
          p *= rnd.nextDouble();
          n++;
        }
        counts[r * cols + c] = n;
      }
    }
    return new float[][] {counts, means};
  }

  /**
   * The dense row-major {@code x} in the form a test case names: "dense" (absent entries are
   * zeros), "sparse-zero" (its non-zero entries, absent ones zeros) or any other kind (its
   * non-zero entries, absent ones unknown).
   */
  static TrainingMatrix matrix(String kind, float[] x, int rows, int cols) {
    return switch (kind) {
      case "dense" -> TrainingMatrix.fromDense(rows, cols, x, AbsentEntries.ZERO);
      case "sparse-zero" -> nonZeros(x, rows, cols, AbsentEntries.ZERO);
      default -> nonZeros(x, rows, cols, AbsentEntries.UNKNOWN);
    };
  }

  /** The non-zero entries of the dense row-major {@code x} as a sparse matrix. */
  static TrainingMatrix nonZeros(float[] x, int rows, int cols, AbsentEntries absent) {
    int nnz = 0;
    for (float v : x) {
      nnz += v != 0 ? 1 : 0;
    }
    int[] ri = new int[nnz];
    int[] ci = new int[nnz];
    float[] vv = new float[nnz];
    int n = 0;
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        if (x[r * cols + c] != 0) {
          ri[n] = r;
          ci[n] = c;
          vv[n++] = x[r * cols + c];
        }
      }
    }
    return TrainingMatrix.fromCoordinates(rows, cols, ri, ci, vv, absent);
  }

  /** Σ x log(x/y) − x + y over every entry of the dense array x (0 log 0 = 0). */
  private static double klDivergence(FactorModel m, float[] x, int rows, int cols) {
    double d = 0;
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        double v = x[r * cols + c];
        double y = m.predict(r, c);
        d += (v > 0 ? v * Math.log(v / y) - v : 0) + y;
      }
    }
    return d;
  }

  static Stream<Arguments> klCases() {
    return Stream.of("dense", "sparse-zero", "sparse-unknown").flatMap(kind ->
        Stream.of("0", "0.5").map(alpha -> Arguments.of(kind, alpha)));
  }

  @ParameterizedTest(name = "{0} alpha={1}")
  @MethodSource("klCases")
  void kl_multiplicativeUpdates_lossNeverRisesAndFactorsNonNegative(String kind, String alpha) {
    int rows = 30;
    int cols = 25;
    float[] x = poissonLowRank(rows, cols, 3, 1.2, 5)[0];
    TrainingMatrix m = matrix(kind, x, rows, cols);
    FactorModel model = fit(m, 3, 2, "loss", "kl", "tolerance", "0", "max_iterations", "150",
        "alpha_w", alpha, "alpha_h", alpha, "l1_ratio", "0.5");
    List<IterationProgress> h = model.history();
    assertEquals(150, h.size());
    for (int n = 1; n < h.size(); n++) {
      double before = h.get(n - 1).loss();
      double after = h.get(n).loss();
      int iter = n + 1;
      assertTrue(after <= before + 1e-9 * Math.abs(before),
          () -> kind + ": loss rose at iteration " + iter + ": " + before + " -> " + after);
    }
    assertTrue(h.get(h.size() - 1).loss() < h.get(0).loss());
    NmfSolverTest.assertNonNegativeFactors(model);
  }

  @Test
  void kl_poissonLowRankCounts_recoversTheMeansAndItsOwnLoss() {
    int rows = 60;
    int cols = 50;
    float[][] data = poissonLowRank(rows, cols, 3, 8.0, 9);
    float[] counts = data[0];
    float[] means = data[1];
    TrainingMatrix m = nonZeros(counts, rows, cols, AbsentEntries.ZERO);
    FactorModel kl = fit(m, 3, 4, "loss", "kl", "tolerance", "0", "max_iterations", "500");
    // The fit's reported loss is the generalised KL divergence over every entry.
    double reported = kl.history().get(kl.iterations() - 1).loss();
    assertEquals(klDivergence(kl, counts, rows, cols), reported, 1e-4 * reported);
    // The fitted means are close to the true Poisson means.
    double err = 0;
    double norm = 0;
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        double e = kl.predict(r, c) - means[r * cols + c];
        err += e * e;
        norm += means[r * cols + c] * (double) means[r * cols + c];
      }
    }
    double rel = Math.sqrt(err / norm);
    assertTrue(rel < 0.1, "relative error to the true means " + rel);
    // And the KL fit has a lower divergence than the Frobenius fit of the same rank.
    FactorModel frob = fit(m, 3, 4, "tolerance", "0", "max_iterations", "500");
    assertTrue(klDivergence(kl, counts, rows, cols) < klDivergence(frob, counts, rows, cols));
  }

  @Test
  void l1Penalty_givesSparserFactorsThanNone() {
    int rows = 40;
    int cols = 30;
    float[] x = poissonLowRank(rows, cols, 4, 1.5, 3)[0];
    TrainingMatrix m = TrainingMatrix.fromDense(rows, cols, x, AbsentEntries.ZERO);
    for (String method : List.of("hals", "mu")) {
      FactorModel plain = fit(m, 4, 1, "method", method, "tolerance", "0",
          "max_iterations", "300", "init", "random");
      FactorModel sparse = fit(m, 4, 1, "method", method, "tolerance", "0",
          "max_iterations", "300", "init", "random", "alpha_w", "0.1", "alpha_h", "0.1",
          "l1_ratio", "1");
      int zerosPlain = NmfSolverTest.countBelow(plain, 1e-6f);
      int zerosSparse = NmfSolverTest.countBelow(sparse, 1e-6f);
      assertTrue(zerosSparse > zerosPlain + 10,
          () -> method + ": " + zerosSparse + " zeros with L1 vs " + zerosPlain + " without");
      NmfSolverTest.assertNonNegativeFactors(sparse);
    }
  }

  @ParameterizedTest
  @MethodSource("penaltyCases")
  void penalties_reportedLoss_isTheScikitLearnObjective(String kind, String loss) {
    int rows = 20;
    int cols = 15;
    float[] x = poissonLowRank(rows, cols, 2, 1.5, 12)[0];
    TrainingMatrix m = kind.equals("dense")
        ? TrainingMatrix.fromDense(rows, cols, x, AbsentEntries.ZERO)
        : nonZeros(x, rows, cols, kind.equals("zero") ? AbsentEntries.ZERO
            : AbsentEntries.UNKNOWN);
    double alphaW = 0.02;
    double alphaH = 0.03;
    double l1Ratio = 0.4;
    double lambda = 0.1;
    FactorModel model = fit(m, 3, 6, "loss", loss, "max_iterations", "20", "tolerance", "0",
        "alpha_w", "" + alphaW, "alpha_h", "" + alphaH, "l1_ratio", "" + l1Ratio,
        "regularization", "" + lambda);
    double data = 0;
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        double v = x[r * cols + c];
        if (kind.equals("unknown") && v == 0) {
          continue;
        }
        double y = model.predict(r, c);
        data += loss.equals("kl") ? (v > 0 ? v * Math.log(v / y) - v : 0) + y
            : 0.5 * (v - y) * (v - y);
      }
    }
    double sumW = 0;
    double sqW = 0;
    double sumH = 0;
    double sqH = 0;
    for (float f : model.copyUserFactors(0, rows)) {
      sumW += f;
      sqW += f * (double) f;
    }
    for (float f : model.copyItemFactors(0, cols)) {
      sumH += f;
      sqH += f * (double) f;
    }
    // scikit-learn 1.2: alpha_W scales with n_features (cols), alpha_H with n_samples (rows).
    double penalty = alphaW * l1Ratio * cols * sumW + 0.5 * alphaW * (1 - l1Ratio) * cols * sqW
        + alphaH * l1Ratio * rows * sumH + 0.5 * alphaH * (1 - l1Ratio) * rows * sqH
        + 0.5 * lambda * (sqW + sqH);
    double reported = model.history().get(model.iterations() - 1).loss();
    assertEquals(data + penalty, reported, 1e-4 * (data + penalty), kind + " " + loss);
  }

  static Stream<Arguments> penaltyCases() {
    return Stream.of("dense", "zero", "unknown").flatMap(kind ->
        Stream.of("frobenius", "kl").map(loss -> Arguments.of(kind, loss)));
  }

  @Test
  void converged_rule_decreaseRelativeToTheDecreaseSinceTheFirstSweep() {
    // First sweep 100, then 60: a drop of 40 from the last is not small next to the 40 so far.
    assertTrue(!NmfSolver.converged(100, 100, 60, 1, 1e-3));
    // 60 -> 59.999: 0.001 against 40.001 since the first, under 1e-4 of it.
    assertTrue(NmfSolver.converged(100, 60, 59.999, 1, 1e-4));
    assertTrue(!NmfSolver.converged(100, 60, 59.999, 1, 1e-5));
    // A rise stops; tolerance 0 never does.
    assertTrue(NmfSolver.converged(100, 60, 60.5, 1, 1e-4));
    assertTrue(!NmfSolver.converged(100, 60, 59.999, 1, 0));
  }

  @Test
  void converged_twoSweeps_aTinyStepAfterALargeOneIsNotConvergence() {
    // 61 -> 60 -> 59.9999: the last sweep alone (1e-4) is under 1e-4 of the 40 so far, but the
    // mean of the two (0.5) is not: an extrapolated sweep that only just held is no sign.
    assertTrue(NmfSolver.converged(100, 60, 59.9999, 1, 1e-4));
    assertTrue(!NmfSolver.converged(100, 61, 59.9999, 2, 1e-4));
    assertTrue(NmfSolver.converged(100, 60.002, 59.9999, 2, 1e-4));
  }

  @Test
  void tolerance_largerStopsEarlierAndTheLastStepMetTheRule() {
    float[] x = poissonLowRank(50, 40, 3, 1.0, 21)[0];
    TrainingMatrix m = TrainingMatrix.fromDense(50, 40, x, AbsentEntries.ZERO);
    // Without extrapolation every reported sweep is one the rule judged (none is undone).
    FactorModel loose = fit(m, 3, 1, "tolerance", "1e-2", "max_iterations", "1000",
        "extrapolate", "false");
    FactorModel tight = fit(m, 3, 1, "tolerance", "1e-5", "max_iterations", "1000",
        "extrapolate", "false");
    assertTrue(loose.iterations() < tight.iterations(),
        loose.iterations() + " vs " + tight.iterations());
    assertTrue(tight.iterations() < 1000);
    for (FactorModel f : List.of(loose, tight)) {
      List<IterationProgress> h = f.history();
      int n = h.size();
      double tol = f == loose ? 1e-2 : 1e-5;
      assertTrue(NmfSolver.converged(h.get(0).loss(), h.get(n - 3).loss(), h.get(n - 1).loss(),
          2, tol));
      assertTrue(!NmfSolver.converged(h.get(0).loss(), h.get(n - 4).loss(),
          h.get(n - 2).loss(), 2, tol), "it would have stopped one sweep earlier");
    }
  }

  @Test
  void sparseZero_largeShape_neverDensified() {
    // 200,000 × 100,000 with 300,000 entries: dense it would be 2·10¹⁰ floats (80 GB); the fit
    // must run in the few MB the factors, the SVD bases and the entries take.
    int rows = 200_000;
    int cols = 100_000;
    int nnz = 300_000;
    Random rnd = new Random(1);
    int[] ri = new int[nnz];
    int[] ci = new int[nnz];
    float[] vv = new float[nnz];
    for (int n = 0; n < nnz; n++) {
      // Row n mod rows, a different column for each of a row's (at most two) entries.
      ri[n] = n % rows;
      ci[n] = (int) ((n % rows) * 7L % cols + (n / rows) * 50_000L + rnd.nextInt(50)) % cols;
      vv[n] = 1 + rnd.nextInt(3);
    }
    TrainingMatrix m;
    try {
      m = TrainingMatrix.fromCoordinates(rows, cols, ri, ci, vv, AbsentEntries.ZERO);
    } catch (io.mfserve.solver.DuplicateEntryException e) {
      throw new AssertionError(e);
    }
    Runtime rt = Runtime.getRuntime();
    long before = rt.totalMemory() - rt.freeMemory();
    for (String loss : List.of("frobenius", "kl")) {
      FactorModel model = fit(m, 5, 3, "loss", loss, "init", "nndsvda", "max_iterations", "3",
          "tolerance", "0");
      assertEquals(3, model.iterations());
      NmfSolverTest.assertNonNegativeFactors(model);
    }
    long after = rt.totalMemory() - rt.freeMemory();
    assertTrue(after - before < 1L << 30, "grew by " + (after - before) + " bytes");
    long estimate = PROVIDER.estimateWorkingBytes(rows, cols, nnz, new SolverConfig(5, 3,
        AbsentEntries.ZERO, Parameters.resolve(PROVIDER.parameters(), Map.of())));
    assertTrue(estimate < 64L << 20, "working estimate " + estimate);
  }
}
