package io.mfserve.server.model.tune;

import java.util.List;

/**
 * A search over fit settings, defaults filled in and checked (see the proto's TuneSpec).
 *
 * @param ranges the searched settings, names distinct
 * @param metric what ranks the trials; null: RMSE for ratings, NDCG@k for implicit feedback
 * @param k the cut-off of NDCG@k
 * @param maxFits the budget in trials
 * @param maxSeconds the budget in seconds; 0 for none
 * @param validationFraction the held-out fraction that scores the trials
 * @param eta successive halving's reduction factor
 * @param method how the budget is spent over iterations; null: {@link #DEFAULT_METHOD}
 * @param parallelTrials the most trials run at once; 0: as many as the cores and the memory
 *     budget allow
 */
public record TuneSpec(List<TuneRange> ranges, TuneMetric metric, int k, int maxFits,
    double maxSeconds, double validationFraction, int eta, TuneMethod method,
    int parallelTrials) {
  /** The budget in fits when the request gives none. */
  public static final int DEFAULT_MAX_FITS = 30;
  /** The largest budget in fits. */
  public static final int MAX_FITS = 1000;
  /** The most ranges one spec may search. */
  public static final int MAX_RANGES = 16;
  /** The held-out fraction when the request gives none. */
  public static final double DEFAULT_VALIDATION_FRACTION = 0.2;
  /** η when the request gives none. */
  public static final int DEFAULT_ETA = 3;
  /** NDCG's k when the request gives none. */
  public static final int DEFAULT_K = 10;

  /**
   * The method when the request names none; see the bench README's tuning section for the
   * measurement behind it.
   */
  public static final TuneMethod DEFAULT_METHOD = TuneMethod.HYPERBAND;
  /** The most trials one search runs at once, whatever the cores. */
  public static final int MAX_PARALLEL_TRIALS = 64;

  /** Copies the ranges, fills in the method. */
  public TuneSpec {
    ranges = List.copyOf(ranges);
    method = method == null ? DEFAULT_METHOD : method;
  }
}
