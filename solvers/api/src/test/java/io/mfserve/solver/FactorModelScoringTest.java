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
      float[] out = new float[20];
      for (int u = 0; u < 6; u++) {
        m.userVector(u, q);
        m.dotItems(q, 3, 23, out);
        for (int i = 3; i < 23; i++) {
          double score = biased ? m.globalMean() + m.userBias(u) + m.itemBias(i) + out[i - 3]
              : out[i - 3];
          assertEquals(m.predict(u, i), score, 0, "user " + u + " item " + i);
        }
      }
    }
  }

  @Test
  void dotItemBlock_acrossSeveralBlocks_equalsDotItemsAndPredict() {
    int items = 2 * FactorModel.ITEM_BLOCK + 37;
    FactorModel m = random(3, items, 13, true, 4);
    float[] q = new float[13];
    float[] block = new float[FactorModel.ITEM_BLOCK];
    float[] one = new float[1];
    for (int u = 0; u < 3; u++) {
      m.userVector(u, q);
      int seen = 0;
      for (int from = 0; from < items; from += FactorModel.ITEM_BLOCK) {
        int len = m.dotItemBlock(q, from, block);
        assertEquals(Math.min(FactorModel.ITEM_BLOCK, items - from), len);
        for (int j = 0; j < len; j++) {
          int i = from + j;
          m.dotItems(q, i, i + 1, one);
          assertEquals(one[0], block[j], 0, "item " + i);
          assertEquals(m.predict(u, i),
              m.globalMean() + m.userBias(u) + m.itemBias(i) + block[j], 0, "item " + i);
          seen++;
        }
      }
      assertEquals(items, seen);
    }
    assertThrows(IndexOutOfBoundsException.class, () -> m.dotItemBlock(q, 5, block));
    assertThrows(IndexOutOfBoundsException.class, () -> m.dotItemBlock(q, items, block));
  }

  @Test
  void itemLayout_roundTripsEveryAccessor() {
    int items = FactorModel.ITEM_BLOCK + 3;
    int k = 5;
    float[] v = new float[items * k];
    for (int n = 0; n < v.length; n++) {
      v[n] = n;
    }
    FactorModel m = new FactorModel(1, items, k, new float[k], v.clone(), null, List.of());
    float[] row = new float[k];
    for (int i = 0; i < items; i++) {
      m.itemVector(i, row);
      for (int f = 0; f < k; f++) {
        assertEquals(v[i * k + f], m.itemFactor(i, f));
        assertEquals(v[i * k + f], row[f]);
      }
    }
    float[] copy = m.copyItemFactors(FactorModel.ITEM_BLOCK - 2, items);
    for (int n = 0; n < copy.length; n++) {
      assertEquals(v[(FactorModel.ITEM_BLOCK - 2) * k + n], copy[n]);
    }
    assertThrows(IndexOutOfBoundsException.class, () -> m.itemVector(items, row));
    assertThrows(IndexOutOfBoundsException.class, () -> m.itemFactor(0, k));
  }

  @Test
  void rmse_denseAndSparse_equalsTheMeanOfPredictErrors() {
    int users = 7;
    int items = FactorModel.ITEM_BLOCK + 45;
    Random rnd = new Random(5);
    float[] values = new float[users * items];
    for (int n = 0; n < values.length; n++) {
      values[n] = (float) (3 + rnd.nextGaussian());
    }
    for (boolean biased : new boolean[] {false, true}) {
      FactorModel m = random(users, items, 6, biased, 6);
      TrainingMatrix dense = TrainingMatrix.fromDense(users, items, values,
          AbsentEntries.UNKNOWN);
      int[] r = new int[values.length / 3];
      int[] c = new int[r.length];
      float[] v = new float[r.length];
      for (int n = 0; n < r.length; n++) {
        r[n] = (3 * n) / items;
        c[n] = (3 * n) % items;
        v[n] = values[3 * n];
      }
      TrainingMatrix sparse = TrainingMatrix.fromCoordinates(users, items, r, c, v,
          AbsentEntries.UNKNOWN);
      for (TrainingMatrix data : List.of(dense, sparse)) {
        double sum = 0;
        for (int u = 0; u < users; u++) {
          for (int p = data.rowStart(u); p < data.rowEnd(u); p++) {
            double e = data.rowValue(p) - m.predict(u, data.rowColumn(p));
            sum += e * e;
          }
        }
        assertEquals(Math.sqrt(sum / data.nnz()), m.rmse(data), 1e-12);
      }
    }
  }

  @Test
  void dotUsers_matchesAPlainLoop() {
    FactorModel m = random(11, 4, 3, false, 2);
    float[] q = {0.5f, -2f, 1f};
    float[] out = new float[11];
    m.dotUsers(q, 0, 11, out);
    float[] p = new float[3];
    for (int u = 0; u < 11; u++) {
      m.userVector(u, p);
      float s = 0;
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
