package io.mfserve.server.model.store;

import io.mfserve.server.logging.LogEvent;
import io.mfserve.server.model.ann.AnnIndexes;
import io.mfserve.server.model.ann.AnnSettings;
import io.mfserve.server.model.ann.AnnTarget;
import io.mfserve.server.model.ann.HnswIndex;
import io.mfserve.server.model.ann.Metric;
import io.mfserve.server.model.ann.RowVectors;
import io.mfserve.server.model.errors.ResourceExhaustedException;
import io.mfserve.solver.FactorModel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Builds the approximate indexes of served models in the background, one model at a time on
 * one thread of its own (each graph on {@code --ann-build-threads}, default 1, so that a
 * build takes at most one core from the queries): after a fit
 * or an import is stored and after a load ({@link ModelStore} calls {@link #schedule}). Which
 * indexes a model gets is up to {@link AnnSettings}: items for Recommend and SimilarItems when
 * the model has at least {@code minRows} items, users for SimilarUsers when it has that many
 * users, each only if {@code --ann-indexes} names it.
 *
 * <p>Each index's bytes (a row-major copy of the vectors, shared by the two item indexes, and
 * the graph) are reserved in the model's own reservation before anything is allocated, from
 * an estimate that is corrected to the measured size once built; an index that does not fit
 * is skipped and says so in ModelInfo. A model deleted or evicted meanwhile stops its build
 * within a thousand rows and its bytes go back with the model's. Thread-safe.
 */
public final class IndexBuilder implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(IndexBuilder.class.getName());
  /** Rows kept by a recall sample's brute force: recall@10, as the issue and ann-benchmarks. */
  private static final int RECALL_K = 10;

  /**
   * The beams a calibration tries, smallest first: about 1.5× apart, so that the one chosen is
   * at most that much wider than the least that reaches the target.
   */
  private static final int[] EF_LADDER = {10, 15, 20, 30, 40, 60, 80, 100, 150, 200, 300, 400,
      600, 800, 1000, 1500, 2000, 3000, 5000, 7500};
  /** The z of a one-sided 90% bound on a sampled recall. */
  private static final double Z90 = 1.2816;

  /** A builder that never builds (no flags, tests). */
  public static final IndexBuilder NONE = new IndexBuilder(AnnSettings.OFF);

  private final AnnSettings settings;
  private final ExecutorService thread;

  /** A builder with its own daemon thread (started on the first build). */
  public IndexBuilder(AnnSettings settings) {
    this.settings = settings;
    this.thread = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "mfserve-ann-build");
      t.setPriority(Thread.MIN_PRIORITY); // background work yields to queries, as fits do
      t.setDaemon(true);
      return t;
    });
  }

  /** Returns the settings. */
  public AnnSettings settings() {
    return settings;
  }

  /** Returns the indexes {@code m} gets, in build order (Recommend's first). */
  public List<AnnTarget> targets(ServedModel m) {
    List<AnnTarget> out = new ArrayList<>();
    int items = m.factors().numItems();
    if (settings.indexes(AnnTarget.RECOMMEND, items)) {
      out.add(AnnTarget.RECOMMEND);
    }
    if (settings.indexes(AnnTarget.SIMILAR_ITEMS, items)) {
      out.add(AnnTarget.SIMILAR_ITEMS);
    }
    if (settings.indexes(AnnTarget.SIMILAR_USERS, m.factors().numUsers())) {
      out.add(AnnTarget.SIMILAR_USERS);
    }
    return out;
  }

  /** Queues the builds {@code m} calls for and returns at once. */
  public void schedule(ServedModel m) {
    List<AnnTarget> targets = targets(m);
    if (targets.isEmpty()) {
      return;
    }
    for (AnnTarget t : targets) {
      m.ann().update(status(m, t, AnnIndexes.State.QUEUED, "", null, 0, 0, Double.NaN));
    }
    thread.execute(() -> buildAll(m, targets));
  }

  /** Builds {@code m}'s indexes on the calling thread (the warm-up's sandbox). */
  public void buildNow(ServedModel m) {
    buildAll(m, targets(m));
  }

  private AnnIndexes.Status status(ServedModel m, AnnTarget t, AnnIndexes.State state,
      String detail, Metric metric, long bytes, double seconds, double recall) {
    return status(m, t, state, detail, metric, bytes, seconds,
        new Calibration(settings.efSearch(), recall));
  }

  private AnnIndexes.Status status(ServedModel m, AnnTarget t, AnnIndexes.State state,
      String detail, Metric metric, long bytes, double seconds, Calibration c) {
    FactorModel f = m.factors();
    Metric shown = metric != null ? metric
        : t == AnnTarget.RECOMMEND ? settings.innerProduct() : Metric.COSINE;
    return new AnnIndexes.Status(t, state, detail, shown, settings.maxConn(),
        settings.beamWidth(), c.ef(),
        t == AnnTarget.SIMILAR_USERS ? f.numUsers() : f.numItems(), bytes, seconds, c.recall());
  }

  private void buildAll(ServedModel m, List<AnnTarget> targets) {
    RowVectors items = null;
    // The item rows are shared by both item indexes and counted with the first one published.
    boolean itemRowsCounted = false;
    for (AnnTarget t : targets) {
      if (m.released()) {
        return;
      }
      long held = 0;
      try {
        FactorModel f = m.factors();
        boolean users = t == AnnTarget.SIMILAR_USERS;
        boolean newRows = users || !itemRowsCounted;
        int rows = users ? f.numUsers() : f.numItems();
        Metric metric = t == AnnTarget.RECOMMEND ? settings.innerProduct() : Metric.COSINE;
        long estimate = (newRows ? RowVectors.estimateBytes(rows, f.numFactors(),
            !users && f.hasBiases()) : 0) + HnswIndex.estimateGraphBytes(rows, settings.maxConn())
            + (metric == Metric.DOT_BACHRACH ? (long) rows * Float.BYTES : 0);
        m.growMemory(estimate, "the " + t.label() + " index of model '" + m.id() + "'");
        held = estimate;
        m.ann().update(status(m, t, AnnIndexes.State.BUILDING, "", metric, 0, 0, Double.NaN));
        long start = System.nanoTime();
        RowVectors vectors = users ? RowVectors.users(f) : items != null ? items
            : RowVectors.items(f);
        if (!users) {
          items = vectors;
        }
        HnswIndex index = HnswIndex.build(vectors, metric, settings.maxConn(),
            settings.beamWidth(), settings.buildThreads(), m::released);
        double seconds = (System.nanoTime() - start) / 1e9;
        long actual = (newRows ? vectors.memoryBytes() : 0) + index.graphBytes();
        if (actual > held) {
          m.growMemory(actual - held, "the " + t.label() + " index of model '" + m.id() + "'");
        } else {
          m.shrinkMemory(held - actual);
        }
        held = actual;
        long calibrating = System.nanoTime();
        Calibration c = calibrate(m, t, index);
        if (m.released()) {
          return;
        }
        LogEvent event = LogEvent.of("ann_index").put("model", m.id()).put("target", t.label())
            .put("metric", metric.label()).put("rows", rows).put("seconds", seconds)
            .put("bytes", actual).put("bytes_per_row", (double) actual / rows)
            .put("ef", c.ef()).put("sampled_recall_at_10", c.recall())
            .put("calibration_seconds", (System.nanoTime() - calibrating) / 1e9);
        if (settings.recallTarget() > 0 && !(c.recall() >= settings.recallTarget())) {
          // Even the widest beam allowed misses the target: the server keeps its promise of
          // recall by scanning exactly, and says how to get an index (or a faster, looser one).
          String why = String.format("recall@10 %.3f at ef %d is below --ann-recall-target %s:"
              + " queries scan exactly; raise --ann-ef-search, --ann-max-conn or"
              + " --ann-beam-width, or lower the target", c.recall(), c.ef(),
              settings.recallTarget());
          m.shrinkMemory(held);
          held = 0;
          m.ann().update(status(m, t, AnnIndexes.State.SKIPPED, why, metric, 0, seconds, c));
          event.put("result", "skipped").put("error", why).level(Level.WARNING).log(LOG);
          continue;
        }
        if (!users) {
          itemRowsCounted = true;
        }
        m.ann().publish(status(m, t, AnnIndexes.State.READY, "", metric, actual, seconds, c),
            index);
        event.log(LOG);
      } catch (CancellationException e) {
        return; // released while building: its bytes went back with the model's
      } catch (IllegalStateException e) {
        if (m.released()) {
          return; // its reservation closed under a grow: nothing was taken
        }
        fail(m, t, held, e);
      } catch (ResourceExhaustedException e) {
        m.shrinkMemory(held);
        m.ann().update(status(m, t, AnnIndexes.State.SKIPPED, e.getMessage(), null, 0, 0,
            Double.NaN));
        LogEvent.of("ann_index").put("model", m.id()).put("target", t.label())
            .put("result", "skipped").put("error", e.getMessage()).level(Level.WARNING)
            .log(LOG);
      } catch (RuntimeException | OutOfMemoryError e) {
        fail(m, t, held, e);
      }
    }
  }

  private void fail(ServedModel m, AnnTarget t, long held, Throwable e) {
    m.shrinkMemory(held);
    m.ann().update(status(m, t, AnnIndexes.State.FAILED, String.valueOf(e), null, 0, 0,
        Double.NaN));
    LogEvent.of("ann_index").put("model", m.id()).put("target", t.label())
        .put("result", "failed").put("error", String.valueOf(e)).level(Level.WARNING)
        .thrown(e).log(LOG);
  }

  /** The beam an index searches with, and its sampled recall@10 there (NaN: not measured). */
  private record Calibration(int ef, double recall) {
  }

  /**
   * The beam for {@code index}: with a recall target, the smallest of {@link #EF_LADDER} (up to
   * {@code --ann-ef-search}, which is tried last) whose recall@10 on the sampled queries
   * reaches the target with 90% confidence, or {@code --ann-ef-search} when none does; without
   * one, {@code --ann-ef-search}. The queries are users' own factors for Recommend, the
   * index's own rows for the cosine indexes.
   */
  private Calibration calibrate(ServedModel m, AnnTarget t, HnswIndex index) {
    int cap = settings.efSearch();
    int samples = settings.recallSamples();
    FactorModel f = m.factors();
    if (samples == 0 || (t == AnnTarget.RECOMMEND && f.numUsers() == 0)) {
      return new Calibration(cap, Double.NaN);
    }
    int k = f.numFactors();
    float[] queries = null;
    if (t == AnnTarget.RECOMMEND) {
      java.util.SplittableRandom rnd = new java.util.SplittableRandom(7);
      queries = new float[samples * k];
      float[] u = new float[k];
      for (int s = 0; s < samples; s++) {
        f.userVector(rnd.nextInt(f.numUsers()), u);
        System.arraycopy(u, 0, queries, s * k, k);
      }
    }
    int[] efs = settings.recallTarget() > 0 ? ladder(cap) : new int[] {cap};
    double[] recall = index.sampleRecall(queries, samples, RECALL_K, efs, 7);
    double hits = (double) samples * RECALL_K;
    for (int e = 0; e < efs.length; e++) {
      double p = recall[e];
      double low = p - Z90 * Math.sqrt(p * (1 - p) / hits);
      if (low >= settings.recallTarget() || e == efs.length - 1) {
        return new Calibration(efs[e], p);
      }
    }
    throw new AssertionError("the ladder ends with the cap");
  }

  /** Returns the beams a calibration tries: the ladder's below {@code cap}, then cap. */
  public static int[] ladder(int cap) {
    return java.util.stream.IntStream.concat(
        java.util.Arrays.stream(EF_LADDER).filter(ef -> ef < cap),
        java.util.stream.IntStream.of(cap)).toArray();
  }

  /** Stops the builder's thread; a build in progress is abandoned. */
  @Override
  public void close() {
    thread.shutdownNow();
  }
}
