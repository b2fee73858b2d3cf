package io.mfserve.server.model.matrix;

import io.mfserve.server.model.errors.InvalidRequestException;
import io.mfserve.server.model.store.Limits;
import io.mfserve.server.model.store.MemoryBudget;
import jakarta.inject.Inject;
import java.time.Duration;

/**
 * Matrices on their way in: collects one (inline in a Fit, or UploadMatrix) under the memory
 * budget and the size limits, and keeps finished uploads until a fit names them or they expire.
 */
public final class MatrixUploads {
  private final MemoryBudget budget;
  private final Limits limits;
  private final MatrixStore matrices;

  /** Collects under {@code budget} and {@code limits}, keeping uploads in {@code matrices}. */
  @Inject
  public MatrixUploads(MemoryBudget budget, Limits limits, MatrixStore matrices) {
    this.budget = budget;
    this.limits = limits;
    this.matrices = matrices;
  }

  /** Starts collecting a matrix; {@code field} names it in messages. */
  public MatrixAccumulator newMatrix(String field) {
    return new MatrixAccumulator(budget, field, limits);
  }

  /** Keeps a finished upload and returns its id. */
  public String store(PreparedMatrix matrix) {
    return matrices.put(matrix);
  }

  /** Returns how long an unused uploaded matrix is kept. */
  public Duration ttl() {
    return matrices.ttl();
  }

  /** Frees an uploaded matrix; returns the bytes freed. */
  public long delete(String matrixId) {
    if (matrixId == null || matrixId.isEmpty()) {
      throw new InvalidRequestException("matrix_id", "is empty");
    }
    return matrices.delete(matrixId);
  }
}
