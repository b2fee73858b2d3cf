package io.mfserve.solver;

/**
 * What an entry absent from a sparse training matrix means. A dense matrix has no absent
 * entries, so the choice does not change how it is read.
 */
public enum AbsentEntries {
  /** Ratings: an absent entry is unknown; the loss covers observed entries only. */
  UNKNOWN,
  /** Counts or weights (document × term): an absent entry is a zero. */
  ZERO,
  /**
   * Implicit feedback (clicks, plays): an absent entry means no preference, held with low
   * confidence (Hu, Koren and Volinsky 2008).
   */
  IMPLICIT
}
