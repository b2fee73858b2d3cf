// The baseline of the spark-als overhead benchmark (run-overhead.sh): the same fit that
// spark-als runs inside mfserve, done with plain Spark in a JVM of its own, with the same Spark
// settings (those SparkSessions.start sets), the same reading of the file and the same ALS
// parameters, through the ALS Estimator as a Spark user writes it; the factors are brought to
// the driver row by row (spark-als calls ALS's training itself and takes its arrays), then
// scored on the test file here. Run with Java's source launcher and the plugin's own Spark jars:
//   java --add-opens=... -cp 'solvers/spark/target/plugin/spark-als/lib/*' PlainSparkAls.java \
//     TRAIN.tsv TEST.tsv MASTER RANK ITERATIONS REG BLOCKS SEED REPEAT
// It prints one RESULT line per fit; the first fit's time includes starting the session, as the
// first spark-als fit of a server does.

import static org.apache.spark.sql.functions.col;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.apache.spark.ml.recommendation.ALS;
import org.apache.spark.ml.recommendation.ALSModel;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;

public final class PlainSparkAls {
  public static void main(String[] a) throws Exception {
    String train = Path.of(a[0]).toUri().toString();
    Path test = Path.of(a[1]);
    String master = a[2];
    int rank = Integer.parseInt(a[3]);
    int iterations = Integer.parseInt(a[4]);
    double reg = Double.parseDouble(a[5]);
    int blocks = Integer.parseInt(a[6]);
    long seed = Long.parseLong(a[7]);
    int repeat = Integer.parseInt(a[8]);
    var os = (com.sun.management.OperatingSystemMXBean)
        java.lang.management.ManagementFactory.getOperatingSystemMXBean();
    for (int n = 1; n <= repeat; n++) {
      long t0 = System.nanoTime();
      long cpu0 = os.getProcessCpuTime();
      SparkSession spark = session(master);
      double startS = (System.nanoTime() - t0) / 1e9;
      Dataset<Row> ratings = spark.read().format("csv").option("header", "false")
          .option("sep", "\t").option("mode", "PERMISSIVE").load(train)
          .select(col("_c0").cast(DataTypes.LongType).cast(DataTypes.IntegerType).as("user"),
              col("_c1").cast(DataTypes.LongType).cast(DataTypes.IntegerType).as("item"),
              col("_c2").cast(DataTypes.FloatType).as("rating"));
      ALS als = new ALS().setRank(rank).setMaxIter(iterations).setRegParam(reg)
          .setImplicitPrefs(false).setAlpha(1.0).setNonnegative(false).setSeed(seed)
          .setCheckpointInterval(10).setUserCol("user").setItemCol("item")
          .setRatingCol("rating");
      if (blocks > 0) {
        als.setNumUserBlocks(blocks).setNumItemBlocks(blocks);
      }
      ALSModel model = als.fit(ratings);
      Map<Integer, float[]> users = collect(model.userFactors(), rank);
      Map<Integer, float[]> items = collect(model.itemFactors(), rank);
      double seconds = (System.nanoTime() - t0) / 1e9;
      // CPU time of the whole JVM (driver and local executors): far less sensitive than wall
      // time to other work on a shared machine.
      double cpu = (os.getProcessCpuTime() - cpu0) / 1e9;
      System.out.printf("RESULT solver=plain-spark master=%s run=%d fit_s=%.2f cpu_s=%.2f"
          + " session_start_s=%.2f rmse=%.4f%n", master, n, seconds, cpu, startS,
          rmse(test, users, items));
      if (n < repeat) {
        // Spark keeps the session; a second fit in the same JVM reuses it, as spark-als does.
        model.userFactors().unpersist(false);
        model.itemFactors().unpersist(false);
      }
    }
    SparkSession.active().stop();
  }

  private static SparkSession session(String master) throws Exception {
    System.setProperty("io.netty.tryReflectionSetAccessible", "true");
    SparkSession.Builder b = SparkSession.builder().master(master).appName("plain-spark-als")
        .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "4");
    if (master.startsWith("local")) {
      b.config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1");
    }
    boolean fresh = SparkSession.getActiveSession().isEmpty();
    SparkSession s = b.getOrCreate();
    if (fresh) {
      s.sparkContext().setLogLevel("WARN");
      s.sparkContext().setCheckpointDir(
          Files.createTempDirectory("plain-spark-checkpoints").toUri().toString());
    }
    return s;
  }

  /** Brings one side's factors to the driver, row by row, as spark-als does. */
  private static Map<Integer, float[]> collect(Dataset<Row> factors, int k) {
    Map<Integer, float[]> out = new HashMap<>();
    Iterator<Row> it = factors.select(col("id").cast(DataTypes.LongType), col("features"))
        .toLocalIterator();
    while (it.hasNext()) {
      Row row = it.next();
      List<Object> f = row.getList(1);
      float[] v = new float[k];
      for (int j = 0; j < k; j++) {
        v[j] = ((Number) f.get(j)).floatValue();
      }
      out.put((int) row.getLong(0), v);
    }
    return out;
  }

  private static double rmse(Path test, Map<Integer, float[]> users, Map<Integer, float[]> items)
      throws Exception {
    double sum = 0;
    long n = 0;
    try (var lines = Files.lines(test)) {
      for (Iterator<String> it = lines.iterator(); it.hasNext(); ) {
        String[] f = it.next().split("\t");
        float[] u = users.get(Integer.parseInt(f[0]));
        float[] v = items.get(Integer.parseInt(f[1]));
        double p = 0;
        if (u != null && v != null) {
          for (int j = 0; j < u.length; j++) {
            p += u[j] * v[j];
          }
        }
        double e = p - Double.parseDouble(f[2]);
        sum += e * e;
        n++;
      }
    }
    return Math.sqrt(sum / n);
  }
}
