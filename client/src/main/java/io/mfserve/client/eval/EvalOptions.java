package io.mfserve.client.eval;

import io.mfserve.proto.v1.AbsentEntries;
import io.mfserve.proto.v1.FitRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * How an {@link Evaluator} fits and scores.
 *
 * @param fit the fit every setting starts from: solver, options, params, absent entries; no
 *     input (each fold's training part is set per fold) and no model id (the server names each
 *     model)
 * @param errorMetrics whether to measure RMSE and MAE with Predict
 * @param rankingMetrics whether to measure precision, recall, MAP and NDCG at {@code k} with
 *     Recommend
 * @param k the ranking cut-off, at least 1
 * @param relevantThreshold test entries with a value at least this are relevant for the
 *     ranking metrics; null means every test entry is relevant
 * @param sortBy the metric to rank settings by; null means NDCG@k when ranking metrics are
 *     measured, else RMSE
 * @param keepModels whether to keep each trained model instead of deleting it once scored
 * @param concurrency the most Recommend calls in flight at once when RecommendBatch is not
 *     available, at least 1
 */
public record EvalOptions(FitRequest fit, boolean errorMetrics, boolean rankingMetrics, int k,
    Float relevantThreshold, Metric sortBy, boolean keepModels, int concurrency) {
  /** The default number of concurrent Recommend calls. */
  public static final int DEFAULT_CONCURRENCY = 16;

  /**
   * Checks the options.
   *
   * @param fit the base fit
   * @param errorMetrics whether to measure RMSE and MAE
   * @param rankingMetrics whether to measure ranking metrics
   * @param k the cut-off
   * @param relevantThreshold the relevance threshold, or null
   * @param sortBy the ranking metric, or null
   * @param keepModels whether to keep models
   * @param concurrency the Recommend concurrency
   * @throws IllegalArgumentException if the fit carries input or a model id, no metric is
   *     chosen, {@code k} or {@code concurrency} is below 1, or {@code sortBy} is not measured
   */
  public EvalOptions {
    Objects.requireNonNull(fit, "fit");
    if (fit.getInputCase() != FitRequest.InputCase.INPUT_NOT_SET) {
      throw new IllegalArgumentException("the base fit must not carry a matrix: each fold's "
          + "training part is uploaded and set per fold");
    }
    if (!fit.getModelId().isEmpty()) {
      throw new IllegalArgumentException("the base fit must not name a model: an evaluation "
          + "trains one model per setting and fold");
    }
    if (!errorMetrics && !rankingMetrics) {
      throw new IllegalArgumentException("choose error metrics, ranking metrics or both");
    }
    if (k < 1) {
      throw new IllegalArgumentException("k must be at least 1, got " + k);
    }
    if (concurrency < 1) {
      throw new IllegalArgumentException("concurrency must be at least 1, got " + concurrency);
    }
    if (sortBy != null && sortBy != Metric.FIT_SECONDS
        && (sortBy.isRanking() ? !rankingMetrics : !errorMetrics)) {
      throw new IllegalArgumentException("cannot sort by " + sortBy.key()
          + ": it is not measured (" + (sortBy.isRanking() ? "ranking metrics are off"
              : "error metrics are off for implicit feedback") + ")");
    }
  }

  /**
   * The defaults for a base fit: RMSE and MAE, or the ranking metrics at 10 when the fit's
   * absent entries are implicit feedback (where a held-out value is a preference, not a rating
   * to predict); every test entry relevant; models deleted; 16 concurrent Recommend calls.
   *
   * @param fit the base fit
   * @return the options
   */
  public static EvalOptions defaults(FitRequest fit) {
    boolean implicit = fit.getAbsentEntries() == AbsentEntries.ABSENT_ENTRIES_IMPLICIT;
    return new EvalOptions(fit, !implicit, implicit, 10, null, null, false, DEFAULT_CONCURRENCY);
  }

  /**
   * These options with ranking metrics on or off.
   *
   * @param on whether to measure them
   * @return new options
   */
  public EvalOptions withRankingMetrics(boolean on) {
    return new EvalOptions(fit, errorMetrics, on, k, relevantThreshold, sortBy, keepModels,
        concurrency);
  }

  /**
   * These options with another cut-off.
   *
   * @param cutoff the new k
   * @return new options
   */
  public EvalOptions withK(int cutoff) {
    return new EvalOptions(fit, errorMetrics, rankingMetrics, cutoff, relevantThreshold, sortBy,
        keepModels, concurrency);
  }

  /**
   * These options with a relevance threshold.
   *
   * @param threshold the least relevant value, or null for every test entry
   * @return new options
   */
  public EvalOptions withRelevantThreshold(Float threshold) {
    return new EvalOptions(fit, errorMetrics, rankingMetrics, k, threshold, sortBy, keepModels,
        concurrency);
  }

  /**
   * These options ranking settings by another metric.
   *
   * @param metric the metric, or null for the default
   * @return new options
   */
  public EvalOptions withSortBy(Metric metric) {
    return new EvalOptions(fit, errorMetrics, rankingMetrics, k, relevantThreshold, metric,
        keepModels, concurrency);
  }

  /**
   * These options keeping or deleting the models.
   *
   * @param keep whether to keep them
   * @return new options
   */
  public EvalOptions withKeepModels(boolean keep) {
    return new EvalOptions(fit, errorMetrics, rankingMetrics, k, relevantThreshold, sortBy, keep,
        concurrency);
  }

  /**
   * These options with another Recommend concurrency.
   *
   * @param calls the most calls in flight
   * @return new options
   */
  public EvalOptions withConcurrency(int calls) {
    return new EvalOptions(fit, errorMetrics, rankingMetrics, k, relevantThreshold, sortBy,
        keepModels, calls);
  }

  /**
   * The metrics measured, in report order: fit seconds, then RMSE and MAE, then precision,
   * recall, MAP and NDCG.
   *
   * @return the metrics
   */
  public List<Metric> metrics() {
    List<Metric> out = new ArrayList<>();
    out.add(Metric.FIT_SECONDS);
    if (errorMetrics) {
      out.add(Metric.RMSE);
      out.add(Metric.MAE);
    }
    if (rankingMetrics) {
      out.addAll(List.of(Metric.PRECISION, Metric.RECALL, Metric.MAP, Metric.NDCG));
    }
    return out;
  }

  /**
   * The metric settings are ranked by.
   *
   * @return {@code sortBy}, or NDCG with ranking metrics, else RMSE
   */
  public Metric primary() {
    return sortBy != null ? sortBy : rankingMetrics ? Metric.NDCG : Metric.RMSE;
  }
}
