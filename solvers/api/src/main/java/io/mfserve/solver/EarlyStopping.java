package io.mfserve.solver;

/**
 * Decides, iteration by iteration, when a fit has stopped improving on its validation metric:
 * the rule {@code early_stopping_rounds} = n names, shared by the iterative solvers. Feed it the
 * lower-is-better metric after each iteration; it answers whether that iteration is the best
 * so far (the caller then keeps a copy of its factors), whether to go on, or whether n
 * iterations in a row have not improved on the best, so that the caller stops and returns the
 * best iteration's factors and history up to {@link #bestIteration()}.
 *
 * <p>A metric that is NaN never counts as an improvement. Not thread-safe: one instance follows
 * one fit on its fitting thread.
 */
public final class EarlyStopping {
  /** What to do after an iteration. */
  public enum Verdict {
    /** This iteration is the best so far: keep its factors. */
    IMPROVED,
    /** Not better than the best, but fewer than n iterations since it: go on. */
    CONTINUE,
    /** n iterations without improvement: stop and return the best iteration's factors. */
    STOP
  }

  private final int rounds;
  private double bestMetric = Double.POSITIVE_INFINITY;
  private int bestIteration;

  /**
   * Creates the rule for {@code rounds} = n &gt; 0 iterations of patience.
   *
   * @throws IllegalArgumentException if {@code rounds} is not positive
   */
  public EarlyStopping(int rounds) {
    if (rounds < 1) {
      throw new IllegalArgumentException("early stopping needs rounds >= 1, got " + rounds);
    }
    this.rounds = rounds;
  }

  /**
   * Records the metric measured after {@code iteration} (1-based, increasing) and says what to
   * do next.
   */
  public Verdict record(int iteration, double metric) {
    if (metric < bestMetric) {
      bestMetric = metric;
      bestIteration = iteration;
      return Verdict.IMPROVED;
    }
    return iteration - bestIteration >= rounds ? Verdict.STOP : Verdict.CONTINUE;
  }

  /** Returns the iteration of the best metric so far, 0 before any improvement. */
  public int bestIteration() {
    return bestIteration;
  }

  /** Returns the best metric so far, +∞ before any improvement. */
  public double bestMetric() {
    return bestMetric;
  }
}
