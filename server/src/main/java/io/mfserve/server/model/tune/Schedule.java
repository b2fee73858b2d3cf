package io.mfserve.server.model.tune;

import java.util.ArrayList;
import java.util.List;

/**
 * The brackets a search runs: each a run of successive halving (Jamieson and Talwalkar,
 * AISTATS 2016) whose rung 0 tries {@code sizes[0]} fresh proposals on a share of the
 * iterations and whose later rungs give the best ⌊n/η⌋ of the rung before η times as many,
 * the last rung the full iterations. Hyperband (Li et al., "Hyperband: A Novel Bandit-Based
 * Approach to Hyperparameter Optimization", JMLR 2018) runs brackets from the most aggressive
 * (s_max + 1 rungs, many proposals on few iterations) down to none (every proposal on the full
 * iterations), hedging against a metric whose early values mislead. The budget counts trials
 * (each one fit, whatever its iterations). Pure functions.
 *
 * @param brackets the brackets in the order they are numbered; each its rung sizes
 */
record Schedule(List<int[]> brackets) {
  /** Copies the brackets. */
  Schedule {
    brackets = List.copyOf(brackets);
  }

  /** Returns the number of fresh proposals the schedule draws: every bracket's rung 0. */
  int proposals() {
    return brackets.stream().mapToInt(b -> b[0]).sum();
  }

  /** Returns the number of trials, all brackets and rungs. */
  int trials() {
    int n = 0;
    for (int[] b : brackets) {
      n += total(b);
    }
    return n;
  }

  /** Plain random search: {@code maxFits} proposals, one rung each. */
  static Schedule random(int maxFits) {
    return new Schedule(List.of(new int[] {maxFits}));
  }

  /** One bracket of successive halving with as many rungs as the budget allows. */
  static Schedule halving(int maxFits, int eta) {
    return new Schedule(List.of(Halving.rungSizes(maxFits, eta)));
  }

  /**
   * Hyperband's brackets for a budget of {@code maxFits} trials. s_max = ⌊log_η R⌋ (so that
   * the most aggressive rung 0 still runs at least one iteration), bracket s ∈ {s_max, ..., 0}
   * starts n_s = m·(s_max + 1)/(s + 1)·η^s proposals (rounded), m ≥ 1 the largest multiple
   * of 1/16 whose trials fit the budget: at m = 1 this is one pass of Li et al.'s Algorithm
   * 1, and a larger budget widens every bracket in proportion rather than repeating the pass
   * with fresh draws. When even m = 1 does not fit, s_max drops by one (fewer, gentler
   * brackets, rung 0 on more iterations) rather than leaving rungs that promote nobody; at
   * s_max = 0 it is random search.
   *
   * @param maxFits the budget in trials, at least 1
   * @param eta the reduction factor, at least 2
   * @param fullIterations R, the iterations of the last rung, at least 1
   */
  static Schedule hyperband(int maxFits, int eta, int fullIterations) {
    int sMax = 0;
    for (long p = eta; p <= fullIterations; p *= eta) {
      sMax++;
    }
    for (; sMax > 0; sMax--) {
      Schedule best = null;
      for (int sixteenths = 16; ; sixteenths++) {
        Schedule s = hyperbandAt(sMax, eta, sixteenths / 16.0);
        if (s.trials() > maxFits) {
          break;
        }
        best = s;
      }
      if (best != null) {
        return best;
      }
    }
    return random(maxFits);
  }

  private static Schedule hyperbandAt(int sMax, int eta, double m) {
    List<int[]> brackets = new ArrayList<>();
    for (int s = sMax; s >= 0; s--) {
      int n = (int) Math.max(1, Math.round(m * (sMax + 1) / (s + 1) * Math.pow(eta, s)));
      int[] sizes = new int[s + 1];
      for (int i = 0; i <= s; i++) {
        sizes[i] = (int) Math.max(1, Math.floor(n / Math.pow(eta, i)));
      }
      brackets.add(sizes);
    }
    return new Schedule(brackets);
  }

  private static int total(int[] sizes) {
    int n = 0;
    for (int v : sizes) {
      n += v;
    }
    return n;
  }
}
