package io.mfserve.solver.spark;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.raise_error;
import static org.apache.spark.sql.functions.row_number;
import static org.apache.spark.sql.functions.when;

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
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.ml.recommendation.ALS;
import org.apache.spark.rdd.RDD;
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
import org.apache.spark.storage.StorageLevel;
import scala.Tuple2;
import scala.math.Ordering;
import scala.reflect.ClassTag$;

/**
 * One spark-als fit: brings the data to Spark (the request's matrix as a local relation, or
 * the files of {@code source_uri} read by Spark itself), runs MLlib's ALS under a job group of
 * its own, and collects the factors into a {@link FactorModel}. A watcher thread cancels the
 * job group within a poll interval of the caller giving up.
 */
final class SparkAlsSolver implements Solver {
  private static final Logger LOG = Logger.getLogger(SparkAlsSolver.class.getName());
  private static final long POLL_MILLIS = 100;
  /** MLlib's ALS Estimator's default of user and item blocks. */
  private static final int DEFAULT_BLOCKS = 10;

  private final AlsSettings s;

  SparkAlsSolver(AlsSettings s) {
    this.s = s;
  }

  @Override
  public FactorModel fit(TrainingMatrix data, FitContext context) {
    return inSession(context, (spark, run) -> {
      Trained t = train(fromMatrix(spark, data), false, context, run);
      try {
        int k = s.rank();
        float[] users = new float[data.rows() * k];
        float[] items = new float[data.cols() * k];
        // Ids are the matrix's positions; a row or column without entries (all held out for
        // validation) has no factors in Spark's model and stays zero.
        collectByPosition(t.users, users, k, context, run);
        collectByPosition(t.items, items, k, context, run);
        return new FactorModel(data.rows(), data.cols(), k, users, items, null, run.history);
      } finally {
        t.release();
      }
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
      throw unchecked(e);
    } finally {
      watcher.interrupt();
      sessions.listener().end();
      sc.clearJobGroup();
      sessions.release();
    }
  }

  /** {@code e} as thrown on: Scala code throws SparkException, a checked one, undeclared. */
  private static RuntimeException unchecked(Exception e) {
    return e instanceof RuntimeException r ? r
        : new IllegalStateException("Spark failed: " + e.getMessage(), e);
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

  /**
   * What ALS returned: each side's (ALS id, factors), persisted by ALS until {@link #release},
   * and the summaries of its input's partitions.
   */
  private record Trained(JavaRDD<Tuple2<Object, float[]>> users,
      JavaRDD<Tuple2<Object, float[]>> items, CheckedRatings.Summaries summaries,
      int partitions) {
    void release() {
      users.unpersist(false);
      items.unpersist(false);
      summaries.reset();
    }
  }

  /**
   * Trains MLlib's ALS on {@code rows} (user, item, rating, numbers), checked on their way in
   * by {@link CheckedRatings}, which also sums up each partition (with the (user, item) pairs
   * when {@code pairs}) in the same pass. Calls ALS's own training (what its Estimator calls,
   * less the conversions to and from DataFrames), with the Estimator's defaults: 10 blocks a
   * side unless num_blocks says otherwise, memory-and-disk storage.
   */
  private Trained train(Dataset<Row> rows, boolean pairs, FitContext context,
      FitProgressListener.Run run) {
    SparkContext sc = rows.sparkSession().sparkContext();
    CheckedRatings.Summaries summaries = new CheckedRatings.Summaries();
    summaries.onDriver(bytes -> {
      try {
        context.reserveMemory(bytes, "the items of the training entries (collect_seen)");
      } catch (RuntimeException e) {
        // Over the budget: no use training on; the job ends and the fit fails with this.
        sc.cancelJobGroup(run.group);
        throw e;
      }
    });
    sc.register(summaries, "mfserve-spark-als-summaries");
    JavaRDD<Row> input = rows.javaRDD();
    JavaRDD<ALS.Rating<Object>> ratings = input.mapPartitionsWithIndex(
        new CheckedRatings(summaries, pairs), true);
    int blocks = s.numBlocks() > 0 ? s.numBlocks() : DEFAULT_BLOCKS;
    Tuple2<RDD<Tuple2<Object, float[]>>, RDD<Tuple2<Object, float[]>>> f;
    try {
      f = ALS.train(ratings.rdd(), s.rank(), blocks, blocks, s.maxIterations(),
          s.regularization(), s.implicit(), s.alpha(), s.nonnegative(),
          StorageLevel.MEMORY_AND_DISK(), StorageLevel.MEMORY_AND_DISK(),
          s.checkpointInterval(), s.seed(), ClassTag$.MODULE$.Int(), Ordering.Int$.MODULE$);
    } catch (Exception e) { // see unchecked
      summaries.reset();
      throw summaries.failure() != null ? summaries.failure() : unchecked(e);
    }
    Trained t = new Trained(f._1().toJavaRDD(), f._2().toJavaRDD(), summaries,
        input.getNumPartitions());
    if (summaries.failure() != null) {
      t.release();
      throw summaries.failure();
    }
    run.reportUpTo(s.maxIterations());
    return t;
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

  private static void collectByPosition(JavaRDD<Tuple2<Object, float[]>> factors, float[] out,
      int k, FitContext context, FitProgressListener.Run run) {
    Iterator<Tuple2<Object, float[]>> it = factors.toLocalIterator();
    int n = 0;
    while (it.hasNext()) {
      Tuple2<Object, float[]> row = it.next();
      System.arraycopy(row._2(), 0, out, (Integer) row._1() * k, k);
      if ((++n & 0xffff) == 0) {
        SparkSessions.checkCancelled(context, run.reported);
      }
    }
  }

  /**
   * A fit from files. Integer ids go to ALS as they are, checked on their way in; only when one
   * is not an int ≥ 0, or the ids are strings, are they read once more and given dense ids.
   * The entry count, the ratings' sum and the seen items come from the same pass over the data
   * that ALS makes ({@link CheckedRatings}), as plain Spark's fit reads its files once. Then
   * the factors are collected.
   */
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
      long t0 = System.nanoTime();
      Dataset<Row> data = read();
      Side users = null;
      Side items = null;
      Trained trained = null;
      if (!src.stringIds()) {
        // Not cached: ALS reads its input once, as plain Spark's fit does.
        users = new Side("u", null);
        items = new Side("i", null);
        trained = trainChecked(data.select("u", "i", "r"), data, true);
      }
      if (trained == null) {
        // The ids are read twice (to index them, then to join), so the input is cached.
        Dataset<Row> input = cache(data);
        users = new Side("u", input);
        items = new Side("i", input);
        Dataset<Row> indexed = users.withAlsId(items.withAlsId(input))
            .select(col("u_als"), col("i_als"), col("r"));
        trained = trainChecked(indexed, input, false);
      }
      try {
        long t1 = System.nanoTime();
        int k = s.rank();
        Collected u = users.collect(trained.users, k);
        Collected v = items.collect(trained.items, k);
        FactorModel factors = new FactorModel(u.ids.size(), v.ids.size(), k, u.factors,
            v.factors, null, run.history);
        long t2 = System.nanoTime();
        Summary sum = summarize(trained.summaries.byPartition(trained.partitions), u, v);
        if (sum.entries == 0) {
          throw new InvalidParameterException(SparkAlsProvider.SOURCE_URI, "source_uri '"
              + src.describe() + "' holds no rows");
        }
        long t3 = System.nanoTime();
        // Where a fit's time went, for comparing it with the same job in plain Spark.
        LOG.info(String.format("event=spark_als_phases entries=%d read_and_als_s=%.2f"
            + " collect_factors_s=%.2f summary_s=%.2f collect_seen=%s", sum.entries,
            (t1 - t0) / 1e9, (t2 - t1) / 1e9, (t3 - t2) / 1e9, src.collectSeen()));
        return new SourcedModel(factors, u.ids, v.ids, sum.entries, sum.ratingSum / sum.entries,
            Double.NaN, sum.seenPtr, sum.seenCols, src.describe());
      } finally {
        trained.release();
      }
    }

    /**
     * Trains; a failed check is the caller's error, except an id outside ALS's range when the
     * ids went to ALS as they are ({@code direct}): then null, and the caller indexes them.
     */
    private Trained trainChecked(Dataset<Row> ratings, Dataset<Row> data, boolean direct) {
      try {
        return train(ratings, src.collectSeen(), context, run);
      } catch (RuntimeException e) {
        String failed = checkFailure(e);
        if (direct && CheckedRatings.OUT_OF_RANGE.equals(failed)) {
          LOG.info("spark-als: an id of source_uri is not an int >= 0; indexing the ids");
          return null;
        }
        throw failed == null ? emptyOr(data, e) : invalid(failed);
      }
    }

    /** The marker of the check that failed, found in {@code e}'s causes; null if none did. */
    private String checkFailure(Throwable e) {
      for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
        String m = t.getMessage();
        int at = m == null ? -1 : m.indexOf(CheckedRatings.CHECK);
        if (at >= 0) {
          String rest = m.substring(at + CheckedRatings.CHECK.length());
          for (String known : List.of(CheckedRatings.OUT_OF_RANGE, SparkAlsProvider.USER_COL,
              SparkAlsProvider.ITEM_COL, SparkAlsProvider.RATING_COL)) {
            if (rest.startsWith(known)) {
              return known;
            }
          }
        }
      }
      return null;
    }

    /** The caller's error for a failed check of a column. */
    private InvalidParameterException invalid(String param) {
      String idType = src.stringIds() ? "string" : "long";
      String what = param.equals(SparkAlsProvider.USER_COL)
          ? "a " + idType + " user id in column '" + src.userCol() + "'"
          : param.equals(SparkAlsProvider.ITEM_COL)
              ? "a " + idType + " item id in column '" + src.itemCol() + "'"
              : "a number in column '" + src.ratingCol() + "'";
      return new InvalidParameterException(param, "a row of source_uri has no " + what
          + "; check " + param + (src.format().equals("csv")
              ? ", csv_header, csv_separator" : "") + " and id_type");
    }

    /** An input without rows is the caller's error; anything else is Spark's. */
    private RuntimeException emptyOr(Dataset<Row> data, RuntimeException e) {
      if (context.isCancelled()) {
        return e;
      }
      try {
        if (data.isEmpty()) {
          return new InvalidParameterException(SparkAlsProvider.SOURCE_URI, "source_uri '"
              + src.describe() + "' holds no rows");
        }
      } catch (RuntimeException again) {
        e.addSuppressed(again);
      }
      return e;
    }

    private Dataset<Row> read() {
      DataFrameReader r = spark.read().format(src.format());
      if (src.format().equals("csv")) {
        r = r.option("header", Boolean.toString(src.csvHeader()))
            .option("sep", src.csvSeparator()).option("mode", "PERMISSIVE");
      }
      Dataset<Row> raw = r.load(src.uris());
      // try_cast: a value that is not a number becomes null, which the checks on the way into
      // ALS report by column (a plain cast fails the job in Spark's ANSI mode, unexplained).
      Column rating = src.ratingCol().isEmpty() ? lit(1.0f)
          : col(quote(src.ratingCol())).try_cast(DataTypes.FloatType);
      return raw.select(col(quote(src.userCol())).try_cast(idType()).as("u"),
          col(quote(src.itemCol())).try_cast(idType()).as("i"), rating.as("r"));
    }

    private org.apache.spark.sql.types.DataType idType() {
      return src.stringIds() ? DataTypes.StringType : DataTypes.LongType;
    }

    /** One side's ids: given to ALS as they are (checked), or indexed 0..n-1 in id order. */
    private final class Side {
      final String column;
      final Dataset<Row> index;
      final String param;

      /** A side whose ids ALS takes as they are (data null), or indexed from {@code data}. */
      Side(String column, Dataset<Row> data) {
        this.column = column;
        this.param = column.equals("u") ? SparkAlsProvider.USER_COL : SparkAlsProvider.ITEM_COL;
        // A missing id would be dropped by the index's join: index the present ones, and let
        // the check of withAlsId stop the job on a missing one.
        this.index = data == null ? null : cache(data.select(column).where(col(column).isNotNull())
            .distinct().withColumn(column + "_als", row_number().over(Window.orderBy(column))
                .minus(1).cast(DataTypes.IntegerType)));
      }

      /** Adds this side's ALS id, {@code <column>_als}, from the index; a missing id stops. */
      Dataset<Row> withAlsId(Dataset<Row> data) {
        Column id = col(column);
        Column missing = raise_error(lit(CheckedRatings.CHECK + param));
        return data.withColumn(column, when(id.isNull(), missing).otherwise(id))
            .join(index, column);
      }

      /** Collects (external id, ALS id, factors) from ALS's output, positions in id order. */
      Collected collect(JavaRDD<Tuple2<Object, float[]>> alsFactors, int k) {
        long n = alsFactors.count(); // ALS keeps its output persisted: no recomputation
        if (n > Integer.MAX_VALUE - 8) {
          throw new IllegalStateException("more than 2^31 ids on one side");
        }
        int size = (int) n;
        boolean strings = src.stringIds();
        // Arrival order, then the same rows moved to id order: two factor arrays at once; an
        // indexed side also holds its index (ALS id to external id) meanwhile.
        context.reserveMemory(2L * size * k * Float.BYTES + size * (strings ? 72L : 24L)
            + (index == null ? 0 : size * (strings ? 64L : 8L)),
            "the factors of " + size + (column.equals("u") ? " users" : " items"));
        // An indexed side's external ids by ALS id (row_number made them 0..size-1).
        long[] longById = index == null || strings ? null : new long[size];
        String[] stringById = index == null || !strings ? null : new String[size];
        if (index != null) {
          Iterator<Row> it = index.toLocalIterator();
          while (it.hasNext()) {
            Row row = it.next();
            int als = row.getInt(1);
            if (strings) {
              stringById[als] = row.getString(0);
            } else {
              longById[als] = row.getLong(0);
            }
          }
        }
        float[] arrived = new float[size * k];
        long[] longs = strings ? null : new long[size];
        String[] texts = strings ? new String[size] : null;
        int[] alsIds = new int[size];
        Iterator<Tuple2<Object, float[]>> it = alsFactors.toLocalIterator();
        int r = 0;
        while (it.hasNext()) {
          Tuple2<Object, float[]> row = it.next();
          int als = (Integer) row._1();
          if (strings) {
            texts[r] = stringById[als];
          } else {
            longs[r] = longById == null ? als : longById[als];
          }
          System.arraycopy(row._2(), 0, arrived, r * k, k);
          alsIds[r] = als;
          if ((++r & 0xffff) == 0) {
            SparkSessions.checkCancelled(context, run.reported);
          }
        }
        float[] factors = new float[size * k];
        int[] positions = new int[size];
        ExternalIds ids;
        if (longs != null) {
          long[] sorted = longs.clone();
          Arrays.sort(sorted);
          for (int a = 0; a < size; a++) {
            positions[a] = Arrays.binarySearch(sorted, longs[a]);
          }
          ids = ExternalIds.ofLongs(sorted);
        } else {
          String[] sorted = texts.clone();
          Arrays.sort(sorted);
          for (int a = 0; a < size; a++) {
            positions[a] = Arrays.binarySearch(sorted, texts[a]);
          }
          ids = ExternalIds.ofStrings(sorted);
        }
        for (int a = 0; a < size; a++) {
          System.arraycopy(arrived, a * k, factors, positions[a] * k, k);
        }
        return new Collected(ids, factors, new AlsPositions(alsIds, positions));
      }
    }

    /** What the pass over ALS's input tells: its size, its ratings' sum, the seen items. */
    private record Summary(long entries, double ratingSum, int[] seenPtr, int[] seenCols) {
    }

    /**
     * Adds up the partitions' summaries ({@link CheckedRatings}): the entries, the sum of their
     * ratings and (with collect_seen) each user's items as CSR, ascending and distinct per
     * row, built straight from the packed (user, item) pairs, each partition's array let go
     * once read.
     */
    private Summary summarize(long[][] parts, Collected users, Collected items) {
      long entries = 0;
      double ratingSum = 0;
      for (long[] part : parts) {
        entries += part[1];
        ratingSum += Double.longBitsToDouble(part[2]);
      }
      if (!src.collectSeen()) {
        return new Summary(entries, ratingSum, null, null);
      }
      if (entries > Integer.MAX_VALUE - 8) {
        throw new IllegalStateException("more than 2^31 training entries");
      }
      int nu = users.ids.size();
      int n = (int) entries;
      context.reserveMemory(4L * n + 4L * nu, "the seen items of " + n + " training entries");
      int[] ptr = new int[nu + 1];
      for (long[] part : parts) {
        for (int j = CheckedRatings.HEADER; j < part.length; j++) {
          ptr[users.positions.of((int) (part[j] >>> 32)) + 1]++;
        }
      }
      for (int a = 0; a < nu; a++) {
        ptr[a + 1] += ptr[a];
      }
      int[] cols = new int[n];
      int[] next = Arrays.copyOf(ptr, nu);
      for (int p = 0; p < parts.length; p++) {
        long[] part = parts[p];
        for (int j = CheckedRatings.HEADER; j < part.length; j++) {
          cols[next[users.positions.of((int) (part[j] >>> 32))]++] =
              items.positions.of((int) part[j]);
        }
        parts[p] = null;
      }
      // Sort each row and drop repeated (user, item) rows of the file, compacting in place.
      int out = 0;
      int from = 0;
      for (int a = 0; a < nu; a++) {
        int to = ptr[a + 1];
        Arrays.sort(cols, from, to);
        int start = out;
        for (int p = from; p < to; p++) {
          if (out == start || cols[out - 1] != cols[p]) {
            cols[out++] = cols[p];
          }
        }
        ptr[a] = start;
        from = to;
      }
      ptr[nu] = out;
      return new Summary(entries, ratingSum, ptr, out == n ? cols : Arrays.copyOf(cols, out));
    }

    private String quote(String name) {
      return "`" + name.replace("`", "``") + "`";
    }
  }

