package io.mfserve.server.model.tune;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Successive halving's and Hyperband's schedules, and the random proposals. */
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
  void hyperband_twentySweepsThirtyFits_threeBracketsWidenedToTheBudget() {
    // s_max = 2 (9 ≤ 20 < 27); one pass of Li et al. is 9+3+1, 5+1, 3 = 22 trials; widened
    // by m = 23/16: 13+4+1, 6+2, 4 = 30.
    Schedule s = Schedule.hyperband(30, 3, 20);
    assertEquals(3, s.brackets().size());
    assertArrayEquals(new int[] {13, 4, 1}, s.brackets().get(0));
    assertArrayEquals(new int[] {6, 2}, s.brackets().get(1));
    assertArrayEquals(new int[] {4}, s.brackets().get(2));
    assertEquals(30, s.trials());
    assertEquals(23, s.proposals());
    // R = 27 would allow s_max = 3, whose single pass (40 trials) is over 30: s_max drops.
    assertEquals(3, Schedule.hyperband(30, 3, 27).brackets().size());
    assertEquals(4, Schedule.hyperband(69, 3, 27).brackets().size());
    // No room for two brackets, or one iteration: random search on the full iterations.
    assertArrayEquals(new int[] {3}, Schedule.hyperband(3, 3, 20).brackets().get(0));
    assertArrayEquals(new int[] {7}, Schedule.hyperband(7, 3, 2).brackets().get(0));
  }

  @Test
  void hyperband_anyBudget_fitsItAndEveryRungPromotesSomeone() {
    for (int fits = 1; fits <= 300; fits++) {
      for (int eta = 2; eta <= 10; eta++) {
        for (int full : new int[] {1, 2, 5, 10, 20, 100}) {
          Schedule s = Schedule.hyperband(fits, eta, full);
          String at = fits + " " + eta + " " + full;
          assertTrue(s.trials() <= fits, at);
          assertTrue(s.trials() > fits / 2, at + ": " + s.trials());
          for (int[] b : s.brackets()) {
            for (int i = 1; i < b.length; i++) {
              assertTrue(b[i] >= 1 && b[i] < b[i - 1], at + " " + Arrays.toString(b));
            }
            // The most aggressive rung 0 still runs at least one iteration.
            assertTrue(Math.pow(eta, b.length - 1) <= full, at);
          }
        }
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
