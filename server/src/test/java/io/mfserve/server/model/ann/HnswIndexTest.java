package io.mfserve.server.model.ann;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mfserve.solver.FactorModel;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CancellationException;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.lucene.util.Bits;
import org.junit.jupiter.api.Test;

/** The graph index alone: recall against brute force, threads, cancellation, filters. */
class HnswIndexTest {
  private static final int ITEMS = 4000;
  private static final int K = 12;

  /** Items around 40 centres, biases small: a user's best items are one cluster's. */
  private static FactorModel clustered(long seed) {
    Random rnd = new Random(seed);
    float[][] centre = new float[40][K];
    for (float[] c : centre) {
      for (int f = 0; f < K; f++) {
        c[f] = (float) rnd.nextGaussian();
      }
    }
    float[] v = new float[ITEMS * K];
    for (int i = 0; i < ITEMS; i++) {
      float[] c = centre[rnd.nextInt(centre.length)];
      for (int f = 0; f < K; f++) {
        v[i * K + f] = c[f] + 0.3f * (float) rnd.nextGaussian();
      }
    }
    float[] u = new float[100 * K];
    for (int n = 0; n < u.length; n++) {
      u[n] = (float) rnd.nextGaussian();
    }
    float[] bi = new float[ITEMS];
    for (int i = 0; i < ITEMS; i++) {
      bi[i] = (float) (0.1 * rnd.nextGaussian());
    }
    return new FactorModel(100, ITEMS, K, u, v, new FactorModel.Biases(0, new float[100], bi),
        List.of());
  }

  @Test
  void rows_keepFactorsAndBias_andExactDotIsTheModelsDot() {
    FactorModel f = clustered(1);
    RowVectors rows = RowVectors.items(f);
    assertEquals(K + 1, rows.dim());
    float[] q = new float[K];
    f.userVector(3, q);
    float[] dots = new float[ITEMS];
    f.dotItems(q, 0, ITEMS, dots);
    for (int i = 0; i < ITEMS; i++) {
      assertEquals(Float.floatToIntBits(dots[i]), Float.floatToIntBits(rows.exactDot(q, i)));
      assertEquals(f.itemBias(i), rows.bias(i));
    }
  }

  @Test
  void build_oneAndTwoThreads_everyMetric_recallAtTenAboveTheFloor() {
    FactorModel f = clustered(2);
    RowVectors rows = RowVectors.items(f);
    float[] users = f.copyUserFactors(0, 100);
    for (Metric metric : Metric.values()) {
      for (int threads : new int[] {1, 2}) {
        HnswIndex index = HnswIndex.build(rows, metric, 16, 100, threads, () -> false);
        double recall = index.sampleRecall(users, 100, 10, 100, 3);
        // Queries are random directions, not cluster centres (ApproximateQueriesTest plants
        // those): 0.94 to 1.0 measured, a floor of 0.9.
        assertTrue(recall >= 0.9, metric + " on " + threads + " threads: " + recall);
        assertTrue(index.graphBytes() > (long) ITEMS * 16 * Integer.BYTES,
            "bytes " + index.graphBytes());
      }
    }
  }

  @Test
  void build_cancelled_stopsWithCancellation() {
    RowVectors rows = RowVectors.items(clustered(3));
    for (int threads : new int[] {1, 2}) {
      AtomicInteger looks = new AtomicInteger();
      assertThrows(CancellationException.class, () -> HnswIndex.build(rows, Metric.DOT, 16, 100,
          threads, () -> looks.incrementAndGet() > 2));
    }
  }

  @Test
  void search_filterAndVisitLimit() {
    FactorModel f = clustered(4);
    RowVectors rows = RowVectors.items(f);
    HnswIndex index = HnswIndex.build(rows, Metric.DOT, 16, 100, () -> false);
    float[] q = new float[K];
    f.userVector(0, q);
    Bits even = new Bits() {
      @Override
      public boolean get(int i) {
        return i % 2 == 0;
      }

      @Override
      public int length() {
        return ITEMS;
      }
    };
    int[] found = index.search(q, 50, even, Integer.MAX_VALUE);
    assertEquals(50, found.length);
    for (int r : found) {
      assertEquals(0, r % 2);
    }
    // A filter nothing passes makes the search visit everything: past a small limit, null.
    Bits none = new Bits() {
      @Override
      public boolean get(int i) {
        return false;
      }

      @Override
      public int length() {
        return ITEMS;
      }
    };
    assertNull(index.search(q, 10, none, 500));
    assertArrayEquals(new int[0], index.search(q, 10, none, Integer.MAX_VALUE));
  }
}
