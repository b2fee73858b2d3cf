package io.mfserve.solver.sgd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import java.util.concurrent.ForkJoinPool;
import org.junit.jupiter.api.Test;

/**
 * {@link FactorState#norms}: the sums the objective needs, against sums written out row by row,
 * the same bits on a pool as on one thread, and non-finite values found wherever they are.
 */
class FactorStateNormsTest {
  private static int[] counts(int n, SplittableRandom rnd) {
    int[] c = new int[n];
    for (int r = 0; r < n; r++) {
      c[r] = rnd.nextInt(4) == 0 ? 0 : 1 + rnd.nextInt(50);
    }
    return c;
  }

  @Test
  void norms_equalRowByRowSumsAndPoolGivesSameBits() {
    SplittableRandom rnd = new SplittableRandom(3);
    // More rows than one part holds, and a rank with an odd remainder.
    int rows = 3 * FactorState.NORM_ROWS + 17;
    int cols = FactorState.NORM_ROWS / 2 + 5;
    int k = 7;
    int[] rowCounts = counts(rows, rnd);
    int[] colCounts = counts(cols, rnd);
    FactorState state = new FactorState(rows, cols, k, k, 0.5, rowCounts, colCounts, rnd,
        true);
    for (int at = 0; at < state.implicitItems.length; at++) {
      state.implicitItems[at] = (float) rnd.nextGaussian();
    }
    for (int r = 0; r < rows; r++) {
      state.users[r * state.stride + state.biasAt] = (float) rnd.nextGaussian();
    }
    for (int i = 0; i < cols; i++) {
      state.items[i * state.stride + state.biasAt] = (float) rnd.nextGaussian();
    }
    FactorState.Norms one = state.norms(rowCounts, colCounts, null);
    double userFactors = 0;
    double userBiases = 0;
    for (int r = 0; r < rows; r++) {
      for (int f = 0; f < k; f++) {
        userFactors += rowCounts[r] * Math.pow(state.users[r * state.stride + f], 2);
      }
      userBiases += rowCounts[r] * Math.pow(state.users[r * state.stride + state.biasAt], 2);
    }
    double itemFactors = 0;
    double itemBiases = 0;
    double implicit = 0;
    for (int i = 0; i < cols; i++) {
      for (int f = 0; f < k; f++) {
        itemFactors += colCounts[i] * Math.pow(state.items[i * state.stride + f], 2);
        implicit += colCounts[i] * Math.pow(state.implicitItems[i * state.implicitStride + f], 2);
      }
      itemBiases += colCounts[i] * Math.pow(state.items[i * state.stride + state.biasAt], 2);
    }
    assertEquals(userFactors, one.userFactors(), 1e-9 * userFactors);
    assertEquals(userBiases, one.userBiases(), 1e-9 * userBiases);
    assertEquals(itemFactors, one.itemFactors(), 1e-9 * itemFactors);
    assertEquals(itemBiases, one.itemBiases(), 1e-9 * itemBiases);
    assertEquals(implicit, one.implicit(), 1e-9 * implicit);
    assertTrue(one.finite());
    ForkJoinPool pool = new ForkJoinPool(3);
    try {
      assertEquals(one, state.norms(rowCounts, colCounts, pool));
    } finally {
      pool.shutdown();
    }
  }

  @Test
  void norms_findNonFiniteValuesInRowsWithoutEntriesToo() {
    SplittableRandom rnd = new SplittableRandom(4);
    int rows = FactorState.NORM_ROWS + 3;
    int cols = 50;
    int k = 4;
    int[] rowCounts = counts(rows, rnd);
    int[] colCounts = counts(cols, rnd);
    colCounts[9] = 0;
    // Rows padded as for the Vector API kernel: the padding is not a factor or a bias.
    FactorState state = new FactorState(rows, cols, k, 8, 0.5, rowCounts, colCounts, rnd,
        false);
    assertTrue(state.norms(rowCounts, colCounts, null).finite());
    // An item without entries (BPR may still draw it as a negative), its last factor.
    state.items[9 * state.stride + k - 1] = Float.NaN;
    assertFalse(state.norms(rowCounts, colCounts, null).finite());
    state.items[9 * state.stride + k - 1] = 0;
    // A user bias in the last part; an overflowing accumulator does not count.
    state.users[(rows - 1) * state.stride + state.gradAt] = Float.POSITIVE_INFINITY;
    assertTrue(state.norms(rowCounts, colCounts, null).finite());
    state.users[(rows - 1) * state.stride + state.biasAt] = Float.NEGATIVE_INFINITY;
    assertFalse(state.norms(rowCounts, colCounts, null).finite());
  }
}
