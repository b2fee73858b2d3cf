package io.mfserve.solver.nmf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mfserve.solver.AbsentEntries;
import io.mfserve.solver.FactorModel;
import io.mfserve.solver.FoldedUser;
import io.mfserve.solver.InvalidParameterException;
import io.mfserve.solver.Parameters;
import io.mfserve.solver.SolverConfig;
import io.mfserve.solver.testing.SyntheticData;
import io.mfserve.solver.testing.TestFitContext;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class NmfFoldInTest {
  private static final NmfSolverProvider PROVIDER = new NmfSolverProvider();
  private static final int K = 4;
  private static final int ITEMS = 30;

  private static SolverConfig config(AbsentEntries absent, String regularization) {
    return new SolverConfig(K, 1, absent, Parameters.resolve(PROVIDER.parameters(),
        Map.of("regularization", regularization)));
  }

  /** A model whose item factors H are uniform in [0, 1). */
  private static FactorModel randomH(long seed) {
    Random rnd = new Random(seed);
    float[] h = new float[ITEMS * K];
    for (int n = 0; n < h.length; n++) {
      h[n] = rnd.nextFloat();
    }
    return new FactorModel(1, ITEMS, K, new float[K], h, null, List.of());
  }

  private static float[] row(FactorModel m, float[] w) {
    float[] x = new float[ITEMS];
    float[] h = new float[K];
    for (int i = 0; i < ITEMS; i++) {
      m.itemVector(i, h);
      for (int f = 0; f < K; f++) {
        x[i] += w[f] * h[f];
      }
    }
    return x;
  }

  private static int[] all() {
    int[] items = new int[ITEMS];
    for (int i = 0; i < ITEMS; i++) {
      items[i] = i;
    }
    return items;
  }

  @Test
  void foldIn_exactNonNegativeRow_recoversItIncludingZeros() {
    FactorModel m = randomH(1);
    float[] w = {0.7f, 0f, 1.3f, 0f};
    FoldedUser u = PROVIDER.foldInUser(m, config(AbsentEntries.ZERO, "0"), all(),
        row(m, w));
    assertArrayEquals(w, u.factors(), 1e-4f);
  }

  @Test
  void foldIn_unknownAbsent_usesOnlyTheGivenItems() {
    FactorModel m = randomH(2);
    float[] w = {0.2f, 0.9f, 0f, 0.4f};
    float[] x = row(m, w);
    int[] some = {1, 4, 6, 9, 12, 17, 25};
    float[] given = new float[some.length];
    for (int j = 0; j < some.length; j++) {
      given[j] = x[some[j]];
    }
    FoldedUser u = PROVIDER.foldInUser(m, config(AbsentEntries.UNKNOWN, "0"), some, given);
    assertArrayEquals(w, u.factors(), 1e-4f);
    // Read as zeros, the missing items pull the factors down instead.
    FoldedUser z = PROVIDER.foldInUser(m, config(AbsentEntries.ZERO, "0"), some, given);
    double sumU = 0;
    double sumZ = 0;
    for (int f = 0; f < K; f++) {
      sumU += u.factors()[f];
      sumZ += z.factors()[f];
    }
    assertTrue(sumZ < sumU, sumZ + " vs " + sumU);
  }

  @Test
  void foldIn_rowBestFitWithNegativeWeights_isNonNegativeAndOptimal() {
    FactorModel m = randomH(3);
    Random rnd = new Random(4);
    float[] x = new float[ITEMS];
    for (int i = 0; i < ITEMS; i++) {
      // Anti-correlated with the first factor: unconstrained least squares goes negative.
      x[i] = Math.max(0, 1 - m.itemFactor(i, 0) + 0.1f * (float) rnd.nextGaussian());
    }
    double lambda = 0.05;
    float[] w = PROVIDER.foldInUser(m, config(AbsentEntries.ZERO, "0.05"), all(), x)
        .factors();
    // KKT of ½‖x − Hw‖² + ½λ‖w‖², w ≥ 0: gradient 0 where w > 0, ≥ 0 where w = 0.
    int zeros = 0;
    for (int t = 0; t < K; t++) {
      assertTrue(w[t] >= 0, "w[" + t + "] = " + w[t]);
      double grad = lambda * w[t];
      for (int i = 0; i < ITEMS; i++) {
        double e = x[i];
        for (int f = 0; f < K; f++) {
          e -= w[f] * m.itemFactor(i, f);
        }
        grad -= e * m.itemFactor(i, t);
      }
      if (w[t] > 0) {
        assertEquals(0, grad, 1e-4, "gradient " + t);
      } else {
        zeros++;
        assertTrue(grad > -1e-4, "gradient " + t + " = " + grad);
      }
    }
    assertTrue(zeros > 0, "the constraint binds somewhere");
  }

  @Test
  void foldIn_trainedRow_reproducesItsTrainedReconstruction() {
    SyntheticData d = SyntheticData.lowRank(40, 30, 3, true, 0, 0, 11);
    SolverConfig config = new SolverConfig(3, 3, AbsentEntries.ZERO, Parameters.resolve(
        PROVIDER.parameters(), Map.of("tolerance", "0", "max_iterations", "500")));
    FactorModel model;
    try (TestFitContext context = new TestFitContext(2)) {
      model = PROVIDER.create(config).fit(d.dense(), context);
    }
    for (int r : new int[] {0, 17, 39}) {
      int[] items = new int[30];
      float[] values = new float[30];
      for (int c = 0; c < 30; c++) {
        items[c] = c;
        values[c] = d.value(r, c);
      }
      float[] w = PROVIDER.foldInUser(model, config, items, values).factors();
      for (int c = 0; c < 30; c++) {
        double folded = 0;
        for (int f = 0; f < 3; f++) {
          assertTrue(w[f] >= 0);
          folded += w[f] * model.itemFactor(c, f);
        }
        assertEquals(model.predict(r, c), folded, 1e-2, "row " + r + " column " + c);
      }
    }
  }

  @Test
  void foldIn_negativeValue_isRefusedNamingValues() {
    FactorModel m = randomH(5);
    InvalidParameterException e = assertThrows(InvalidParameterException.class,
        () -> PROVIDER.foldInUser(m, config(AbsentEntries.ZERO, "0"), new int[] {1, 2},
            new float[] {1, -1}));
    assertEquals("values", e.parameter());
  }
}
