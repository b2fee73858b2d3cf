package io.mfserve.solver;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class RidgeFoldInTest {
  private static final int K = 5;
  private static final int ITEMS = 40;

  /** A model of one user (unused) and random items; biased when {@code mu} is not NaN. */
  private static FactorModel model(long seed, double mu) {
    Random rnd = new Random(seed);
    float[] v = new float[ITEMS * K];
    for (int n = 0; n < v.length; n++) {
      v[n] = (float) rnd.nextGaussian();
    }
    FactorModel.Biases biases = null;
    if (!Double.isNaN(mu)) {
      float[] bi = new float[ITEMS];
      for (int i = 0; i < ITEMS; i++) {
        bi[i] = (float) rnd.nextGaussian();
      }
      biases = new FactorModel.Biases(mu, new float[1], bi);
    }
    return new FactorModel(1, ITEMS, K, new float[K], v, biases, List.of());
  }

  private static final int[] ITEMS_GIVEN = {0, 3, 5, 8, 13, 21, 22, 30, 31, 39};

  private static float[] values(FactorModel m, float[] p, float bias) {
    float[] v = new float[K];
    float[] out = new float[ITEMS_GIVEN.length];
    for (int j = 0; j < out.length; j++) {
      int i = ITEMS_GIVEN[j];
      m.itemVector(i, v);
      double dot = 0;
      for (int f = 0; f < K; f++) {
        dot += p[f] * v[f];
      }
      out[j] = (float) (m.globalMean() + m.itemBias(i) + bias + dot);
    }
    return out;
  }

  @Test
  void solve_exactDataNoPenalty_recoversTheUser() {
    FactorModel m = model(1, Double.NaN);
    float[] p = {0.5f, -1f, 2f, 0.25f, -0.75f};
    FoldedUser u = RidgeFoldIn.solve(m, ITEMS_GIVEN, values(m, p, 0), 0, 0, true);
    assertArrayEquals(p, u.factors(), 1e-4f);
    assertEquals(0f, u.bias());
  }

  @Test
  void solve_biasedModel_recoversFactorsAndBias() {
    FactorModel m = model(2, 3.5);
    float[] p = {1f, 0f, -0.5f, 0.3f, 0.2f};
    FoldedUser u = RidgeFoldIn.solve(m, ITEMS_GIVEN, values(m, p, -0.8f), 0, 0, true);
    assertArrayEquals(p, u.factors(), 1e-4f);
    assertEquals(-0.8f, u.bias(), 1e-4f);
  }

  @Test
  void solve_withPenalty_zeroesTheGradientOfThePerEntryObjective() {
    FactorModel m = model(3, Double.NaN);
    float[] r = new float[ITEMS_GIVEN.length];
    Random rnd = new Random(4);
    for (int j = 0; j < r.length; j++) {
      r[j] = 1 + rnd.nextInt(5);
    }
    double lambda = 0.3;
    float[] p = RidgeFoldIn.solve(m, ITEMS_GIVEN, r, lambda, lambda, true).factors();
    // d/dp [Σ (r − p·v)² + n λ ‖p‖²] / 2 = −Σ (r − p·v) v + n λ p = 0.
    float[] v = new float[K];
    double[] grad = new double[K];
    for (int j = 0; j < r.length; j++) {
      m.itemVector(ITEMS_GIVEN[j], v);
      double e = r[j];
      for (int f = 0; f < K; f++) {
        e -= p[f] * v[f];
      }
      for (int f = 0; f < K; f++) {
        grad[f] -= e * v[f];
      }
    }
    for (int f = 0; f < K; f++) {
      grad[f] += ITEMS_GIVEN.length * lambda * p[f];
      assertEquals(0, grad[f], 1e-4, "gradient " + f);
    }
  }

  @Test
  void solve_singleEntryNoPenalty_staysFinite() {
    FactorModel m = model(5, Double.NaN);
    float[] p = RidgeFoldIn.solve(m, new int[] {7}, new float[] {4}, 0, 0, false).factors();
    float[] v = new float[K];
    m.itemVector(7, v);
    double dot = 0;
    for (int f = 0; f < K; f++) {
      assertEquals(true, Float.isFinite(p[f]));
      dot += p[f] * v[f];
    }
    assertEquals(4, dot, 1e-3, "the one entry is fitted");
  }

  @Test
  void solve_badArguments_areRefused() {
    FactorModel m = model(6, Double.NaN);
    assertThrows(IllegalArgumentException.class,
        () -> RidgeFoldIn.solve(m, new int[0], new float[0], 0.1, 0.1, true));
    assertThrows(IllegalArgumentException.class,
        () -> RidgeFoldIn.solve(m, new int[] {ITEMS}, new float[] {1}, 0.1, 0.1, true));
    assertThrows(IllegalArgumentException.class,
        () -> RidgeFoldIn.solve(m, new int[] {1, 2}, new float[] {1}, 0.1, 0.1, true));
    assertThrows(IllegalArgumentException.class,
        () -> RidgeFoldIn.solve(m, new int[] {1}, new float[] {1}, -1, 0.1, true));
  }

  /** A provider that keeps every default. */
  private static final class Plain implements SolverProvider {
    @Override
    public String name() {
      return "plain";
    }

    @Override
    public String description() {
      return "test";
    }

    @Override
    public List<ParameterSpec> parameters() {
      return List.of(ParameterSpec.ofDouble(ParameterSpec.REGULARIZATION, 0.1, 0,
          Double.POSITIVE_INFINITY, "λ"));
    }

    @Override
    public Solver create(SolverConfig config) {
      throw new UnsupportedOperationException();
    }
  }

  @Test
  void defaultFoldIn_usesTheModelsRegularization_andRefusesOtherAbsentMeanings() {
    FactorModel m = model(7, Double.NaN);
    Plain plain = new Plain();
    float[] r = {1, 2, 3, 4, 5, 1, 2, 3, 4, 5};
    SolverConfig config = new SolverConfig(K, 1, AbsentEntries.UNKNOWN,
        Parameters.resolve(plain.parameters(), Map.of("regularization", "0.7")));
    assertArrayEquals(RidgeFoldIn.solve(m, ITEMS_GIVEN, r, 0.7, 0.7, true).factors(),
        plain.foldInUser(m, config, ITEMS_GIVEN, r).factors());
    SolverConfig zero = new SolverConfig(K, 1, AbsentEntries.ZERO, config.parameters());
    assertThrows(UnsupportedOperationException.class,
        () -> plain.foldInUser(m, zero, ITEMS_GIVEN, r));
  }
}
