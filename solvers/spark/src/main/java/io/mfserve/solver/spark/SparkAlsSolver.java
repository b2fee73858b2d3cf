package io.mfserve.solver.spark;

import static org.apache.spark.sql.functions.avg;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.min;
import static org.apache.spark.sql.functions.row_number;

import io.mfserve.solver.ExternalIds;
import io.mfserve.solver.FactorModel;
import io.mfserve.solver.FitCancelledException;
import io.mfserve.solver.FitContext;
import io.mfserve.solver.InvalidParameterException;
import io.mfserve.solver.Solver;
import io.mfserve.solver.SourcedModel;
import io.mfserve.solver.TrainingMatrix;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.UUID;
import java.util.logging.Logger;
import org.apache.spark.SparkContext;
import org.apache.spark.ml.recommendation.ALS;
import org.apache.spark.ml.recommendation.ALSModel;
import org.apache.spark.sql.AnalysisException;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.DataFrameReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * One spark-als fit: brings the data to Spark (the request's matrix as a local relation, or
 * the files of {@code source_uri} read by Spark itself), runs MLlib's ALS under a job group of
 * its own, and collects the factors into a {@link FactorModel}. A watcher thread cancels the
 * job group within a poll interval of the caller giving up.
 */
final class SparkAlsSolver implements Solver {
  private static final Logger LOG = Logger.getLogger(SparkAlsSolver.class.getName());
  private static final long POLL_MILLIS = 100;

  private final AlsSettings s;

  SparkAlsSolver(AlsSettings s) {
    this.s = s;
  }

  @Override
  public FactorModel fit(TrainingMatrix data, FitContext context) {
    return inSession(context, (spark, run) -> {
      Dataset<Row> ratings = fromMatrix(spark, data);
      ALSModel model = train(ratings, run);
      int k = s.rank();
      float[] users = new float[data.rows() * k];
      float[] items = new float[data.cols() * k];
      // Ids are the matrix's positions; a row or column without entries (all held out for
      // validation) has no factors in Spark's model and stays zero.
      collectByPosition(model.userFactors(), users, k, context, run);
      collectByPosition(model.itemFactors(), items, k, context, run);
      return new FactorModel(data.rows(), data.cols(), k, users, items, null, run.history);
    });
  }

  @Override
  public SourcedModel fitFromSource(FitContext context) {
    AlsSettings.Source src = s.source();
    if (src == null) {
      throw new UnsupportedOperationException("no source_uri was given");
    }
    return inSession(context, (spark, run) -> new SourceFit(spark, src, context, run).run());
  }

  /** A fit's body, given the session and the fit's progress counters. */
  private interface Body<T> {
    T run(SparkSession spark, FitProgressListener.Run run) throws Exception;
  }

  private <T> T inSession(FitContext context, Body<T> body) {
    SparkSessions sessions = SparkSessions.get();
    SparkSession spark;
    try {
      spark = sessions.acquire(s, context);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new FitCancelledException(0);
    }
    String group = "mfserve-" + UUID.randomUUID();
    FitProgressListener.Run run = new FitProgressListener.Run(group, context, s.maxIterations());
    SparkContext sc = spark.sparkContext();
    Thread watcher = new Thread(() -> watch(context, sc, group), "mfserve-spark-cancel");
    watcher.setDaemon(true);
    try {
      sc.setJobGroup(group, "mfserve spark-als fit", true);
      sessions.listener().begin(run);
      watcher.start();
      T result = body.run(spark, run);
      SparkSessions.checkCancelled(context, run.reported);
      return result;
    } catch (FitCancelledException | InvalidParameterException e) {
      throw e;
    } catch (Exception e) {
      if (context.isCancelled()) {
        awaitNoJobs(sc, group);
        throw new FitCancelledException(run.reported);
      }
      if (e instanceof AnalysisException a) {
        // What Spark could not resolve in the source (a path, a column) is the caller's.
        throw new InvalidParameterException(SparkAlsProvider.SOURCE_URI, "Spark cannot read"
            + " source_uri as asked: " + a.getSimpleMessage());
      }
      throw e instanceof RuntimeException r ? r
          : new IllegalStateException("Spark failed: " + e.getMessage(), e);
    } finally {
      watcher.interrupt();
      sessions.listener().end();
      sc.clearJobGroup();
      sessions.release();
    }
  }

