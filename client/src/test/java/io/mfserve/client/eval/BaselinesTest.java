package io.mfserve.client.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.mfserve.proto.v1.SparseMatrix;
import org.junit.jupiter.api.Test;

/** The client-side baselines: Surprise's BaselineOnly biases and popularity. */
class BaselinesTest {
  private static Interactions data(long[] users, long[] items, float[] values) {
    SparseMatrix.Builder m = SparseMatrix.newBuilder();
    for (int e = 0; e < users.length; e++) {
      m.addRowIds(users[e]).addColIds(items[e]).addValues(values[e]);
    }
    return Interactions.of(m.build());
  }

  @Test
  void fitBiases_smallRatings_satisfiesBothRegularisedNormalEquations() {
    long[] users = {1, 1, 1, 2, 2, 3, 3, 3, 3, 4};
    long[] items = {1, 2, 3, 1, 4, 1, 2, 3, 4, 2};
    float[] values = {5, 3, 4, 4, 1, 2, 2, 5, 1, 3};
    Interactions d = data(users, items, values);
    int[] all = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};

    Baselines.BiasModel b = Baselines.fitBiases(d, all);

    assertEquals(3.0, b.mean(), 1e-12);
    // After its epochs the alternating solution is a fixed point: each bias is the shrunk mean
    // of its residuals given the other side (Koren 2010, eq. 2 solved by ALS). The coupling
    // factor per epoch is below (1/11)·(1/16), so 10 epochs leave nothing measurable.
    for (int i = 0; i < d.numItems(); i++) {
      double dev = 0;
      int n = 0;
      for (int e : all) {
        if (d.item(e) == i) {
          dev += d.value(e) - b.mean() - b.userBias()[d.user(e)];
          n++;
        }
      }
      assertEquals(dev / (Baselines.ITEM_REG + n), b.itemBias()[i], 1e-12);
    }
    for (int u = 0; u < d.numUsers(); u++) {
      double dev = 0;
      int n = 0;
      for (int e : all) {
        if (d.user(e) == u) {
          dev += d.value(e) - b.mean() - b.itemBias()[d.item(e)];
          n++;
        }
      }
      assertEquals(dev / (Baselines.USER_REG + n), b.userBias()[u], 1e-12);
    }
  }

  @Test
  void fitBiases_firstEpochByHand_matchesSurprisesUpdateOrder() {
    // Items first, then users (Surprise's baseline ALS). μ = 4. Item 1: (5 − 4) + (4 − 4) = 1
    // over 10 + 2; item 2: −1 over 10 + 1; user 2: (4 − 4 − 1/12) over 15 + 1. The later
    // epochs move them by under 1e-3 (user 2's −1/192 pulls item 1 up to 0.0837).
    Interactions d = data(new long[] {1, 1, 2}, new long[] {1, 2, 1}, new float[] {5, 3, 4});
    Baselines.BiasModel b = Baselines.fitBiases(d, new int[] {0, 1, 2});
    assertEquals(1.0 / 12, b.itemBias()[d.itemIndex(1)], 1e-3);
    assertEquals(-1.0 / 11, b.itemBias()[d.itemIndex(2)], 1e-3);
    assertEquals((4 - 4 - 1.0 / 12) / 16, b.userBias()[d.userIndex(2)], 1e-3);
  }

  @Test
  void fitBiases_entriesOutsideTraining_getNoBias() {
    Interactions d = data(new long[] {1, 1, 2, 9}, new long[] {1, 2, 1, 7},
        new float[] {5, 3, 4, 1});
    Baselines.BiasModel b = Baselines.fitBiases(d, new int[] {0, 1, 2});
    assertEquals(0, b.userBias()[d.userIndex(9)]);
    assertEquals(0, b.itemBias()[d.itemIndex(7)]);
    assertEquals(4.0, b.predict(d.userIndex(9), d.itemIndex(7)), 1e-12);
  }

  @Test
  void popularity_countsTrainingEntriesAtThreshold_tiesToLowerIndex() {
    // Items 10, 20, 30, 40 are indices 0..3. Counts: 10 → 1, 20 → 3, 30 → 1 (≥ 4: 10 → 1,
    // 20 → 1, 30 → 1), 40 only in the test entry.
    Interactions d = data(new long[] {1, 2, 3, 1, 2, 4}, new long[] {10, 20, 20, 20, 30, 40},
        new float[] {5, 2, 1, 4, 5, 5});
    int[] train = {0, 1, 2, 3, 4};
    assertArrayEquals(new int[] {1, 0, 2, 3}, Baselines.popularity(d, train, null));
    assertArrayEquals(new int[] {0, 1, 2, 3}, Baselines.popularity(d, train, 4f));
    assertArrayEquals(new int[] {1, 2}, Baselines.topUnseen(new int[] {1, 0, 2, 3},
        new int[] {0}, 2));
    assertArrayEquals(new int[] {3}, Baselines.topUnseen(new int[] {1, 0, 2, 3},
        new int[] {0, 1, 2}, 5));
  }
}
