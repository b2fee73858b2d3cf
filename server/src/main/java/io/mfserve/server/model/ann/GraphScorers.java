package io.mfserve.server.model.ann;

import org.apache.lucene.util.hnsw.RandomVectorScorer;
import org.apache.lucene.util.hnsw.RandomVectorScorerSupplier;

/**
 * Row-to-row similarity for building a graph, in Lucene's scorer interfaces, straight from a
 * {@link RowVectors} (no copy into Lucene's vector values). Higher is more similar; the
 * values need not be positive, only comparable. Stateless, so {@link #copy()} is itself.
 */
final class GraphScorers implements RandomVectorScorerSupplier {
  private final RowVectors rows;
  private final Metric metric;
  /** Bachrach's completing coordinate of each row; null for the other metrics. */
  private final float[] completion;

  GraphScorers(RowVectors rows, Metric metric) {
    this.rows = rows;
    this.metric = metric;
    this.completion = metric == Metric.DOT_BACHRACH ? completion(rows) : null;
  }

  /** {@code sqrt(M² − ‖x‖²)} per row, M the largest norm (over every coordinate, bias too). */
  private static float[] completion(RowVectors rows) {
    int n = rows.rows();
    int d = rows.dim();
    double[] sq = new double[n];
    double max = 0;
    for (int r = 0; r < n; r++) {
      sq[r] = rows.dot(r, r, d);
      max = Math.max(max, sq[r]);
    }
    float[] c = new float[n];
    for (int r = 0; r < n; r++) {
      c[r] = (float) Math.sqrt(Math.max(0, max - sq[r]));
    }
    return c;
  }

  /** Returns the bytes held besides the rows (Bachrach's coordinate). */
  long memoryBytes() {
    return completion == null ? 0 : 16L + (long) completion.length * Float.BYTES;
  }

  /** The similarity of rows a and b under the metric. */
  float similarity(int a, int b) {
    switch (metric) {
      case DOT:
        return rows.dot(a, b, rows.dim());
      case DOT_BACHRACH:
        return rows.dot(a, b, rows.dim()) + completion[a] * completion[b];
      default:
        return rows.dot(a, b, rows.factors()) * rows.inverseNorm(a) * rows.inverseNorm(b);
    }
  }

  @Override
  public RandomVectorScorer scorer(int ord) {
    return new RandomVectorScorer() {
      @Override
      public float score(int node) {
        return similarity(ord, node);
      }

      @Override
      public int maxOrd() {
        return rows.rows();
      }
    };
  }

  @Override
  public RandomVectorScorerSupplier copy() {
    return this;
  }
}
