package io.mfserve.server.model.tune;

import io.mfserve.solver.FactorModel;
import io.mfserve.solver.TrainingMatrix;
import io.mfserve.solver.ValidationSet;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Scores a trial's model on the held-out entries: RMSE, or NDCG@k with binary relevance
 * (each held-out user's positive held-out items relevant, every item outside the user's
 * training row ranked, log2 discounts, ideal DCG over min(k, relevant) items; the definition
 * of mfctl eval's and implicit's). NDCG looks at a seeded sample of at most
 * {@value #MAX_NDCG_USERS} users, so that a trial on millions of users stays cheap; the same
 * users for every trial.
 */
final class TrialScorer {
  /** The most users NDCG ranks every item for. */
  static final int MAX_NDCG_USERS = 2000;

  private final TuneMetric metric;
  private final int k;
  private final TrainingMatrix train;
  private final ValidationSet heldOut;
  /** NDCG: the users scored and, per user, the sorted relevant items. */
  private final int[] users;
  private final int[][] relevant;

  TrialScorer(TuneMetric metric, int k, TrainingMatrix train, ValidationSet heldOut,
      long seed) {
    this.metric = metric;
    this.k = k;
    this.train = train;
    this.heldOut = heldOut;
    if (metric == TuneMetric.NDCG) {
      List<List<Integer>> byUser = new ArrayList<>();
      for (int r = 0; r < train.rows(); r++) {
        byUser.add(null);
      }
      for (int n = 0; n < heldOut.size(); n++) {
        if (heldOut.value(n) > 0) {
          int r = heldOut.row(n);
          if (byUser.get(r) == null) {
            byUser.set(r, new ArrayList<>());
          }
          byUser.get(r).add(heldOut.col(n));
        }
      }
      int[] all = new int[train.rows()];
      int count = 0;
      for (int r = 0; r < all.length; r++) {
        if (byUser.get(r) != null) {
          all[count++] = r;
        }
      }
      all = Arrays.copyOf(all, count);
      if (all.length > MAX_NDCG_USERS) {
        // A seeded partial Fisher–Yates shuffle, then the sample in user order.
        SplittableRandom random = new SplittableRandom(seed ^ 0x5C0_12E5L);
        for (int i = 0; i < MAX_NDCG_USERS; i++) {
          int j = i + random.nextInt(all.length - i);
          int t = all[i];
          all[i] = all[j];
          all[j] = t;
        }
        all = Arrays.copyOf(all, MAX_NDCG_USERS);
        Arrays.sort(all);
      }
      users = all;
      relevant = new int[all.length][];
      for (int u = 0; u < all.length; u++) {
        relevant[u] = byUser.get(all[u]).stream().mapToInt(Integer::intValue).sorted()
            .distinct().toArray();
      }
    } else {
      users = new int[0];
      relevant = new int[0][];
    }
  }

  /** Returns the model's score; NaN when nothing can be scored. */
  double score(FactorModel model) {
    return metric == TuneMetric.RMSE ? heldOut.rmse(model::predict) : ndcg(model);
  }

  private double ndcg(FactorModel model) {
    if (users.length == 0) {
      return Double.NaN;
    }
    int items = model.numItems();
    float[] scores = new float[items];
    int[] top = new int[k];
    float[] topScore = new float[k];
    double sum = 0;
    for (int u = 0; u < users.length; u++) {
      int r = users[u];
      model.scoreAllItems(r, scores);
      for (int p = train.rowStart(r); p < train.rowEnd(r); p++) {
        scores[train.rowColumn(p)] = Float.NEGATIVE_INFINITY;
      }
      int n = topK(scores, top, topScore);
      int[] rel = relevant[u];
      double dcg = 0;
      for (int i = 0; i < n; i++) {
        if (Arrays.binarySearch(rel, top[i]) >= 0) {
          dcg += 1 / log2(i + 2);
        }
      }
      double ideal = 0;
      for (int i = 0; i < Math.min(k, rel.length); i++) {
        ideal += 1 / log2(i + 2);
      }
      sum += dcg / ideal;
    }
    return sum / users.length;
  }

  /**
   * The k best finite-or-not-excluded items, best first, ties to the lower item; returns how
   * many (fewer when fewer items are left).
   */
  private int topK(float[] scores, int[] top, float[] topScore) {
    int n = 0;
    for (int i = 0; i < scores.length; i++) {
      float s = scores[i];
      if (s == Float.NEGATIVE_INFINITY || Float.isNaN(s)) {
        continue;
      }
      if (n < top.length) {
        n++;
      } else if (!(s > topScore[n - 1])) {
        continue;
      }
      int j = n - 1;
      while (j > 0 && s > topScore[j - 1]) {
        top[j] = top[j - 1];
        topScore[j] = topScore[j - 1];
        j--;
      }
      top[j] = i;
      topScore[j] = s;
    }
    return n;
  }

  private static double log2(double x) {
    return Math.log(x) / Math.log(2);
  }
}
