package io.mfserve.solver.nmf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mfserve.solver.FactorModel;
import io.mfserve.solver.IterationProgress;
import io.mfserve.solver.TrainingMatrix;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** HALS with extrapolation and restarts ({@link FullUpdater.Extrapolation}). */
class NmfExtrapolationTest {
  private static FactorModel fit(TrainingMatrix m, int k, String... keyValues) {
    return NmfFits.fit(m, k, 3, keyValues);
  }

  /** W₀ H₀ᵀ plus clipped Gaussian noise, W₀, H₀ ~ U(0, 1), with about half the entries zero. */
  private static float[] plantedWithZeros(int rows, int cols, int rank, long seed) {
    Random rnd = new Random(seed);
    double[] w = new double[rows * rank];
    double[] h = new double[cols * rank];
    for (int n = 0; n < w.length; n++) {
      w[n] = rnd.nextDouble() < 0.6 ? 0 : rnd.nextDouble();
    }
    for (int n = 0; n < h.length; n++) {
      h[n] = rnd.nextDouble() < 0.6 ? 0 : rnd.nextDouble();
    }
    float[] x = new float[rows * cols];
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        double v = 0;
        for (int t = 0; t < rank; t++) {
          v += w[r * rank + t] * h[c * rank + t];
        }
        x[r * cols + c] = (float) Math.max(0, v + 0.05 * rnd.nextGaussian());
      }
    }
    return x;
  }

  private static double lastLoss(FactorModel m) {
    List<IterationProgress> h = m.history();
    return h.get(h.size() - 1).loss();
  }

  @ParameterizedTest
  @ValueSource(strings = {"dense", "sparse-zero"})
  void extrapolate_plantedLowRank_lowerLossThanPlainHalsInTheSameSweeps(String kind) {
    int rows = 120;
    int cols = 80;
    TrainingMatrix m =
        NmfObjectivesTest.matrix(kind, plantedWithZeros(rows, cols, 6, 5), rows, cols);
    // One pass per row: plain HALS (scikit-learn's cd), where extrapolation matters most; 12
    // sweeps, before either has converged.
    FactorModel plain = fit(m, 6, "extrapolate", "false", "inner_sweeps", "1",
        "tolerance", "0", "max_iterations", "12");
    FactorModel fast = fit(m, 6, "extrapolate", "true", "inner_sweeps", "1",
        "tolerance", "0", "max_iterations", "12");
    assertTrue(lastLoss(fast) < lastLoss(plain), lastLoss(fast) + " vs " + lastLoss(plain));
    NmfSolverTest.assertNonNegativeFactors(fast);
  }

  @ParameterizedTest
  @ValueSource(strings = {"dense", "sparse-zero"})
  void extrapolate_reportedLoss_isTheLossOfTheReturnedFactors(String kind) {
    int rows = 40;
    int cols = 30;
    float[] x = plantedWithZeros(rows, cols, 4, 9);
    FactorModel model = fit(NmfObjectivesTest.matrix(kind, x, rows, cols), 4,
        "tolerance", "0", "max_iterations", "25");
    double direct = 0;
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        double e = x[r * cols + c] - model.predict(r, c);
        direct += 0.5 * e * e;
      }
    }
    assertEquals(direct, lastLoss(model), 1e-4 * direct);
    // The loss of the held pair never rises, restarts included.
    List<IterationProgress> h = model.history();
    for (int n = 1; n < h.size(); n++) {
      assertTrue(h.get(n).loss() <= h.get(n - 1).loss() * (1 + 1e-9), "sweep " + (n + 1));
    }
  }

  @Test
  void extrapolation_riseRestoresTheKeptPairAndShrinksBeta() {
    float[] w = {1, 2};
    float[] h = {3, 4};
    double[] gramH = {25};
    FullUpdater.Extrapolation e = new FullUpdater.Extrapolation(w, h, 1);
    assertTrue(e.accept(10));
    e.keep(w, h, gramH, 7);
    // The second sweep moves the rows and extrapolates: r + β (r − previous r), clamped at 0.
    float[] w2 = {2, 0};
    e.extrapolate(w2, e.baseW, 0, 2);
    assertArrayEquals(new float[] {2.5f, 0f}, w2);
    double beta = e.beta;
    assertFalse(e.accept(11));
    assertTrue(e.rejected);
    assertEquals(beta / FullUpdater.Extrapolation.SHRINK, e.beta, 1e-12);
    float[] h2 = {9, 9};
    double[] gram2 = {0};
    assertEquals(7, e.restore(w2, h2, gram2));
    assertArrayEquals(new float[] {1, 2}, w2);
    assertArrayEquals(new float[] {3, 4}, h2);
    assertArrayEquals(new double[] {25}, gram2);
    assertEquals(10, e.held);
    // A fall is accepted and lets β grow again, up to the cap the failed β set.
    assertTrue(e.accept(9));
    assertTrue(e.beta <= beta);
  }
}
