package io.mfserve.server.model.query;

import io.mfserve.server.model.ann.HnswIndex;
import io.mfserve.server.model.ann.Metric;
import io.mfserve.server.model.ann.RowVectors;
import io.mfserve.server.model.store.ScanIndex;
import io.mfserve.solver.FactorModel;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * In-process measurement of the approximate path against the exact scan, for choosing the
 * defaults (issue 18): per build metric (dot, Bachrach), the build time and bytes per row, then
 * per ef the recall@10 of the index's candidates, scored exactly, against the exact scan, and
 * the median time of each path on one thread. Not a test; run with
 * {@code java -cp ... io.mfserve.server.model.query.ApproximateBench ITEMS [K] [QUERIES]
 * [METRICS] [EFS] [M] [BEAM] [THREADS]}, e.g.
 * {@code 200000 64 200 dot,bachrach 10,20,40,80,100,160 16 100 1}.
 *
 * <p>Factors are Gaussian (items N(0, 1), users N(0, 1), item biases N(0, 0.5)): no clusters,
 * the hard case for a graph; trained factors have more structure.
 */
public final class ApproximateBench {
  private ApproximateBench() { }

  public static void main(String[] args) {
    int items = Integer.parseInt(args[0]);
    int k = args.length > 1 ? Integer.parseInt(args[1]) : 64;
    int queries = args.length > 2 ? Integer.parseInt(args[2]) : 200;
    String[] metrics = (args.length > 3 ? args[3] : "dot,bachrach").split(",");
    int[] efs = Arrays.stream((args.length > 4 ? args[4] : "10,20,40,80,100,160").split(","))
        .mapToInt(Integer::parseInt).toArray();
    int maxConn = args.length > 5 ? Integer.parseInt(args[5]) : 16;
    int beam = args.length > 6 ? Integer.parseInt(args[6]) : 100;
    int threads = args.length > 7 ? Integer.parseInt(args[7]) : 1;
    int users = 1000;
    SplittableRandom rnd = new SplittableRandom(1);
    float[] u = new float[users * k];
    float[] v = new float[Math.multiplyExact(items, k)];
    for (int n = 0; n < u.length; n++) {
      u[n] = (float) gauss(rnd);
    }
    for (int n = 0; n < v.length; n++) {
      v[n] = (float) gauss(rnd);
    }
    float[] bu = new float[users];
    float[] bi = new float[items];
    for (int n = 0; n < items; n++) {
      bi[n] = (float) (0.5 * gauss(rnd));
    }
    FactorModel f = new FactorModel(users, items, k, u, v,
        new FactorModel.Biases(3.5, bu, bi), List.of());
    v = null;
    ScanIndex scan = ScanIndex.of(f);
    System.out.printf(Locale.ROOT, "%d items x %d factors, %d queries, %d cores, java %s%n",
        items, k, queries, Runtime.getRuntime().availableProcessors(),
        System.getProperty("java.version"));
    // Exact answers and times, once.
    int[][] truth = new int[queries][];
    long[] exactNanos = new long[queries];
    ItemScorer.Scratch scratch = ItemScorer.Scratch.get();
    for (int rep = 0; rep < 2; rep++) { // the first pass warms the JIT
      for (int q = 0; q < queries; q++) {
        float[] vec = new float[k];
        f.userVector(q % users, vec);
        long t0 = System.nanoTime();
        TopK top = scratch.heap(10);
        ItemScorer.Query query = new ItemScorer.Query(f, false, vec, ItemScorer.Kind.PREDICT,
            3.5, scan);
        ItemScorer.scan(query, new int[0], top, scratch);
        int[] pos = new int[top.size()];
        top.drainBestFirst(pos, new float[pos.length]);
        exactNanos[q] = System.nanoTime() - t0;
        truth[q] = pos;
      }
    }
    System.out.printf(Locale.ROOT, "exact scan: median %.1f us%n", median(exactNanos) / 1e3);
    long t0 = System.nanoTime();
    RowVectors rows = RowVectors.items(f);
    System.out.printf(Locale.ROOT, "row copy: %.2f s, %.1f B/row%n",
        (System.nanoTime() - t0) / 1e9, (double) rows.memoryBytes() / items);
    for (String name : metrics) {
      Metric metric = name.equals("dot") ? Metric.DOT : Metric.ofInnerProduct(name);
      long b0 = System.nanoTime();
      HnswIndex index = HnswIndex.build(rows, metric, maxConn, beam, threads, () -> false);
      double buildSeconds = (System.nanoTime() - b0) / 1e9;
      System.out.printf(Locale.ROOT, "%s M=%d beam=%d threads=%d: build %.1f s (%.1f us/row),"
          + " graph %.1f B/row%n", metric.label(), maxConn, beam, threads, buildSeconds,
          buildSeconds * 1e6 / items, (double) index.graphBytes() / items);
      for (int ef : efs) {
        long found = 0;
        long[] nanos = new long[queries];
        for (int rep = 0; rep < 2; rep++) {
          found = 0;
          for (int q = 0; q < queries; q++) {
            float[] vec = new float[k];
            f.userVector(q % users, vec);
            long s0 = System.nanoTime();
            ItemScorer.Query query = new ItemScorer.Query(f, false, vec,
                ItemScorer.Kind.PREDICT, 3.5, scan);
            int[] cand = index.search(vec, Math.max(ef, 10), null, Integer.MAX_VALUE);
            TopK top = scratch.heap(10);
            for (int r : cand) {
              top.offer(r, query.score(r, rows.exactDot(vec, r)));
            }
            int[] pos = new int[top.size()];
            top.drainBestFirst(pos, new float[pos.length]);
            nanos[q] = System.nanoTime() - s0;
            Set<Integer> want = new HashSet<>();
            for (int p : truth[q]) {
              want.add(p);
            }
            for (int p : pos) {
              found += want.contains(p) ? 1 : 0;
            }
          }
        }
        System.out.printf(Locale.ROOT, "  %s ef=%-4d recall@10 %.4f  median %.1f us  speed-up"
            + " %.1fx%n", metric.label(), ef, found / (10.0 * queries), median(nanos) / 1e3,
            median(exactNanos) / median(nanos));
      }
    }
  }

  private static double gauss(SplittableRandom rnd) {
    double a = rnd.nextDouble();
    double b = rnd.nextDouble();
    return Math.sqrt(-2 * Math.log(1 - a)) * Math.cos(2 * Math.PI * b);
  }

  private static double median(long[] a) {
    long[] s = a.clone();
    Arrays.sort(s);
    return s[s.length / 2];
  }
}
