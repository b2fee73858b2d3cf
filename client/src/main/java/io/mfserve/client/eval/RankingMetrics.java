package io.mfserve.client.eval;

import java.util.Arrays;

/**
 * Accumulates top-k ranking quality over test users: precision@k, recall@k, MAP@k and NDCG@k
 * with binary relevance, defined as in {@code implicit.evaluation.ranking_metrics_at_k} (Ben
 * Frederickson's implicit library), plus recall@k, which implicit does not compute.
 *
 * <p>For a user {@code u} with relevant test items {@code R_u} (non-empty) and a ranked list
 * of recommended items (training items already excluded), of which only the first {@code k}
 * count, let {@code hit(i)} be 1 when the item at 1-based rank {@code i} is in {@code R_u} and
 * {@code m_u = min(k, |R_u|)}. Then, over the {@code U} users added:
 *
 * <pre>
 *   precision@k = Σ_u hits_u / Σ_u m_u                       (implicit's; micro-averaged)
 *   recall@k    = (1/U) Σ_u hits_u / |R_u|
 *   MAP@k       = (1/U) Σ_u (1/m_u) Σ_{i ≤ k} hit(i) · hits_u(≤ i) / i
 *   NDCG@k      = (1/U) Σ_u DCG_u / IDCG_u,
 *                 DCG_u = Σ_{i ≤ k} hit(i) / log2(i + 1),  IDCG_u = Σ_{i ≤ m_u} 1 / log2(i + 1)
 * </pre>
 *
 * <p>Precision divides by {@code min(k, |R_u|)}, not by {@code k}, exactly as implicit does, so
 * a user with fewer than {@code k} relevant items can still reach precision 1; and it is pooled
 * over users (total hits over total attainable hits) rather than averaged per user. MAP, NDCG
 * and recall are per-user averages. A recommendation list shorter than {@code k} counts its
 * missing ranks as misses.
 *
 * <p>Not thread-safe: one accumulator per scoring thread.
 */
public final class RankingMetrics {
  private final int k;
  /** 1 / log2(i + 2) for rank i + 1, and the running sums for IDCG. */
  private final double[] discount;
  private final double[] idealDcg;
  private long users;
  private double hits;
  private double attainable;
  private double recall;
  private double averagePrecision;
  private double ndcg;

  /**
   * An empty accumulator.
   *
   * @param k the cut-off, at least 1
   * @throws IllegalArgumentException if {@code k < 1}
   */
  public RankingMetrics(int k) {
    if (k < 1) {
      throw new IllegalArgumentException("k must be at least 1, got " + k);
    }
    this.k = k;
    this.discount = new double[k];
    this.idealDcg = new double[k];
    double sum = 0;
    for (int i = 0; i < k; i++) {
      discount[i] = 1.0 / (Math.log(i + 2) / Math.log(2));
      sum += discount[i];
      idealDcg[i] = sum;
    }
  }

  /**
   * The cut-off.
   *
   * @return k
   */
  public int k() {
    return k;
  }

  /**
   * Adds one user.
   *
   * @param ranked the recommended items, best first (any length; only the first {@code k}
   *     count; an item that cannot be relevant may be given as -1)
   * @param relevant the user's relevant test items, sorted ascending, without duplicates; a
   *     user with none is not added (the call does nothing)
   * @return this, for chaining
   */
  public RankingMetrics add(int[] ranked, int[] relevant) {
    if (relevant.length == 0) {
      return this;
    }
    int m = Math.min(k, relevant.length);
    int h = 0;
    double ap = 0;
    double dcg = 0;
    for (int i = 0; i < Math.min(k, ranked.length); i++) {
      if (ranked[i] >= 0 && Arrays.binarySearch(relevant, ranked[i]) >= 0) {
        h++;
        ap += (double) h / (i + 1);
        dcg += discount[i];
      }
    }
    users++;
    hits += h;
    attainable += m;
    recall += (double) h / relevant.length;
    averagePrecision += ap / m;
    ndcg += dcg / idealDcg[m - 1];
    return this;
  }

  /**
   * The number of users added.
   *
   * @return the user count
   */
  public long users() {
    return users;
  }

  /**
   * Precision@k: total hits over the total of {@code min(k, |R_u|)}.
   *
   * @return the precision, NaN when no user was added
   */
  public double precision() {
    return users == 0 ? Double.NaN : hits / attainable;
  }

  /**
   * Recall@k: the mean over users of hits over {@code |R_u|}.
   *
   * @return the recall, NaN when no user was added
   */
  public double recall() {
    return users == 0 ? Double.NaN : recall / users;
  }

  /**
   * MAP@k: the mean over users of the average precision at k.
   *
   * @return MAP@k, NaN when no user was added
   */
  public double map() {
    return users == 0 ? Double.NaN : averagePrecision / users;
  }

  /**
   * NDCG@k: the mean over users of DCG over ideal DCG, binary relevance, log2 discounts.
   *
   * @return NDCG@k, NaN when no user was added
   */
  public double ndcg() {
    return users == 0 ? Double.NaN : ndcg / users;
  }
}
