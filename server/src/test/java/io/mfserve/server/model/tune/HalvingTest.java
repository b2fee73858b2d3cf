package io.mfserve.server.model.tune;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Successive halving's schedule and the random proposals. */
class HalvingTest {
  @Test
  void rungSizes_thirtyFits_largestFirstRungWithinBudget() {
    // 20 + 6 + 2 + 1 = 29 ≤ 30; 21 + 7 + 2 + 1 = 31 would not fit.
    assertArrayEquals(new int[] {20, 6, 2, 1}, Halving.rungSizes(30, 3));
    assertArrayEquals(new int[] {1}, Halving.rungSizes(1, 3));
    assertArrayEquals(new int[] {1}, Halving.rungSizes(2, 3));
    assertArrayEquals(new int[] {2, 1}, Halving.rungSizes(3, 2));
    for (int fits = 1; fits <= 200; fits++) {
      for (int eta = 2; eta <= 10; eta++) {
        int[] sizes = Halving.rungSizes(fits, eta);
        assertTrue(Arrays.stream(sizes).sum() <= fits, fits + " " + eta);
        assertEquals(1, sizes[sizes.length - 1]);
      }
    }
  }

  @Test
  void iterations_growByEtaToTheFullBudget() {
    assertEquals(1, Halving.iterations(27, 0, 4, 3));
    assertEquals(3, Halving.iterations(27, 1, 4, 3));
    assertEquals(9, Halving.iterations(27, 2, 4, 3));
    assertEquals(27, Halving.iterations(27, 3, 4, 3));
    assertEquals(1, Halving.iterations(10, 0, 4, 3));
    assertEquals(10, Halving.iterations(10, 0, 1, 3));
  }

  @Test
  void draw_sameSeedSameSettings_withinRanges() {
    List<TuneRange> ranges = List.of(
        new TuneRange("regularization", 0.01, 100, true, List.of()),
        new TuneRange("num_factors", 2, 9, false, List.of()),
        new TuneRange("biases", 0, 0, false, List.of("true", "false")));
    Set<String> ints = Set.of("num_factors");
    List<Map<String, String>> a = Proposals.draw(ranges, ints, 400, 7);
    assertEquals(a, Proposals.draw(ranges, ints, 400, 7));
    assertTrue(!a.equals(Proposals.draw(ranges, ints, 400, 8)));
    int below1 = 0;
    boolean[] ks = new boolean[10];
    for (Map<String, String> s : a) {
      double lambda = Double.parseDouble(s.get("regularization"));
      assertTrue(lambda >= 0.01 && lambda <= 100, s.toString());
      below1 += lambda < 1 ? 1 : 0;
      int k = Integer.parseInt(s.get("num_factors"));
      assertTrue(k >= 2 && k <= 9, s.toString());
      ks[k] = true;
      assertTrue(Set.of("true", "false").contains(s.get("biases")));
      assertEquals(List.of("regularization", "num_factors", "biases"),
          List.copyOf(s.keySet()));
    }
    // Log-uniform: half the draws below the geometric middle, 1.
    assertTrue(below1 > 160 && below1 < 240, "below 1: " + below1);
    for (int k = 2; k <= 9; k++) {
      assertTrue(ks[k], "k " + k + " never drawn");
    }
  }
}
