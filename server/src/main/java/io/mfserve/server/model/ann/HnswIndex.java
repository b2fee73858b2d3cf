package io.mfserve.server.model.ann;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.SplittableRandom;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.BooleanSupplier;
import org.apache.lucene.search.KnnCollector;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.TaskExecutor;
import org.apache.lucene.util.Bits;
import org.apache.lucene.util.hnsw.HnswConcurrentMergeBuilder;
import org.apache.lucene.util.hnsw.HnswGraphBuilder;
import org.apache.lucene.util.hnsw.HnswGraphSearcher;
import org.apache.lucene.util.hnsw.OnHeapHnswGraph;
import org.apache.lucene.util.hnsw.RandomVectorScorer;
import org.apache.lucene.util.hnsw.RandomVectorScorerSupplier;

/**
 * An HNSW graph (Malkov and Yashunin, "Efficient and robust approximate nearest neighbor search
 * using Hierarchical Navigable Small World graphs", 2018; Lucene's implementation) over the
 * rows of a {@link RowVectors}, and the search that proposes candidates for a query.
 *
 * <p>A query is ranked by inner product with its item bias ({@link Metric#DOT},
 * {@link Metric#DOT_BACHRACH}: {@code q · v_i + b_i}) or by cosine ({@link Metric#COSINE}:
 * {@code q · v_i / ‖v_i‖}, the query's own norm being the same for every row). Candidates come
 * back best first by that ranking, computed with {@link RowVectors#dot}'s rounding; the caller
 * scores them exactly.
 *
 * <p>Immutable once built; any number of threads may search at once.
 */
public final class HnswIndex {
  /** Seeds the level of each node: the same rows give the same graph. */
  private static final long SEED = 42;
  /** Rows added between two looks at the cancellation flag. */
  private static final int CHECK_EVERY = 1024;

  private final RowVectors rows;
  private final Metric metric;
  private final OnHeapHnswGraph graph;
  private final int maxConn;
  private final int beamWidth;
  private final long extraBytes;

  private HnswIndex(RowVectors rows, Metric metric, OnHeapHnswGraph graph, int maxConn,
      int beamWidth, long extraBytes) {
    this.rows = rows;
    this.metric = metric;
    this.graph = graph;
    this.maxConn = maxConn;
    this.beamWidth = beamWidth;
    this.extraBytes = extraBytes;
  }

  /**
   * Returns about the bytes a graph of {@code rows} nodes takes (the vectors apart): on the
   * bottom layer 2M neighbours per node, each an int and a float score, with the arrays'
   * headers; the upper layers add about 1/M of that again.
   */
  public static long estimateGraphBytes(long rows, int maxConn) {
    long bottom = (2L * maxConn + 1) * (Integer.BYTES + Float.BYTES) + 3 * 16 + 32;
    return rows * (bottom + bottom / maxConn) + (rows + 1) / 4;
  }

  /**
   * Builds the graph of every row, one row at a time on the calling thread.
   *
   * @param maxConn M, the neighbours a node keeps on the upper layers (2M on the bottom one)
   * @param beamWidth the candidates kept while linking a new node (efConstruction)
   * @param cancelled looked at every {@value #CHECK_EVERY} rows
   * @throws CancellationException when {@code cancelled} turned true
   */
  public static HnswIndex build(RowVectors rows, Metric metric, int maxConn, int beamWidth,
      BooleanSupplier cancelled) {
    return build(rows, metric, maxConn, beamWidth, 1, cancelled);
  }

