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
import org.apache.spark.api.java.function.FlatMapFunction;
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

  /**
   * A fit from files. Integer ids go to ALS as they are, checked on their way in (one pass over
   * the data, as plain Spark's own fit makes); only when one is not an int ≥ 0, or the ids are
   * strings, are they read once more and given dense ids. Then the factors and the seen items
   * are collected.
   */
  private final class SourceFit {
    /** Marks the errors the input checks raise inside Spark, to find them in its exception. */
    private static final String CHECK = "mfserve-spark-als-check:";
    private static final String OUT_OF_RANGE = "out-of-range";

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
      Dataset<Row> ratings = null;
      ALSModel model = null;
      if (!src.stringIds()) {
        // Not cached: ALS reads its input once, as plain Spark's fit does, and the one pass
        // after it (the summary) reads the files again, which costs less than caching them.
        users = new Side("u", null);
        items = new Side("i", null);
        ratings = alsInput(data, users, items);
        model = trainChecked(ratings, data, true);
      }
      if (model == null) {
        // The ids are read twice (to index them, then to join), so the input is cached, and so
        // is ALS's input, which the summary reads again.
        Dataset<Row> input = cache(data);
        users = new Side("u", input);
        items = new Side("i", input);
        ratings = cache(alsInput(input, users, items));
        model = trainChecked(ratings, input, false);
      }
      long t1 = System.nanoTime();

      int k = s.rank();
      Collected u = users.collect(model.userFactors(), k);
      Collected v = items.collect(model.itemFactors(), k);
      FactorModel factors = new FactorModel(u.ids.size(), v.ids.size(), k, u.factors, v.factors,
          null, run.history);
      long t2 = System.nanoTime();
      Summary sum = summarize(ratings, u, v);
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
    }

    /**
     * Trains; a failed check is the caller's error, except an id outside ALS's range when the
     * ids went to ALS as they are ({@code direct}): then null, and the caller indexes them.
     */
    private ALSModel trainChecked(Dataset<Row> ratings, Dataset<Row> data, boolean direct) {
      try {
        return train(ratings, run);
      } catch (RuntimeException e) {
        String failed = checkFailure(e);
        if (direct && OUT_OF_RANGE.equals(failed)) {
          LOG.info("spark-als: an id of source_uri is not an int >= 0; indexing the ids");
          return null;
        }
        throw failed == null ? emptyOr(data, e) : invalid(failed);
      }
    }

    /**
     * ALS's input: (user, item, rating) with ALS's int ids, each value checked as it is read;
     * a missing one or (for ids used as they are) one outside 0..2^31-1 stops the job with an
     * error marked {@link #CHECK}.
     */
    private Dataset<Row> alsInput(Dataset<Row> data, Side users, Side items) {
      Column rating = when(col("r").isNull(), raise_error(lit(CHECK + SparkAlsProvider.RATING_COL)))
          .otherwise(col("r"));
      return users.withAlsId(items.withAlsId(data)).select(col("u_als").as("user"),
          col("i_als").as("item"), rating.as("rating"));
    }

    /** The marker of the check that failed, found in {@code e}'s causes; null if none did. */
    private String checkFailure(Throwable e) {
      for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
        String m = t.getMessage();
        int at = m == null ? -1 : m.indexOf(CHECK);
        if (at >= 0) {
          String rest = m.substring(at + CHECK.length());
          for (String known : List.of(OUT_OF_RANGE, SparkAlsProvider.USER_COL,
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

      /** Adds this side's ALS id, {@code <column>_als}, checked: the id itself, or its index. */
      Dataset<Row> withAlsId(Dataset<Row> data) {
        Column id = col(column);
        Column missing = raise_error(lit(CHECK + param));
        if (index == null) {
          Column outside = id.lt(0).or(id.gt(Integer.MAX_VALUE));
          return data.withColumn(column + "_als", when(id.isNull(), missing)
              .when(outside, raise_error(lit(CHECK + OUT_OF_RANGE)))
              .otherwise(id.cast(DataTypes.IntegerType)));
        }
        return data.withColumn(column, when(id.isNull(), missing).otherwise(id))
            .join(index, column);
      }

      /** Collects (external id, ALS id, factors), positions in id order. */
      Collected collect(Dataset<Row> alsFactors, int k) {
        Dataset<Row> withIds = index == null
            ? alsFactors.select(col("id").cast(idType()).as("ext"), col("features"), col("id"))
            : alsFactors.join(index, alsFactors.col("id").equalTo(index.col(column + "_als")))
                .select(col(column).as("ext"), col("features"), alsFactors.col("id"));
        long n = withIds.count();
        if (n > Integer.MAX_VALUE - 8) {
          throw new IllegalStateException("more than 2^31 ids on one side");
        }
        int size = (int) n;
        // Arrival order, then the same rows moved to id order: two factor arrays at once.
        context.reserveMemory(2L * size * k * Float.BYTES + size * (src.stringIds() ? 72L : 24L),
            "the factors of " + size + (column.equals("u") ? " users" : " items"));
        float[] arrived = new float[size * k];
        long[] longs = src.stringIds() ? null : new long[size];
        String[] strings = src.stringIds() ? new String[size] : null;
        int[] alsIds = new int[size];
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
          alsIds[r] = row.getInt(2);
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
          String[] sorted = strings.clone();
          Arrays.sort(sorted);
          for (int a = 0; a < size; a++) {
            positions[a] = Arrays.binarySearch(sorted, strings[a]);
          }
          ids = ExternalIds.ofStrings(sorted);
        }
        for (int a = 0; a < size; a++) {
          System.arraycopy(arrived, a * k, factors, positions[a] * k, k);
        }
        return new Collected(ids, factors, new AlsPositions(alsIds, positions));
      }
    }

    /** What one pass over ALS's input tells: its size, its ratings' sum, the seen items. */
    private record Summary(long entries, double ratingSum, int[] seenPtr, int[] seenCols) {
    }

    /**
     * One pass over ALS's input: the entries, the sum of their ratings and (with collect_seen)
     * each user's items as CSR, ascending and distinct per row. Each input partition is
     * summed up on its executor by {@link PartitionSummary} into one array (its (user, item)
     * pairs packed in longs), and the partitions are fetched as many at a time as Spark runs
     * tasks at once: no row object per entry, and no more than that many arrays in flight.
     */
    private Summary summarize(Dataset<Row> ratings, Collected users, Collected items) {
      JavaRDD<long[]> parts = ratings.select("user", "item", "rating").javaRDD()
          .mapPartitions(new PartitionSummary(src.collectSeen()));
      int total = parts.getNumPartitions();
      int batch = Math.max(1, spark.sparkContext().defaultParallelism());
      long entries = 0;
      double ratingSum = 0;
      List<int[]> userParts = new ArrayList<>();
      List<int[]> itemParts = new ArrayList<>();
      for (int from = 0; from < total; from += batch) {
        int[] ids = java.util.stream.IntStream.range(from, Math.min(total, from + batch))
            .toArray();
        for (List<long[]> got : parts.collectPartitions(ids)) {
          for (long[] part : got) {
            long n = part[0];
            entries += n;
            ratingSum += Double.longBitsToDouble(part[1]);
            if (!src.collectSeen()) {
              continue;
            }
            if (entries > Integer.MAX_VALUE - 8) {
              throw new IllegalStateException("more than 2^31 training entries");
            }
            context.reserveMemory(8L * n, "the items of " + n + " training entries");
            int[] up = new int[(int) n];
            int[] ip = new int[(int) n];
            for (int j = 0; j < n; j++) {
              long pair = part[2 + j];
              up[j] = users.positions.of((int) (pair >>> 32));
              ip[j] = items.positions.of((int) pair);
            }
            userParts.add(up);
            itemParts.add(ip);
          }
        }
        SparkSessions.checkCancelled(context, run.reported);
      }
      if (!src.collectSeen()) {
        return new Summary(entries, ratingSum, null, null);
      }
      int nu = users.ids.size();
      int n = (int) entries;
      context.reserveMemory(4L * n + 4L * nu, "the seen items of " + n + " training entries");
      int[] ptr = new int[nu + 1];
      for (int[] up : userParts) {
        for (int a : up) {
          ptr[a + 1]++;
        }
      }
      for (int a = 0; a < nu; a++) {
        ptr[a + 1] += ptr[a];
      }
      int[] cols = new int[n];
      int[] next = Arrays.copyOf(ptr, nu);
      for (int p = 0; p < userParts.size(); p++) {
        int[] up = userParts.get(p);
        int[] ip = itemParts.get(p);
        for (int e = 0; e < up.length; e++) {
          cols[next[up[e]]++] = ip[e];
        }
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

  /**
   * Runs on the executors (a cluster's get the plugin's jar through {@code spark.jars}): one
   * partition of ALS's input (user, item, rating) to one array: its entry count, the bits of
   * its ratings' sum, then, with pairs, each (user, item) pair of ALS ids packed in a long.
   */
  static final class PartitionSummary implements FlatMapFunction<Iterator<Row>, long[]> {
    private static final long serialVersionUID = 1L;
    private final boolean pairs;

    PartitionSummary(boolean pairs) {
      this.pairs = pairs;
    }

    @Override
    public Iterator<long[]> call(Iterator<Row> rows) {
      long[] out = new long[pairs ? 1 << 16 : 2];
      int n = 2;
      long count = 0;
      double sum = 0;
      while (rows.hasNext()) {
        Row r = rows.next();
        count++;
        sum += r.getFloat(2);
        if (pairs) {
          if (n == out.length) {
            out = Arrays.copyOf(out, (int) Math.min(Integer.MAX_VALUE - 8, 2L * n));
          }
          out[n++] = (long) r.getInt(0) << 32 | (r.getInt(1) & 0xffffffffL);
        }
      }
      out[0] = count;
      out[1] = Double.doubleToLongBits(sum);
      return List.of(pairs ? Arrays.copyOf(out, n) : out).iterator();
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