  /** One side collected: its ids in position order, their factors, and ALS id to position. */
  private record Collected(ExternalIds ids, float[] factors, AlsPositions positions) {
  }

  /**
   * ALS id to position on one side: a table when the ids are dense enough (as indexed ids and
   * most integer ids are), else a sorted list searched.
   */
  private static final class AlsPositions {
    private final int[] table;
    private final long[] sorted;

    AlsPositions(int[] alsIds, int[] positions) {
      int max = -1;
      for (int id : alsIds) {
        max = Math.max(max, id);
      }
      if ((long) max < 4L * alsIds.length + 1024) {
        table = new int[max + 1];
        Arrays.fill(table, -1);
        for (int a = 0; a < alsIds.length; a++) {
          table[alsIds[a]] = positions[a];
        }
        sorted = null;
      } else {
        table = null;
        sorted = new long[alsIds.length];
        for (int a = 0; a < alsIds.length; a++) {
          sorted[a] = (long) alsIds[a] << 32 | positions[a];
        }
        Arrays.sort(sorted);
      }
    }

    /** The position of an ALS id that ALS returned factors for. */
    int of(int alsId) {
      if (table != null) {
        return table[alsId];
      }
      int at = Arrays.binarySearch(sorted, (long) alsId << 32);
      return (int) sorted[at < 0 ? -at - 1 : at];
    }
  }
}
