package io.mfserve.solver;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.BitSet;
import org.junit.jupiter.api.Test;

class WarmStartTest {
  private static WarmStart warm(int rows, int cols, int k, FactorModel.Biases biases) {
    BitSet users = new BitSet();
    users.set(0, rows);
    BitSet items = new BitSet();
    items.set(0, cols);
    return new WarmStart(k, new float[rows * k], users, new float[cols * k], items, biases);
  }

  @Test
  void requireShape_matchingShape_passes() {
    assertDoesNotThrow(() -> warm(4, 3, 2, new FactorModel.Biases(1, new float[4],
        new float[3])).requireShape(4, 3, 2));
  }

  @Test
  void requireShape_otherRank_throws() {
    // 4 × 3 at k = 2 holds 8 and 6 floats; at k = 4 the same arrays would be 2 × 1.5 rows.
    assertThrows(IllegalArgumentException.class, () -> warm(4, 3, 2, null).requireShape(4, 3, 3));
  }

  @Test
  void requireShape_otherRowsOrCols_throws() {
    assertThrows(IllegalArgumentException.class, () -> warm(4, 3, 2, null).requireShape(5, 3, 2));
    assertThrows(IllegalArgumentException.class, () -> warm(4, 3, 2, null).requireShape(4, 2, 2));
  }

  @Test
  void requireShape_knownBitBeyondRows_throws() {
    WarmStart w = warm(4, 3, 2, null);
    w.knownUsers().set(7);
    assertThrows(IllegalArgumentException.class, () -> w.requireShape(4, 3, 2));
  }

  @Test
  void requireShape_biasesOfOtherLength_throws() {
    assertThrows(IllegalArgumentException.class, () -> warm(4, 3, 2,
        new FactorModel.Biases(0, new float[3], new float[3])).requireShape(4, 3, 2));
  }
}