  /**
   * Builds the graph of every row on {@code threads} threads: one, the calling thread, row by
   * row; more, Lucene's concurrent builder (workers take batches of rows and link them under
   * the graph's lock), which gives the same kind of graph, not the same graph.
   *
   * @throws CancellationException when {@code cancelled} turned true (looked at once per row
   *     with several threads)
   */
  public static HnswIndex build(RowVectors rows, Metric metric, int maxConn, int beamWidth,
      int threads, BooleanSupplier cancelled) {
    GraphScorers scorers = new GraphScorers(rows, metric);
    if (threads > 1) {
      return buildConcurrently(rows, metric, maxConn, beamWidth, threads, scorers, cancelled);
    }
    try {
      HnswGraphBuilder builder = HnswGraphBuilder.create(scorers, maxConn, beamWidth, SEED,
          rows.rows());
      for (int r = 0; r < rows.rows(); r++) {
        if (r % CHECK_EVERY == 0 && cancelled.getAsBoolean()) {
          throw new CancellationException("index build cancelled");
        }
        builder.addGraphNode(r);
      }
      OnHeapHnswGraph graph = builder.getCompletedGraph();
      return new HnswIndex(rows, metric, graph, maxConn, beamWidth, scorers.memoryBytes());
    } catch (IOException e) {
      throw new UncheckedIOException(e); // our scorers read memory only
    }
  }

