package io.mfserve.solver.nmf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class BlocksTest {
  @Test
  void blocks_anySizeAndAlignment_coverTheRangeContiguouslyAndAligned() {
    for (int align : new int[] {1, 4}) {
      for (int n : new int[] {1, 3, 4, 5, 63, 64, 65, 255, 256, 1000, 2001}) {
        Blocks b = new Blocks(n, align);
        assertTrue(b.count() >= 1 && b.count() <= Blocks.MAX_BLOCKS);
        assertEquals(0, b.start(0));
        assertEquals(n, b.end(b.count() - 1));
        for (int i = 0; i < b.count(); i++) {
          assertTrue(b.end(i) > b.start(i), n + "/" + align + ": block " + i + " is empty");
          assertEquals(0, b.start(i) % align, n + "/" + align + ": block " + i);
          if (i > 0) {
            assertEquals(b.end(i - 1), b.start(i));
          }
        }
      }
    }
  }
}
