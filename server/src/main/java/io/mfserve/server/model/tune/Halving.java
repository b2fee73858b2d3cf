package io.mfserve.server.model.tune;

import java.util.ArrayList;
import java.util.List;

/**
 * The schedule of successive halving (Jamieson and Talwalkar, AISTATS 2016; one bracket of
 * Li et al.'s Hyperband, JMLR 2018): rung 0 runs n₀ proposals on a small share of the
 * iterations, each later rung the best ⌊n/η⌋ (at least 1) of the one before on η times as
 * many, the last rung one trial on the full iterations. n₀ is the largest whose trials, over
 * all rungs, fit the budget. Pure functions.
 */
final class Halving {
  private Halving() {}

  /**
   * Returns the number of trials of each rung.
   *
   * @param maxFits the budget, at least 1
   * @param eta the reduction factor, at least 2
   * @return n₀, ⌊n₀/η⌋, ..., 1; their sum at most {@code maxFits}
   */
  static int[] rungSizes(int maxFits, int eta) {
    int[] best = {1};
    for (int n0 = 1; n0 <= maxFits; n0++) {
      List<Integer> sizes = new ArrayList<>();
      int total = 0;
      for (int n = n0; ; n = Math.max(1, n / eta)) {
        sizes.add(n);
        total += n;
        if (n == 1) {
          break;
        }
      }
      if (total > maxFits) {
        break;
      }
      best = sizes.stream().mapToInt(Integer::intValue).toArray();
    }
    return best;
  }

  /**
   * Returns the iterations of a trial in a rung: its full iterations over η^(rungs − 1 −
   * rung), rounded, at least 1.
   *
   * @param full the iterations of the last rung
   * @param rung the rung, from 0
   * @param rungs the number of rungs
   * @param eta the reduction factor
   */
  static int iterations(int full, int rung, int rungs, int eta) {
    double share = Math.pow(eta, rungs - 1 - rung);
    return (int) Math.max(1, Math.min(full, Math.round(full / share)));
  }
}
