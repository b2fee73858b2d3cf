package io.mfserve.client.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** Seeded holdout and K-fold splits: determinism, sizes and partitions. */
class SplitsTest {
  @Test
  void holdout_sameSeed_sameSplit() {
    Fold a = Splits.holdout(100, 0.2, 7);
    Fold b = Splits.holdout(100, 0.2, 7);

    assertArrayEquals(a.train(), b.train());
    assertArrayEquals(a.test(), b.test());
  }

  @Test
  void holdout_otherSeed_otherSplit() {
    assertFalse(Arrays.equals(Splits.holdout(100, 0.2, 7).test(),
        Splits.holdout(100, 0.2, 8).test()));
  }

  @Test
  void holdout_testSizeIsCeilingAndPartsPartitionTheEntries() {
    Fold f = Splits.holdout(10, 0.25, 1);

    assertEquals(3, f.test().length); // ceil(2.5), as Surprise's train_test_split
    assertEquals(7, f.train().length);
    assertPartition(10, f.train(), f.test());
  }

  @Test
  void holdout_fractionOutsideOpenUnitInterval_isRejected() {
    assertThrows(IllegalArgumentException.class, () -> Splits.holdout(10, 0, 1));
    assertThrows(IllegalArgumentException.class, () -> Splits.holdout(10, 1, 1));
    assertThrows(IllegalArgumentException.class, () -> Splits.holdout(10, Double.NaN, 1));
    assertThrows(IllegalArgumentException.class, () -> Splits.holdout(1, 0.5, 1));
  }

  @Test
  void kFold_everyEntryTestedExactlyOnce() {
    List<Fold> folds = Splits.kFold(10, 3, 42);

    assertEquals(3, folds.size());
    int[] tested = new int[10];
    for (Fold f : folds) {
      assertPartition(10, f.train(), f.test());
      for (int e : f.test()) {
        tested[e]++;
      }
    }
    for (int count : tested) {
      assertEquals(1, count);
    }
  }

  @Test
  void kFold_firstRemainderFoldsAreOneLarger() {
    List<Fold> folds = Splits.kFold(10, 3, 42);

    assertEquals(List.of(4, 3, 3), folds.stream().map(f -> f.test().length).toList());
    assertEquals(List.of(1, 2, 3), folds.stream().map(Fold::number).toList());
  }

  @Test
  void kFold_sameSeed_sameFolds() {
    List<Fold> a = Splits.kFold(50, 5, 3);
    List<Fold> b = Splits.kFold(50, 5, 3);

    for (int i = 0; i < 5; i++) {
      assertArrayEquals(a.get(i).test(), b.get(i).test());
      assertArrayEquals(a.get(i).train(), b.get(i).train());
    }
    assertFalse(Arrays.equals(a.get(0).test(), Splits.kFold(50, 5, 4).get(0).test()));
  }

  @Test
  void kFold_kOutsideTwoToN_isRejected() {
    assertThrows(IllegalArgumentException.class, () -> Splits.kFold(10, 1, 1));
    assertThrows(IllegalArgumentException.class, () -> Splits.kFold(10, 11, 1));
  }

  @Test
  void predefined_trainFirstThenTest() {
    Fold f = Splits.predefined(3, 2);

    assertArrayEquals(new int[] {0, 1, 2}, f.train());
    assertArrayEquals(new int[] {3, 4}, f.test());
  }

  /** The two parts are sorted, disjoint and together hold 0 .. n-1. */
  private static void assertPartition(int n, int[] train, int[] test) {
    assertTrue(isSorted(train) && isSorted(test));
    int[] all = IntStream.concat(Arrays.stream(train), Arrays.stream(test)).sorted().toArray();
    assertArrayEquals(IntStream.range(0, n).toArray(), all);
  }

  private static boolean isSorted(int[] a) {
    for (int i = 1; i < a.length; i++) {
      if (a[i - 1] >= a[i]) {
        return false;
      }
    }
    return true;
  }
}
