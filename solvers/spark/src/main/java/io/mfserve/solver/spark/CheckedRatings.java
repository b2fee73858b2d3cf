package io.mfserve.solver.spark;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.function.LongConsumer;
import org.apache.spark.api.java.function.Function2;
import org.apache.spark.ml.recommendation.ALS;
import org.apache.spark.sql.Row;
import org.apache.spark.util.AccumulatorV2;

/**
 * ALS's input, made in the one pass over the data that ALS itself makes: each row (user,
 * item, rating) is checked and turned into an {@link ALS.Rating}, and each partition is summed
 * up on its executor — its entry count, its ratings' sum and, with pairs, its (user, item)
 * pairs packed in longs — into a {@link Summaries} accumulator that reaches the driver with
 * the task's result. So the server learns the size of the data and the seen items without a
 * second read of the files (a pass that cost about a tenth of an ALS fit on synth-10m).
 *
 * <p>A row with a missing value, or (for ids used as ALS's own) an id outside 0..2^31-1,
 * stops the job with an {@link IllegalArgumentException} whose message starts with
 * {@link #CHECK} and names the parameter (or {@link #OUT_OF_RANGE}), for the driver to find in
 * Spark's exception. Runs on the executors: a cluster's get the plugin's jar through
 * {@code spark.jars}.
 */
final class CheckedRatings
    implements Function2<Integer, Iterator<Row>, Iterator<ALS.Rating<Object>>> {
  /** Marks the errors the checks raise inside Spark, to find them in its exception. */
  static final String CHECK = "mfserve-spark-als-check:";
  /** The check of an id that is not an int ≥ 0 (ids given to ALS as they are). */
  static final String OUT_OF_RANGE = "out-of-range";

  private static final long serialVersionUID = 1L;
  /** Longs before a partition's pairs: its index, its entry count, its ratings' sum. */
  static final int HEADER = 3;

  private final Summaries summaries;
  private final boolean pairs;

  /**
   * @param summaries where each partition's summary goes (registered with the SparkContext)
   * @param pairs whether the summaries carry the (user, item) pairs
   */
  CheckedRatings(Summaries summaries, boolean pairs) {
    this.summaries = summaries;
    this.pairs = pairs;
  }

  @Override
  public Iterator<ALS.Rating<Object>> call(Integer partition, Iterator<Row> rows) {
    return new Iterator<>() {
      private long[] out = new long[pairs ? 1 << 16 : HEADER];
      private int n = HEADER;
      private long count;
      private double sum;
      private boolean published;

      @Override
      public boolean hasNext() {
        if (rows.hasNext()) {
          return true;
        }
        if (!published) {
          // The partition is read to its end (ALS reads all of it): its summary is complete.
          published = true;
          out[0] = partition;
          out[1] = count;
          out[2] = Double.doubleToLongBits(sum);
          summaries.add(pairs ? Arrays.copyOf(out, n) : out);
          out = null;
        }
        return false;
      }

      @Override
      public ALS.Rating<Object> next() {
        if (!rows.hasNext()) {
          throw new NoSuchElementException();
        }
        Row r = rows.next();
        int user = id(r, 0, SparkAlsProvider.USER_COL);
        int item = id(r, 1, SparkAlsProvider.ITEM_COL);
        if (r.isNullAt(2)) {
          throw new IllegalArgumentException(CHECK + SparkAlsProvider.RATING_COL);
        }
        float rating = ((Number) r.get(2)).floatValue();
        count++;
        sum += rating;
        if (pairs) {
          if (n == out.length) {
            out = Arrays.copyOf(out, (int) Math.min(Integer.MAX_VALUE - 8, 2L * n));
          }
          out[n++] = (long) user << 32 | (item & 0xffffffffL);
        }
        return new ALS.Rating<>(user, item, rating);
      }
    };
  }

  /** Column {@code at} of {@code r} as ALS's int id, checked. */
  private static int id(Row r, int at, String param) {
    if (r.isNullAt(at)) {
      throw new IllegalArgumentException(CHECK + param);
    }
    long v = ((Number) r.get(at)).longValue();
    if (v < 0 || v > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(CHECK + OUT_OF_RANGE);
    }
    return (int) v;
  }

  /**
   * The partitions' summaries, one long[] each ({@link #HEADER} longs, then the pairs). On the
   * driver, each arriving summary is first claimed from the fit's memory budget (the claim
   * function given to {@link #onDriver}); one that does not fit is dropped and the failure kept
   * for {@link #failure()}, so that the server never holds more than the budget allows. A
   * partition computed twice (a retried task) arrives twice: {@link #byPartition} keeps one.
   */
  static final class Summaries extends AccumulatorV2<long[], List<long[]>> {
    private static final long serialVersionUID = 1L;
    private final List<long[]> parts = new ArrayList<>();
    /** The budget claim, on the driver only (executors' copies have none). */
    private transient LongConsumer claim;
    private transient RuntimeException failure;

    /** Sets the claim of the driver's instance: called with each summary's bytes. */
    void onDriver(LongConsumer claimBytes) {
      this.claim = claimBytes;
    }

    /** The claim that failed, if one did (its summary was dropped). */
    RuntimeException failure() {
      return failure;
    }

    @Override
    public boolean isZero() {
      synchronized (parts) {
        return parts.isEmpty();
      }
    }

    @Override
    public Summaries copy() {
      Summaries c = new Summaries();
      synchronized (parts) {
        c.parts.addAll(parts);
      }
      return c;
    }

    @Override
    public void reset() {
      synchronized (parts) {
        parts.clear();
      }
    }

    @Override
    public void add(long[] summary) {
      if (claim != null && failure == null) {
        try {
          claim.accept(8L * summary.length);
        } catch (RuntimeException e) {
          failure = e;
        }
      }
      if (failure != null) {
        return; // over the budget: the fit fails; keep nothing more
      }
      synchronized (parts) {
        parts.add(summary);
      }
    }

    @Override
    public void merge(AccumulatorV2<long[], List<long[]>> other) {
      for (long[] s : other.value()) {
        add(s);
      }
    }

    @Override
    public List<long[]> value() {
      synchronized (parts) {
        return new ArrayList<>(parts);
      }
    }

    /**
     * Returns the summary of each of {@code partitions} partitions, by index.
     *
     * @throws IllegalStateException if one is missing (a partition ALS did not read to its end)
     */
    long[][] byPartition(int partitions) {
      long[][] out = new long[partitions][];
      for (long[] s : value()) {
        out[(int) s[0]] = s;
      }
      for (int p = 0; p < partitions; p++) {
        if (out[p] == null) {
          throw new IllegalStateException("no summary of input partition " + p + " of "
              + partitions);
        }
      }
      return out;
    }
  }
}
