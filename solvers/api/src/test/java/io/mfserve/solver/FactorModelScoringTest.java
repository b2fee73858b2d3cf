package io.mfserve.solver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class FactorModelScoringTest {
  private static FactorModel random(int users, int items, int k, boolean biased, long seed) {
    Random rnd = new Random(seed);
    float[] u = new float[users * k];
    float[] v = new float[items * k];
    for (int n = 0; n < u.length; n++) {
      u[n] = (float) rnd.nextGaussian();
    }
    for (int n = 0; n < v.length; n++) {
      v[n] = (float) rnd.nextGaussian();
    }
    FactorModel.Biases b = null;
    if (biased) {
      float[] bu = new float[users];
      float[] bi = new float[items];
      for (int n = 0; n < users; n++) {
        bu[n] = (float) rnd.nextGaussian();
      }
      for (int n = 0; n < items; n++) {
        bi[n] = (float) rnd.nextGaussian();
      }
      b = new FactorModel.Biases(3.25, bu, bi);
    }
    return new FactorModel(users, items, k, u, v, b, List.of());
  }

  @Test
  void dotItems_plusBiases_equalsPredictBitForBit() {
    for (boolean biased : new boolean[] {false, true}) {
      FactorModel m = random(6, 23, 7, biased, 1);
      float[] q = new float[7];
      double[] out = new double[20];
      for (int u = 0; u < 6; u++) {
        m.userVector(u, q);
        m.dotItems(q, 3, 23, out);
        for (int i = 3; i < 23; i++) {
          double score = biased ? m.globalMean() + m.userBias(u) + m.itemBias(i) + out[i - 3]
              : out[i - 3];
          assertEquals((float) m.predict(u, i), (float) score, "user " + u + " item " + i);
        }
      }
    }
  }

  @Test
  void dotUsers_matchesAPlainLoop() {
    FactorModel m = random(11, 4, 3, false, 2);
    float[] q = {0.5f, -2f, 1f};
    double[] out = new double[11];
    m.dotUsers(q, 0, 11, out);
    float[] p = new float[3];
    for (int u = 0; u < 11; u++) {
      m.userVector(u, p);
      double s = 0;
      for (int f = 0; f < 3; f++) {
        s += q[f] * p[f];
      }
      assertEquals(s, out[u], 0);
    }
    assertThrows(IndexOutOfBoundsException.class, () -> m.dotUsers(q, 5, 12, out));
  }

  @Test
  void itemGram_isVTransposeV_andACopy() {
    FactorModel m = random(2, 9, 4, false, 3);
    double[] g = m.itemGram();
    float[] v = new float[4];
    double[] want = new double[16];
    for (int i = 0; i < 9; i++) {
      m.itemVector(i, v);
      for (int x = 0; x < 4; x++) {
        for (int y = 0; y < 4; y++) {
          want[x * 4 + y] += (double) v[x] * v[y];
        }
      }
    }
    for (int n = 0; n < 16; n++) {
      assertEquals(want[n], g[n], 1e-9);
    }
    g[0] = -1;
    assertEquals(want[0], m.itemGram()[0], 1e-9);
  }
}
