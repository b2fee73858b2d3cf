package io.mfserve.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.Random;
import java.util.stream.IntStream;

/**
 * Test-split metrics computed the same way for every solver from plain factor arrays, so the
 * comparison does not depend on either library's own evaluator.
 */
final class Metrics {
  private Metrics() {
  }

  /** A factor model as arrays: prediction μ + b_u + b_i + U[u]·V[i] (biases may be null). */
  record Factors(int k, float[] user, float[] item, double mu, float[] userBias,
      float[] itemBias) {
    double predict(int u, int i) {
      double d = 0;
      for (int f = 0; f < k; f++) {
        d += (double) user[u * k + f] * item[i * k + f];
      }
      return userBias == null ? d : mu + userBias[u] + itemBias[i] + d;
    }
  }

  /** RMSE over the test entries. */
  static double rmse(Ratings data, Factors model) {
    double sum = 0;
    for (int n = 0; n < data.testValue.length; n++) {
      double e = data.testValue[n] - model.predict(data.testUser[n], data.testItem[n]);
      sum += e * e;
    }
    return Math.sqrt(sum / data.testValue.length);
  }

  /**
   * The weighted-λ explicit objective per training entry, (Σ (r − r̂)² + λ Σ_u n_u ‖x_u‖² +
   * λ Σ_i n_i ‖y_i‖²) / N, the function Spark's ALS and mfserve's weighted-λ ALS both
   * minimise: which of two factor sets reached the lower value says which converged further.
   */
  static double weightedObjective(Ratings data, Factors model, double lambda) {
    int k = model.k();
    double loss = 0;
    int[] nu = new int[data.users];
    int[] ni = new int[data.items];
    for (int n = 0; n < data.trainValue.length; n++) {
      double e = data.trainValue[n] - model.predict(data.trainUser[n], data.trainItem[n]);
      loss += e * e;
      nu[data.trainUser[n]]++;
      ni[data.trainItem[n]]++;
    }
    double penalty = 0;
    for (int u = 0; u < data.users; u++) {
      penalty += nu[u] * squaredNorm(model.user(), u * k, k);
    }
    for (int i = 0; i < data.items; i++) {
      penalty += ni[i] * squaredNorm(model.item(), i * k, k);
    }
    return (loss + lambda * penalty) / data.trainValue.length;
  }

  private static double squaredNorm(float[] x, int from, int k) {
    double s = 0;
    for (int f = 0; f < k; f++) {
      s += (double) x[from + f] * x[from + f];
    }
    return s;
  }

  /** precision@k and NDCG@k averaged over the evaluated users. */
  record Ranking(double precision, double ndcg, int users) { }

  /**
   * Ranks every item not seen in training for up to {@code maxUsers} users (a seeded sample of
   * those with at least one test rating ≥ {@code threshold}), and scores the top {@code k}
   * against the user's test items rated ≥ threshold.
   */
  static Ranking ranking(Ratings data, Factors model, int k, float threshold, int maxUsers,
      long seed) {
    List<List<Integer>> relevant = new ArrayList<>();
    for (int u = 0; u < data.users; u++) {
      relevant.add(null);
    }
    for (int n = 0; n < data.testValue.length; n++) {
      if (data.testValue[n] >= threshold) {
        int u = data.testUser[n];
        if (relevant.get(u) == null) {
          relevant.set(u, new ArrayList<>());
        }
        relevant.get(u).add(data.testItem[n]);
      }
    }
    int[] candidates = IntStream.range(0, data.users).filter(u -> relevant.get(u) != null)
        .toArray();
    Random rnd = new Random(seed);
    for (int n = candidates.length - 1; n > 0; n--) {
      int m = rnd.nextInt(n + 1);
      int t = candidates[n];
      candidates[n] = candidates[m];
      candidates[m] = t;
    }
    int[] users = Arrays.copyOf(candidates, Math.min(maxUsers, candidates.length));
    Arrays.sort(users);
    // Training items per user, to exclude them from the ranking.
    int[] start = new int[data.users + 1];
    for (int u : data.trainUser) {
      start[u + 1]++;
    }
    for (int u = 0; u < data.users; u++) {
      start[u + 1] += start[u];
    }
    int[] seen = new int[data.trainUser.length];
    int[] next = Arrays.copyOf(start, data.users);
    for (int n = 0; n < data.trainUser.length; n++) {
      seen[next[data.trainUser[n]]++] = data.trainItem[n];
    }
    double[] precision = new double[users.length];
    double[] ndcg = new double[users.length];
    IntStream.range(0, users.length).parallel().forEach(x -> {
      int u = users[x];
      BitSet excluded = new BitSet(data.items);
      for (int p = start[u]; p < start[u + 1]; p++) {
        excluded.set(seen[p]);
      }
      int[] top = new int[k];
      double[] topScore = new double[k];
      Arrays.fill(topScore, Double.NEGATIVE_INFINITY);
      Arrays.fill(top, -1);
      for (int i = 0; i < data.items; i++) {
        if (excluded.get(i)) {
          continue;
        }
        double s = model.predict(u, i);
        if (s > topScore[k - 1]) {
          int pos = k - 1;
          while (pos > 0 && topScore[pos - 1] < s) {
            topScore[pos] = topScore[pos - 1];
            top[pos] = top[pos - 1];
            pos--;
          }
          topScore[pos] = s;
          top[pos] = i;
        }
      }
      List<Integer> rel = relevant.get(u);
      double hits = 0;
      double dcg = 0;
      for (int r = 0; r < k; r++) {
        if (top[r] >= 0 && rel.contains(top[r])) {
          hits++;
          dcg += 1 / (Math.log(r + 2) / Math.log(2));
        }
      }
      double idcg = 0;
      for (int r = 0; r < Math.min(k, rel.size()); r++) {
        idcg += 1 / (Math.log(r + 2) / Math.log(2));
      }
      precision[x] = hits / k;
      ndcg[x] = dcg / idcg;
    });
    return new Ranking(Arrays.stream(precision).average().orElse(Double.NaN),
        Arrays.stream(ndcg).average().orElse(Double.NaN), users.length);
  }
}
