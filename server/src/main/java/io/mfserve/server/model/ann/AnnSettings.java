package io.mfserve.server.model.ann;

import java.util.EnumSet;
import java.util.Set;

/**
 * When a served model gets approximate indexes, and how they are built and searched
 * ({@code --ann-*} flags).
 *
 * @param minRows a side with at least this many rows (items for Recommend and SimilarItems,
 *     users for SimilarUsers) gets an index; 0 turns indexes off
 * @param maxConn HNSW's M
 * @param beamWidth HNSW's beam while building (efConstruction)
 * @param efSearch the beam of a top-10 search (proportionally wider for a larger k + offset);
 *     with a recall target, the widest beam the calibration may choose
 * @param innerProduct how the Recommend graph is built: {@link Metric#DOT} or
 *     {@link Metric#DOT_BACHRACH}
 * @param recallSamples queries sampled after a build to measure and log its recall@10; 0: none
 * @param buildThreads threads one graph is built on (more take cores from the queries)
 * @param recallTarget the recall@10 each index is calibrated to after its build: its beam is
 *     the smallest (of a ladder up to efSearch) whose sampled recall reaches the target with
 *     90% confidence, and an index that misses it even at efSearch is not used; 0: no
 *     calibration, every search uses efSearch
 * @param targets the indexes a model large enough may get ({@code --ann-indexes}): a graph
 *     costs minutes per million rows to build and 300 to 400 bytes per row to keep, so one that
 *     no client queries is better never built
 */
public record AnnSettings(int minRows, int maxConn, int beamWidth, int efSearch,
    Metric innerProduct, int recallSamples, int buildThreads, double recallTarget,
    Set<AnnTarget> targets) {
  /** The default of {@link #minRows}: see README, "Approximate top-k", for the measurements. */
  public static final int DEFAULT_MIN_ROWS = 200_000;
  /** The default M (Lucene's). */
  public static final int DEFAULT_MAX_CONN = 16;
  /** The default beam while building (Lucene's). */
  public static final int DEFAULT_BEAM_WIDTH = 100;
  /**
   * The default ef of a top-10 search (wider for a larger k + offset): recall@10 0.955 on
   * 200,000 random Gaussian 64-factor items with biases at M 16, beam 100, where ef 400 gave
   * 0.924 and 100 gave 0.648 (README, Approximate top-k); trained factors need far less.
   */
  public static final int DEFAULT_EF_SEARCH = 600;
  /** The default recall target of the calibration: the recall@10 issue 18 asks for. */
  public static final double DEFAULT_RECALL_TARGET = 0.95;
  /** The default queries sampled per index to calibrate it and report its recall. */
  public static final int DEFAULT_RECALL_SAMPLES = 100;

  /** No indexes at all (tests, the warm-up's defaults). */
  public static final AnnSettings OFF = new AnnSettings(0, DEFAULT_MAX_CONN, DEFAULT_BEAM_WIDTH,
      DEFAULT_EF_SEARCH, Metric.DOT, 0);

  /** Settings that build each graph on one thread and search with efSearch, uncalibrated. */
  public AnnSettings(int minRows, int maxConn, int beamWidth, int efSearch, Metric innerProduct,
      int recallSamples) {
    this(minRows, maxConn, beamWidth, efSearch, innerProduct, recallSamples, 1, 0);
  }

  /** Settings for every index ({@link #targets} all of {@link AnnTarget}). */
  public AnnSettings(int minRows, int maxConn, int beamWidth, int efSearch, Metric innerProduct,
      int recallSamples, int buildThreads, double recallTarget) {
    this(minRows, maxConn, beamWidth, efSearch, innerProduct, recallSamples, buildThreads,
        recallTarget, EnumSet.allOf(AnnTarget.class));
  }

  /** Checks the numbers. */
  public AnnSettings {
    if (minRows < 0) {
      throw new IllegalArgumentException("--ann-min-rows must be 0 (off) or more, got "
          + minRows);
    }
    if (maxConn < 2 || maxConn > 512) {
      throw new IllegalArgumentException("--ann-max-conn must be in [2, 512], got " + maxConn);
    }
    if (beamWidth < 1 || beamWidth > 4096) {
      throw new IllegalArgumentException("--ann-beam-width must be in [1, 4096], got "
          + beamWidth);
    }
    if (efSearch < 1 || efSearch > 10_000) {
      throw new IllegalArgumentException("--ann-ef-search must be in [1, 10000], got "
          + efSearch);
    }
    if (innerProduct == Metric.COSINE) {
      throw new IllegalArgumentException("--ann-mip must be dot or bachrach");
    }
    if (recallSamples < 0) {
      throw new IllegalArgumentException("recall samples must be 0 or more");
    }
    if (buildThreads < 1 || buildThreads > 256) {
      throw new IllegalArgumentException("--ann-build-threads must be in [1, 256], got "
          + buildThreads);
    }
    if (!(recallTarget >= 0 && recallTarget < 1)) {
      throw new IllegalArgumentException("--ann-recall-target must be in [0, 1) (0: no"
          + " calibration), got " + recallTarget);
    }
    if (targets.isEmpty()) {
      throw new IllegalArgumentException("--ann-indexes must name at least one of "
          + AnnTarget.labels() + " (--ann-min-rows 0 turns indexes off)");
    }
    targets = Set.copyOf(targets);
  }

  /** The defaults of every flag. */
  public static AnnSettings defaults() {
    return new AnnSettings(DEFAULT_MIN_ROWS, DEFAULT_MAX_CONN, DEFAULT_BEAM_WIDTH,
        DEFAULT_EF_SEARCH, Metric.DOT, DEFAULT_RECALL_SAMPLES, 1, DEFAULT_RECALL_TARGET);
  }

  /** Returns a copy indexing sides of at least {@code rows} rows. */
  public AnnSettings withMinRows(int rows) {
    return new AnnSettings(rows, maxConn, beamWidth, efSearch, innerProduct, recallSamples,
        buildThreads, recallTarget, targets);
  }

  /** Returns a copy building only the indexes of {@code only}. */
  public AnnSettings withTargets(Set<AnnTarget> only) {
    return new AnnSettings(minRows, maxConn, beamWidth, efSearch, innerProduct, recallSamples,
        buildThreads, recallTarget, only);
  }

  /** Whether a side of {@code rows} rows gets an index. */
  public boolean indexes(int rows) {
    return minRows > 0 && rows >= minRows && rows >= 2;
  }

  /** Whether a model whose side has {@code rows} rows gets the index of {@code target}. */
  public boolean indexes(AnnTarget target, int rows) {
    return targets.contains(target) && indexes(rows);
  }
}
