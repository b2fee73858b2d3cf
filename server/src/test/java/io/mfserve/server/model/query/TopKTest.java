package io.mfserve.server.model.query;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Comparator;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class TopKTest {
  /** Positions best first by sorting: score descending, then position ascending. */
  private static int[] bruteForce(float[] scores, int k) {
    return IntStream.range(0, scores.length).boxed()
        .sorted(Comparator.<Integer>comparingDouble(i -> -scores[i]).thenComparing(i -> i))
        .limit(k).mapToInt(Integer::intValue).toArray();
  }

  @Test
  void drain_manyTiesAnyOrder_equalsSortingByScoreThenPosition() {
    Random rnd = new Random(1);
    TopK top = new TopK(1);
    for (int trial = 0; trial < 200; trial++) {
      int n = 1 + rnd.nextInt(300);
      float[] scores = new float[n];
      for (int i = 0; i < n; i++) {
        scores[i] = rnd.nextInt(7) - 3; // few distinct values: ties everywhere
      }
      int k = rnd.nextInt(n + 5);
      int[] order = IntStream.range(0, n).toArray();
      if (trial % 2 == 1) {
        // Offer in a shuffled order: the result must not depend on it.
        for (int i = n - 1; i > 0; i--) {
          int j = rnd.nextInt(i + 1);
          int t = order[i];
          order[i] = order[j];
          order[j] = t;
        }
      }
      top.reset(Math.min(k, n));
      for (int i : order) {
        top.offer(i, scores[i]);
      }
      int[] positions = new int[top.size()];
      float[] got = new float[top.size()];
      assertEquals(Math.min(k, n), top.drainBestFirst(positions, got));
      int[] want = bruteForce(scores, k);
      assertArrayEquals(want, positions, "trial " + trial);
      for (int m = 0; m < want.length; m++) {
        assertEquals(scores[want[m]], got[m]);
      }
      assertEquals(0, top.size());
    }
  }

  @Test
  void drain_longStreamsRisingFallingAndRandom_equalSorting() {
    Random rnd = new Random(2);
    TopK top = new TopK(1);
    for (int trial = 0; trial < 30; trial++) {
      int n = 2000 + rnd.nextInt(20000);
      float[] scores = new float[n];
      for (int i = 0; i < n; i++) {
        // Rising (every candidate beats the last), falling, or random with ties.
        scores[i] = trial % 3 == 0 ? i * 0.5f : trial % 3 == 1 ? -i : rnd.nextInt(500);
      }
      int k = 1 + rnd.nextInt(trial % 2 == 0 ? 20 : 1500);
      top.reset(k);
      for (int i = 0; i < n; i++) {
        top.offer(i, scores[i]);
      }
      assertEquals(k, top.size());
      int[] positions = new int[k];
      float[] got = new float[k];
      assertEquals(k, top.drainBestFirst(positions, got));
      assertArrayEquals(bruteForce(scores, k), positions, "trial " + trial);
    }
  }

  @Test
  void offer_capacityZero_keepsNothing() {
    TopK top = new TopK(4);
    top.reset(0);
    assertFalse(top.offer(3, 1f));
    assertEquals(0, top.drainBestFirst(new int[0], new float[0]));
  }

  @Test
  void reset_growsBeyondTheInitialArrays() {
    TopK top = new TopK(2);
    top.reset(50);
    for (int i = 0; i < 100; i++) {
      top.offer(i, -i);
    }
    int[] p = new int[50];
    top.drainBestFirst(p, new float[50]);
    assertArrayEquals(IntStream.range(0, 50).toArray(), p);
    assertTrue(top.arrayLength() >= 50);
    assertArrayEquals(new int[0], Arrays.copyOf(p, 0));
  }
}