  /**
   * Waits (at most 30 s) until no job of the group runs, so that a cancelled fit ends only once
   * Spark has stopped working for it.
   */
  private static void awaitNoJobs(SparkContext sc, String group) {
    sc.cancelJobGroup(group);
    long deadline = System.nanoTime() + 30_000_000_000L;
    while (System.nanoTime() < deadline) {
      boolean running = false;
      for (int id : sc.statusTracker().getJobIdsForGroup(group)) {
        scala.Option<org.apache.spark.SparkJobInfo> info = sc.statusTracker().getJobInfo(id);
        running |= info.isDefined()
            && info.get().status() == org.apache.spark.JobExecutionStatus.RUNNING;
      }
      if (!running) {
        return;
      }
      try {
        Thread.sleep(POLL_MILLIS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
    LOG.warning("Spark jobs of cancelled group " + group + " still run after 30 s");
  }

  /** Cancels the fit's Spark jobs when its caller gives up. */
  private static void watch(FitContext context, SparkContext sc, String group) {
    try {
      while (!context.isCancelled()) {
        Thread.sleep(POLL_MILLIS);
      }
      LOG.info("spark-als fit cancelled; cancelling Spark job group " + group);
      sc.cancelJobGroup(group);
    } catch (InterruptedException e) {
      // The fit ended.
    }
  }

  private ALSModel train(Dataset<Row> ratings, FitProgressListener.Run run) {
    ALS als = new ALS().setRank(s.rank()).setMaxIter(s.maxIterations())
        .setRegParam(s.regularization()).setImplicitPrefs(s.implicit()).setAlpha(s.alpha())
        .setNonnegative(s.nonnegative()).setSeed(s.seed())
        .setCheckpointInterval(s.checkpointInterval())
        .setUserCol("user").setItemCol("item").setRatingCol("rating");
    if (s.numBlocks() > 0) {
      als.setNumUserBlocks(s.numBlocks()).setNumItemBlocks(s.numBlocks());
    }
    ALSModel model = als.fit(ratings);
    run.reportUpTo(s.maxIterations());
    return model;
  }

  private static Dataset<Row> fromMatrix(SparkSession spark, TrainingMatrix m) {
    List<Row> rows = new ArrayList<>(m.nnz());
    for (int r = 0; r < m.rows(); r++) {
      for (int p = m.rowStart(r); p < m.rowEnd(r); p++) {
        rows.add(RowFactory.create(r, m.rowColumn(p), m.rowValue(p)));
      }
    }
    StructType schema = new StructType().add("user", DataTypes.IntegerType, false)
        .add("item", DataTypes.IntegerType, false).add("rating", DataTypes.FloatType, false);
    return spark.createDataFrame(rows, schema);
  }

  private static void collectByPosition(Dataset<Row> factors, float[] out, int k,
      FitContext context, FitProgressListener.Run run) {
    Iterator<Row> it = factors.toLocalIterator();
    int n = 0;
    while (it.hasNext()) {
      Row row = it.next();
      copyFeatures(row.getList(1), out, row.getInt(0) * k, k);
      if ((++n & 0xffff) == 0) {
        SparkSessions.checkCancelled(context, run.reported);
      }
    }
  }

  private static void copyFeatures(List<Object> features, float[] out, int at, int k) {
    for (int f = 0; f < k; f++) {
      out[at + f] = ((Number) features.get(f)).floatValue();
    }
  }

  /** A fit from files: read, index the ids when ALS cannot take them as they are, collect. */
  private final class SourceFit {
    private final SparkSession spark;
    private final AlsSettings.Source src;
    private final FitContext context;
    private final FitProgressListener.Run run;
    private final List<Dataset<Row>> cached = new ArrayList<>();

    SourceFit(SparkSession spark, AlsSettings.Source src, FitContext context,
        FitProgressListener.Run run) {
      this.spark = spark;
      this.src = src;
      this.context = context;
      this.run = run;
    }

    SourcedModel run() {
      try {
        return fit();
      } finally {
        // Free what this fit cached in Spark, whatever happened.
        for (Dataset<Row> d : cached) {
          d.unpersist(false);
        }
      }
    }

    private Dataset<Row> cache(Dataset<Row> d) {
      cached.add(d);
      return d.cache();
    }

    private SourcedModel fit() {
      Dataset<Row> data = cache(read());
      String idType = src.stringIds() ? "string" : "long";
      Row stats = data.agg(count(lit(1)), count(col("u")), count(col("i")), count(col("r")),
          avg(col("r")), min(col("u")), max(col("u")), min(col("i")), max(col("i"))).first();
      long entries = stats.getLong(0);
      if (entries == 0) {
        throw new InvalidParameterException(SparkAlsProvider.SOURCE_URI, "source_uri '"
            + src.describe() + "' holds no rows");
      }
      requireAll(entries - stats.getLong(1), SparkAlsProvider.USER_COL, "a " + idType
          + " user id in column '" + src.userCol() + "'");
      requireAll(entries - stats.getLong(2), SparkAlsProvider.ITEM_COL, "a " + idType
          + " item id in column '" + src.itemCol() + "'");
      requireAll(entries - stats.getLong(3), SparkAlsProvider.RATING_COL, "a number in column '"
          + src.ratingCol() + "'");
      double mean = stats.getDouble(4);
      SparkSessions.checkCancelled(context, 0);

      Side users = new Side("u", stats, 5);
      Side items = new Side("i", stats, 7);
      Dataset<Row> joined = users.withAlsId(items.withAlsId(data));
      Dataset<Row> ratings = joined.select(col("u_als").as("user"), col("i_als").as("item"),
          col("r").as("rating"));
      ALSModel model = train(ratings, run);

      int k = s.rank();
      Collected u = users.collect(model.userFactors(), k);
      Collected v = items.collect(model.itemFactors(), k);
      FactorModel factors = new FactorModel(u.ids.size(), v.ids.size(), k, u.factors, v.factors,
          null, run.history);
      int[][] seen = src.collectSeen() ? seen(data, u, v, entries) : null;
      return new SourcedModel(factors, u.ids, v.ids, entries, mean, Double.NaN,
          seen == null ? null : seen[0], seen == null ? null : seen[1], src.describe());
    }

    private void requireAll(long missing, String param, String what) {
      if (missing > 0) {
        throw new InvalidParameterException(param, missing + " row(s) of source_uri have no "
            + what + "; check " + param + (src.format().equals("csv")
                ? ", csv_header, csv_separator" : "") + " and id_type");
      }
    }

    private Dataset<Row> read() {
      DataFrameReader r = spark.read().format(src.format());
      if (src.format().equals("csv")) {
        r = r.option("header", Boolean.toString(src.csvHeader()))
            .option("sep", src.csvSeparator()).option("mode", "PERMISSIVE");
      }
      Dataset<Row> raw = r.load(src.uris());
      Column rating = src.ratingCol().isEmpty() ? lit(1.0f)
          : col(quote(src.ratingCol())).cast(DataTypes.FloatType);
      return raw.select(col(quote(src.userCol())).cast(idType()).as("u"),
          col(quote(src.itemCol())).cast(idType()).as("i"), rating.as("r"));
    }

    private org.apache.spark.sql.types.DataType idType() {
      return src.stringIds() ? DataTypes.StringType : DataTypes.LongType;
    }

    /** One side's ids: used by ALS as they are when they are ints ≥ 0, else indexed. */
    private final class Side {
      final String column;
      final Dataset<Row> index;

      Side(String column, Row stats, int minAt) {
        this.column = column;
        boolean direct = !src.stringIds() && stats.getLong(minAt) >= 0
            && stats.getLong(minAt + 1) <= Integer.MAX_VALUE;
        // ALS takes non-negative int ids; others get dense ids 0..n-1 in id order.
        this.index = direct ? null : cache(readIds().withColumn(column + "_als",
            row_number().over(Window.orderBy(column)).minus(1).cast(DataTypes.IntegerType)));
      }

      private Dataset<Row> readIds() {
        return cached.get(0).select(column).distinct();
      }

      /** Adds this side's ALS id, {@code <column>_als}: the id itself, or its index. */
      Dataset<Row> withAlsId(Dataset<Row> data) {
        return index == null
            ? data.withColumn(column + "_als", col(column).cast(DataTypes.IntegerType))
            : data.join(index, column);
      }

      /** Collects (external id, factors), positions in id order. */
      Collected collect(Dataset<Row> alsFactors, int k) {
        Dataset<Row> withIds = index == null
            ? alsFactors.select(col("id").cast(idType()).as("ext"), col("features"))
            : alsFactors.join(index, alsFactors.col("id").equalTo(index.col(column + "_als")))
                .select(col(column).as("ext"), col("features"));
        long n = withIds.count();
        if (n > Integer.MAX_VALUE - 8) {
          throw new IllegalStateException("more than 2^31 ids on one side");
        }
        int size = (int) n;
        // Arrival order, then the same rows moved to id order: two factor arrays at once.
        context.reserveMemory(2L * size * k * Float.BYTES + size * (src.stringIds() ? 64L : 16L),
            "the factors of " + size + (column.equals("u") ? " users" : " items"));
        float[] arrived = new float[size * k];
        long[] longs = src.stringIds() ? null : new long[size];
        String[] strings = src.stringIds() ? new String[size] : null;
        Iterator<Row> it = withIds.toLocalIterator();
        int r = 0;
        while (it.hasNext()) {
          Row row = it.next();
          if (longs != null) {
            longs[r] = row.getLong(0);
          } else {
            strings[r] = row.getString(0);
          }
          copyFeatures(row.getList(1), arrived, r * k, k);
          if ((++r & 0xffff) == 0) {
            SparkSessions.checkCancelled(context, run.reported);
          }
        }
        float[] factors = new float[size * k];
        Collected c;
        if (longs != null) {
          long[] sorted = longs.clone();
          Arrays.sort(sorted);
          for (int a = 0; a < size; a++) {
            int p = Arrays.binarySearch(sorted, longs[a]);
            System.arraycopy(arrived, a * k, factors, p * k, k);
          }
          c = new Collected(ExternalIds.ofLongs(sorted), factors, sorted, null);
        } else {
          String[] sorted = strings.clone();
          Arrays.sort(sorted);
          for (int a = 0; a < size; a++) {
            int p = Arrays.binarySearch(sorted, strings[a]);
            System.arraycopy(arrived, a * k, factors, p * k, k);
          }
          c = new Collected(ExternalIds.ofStrings(sorted), factors, null, sorted);
        }
        return c;
      }
    }

    /** Each user's items (positions), as CSR with ascending, distinct items per row. */
    private int[][] seen(Dataset<Row> data, Collected users, Collected items, long entries) {
      if (entries > Integer.MAX_VALUE - 8) {
        return null;
      }
      int nnz = (int) entries;
      int nu = users.ids.size();
      context.reserveMemory(12L * nnz + 4L * nu, "the items of " + nnz + " training entries");
      int[] up = new int[nnz];
      int[] ip = new int[nnz];
      Iterator<Row> it = data.select("u", "i").toLocalIterator();
      int n = 0;
      while (it.hasNext() && n < nnz) {
        Row row = it.next();
        up[n] = users.position(row, 0);
        ip[n] = items.position(row, 1);
        if ((++n & 0xffff) == 0) {
          SparkSessions.checkCancelled(context, run.reported);
        }
      }
      int[] ptr = new int[nu + 1];
      for (int e = 0; e < n; e++) {
        ptr[up[e] + 1]++;
      }
      for (int u = 0; u < nu; u++) {
        ptr[u + 1] += ptr[u];
      }
      int[] cols = new int[n];
      int[] next = Arrays.copyOf(ptr, nu);
      for (int e = 0; e < n; e++) {
        cols[next[up[e]]++] = ip[e];
      }
      // Sort each row and drop repeated (user, item) rows of the file, compacting in place.
      int out = 0;
      int from = 0;
      for (int u = 0; u < nu; u++) {
        int to = ptr[u + 1];
        Arrays.sort(cols, from, to);
        int start = out;
        for (int p = from; p < to; p++) {
          if (out == start || cols[out - 1] != cols[p]) {
            cols[out++] = cols[p];
          }
        }
        ptr[u] = start;
        from = to;
      }
      ptr[nu] = out;
      return new int[][] {ptr, out == n ? cols : Arrays.copyOf(cols, out)};
    }

    private String quote(String name) {
      return "`" + name.replace("`", "``") + "`";
    }
  }

  /** One side collected: its ids in position order and their factors. */
  private record Collected(ExternalIds ids, float[] factors, long[] longs, String[] strings) {
    int position(Row row, int at) {
      return longs != null ? Arrays.binarySearch(longs, row.getLong(at))
          : Arrays.binarySearch(strings, row.getString(at));
    }
  }
}
