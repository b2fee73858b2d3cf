package io.mfserve.server.model.fit;

import io.mfserve.server.model.matrix.PreparedMatrix;
import io.mfserve.server.model.store.Popularity;
import io.mfserve.server.model.store.ScanIndex;
import io.mfserve.server.model.store.SeenItems;
import io.mfserve.solver.FactorModel;
import io.mfserve.solver.SolverConfig;
import io.mfserve.solver.SolverProvider;
import io.mfserve.solver.TrainingMatrix;

/**
 * The bytes a fit reserves before it allocates any of them: the training matrix and its split,
 * what the served model keeps, the solver's working memory and a warm start's copy.
 */
final class FitFootprint {
  /** Bytes of one held-out validation entry: its row and column (int) and value (float). */
  static final int HELD_OUT_ENTRY_BYTES = 12;
  /**
   * Room for the randomness of the split: each entry is held out with probability f, so the
   * count is binomial around nnz·f with a standard deviation under √(nnz·f): 20% above the
   * mean is out of reach once the hold-out has a few hundred entries, and below that the bytes
   * are too few to matter.
   */
  static final double HELD_OUT_SLACK = 1.2;
  /**
   * A split builds the training part as a second matrix beside the full one (both live until
   * the split is done), so a split fit holds the training matrix twice.
   */
  static final int SPLIT_COPIES = 2;

  private FitFootprint() { }

  /**
   * Returns the bytes to reserve for a fit of {@code matrix}.
   *
   * @param config the fit's config at the largest rank it may train ({@code kMax})
   * @param split the largest fraction held out (the fit's own, or a search's)
   * @param tuning whether a search runs first: one more model's worth for a trial's model
   *     while the best so far is kept
   * @param warmRank the rank of the warm start's factors, 0 for a cold start
   */
  static long bytes(PreparedMatrix matrix, SolverProvider provider, SolverConfig config,
      int kMax, double split, boolean tuning, int warmRank) {
    int rows = matrix.rows();
    int cols = matrix.cols();
    long nnz = matrix.entries();
    long training = TrainingMatrix.estimateBytes(rows, cols, nnz) * (split > 0 ? SPLIT_COPIES : 1)
        + (split > 0 ? (long) (nnz * split * HELD_OUT_SLACK) * HELD_OUT_ENTRY_BYTES : 0);
    long model = FactorModel.estimateBytes(rows, cols, kMax, true);
    long keep = model + SeenItems.estimateBytes(rows, nnz, true) + matrix.rowIndex().memoryBytes()
        + matrix.colIndex().memoryBytes() + ScanIndex.estimateBytes(rows, cols)
        + Popularity.estimateBytes(cols, true);
    long working = provider.estimateWorkingBytes(rows, cols, nnz, config) + (tuning ? model : 0);
    // A warm start copies both sides' factors, plus a bias column, as floats.
    long warm = warmRank == 0 ? 0 : ((long) rows + cols) * (warmRank + 1) * Float.BYTES;
    return training + keep + working + warm;
  }
}
