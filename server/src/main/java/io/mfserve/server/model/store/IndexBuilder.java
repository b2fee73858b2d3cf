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
 * users.
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
      t.setPriority(Thread.NORM_PRIORITY - 1);
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
    if (settings.indexes(m.factors().numItems())) {
      out.add(AnnTarget.RECOMMEND);
      out.add(AnnTarget.SIMILAR_ITEMS);
    }
    if (settings.indexes(m.factors().numUsers())) {
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
    FactorModel f = m.factors();
    Metric shown = metric != null ? metric
        : t == AnnTarget.RECOMMEND ? settings.innerProduct() : Metric.COSINE;
    return new AnnIndexes.Status(t, state, detail, shown, settings.maxConn(),
        settings.beamWidth(), settings.efSearch(),
        t == AnnTarget.SIMILAR_USERS ? f.numUsers() : f.numItems(), bytes, seconds, recall);
  }

  private void buildAll(ServedModel m, List<AnnTarget> targets) {
    RowVectors items = null;
    for (AnnTarget t : targets) {
      if (m.released()) {
        return;
      }
      long held = 0;
      try {
        FactorModel f = m.factors();
        boolean users = t == AnnTarget.SIMILAR_USERS;
        boolean newRows = users || items == null;
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
        double recall = sampleRecall(m, t, index);
        if (m.released()) {
          return;
        }
        m.ann().publish(status(m, t, AnnIndexes.State.READY, "", metric, actual, seconds,
            recall), index);
        LogEvent.of("ann_index").put("model", m.id()).put("target", t.label())
            .put("metric", metric.label()).put("rows", rows).put("seconds", seconds)
            .put("bytes", actual).put("bytes_per_row", (double) actual / rows)
            .put("sampled_recall_at_10", recall).log(LOG);
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

  /** Recall@10 on the settings' sample of queries: users' own factors for Recommend. */
  private double sampleRecall(ServedModel m, AnnTarget t, HnswIndex index) {
    int samples = settings.recallSamples();
    if (samples == 0) {
      return Double.NaN;
    }
    FactorModel f = m.factors();
    int k = f.numFactors();
    float[] queries = null;
    if (t == AnnTarget.RECOMMEND) {
      if (f.numUsers() == 0) {
        return Double.NaN;
      }
      java.util.SplittableRandom rnd = new java.util.SplittableRandom(7);
      queries = new float[samples * k];
      float[] u = new float[k];
      for (int s = 0; s < samples; s++) {
        f.userVector(rnd.nextInt(f.numUsers()), u);
        System.arraycopy(u, 0, queries, s * k, k);
      }
    }
    return index.sampleRecall(queries, samples, RECALL_K, settings.efSearch(), 7);
  }

  /** Stops the builder's thread; a build in progress is abandoned. */
  @Override
  public void close() {
    thread.shutdownNow();
  }
}