  private static HnswIndex buildConcurrently(RowVectors rows, Metric metric, int maxConn,
      int beamWidth, int threads, GraphScorers scorers, BooleanSupplier cancelled) {
    RandomVectorScorerSupplier checked = new RandomVectorScorerSupplier() {
      @Override
      public RandomVectorScorer scorer(int ord) {
        // Asked once for each row a worker links: the place to notice a cancellation.
        if (cancelled.getAsBoolean()) {
          throw new CancellationException("index build cancelled");
        }
        return scorers.scorer(ord);
      }

      @Override
      public RandomVectorScorerSupplier copy() {
        return this;
      }
    };
    ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
      Thread t = new Thread(r, "mfserve-ann-worker");
      t.setPriority(Thread.MIN_PRIORITY); // background work yields to queries, as fits do
      t.setDaemon(true);
      return t;
    });
    try {
      // An empty graph of the right size: the concurrent builder fills one it is given, and
      // OnHeapHnswGraph's constructor is not public.
      OnHeapHnswGraph empty = HnswGraphBuilder.create(scorers, maxConn, beamWidth, SEED,
          rows.rows()).getGraph();
      OnHeapHnswGraph graph = new HnswConcurrentMergeBuilder(new TaskExecutor(pool), threads,
          checked, maxConn, beamWidth, empty, null).build(rows.rows());
      return new HnswIndex(rows, metric, graph, maxConn, beamWidth, scorers.memoryBytes());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      pool.shutdownNow();
    }
  }

  /** Returns the rows it indexes. */
  public RowVectors rows() {
    return rows;
  }

  /** Returns how the graph was built. */
  public Metric metric() {
    return metric;
  }

  /** Returns M. */
  public int maxConn() {
    return maxConn;
  }

  /** Returns the beam width it was built with. */
  public int beamWidth() {
    return beamWidth;
  }

  /** Returns the bytes of the graph and of what was computed for it (the rows apart). */
  public long graphBytes() {
    return graph.ramBytesUsed() + extraBytes;
  }

  /**
   * Returns the best candidates for {@code query} (k floats), best first: the rows an HNSW
   * search with a beam of {@code ef} found, at most ef of them, only rows that
   * {@code accept} takes (null: any). Returns null when the search visited more than
   * {@code visitLimit} rows without settling, as a filter that rejects most rows makes it do:
   * then an exact scan is the cheaper answer.
   */
  public int[] search(float[] query, int ef, Bits accept, int visitLimit) {
    KnnCollector collector;
    try {
      // Lucene's thread-safe search of an on-heap graph: each search walks it with a cursor of
      // its own (the graph's own seek/nextNeighbor cursor is shared state).
      collector = HnswGraphSearcher.search(queryScorer(query), ef, graph, accept, visitLimit);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    if (collector.earlyTerminated()) {
      return null;
    }
    ScoreDoc[] docs = collector.topDocs().scoreDocs;
    int[] out = new int[docs.length];
    for (int j = 0; j < docs.length; j++) {
      out[j] = docs[j].doc;
    }
    return out;
  }

  /** The query's ranking of rows: inner product with the bias, or cosine. */
  private RandomVectorScorer queryScorer(float[] query) {
    int k = rows.factors();
    boolean cosine = metric == Metric.COSINE;
    int n = rows.rows();
    return new RandomVectorScorer() {
      @Override
      public float score(int node) {
        float dot = rows.dot(query, node, k);
        return cosine ? dot * rows.inverseNorm(node) : dot + rows.bias(node);
      }

      @Override
      public int maxOrd() {
        return n;
      }
    };
  }

  /**
   * Measures recall@k against brute force on {@code samples} queries: for an inner-product
   * index, the rows of {@code queries} in turn (users' factors, k floats each, row-major); for
   * a cosine index, random rows of its own (each query's row left out). For the server's log
   * and ModelInfo; costs {@code samples} passes over every row.
   *
   * @param queries row-major query vectors for an inner-product index; ignored for cosine
   */
  public double sampleRecall(float[] queries, int samples, int k, int ef, long seed) {
    return sampleRecall(queries, samples, k, new int[] {ef}, seed)[0];
  }

  /**
   * Measures recall@k as {@link #sampleRecall(float[], int, int, int, long)} does, at each ef
   * of {@code efs}: one brute-force pass per query serves them all, so that a calibration
   * costs little more than one measurement.
   *
   * @return the recall at each ef, in the order of {@code efs}
   */
  public double[] sampleRecall(float[] queries, int samples, int k, int[] efs, long seed) {
    SplittableRandom rnd = new SplittableRandom(seed);
    int f = rows.factors();
    int n = rows.rows();
    boolean cosine = metric == Metric.COSINE;
    int sources = cosine ? n : queries.length / f;
    double[] recall = new double[efs.length];
    if (sources == 0 || n < 2) {
      return recall;
    }
    int want = Math.min(k, n - (cosine ? 1 : 0));
    long[] found = new long[efs.length];
    long asked = 0;
    float[] q = new float[f];
    java.util.Set<Integer> truth = new java.util.HashSet<>();
    for (int s = 0; s < samples; s++) {
      int src = cosine ? rnd.nextInt(sources) : s % sources;
      int self = cosine ? src : -1;
      if (cosine) {
        rows.copyFactors(src, q);
      } else {
        System.arraycopy(queries, src * f, q, 0, f);
      }
      truth.clear();
      for (int r : bruteForce(q, want, self)) {
        truth.add(r);
      }
      Bits accept = self < 0 ? null : new Bits() {
        @Override
        public boolean get(int index) {
          return index != self;
        }

        @Override
        public int length() {
          return n;
        }
      };
      for (int e = 0; e < efs.length; e++) {
        int[] approx = search(q, Math.max(efs[e], want), accept, Integer.MAX_VALUE);
        for (int j = 0; j < Math.min(want, approx.length); j++) {
          if (truth.contains(approx[j])) {
            found[e]++;
          }
        }
      }
      asked += want;
    }
    for (int e = 0; e < efs.length; e++) {
      recall[e] = asked == 0 ? 0 : (double) found[e] / asked;
    }
    return recall;
  }

  /** The top {@code k} rows for {@code q} by the query ranking, every row scored. */
  private int[] bruteForce(float[] q, int k, int self) {
    int n = rows.rows();
    int f = rows.factors();
    boolean cosine = metric == Metric.COSINE;
    int[] best = new int[k];
    float[] score = new float[k];
    int size = 0;
    for (int r = 0; r < n; r++) {
      if (r == self) {
        continue;
      }
      float dot = rows.exactDot(q, r);
      float s = cosine ? dot * rows.inverseNorm(r) : dot + rows.bias(r);
      if (size < k) {
        int j = size++;
        while (j > 0 && score[j - 1] < s) {
          score[j] = score[j - 1];
          best[j] = best[j - 1];
          j--;
        }
        score[j] = s;
        best[j] = r;
      } else if (s > score[k - 1]) {
        int j = k - 1;
        while (j > 0 && score[j - 1] < s) {
          score[j] = score[j - 1];
          best[j] = best[j - 1];
          j--;
        }
        score[j] = s;
        best[j] = r;
      }
    }
    return java.util.Arrays.copyOf(best, size);
  }
}
