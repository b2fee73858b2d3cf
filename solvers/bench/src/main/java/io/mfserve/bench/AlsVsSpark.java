package io.mfserve.bench;

import io.mfserve.solver.AbsentEntries;
import io.mfserve.solver.FactorModel;
import io.mfserve.solver.FitContext;
import io.mfserve.solver.IterationProgress;
import io.mfserve.solver.Parameters;
import io.mfserve.solver.SolverConfig;
import io.mfserve.solver.TrainingMatrix;
import io.mfserve.solver.ValidationSet;
import io.mfserve.solver.als.AlsSolverProvider;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ForkJoinPool;
import org.apache.spark.ml.recommendation.ALS;
import org.apache.spark.ml.recommendation.ALSModel;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Runs Spark MLlib's ALS and mfserve's ALS (called in-process through
 * {@link AlsSolverProvider}, as the server would) on the same train and test files with the same
 * rank, sweeps, λ and confidence scale, and prints one table: fit seconds (the fit call alone),
 * RMSE (explicit) or precision@10 and NDCG@10 (implicit) on the test file, and the time ratio.
 *
 * <pre>
 * java [Spark's --add-opens flags] -cp "$(cat target/classpath.txt):target/classes" \
 *   io.mfserve.bench.AlsVsSpark --train u1.base --test u1.test --rank 10 --iterations 20 \
 *   --reg 0.1 [--spark-reg 0.14] [--implicit] [--alpha 1] [--param biases=true] [--repeat 3]
 *   [--solvers both]
 * </pre>
 * {@code --spark-reg} (default: {@code --reg}) gives Spark its own λ, for an mfserve setting
 * whose λ is on another scale ({@code weighted_lambda=false}); Spark has only weighted λ.
 * Both fits use the same number of threads ({@code --threads}, default 2: Spark
 * {@code local[2]}, mfserve a ForkJoinPool of 2). The mfserve fit is repeated
 * {@code --repeat} times; the table gives the first (cold JIT) and the median.
 */
public final class AlsVsSpark {
  private AlsVsSpark() {
  }

  /** Runs the comparison; see the class comment for the arguments. */
  public static void main(String[] args) throws Exception {
    Map<String, String> a = new LinkedHashMap<>();
    Map<String, String> params = new LinkedHashMap<>();
    for (int n = 0; n < args.length; n++) {
      String key = args[n].replaceFirst("^--", "");
      if (key.equals("implicit")) {
        a.put(key, "true");
      } else if (key.equals("param")) {
        String[] kv = args[++n].split("=", 2);
        params.put(kv[0], kv[1]);
      } else {
        a.put(key, args[++n]);
      }
    }
    Path train = Path.of(a.get("train"));
    Path test = Path.of(a.get("test"));
    String dataset = a.getOrDefault("dataset", train.getFileName().toString());
    int rank = Integer.parseInt(a.getOrDefault("rank", "10"));
    int iterations = Integer.parseInt(a.getOrDefault("iterations", "10"));
    double reg = Double.parseDouble(a.getOrDefault("reg", "0.1"));
    // Spark has only weighted λ; with --param weighted_lambda=false mfserve's λ is on another
    // scale, so each gets the best value of its own objective from the same cross-validation.
    double sparkReg = Double.parseDouble(a.getOrDefault("spark-reg", Double.toString(reg)));
    boolean implicit = Boolean.parseBoolean(a.getOrDefault("implicit", "false"));
    double alpha = Double.parseDouble(a.getOrDefault("alpha", "1.0"));
    int threads = Integer.parseInt(a.getOrDefault("threads", "2"));
    int repeat = Integer.parseInt(a.getOrDefault("repeat", "3"));
    String solvers = a.getOrDefault("solvers", "both");
    int sparkBlocks = Integer.parseInt(a.getOrDefault("spark-blocks", "0"));
    int evalUsers = Integer.parseInt(a.getOrDefault("eval-users", "5000"));
    float threshold = Float.parseFloat(a.getOrDefault("threshold", "4"));
    long seed = Long.parseLong(a.getOrDefault("seed", "42"));

    objectiveLambda = sparkReg;
    Ratings data = Ratings.load(train, test);
    System.out.printf(Locale.ROOT, "%s: %d users × %d items, %d train, %d test (%d test lines"
        + " with unseen ids dropped); rank %d, %d iterations, λ %s%s, %s%n", dataset,
        data.users, data.items, data.trainValue.length, data.testValue.length, data.droppedTest,
        rank, iterations, reg, sparkReg == reg ? "" : " (Spark " + sparkReg + ")",
        implicit ? "implicit, α " + alpha : "explicit");

    List<String[]> rows = new ArrayList<>();
    double sparkSeconds = Double.NaN;
    if (solvers.equals("both") || solvers.equals("spark")) {
      Result r = runSpark(train, data, rank, iterations, sparkReg, implicit, alpha, threads,
          sparkBlocks, seed);
      sparkSeconds = r.seconds;
      rows.add(row(dataset, "spark-mllib " + org.apache.spark.package$.MODULE$.SPARK_VERSION()
          + " local[" + threads + "]" + (sparkBlocks > 0 ? " " + sparkBlocks + " blocks" : ""),
          r.seconds, Double.NaN, score(data, r.factors, implicit, threshold, evalUsers, seed),
          implicit, 1));
    }
    if (solvers.equals("both") || solvers.equals("mfserve")) {
      params.put("max_iterations", Integer.toString(iterations));
      params.put("regularization", Double.toString(reg));
      if (implicit) {
        params.putIfAbsent("alpha", Double.toString(alpha));
      }
      // --transpose true fits items × users: mfserve then solves the items first, from the
      // drawn user factors, in Spark's order.
      boolean transpose = Boolean.parseBoolean(a.getOrDefault("transpose", "false"));
      TrainingMatrix matrix = transpose
          ? TrainingMatrix.fromCoordinates(data.items, data.users, data.trainItem,
              data.trainUser, data.trainValue,
              implicit ? AbsentEntries.IMPLICIT : AbsentEntries.UNKNOWN)
          : TrainingMatrix.fromCoordinates(data.users, data.items,
              data.trainUser, data.trainItem, data.trainValue,
              implicit ? AbsentEntries.IMPLICIT : AbsentEntries.UNKNOWN);
      double[] seconds = new double[repeat];
      FactorModel model = null;
      for (int n = 0; n < repeat; n++) {
        resetPeaks();
        long cpu0 = processCpuNanos();
        long t0 = System.nanoTime();
        model = fitMfserve(matrix, rank, seed, params, threads, implicit);
        seconds[n] = (System.nanoTime() - t0) / 1e9;
        printSweeps(model, rank, matrix, seconds[n], (processCpuNanos() - cpu0) / 1e9,
            implicit);
      }
      double first = seconds[0];
      double[] sorted = seconds.clone();
      Arrays.sort(sorted);
      double median = sorted[repeat / 2];
      FactorModel m = model;
      Metrics.Factors f = transpose
          ? new Metrics.Factors(rank, m.copyItemFactors(0, m.numItems()),
              m.copyUserFactors(0, m.numUsers()), m.globalMean(),
              m.hasBiases() ? biases(m, false) : null, m.hasBiases() ? biases(m, true) : null)
          : new Metrics.Factors(rank, m.copyUserFactors(0, m.numUsers()),
              m.copyItemFactors(0, m.numItems()), m.globalMean(),
              m.hasBiases() ? biases(m, true) : null, m.hasBiases() ? biases(m, false) : null);
      String label = "mfserve als " + (transpose ? "(items first) " : "")
          + params.entrySet().stream()
          .filter(e -> !e.getKey().equals("max_iterations") && !e.getKey().equals("regularization"))
          .map(e -> e.getKey() + "=" + e.getValue()).reduce((x, y) -> x + "," + y).orElse("");
      rows.add(row(dataset, label + " (median of " + repeat + "; first " + fmt(first) + " s)",
          median, sparkSeconds, score(data, f, implicit, threshold, evalUsers, seed), implicit,
          median));
    }
    print(rows, implicit);
  }

  private static float[] biases(FactorModel m, boolean users) {
    int n = users ? m.numUsers() : m.numItems();
    float[] b = new float[n];
    for (int x = 0; x < n; x++) {
      b[x] = users ? m.userBias(x) : m.itemBias(x);
    }
    return b;
  }

  private record Result(double seconds, Metrics.Factors factors) { }

  private static FactorModel fitMfserve(TrainingMatrix matrix, int rank, long seed,
      Map<String, String> params, int threads, boolean implicit) {
    AlsSolverProvider provider = new AlsSolverProvider();
    Parameters p = Parameters.resolve(provider.parameters(), params);
    SolverConfig config = new SolverConfig(rank, seed,
        implicit ? AbsentEntries.IMPLICIT : AbsentEntries.UNKNOWN, p);
    ForkJoinPool pool = new ForkJoinPool(threads);
    try {
      return provider.create(config).fit(matrix, new FitContext() {
        @Override
        public ForkJoinPool pool() {
          return pool;
        }

        @Override
        public ValidationSet validation() {
          return ValidationSet.empty();
        }

        @Override
        public boolean isCancelled() {
          return false;
        }

        @Override
        public void report(IterationProgress progress) {
        }
      });
    } finally {
      pool.shutdown();
    }
  }

  /**
   * Prints seconds per sweep and the achieved GFLOP/s of the normal-equation work: Gram
   * accumulation k² flops per entry and side (k(k+1)/2 multiply-adds) plus Cholesky k³/3 per
   * row.
   */
  private static void printSweeps(FactorModel model, int k, TrainingMatrix m, double seconds,
      double cpuSeconds, boolean implicit) {
    List<IterationProgress> h = model.history();
    double[] perSweep = new double[h.size()];
    long prev = 0;
    for (int n = 0; n < h.size(); n++) {
      perSweep[n] = (h.get(n).elapsedNanos() - prev) / 1e9;
      prev = h.get(n).elapsedNanos();
    }
    double[] sorted = perSweep.clone();
    Arrays.sort(sorted);
    double median = sorted[sorted.length / 2];
    double flops = 2.0 * k * k * m.nnz() + (m.rows() + (double) m.cols()) * k * k * k / 3.0;
    System.out.printf(Locale.ROOT, "  mfserve fit %.3f s (process CPU %.3f s); sweep median %.3f"
        + " s (first %.3f s); %s%.1f GFLOP/s normal-equation work; peak heap %d MiB; final loss"
        + " %.5g%n", seconds, cpuSeconds, median, perSweep[0],
        implicit ? "(explicit-equivalent count) " : "", flops / median / 1e9,
        peakHeapBytes() >> 20, h.get(h.size() - 1).loss());
  }

  private static long processCpuNanos() {
    java.lang.management.OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
    return os instanceof com.sun.management.OperatingSystemMXBean sun
        ? sun.getProcessCpuTime() : 0;
  }

  private static void resetPeaks() {
    System.gc();
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      if (pool.getType() == MemoryType.HEAP) {
        pool.resetPeakUsage();
      }
    }
  }

  private static long peakHeapBytes() {
    long total = 0;
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      if (pool.getType() == MemoryType.HEAP) {
        total += pool.getPeakUsage().getUsed();
      }
    }
    return total;
  }

  private static Result runSpark(Path train, Ratings data, int rank, int iterations, double reg,
      boolean implicit, double alpha, int threads, int blocks, long seed) throws Exception {
    Path checkpoints = Files.createTempDirectory("spark-checkpoints");
    SparkSession spark = SparkSession.builder().master("local[" + threads + "]")
        .appName("als-vs-spark").config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
        .getOrCreate();
    try {
      spark.sparkContext().setLogLevel("ERROR");
      spark.sparkContext().setCheckpointDir(checkpoints.toString());
      StructType schema = new StructType().add("user", DataTypes.IntegerType)
          .add("item", DataTypes.IntegerType).add("rating", DataTypes.FloatType)
          .add("ts", DataTypes.LongType);
      Dataset<Row> df = spark.read().option("sep", "\t").schema(schema).csv(train.toString())
          .select("user", "item", "rating").cache();
      long count = df.count();
      ALS als = new ALS().setRank(rank).setMaxIter(iterations).setRegParam(reg)
          .setImplicitPrefs(implicit).setAlpha(alpha).setUserCol("user").setItemCol("item")
          .setRatingCol("rating").setSeed(seed);
      if (blocks > 0) {
        als.setNumBlocks(blocks);
      }
      long t0 = System.nanoTime();
      ALSModel model = als.fit(df);
      double seconds = (System.nanoTime() - t0) / 1e9;
      System.out.printf(Locale.ROOT, "  spark fit %.3f s (%d rows)%n", seconds, count);
      Map<Integer, Integer> userPos = new java.util.HashMap<>();
      for (int n = 0; n < data.userIds.length; n++) {
        userPos.put(data.userIds[n], n);
      }
      Map<Integer, Integer> itemPos = new java.util.HashMap<>();
      for (int n = 0; n < data.itemIds.length; n++) {
        itemPos.put(data.itemIds[n], n);
      }
      return new Result(seconds, new Metrics.Factors(rank,
          collect(model.userFactors(), userPos, data.users, rank),
          collect(model.itemFactors(), itemPos, data.items, rank), 0, null, null));
    } finally {
      spark.stop();
    }
  }

  private static float[] collect(Dataset<Row> factors, Map<Integer, Integer> pos, int n, int k) {
    float[] out = new float[n * k];
    for (Row r : factors.collectAsList()) {
      Integer p = pos.get(r.getInt(0));
      if (p == null) {
        continue;
      }
      List<Object> f = r.getList(1);
      for (int x = 0; x < k; x++) {
        out[p * k + x] = ((Number) f.get(x)).floatValue();
      }
    }
    return out;
  }

  /** λ at which the explicit objective is reported: Spark's. */
  private static double objectiveLambda = 0.1;

  private static String score(Ratings data, Metrics.Factors f, boolean implicit, float threshold,
      int evalUsers, long seed) {
    if (!implicit) {
      // The objective at Spark's λ (weighted), so that identical settings compare convergence.
      return String.format(Locale.ROOT, "RMSE %.4f (weighted-λ objective %.5f at λ %s)",
          Metrics.rmse(data, f), Metrics.weightedObjective(data, f, objectiveLambda),
          objectiveLambda);
    }
    Metrics.Ranking r = Metrics.ranking(data, f, 10, threshold, evalUsers, seed);
    return String.format(Locale.ROOT, "P@10 %.4f  NDCG@10 %.4f (%d users)", r.precision(),
        r.ndcg(), r.users());
  }

  private static String[] row(String dataset, String solver, double seconds, double spark,
      String score, boolean implicit, double mine) {
    String ratio = Double.isNaN(spark) ? "1" : String.format(Locale.ROOT, "1/%.1f", spark / mine);
    return new String[] {dataset, solver, fmt(seconds), score, ratio};
  }

  private static String fmt(double seconds) {
    return String.format(Locale.ROOT, "%.2f", seconds);
  }

  private static void print(List<String[]> rows, boolean implicit) {
    System.out.println();
    System.out.println("| dataset | solver | fit s | " + (implicit ? "test P@10 / NDCG@10"
        : "test RMSE") + " | time vs Spark |");
    System.out.println("|---|---|---|---|---|");
    for (String[] r : rows) {
      System.out.println("| " + String.join(" | ", r) + " |");
    }
  }
}
