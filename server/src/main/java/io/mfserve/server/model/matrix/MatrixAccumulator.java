package io.mfserve.server.model.matrix;

import io.mfserve.server.model.errors.FieldViolation;
import io.mfserve.server.model.errors.InvalidRequestException;
import io.mfserve.server.model.errors.ResourceExhaustedException;
import io.mfserve.server.model.ids.IdForm;
import io.mfserve.server.model.ids.IdIndex;
import io.mfserve.server.model.store.Limits;
import io.mfserve.server.model.store.MemoryBudget;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Collects a matrix from one or more chunks (one for an inline Fit, many for UploadMatrix),
 * checking each chunk as it comes and every byte against the memory budget before it is
 * allocated, and maps external ids to positions on the way.
 *
 * <p>All chunks share one form: dense chunks are consecutive blocks of rows of one width; sparse
 * chunks are runs of entries with one id form per side. Not thread-safe: one upload stream
 * feeds one accumulator. {@link #close()} gives back the memory if the matrix is abandoned.
 */
public final class MatrixAccumulator implements AutoCloseable {
  /** The most entries one matrix may have: Java arrays are int-indexed. */
  public static final long MAX_ENTRIES = Integer.MAX_VALUE - 16;

  private final MemoryBudget.Reservation reservation;
  private final String field;
  private final Limits limits;
  private Boolean dense;
  private int cols = -1;
  private int rows;
  private float[] values = new float[0];
  private int[] rowIdx = new int[0];
  private int[] colIdx = new int[0];
  private int size;
  private int chunks;
  private IdIndex.LongBuilder rowLongs;
  private IdIndex.StringBuilder rowStrings;
  private IdIndex.LongBuilder colLongs;
  private IdIndex.StringBuilder colStrings;
  private long indexBytes;
  private boolean finished;

  /**
   * Starts an empty matrix.
   *
   * @param budget where its memory is reserved
   * @param field how the request names the matrix, for messages ("matrix", "chunk")
   */
  public MatrixAccumulator(MemoryBudget budget, String field) {
    this(budget, field, Limits.defaults());
  }

  /**
   * Starts an empty matrix whose rows and columns are bounded by {@code limits}
   * ({@link Limits.Limit#ROWS}, {@link Limits.Limit#COLS}): distinct ids, counted as they come.
   */
  public MatrixAccumulator(MemoryBudget budget, String field, Limits limits) {
    this.reservation = budget.reserve(0, "the matrix");
    this.field = field;
    this.limits = limits;
  }

  /** Returns the number of chunks taken so far. */
  public int chunks() {
    return chunks;
  }

  /** Returns the number of entries taken so far. */
  public long entries() {
    return size;
  }

  /**
   * Appends a block of dense rows.
   *
   * @param blockRows rows in this block
   * @param width the full width; the same for every block
   * @param block blockRows × width values, row-major
   */
  public void appendDense(int blockRows, int width, float[] block) {
    checkForm(true);
    String f = field + ".dense";
    List<FieldViolation> bad = new ArrayList<>();
    if (blockRows < 1) {
      bad.add(new FieldViolation(f + ".rows", "is " + blockRows + "; it must be at least 1"));
    }
    if (width < 1) {
      bad.add(new FieldViolation(f + ".cols", "is " + width + "; it must be at least 1"));
    } else if (cols >= 0 && width != cols) {
      bad.add(new FieldViolation(f + ".cols", "is " + width + " but earlier chunks had " + cols
          + "; every chunk of a dense matrix has the full width"));
    }
    if (bad.isEmpty() && (long) blockRows * width != block.length) {
      bad.add(new FieldViolation(f + ".values", "has " + block.length + " values; rows × cols = "
          + blockRows + " × " + width + " = " + (long) blockRows * width));
    }
    if (!bad.isEmpty()) {
      throw new InvalidRequestException(bad);
    }
    limits.check(Limits.Limit.ROWS, f + ".rows", (long) rows + blockRows);
    limits.check(Limits.Limit.COLS, f + ".cols", width);
    checkFinite(block, f + ".values");
    long total = (long) size + block.length;
    checkEntries(total);
    ensureValueCapacity((int) total, false);
    System.arraycopy(block, 0, values, size, block.length);
    size = (int) total;
    rows += blockRows;
    cols = width;
    chunks++;
  }

  /** Appends a run of sparse entries. */
  public void appendSparse(SparseChunk chunk) {
    checkForm(false);
    String f = field + ".sparse";
    int n = chunk.values().length;
    List<FieldViolation> bad = new ArrayList<>();
    if (n == 0) {
      bad.add(new FieldViolation(f + ".values",
          "is empty; a sparse chunk needs at least one entry"));
    }
    checkSide(bad, f, "row", chunk.rowIds(), chunk.rowKeys(), n);
    checkSide(bad, f, "col", chunk.colIds(), chunk.colKeys(), n);
    if (bad.isEmpty()) {
      IdForm rowForm = chunk.rowForm();
      IdForm colForm = chunk.colForm();
      if (rowLongs != null && rowForm != IdForm.INT64 || rowStrings != null
          && rowForm != IdForm.STRING) {
        bad.add(new FieldViolation(f + ".row_" + (rowForm == IdForm.INT64 ? "ids" : "keys"),
            "earlier chunks named rows by " + (rowLongs != null ? "row_ids" : "row_keys")
                + "; one matrix uses one form per side"));
      }
      if (colLongs != null && colForm != IdForm.INT64 || colStrings != null
          && colForm != IdForm.STRING) {
        bad.add(new FieldViolation(f + ".col_" + (colForm == IdForm.INT64 ? "ids" : "keys"),
            "earlier chunks named columns by " + (colLongs != null ? "col_ids" : "col_keys")
                + "; one matrix uses one form per side"));
      }
    }
    if (!bad.isEmpty()) {
      throw new InvalidRequestException(bad);
    }
    checkFinite(chunk.values(), f + ".values");
    checkKeys(chunk.rowKeys(), f + ".row_keys");
    checkKeys(chunk.colKeys(), f + ".col_keys");
    long total = (long) size + n;
    checkEntries(total);
    ensureValueCapacity((int) total, true);
    if (chunk.rowIds() != null && rowLongs == null) {
      rowLongs = IdIndex.longBuilder();
    } else if (chunk.rowKeys() != null && rowStrings == null) {
      rowStrings = IdIndex.stringBuilder();
    }
    if (chunk.colIds() != null && colLongs == null) {
      colLongs = IdIndex.longBuilder();
    } else if (chunk.colKeys() != null && colStrings == null) {
      colStrings = IdIndex.stringBuilder();
    }
    for (int e = 0; e < n; e++) {
      int r = rowLongs != null ? rowLongs.intern(chunk.rowIds()[e])
          : rowStrings.intern(chunk.rowKeys()[e]);
      int c = colLongs != null ? colLongs.intern(chunk.colIds()[e])
          : colStrings.intern(chunk.colKeys()[e]);
      rowIdx[size + e] = r;
      colIdx[size + e] = c;
    }
    limits.check(Limits.Limit.ROWS, f + ".row_" + (rowLongs != null ? "ids" : "keys")
        + " (distinct)", rowLongs != null ? rowLongs.size() : rowStrings.size());
    limits.check(Limits.Limit.COLS, f + ".col_" + (colLongs != null ? "ids" : "keys")
        + " (distinct)", colLongs != null ? colLongs.size() : colStrings.size());
    System.arraycopy(chunk.values(), 0, values, size, n);
    size = (int) total;
    chunks++;
    accountIndexes();
  }

  private void checkSide(List<FieldViolation> bad, String f, String side, long[] ids,
      String[] keys, int n) {
    if (ids == null && keys == null) {
      bad.add(new FieldViolation(f + "." + side + "_ids", "is empty; give " + side + "_ids or "
          + side + "_keys, one per value (" + n + ")"));
    } else if (ids != null && keys != null) {
      bad.add(new FieldViolation(f + "." + side + "_keys", "is set together with " + side
          + "_ids; give one form per side"));
    } else if ((ids != null ? ids.length : keys.length) != n) {
      String name = side + (ids != null ? "_ids" : "_keys");
      bad.add(new FieldViolation(f + "." + name, "has " + (ids != null ? ids.length
          : keys.length) + " entries but values has " + n + "; they must match"));
    }
  }

  private void checkForm(boolean isDense) {
    if (finished) {
      throw new IllegalStateException("matrix already finished");
    }
    if (dense != null && dense != isDense) {
      throw new InvalidRequestException(field, "this chunk is " + (isDense ? "dense" : "sparse")
          + " but earlier chunks were " + (dense ? "dense" : "sparse")
          + "; one matrix uses one form");
    }
    dense = isDense;
  }

  private static void checkFinite(float[] v, String f) {
    for (int n = 0; n < v.length; n++) {
      if (!Float.isFinite(v[n])) {
        throw new InvalidRequestException(f + "[" + n + "]", "is " + v[n]
            + "; every value must be finite");
      }
    }
  }

  private static void checkKeys(String[] keys, String f) {
    if (keys == null) {
      return;
    }
    for (int n = 0; n < keys.length; n++) {
      if (keys[n].isEmpty()) {
        throw new InvalidRequestException(f + "[" + n + "]", "is empty; keys must be non-empty");
      }
    }
  }

  private void checkEntries(long total) {
    if (total > MAX_ENTRIES) {
      throw new ResourceExhaustedException("the matrix would have " + total
          + " entries; at most " + MAX_ENTRIES + " are supported");
    }
  }

  private void ensureValueCapacity(int needed, boolean withIndices) {
    if (needed <= values.length) {
      return;
    }
    int cap = (int) Math.min(MAX_ENTRIES, Math.max(needed, Math.max(1024L, values.length * 2L)));
    long perEntry = withIndices ? 12 : 4;
    long oldBytes = values.length * perEntry;
    long newBytes = cap * perEntry;
    // While copying, the old and the new arrays both exist.
    reservation.grow(newBytes, "the matrix (" + needed + " entries so far)");
    values = Arrays.copyOf(values, cap);
    if (withIndices) {
      rowIdx = Arrays.copyOf(rowIdx, cap);
      colIdx = Arrays.copyOf(colIdx, cap);
    }
    reservation.shrink(oldBytes);
  }

  private void accountIndexes() {
    long now = (rowLongs != null ? rowLongs.memoryBytes() : 0)
        + (rowStrings != null ? rowStrings.memoryBytes() : 0)
        + (colLongs != null ? colLongs.memoryBytes() : 0)
        + (colStrings != null ? colStrings.memoryBytes() : 0);
    if (now > indexBytes) {
      reservation.grow(now - indexBytes, "the matrix's id index");
      indexBytes = now;
    }
  }

  /**
   * Finishes the matrix. The accumulator's reservation moves to the returned matrix.
   *
   * @throws InvalidRequestException if no entries were given
   */
  public PreparedMatrix finish() {
    if (size == 0) {
      throw new InvalidRequestException(field, "is empty; give a dense or a sparse matrix with"
          + " at least one entry");
    }
    finished = true;
    long perEntry = dense ? 4 : 12;
    if (values.length != size) {
      // The exact-length copies exist beside the grown arrays for a moment.
      reservation.grow(size * perEntry, "the matrix (final copy)");
    }
    PreparedMatrix result;
    if (dense) {
      float[] exact = values.length == size ? values : Arrays.copyOf(values, size);
      reservation.shrink(reservation.bytes() - size * perEntry);
      result = PreparedMatrix.dense(rows, cols, exact, reservation);
    } else {
      // Rows and columns are numbered in ascending id (or key) order, not as first seen, so
      // that the same entries in another order make the same matrix and the same model (NMF's
      // randomized SVD start, for one, draws its test vectors by column position).
      IdIndex.Sorted rows = rowLongs != null ? rowLongs.buildSorted() : rowStrings.buildSorted();
      IdIndex.Sorted columns = colLongs != null ? colLongs.buildSorted()
          : colStrings.buildSorted();
      IdIndex rowIndex = rows.index();
      IdIndex colIndex = columns.index();
      // A single chunk (an inline matrix) fills its arrays exactly: keep them, no copy.
      boolean exact = values.length == size;
      float[] v = exact ? values : Arrays.copyOf(values, size);
      int[] r = exact ? rowIdx : Arrays.copyOf(rowIdx, size);
      int[] c = exact ? colIdx : Arrays.copyOf(colIdx, size);
      rows.renumber(r);
      columns.renumber(c);
      rowIdx = null;
      colIdx = null;
      // The built indexes are at most the builders' size (a compact IdIndex.Range, less).
      reservation.shrink(reservation.bytes() - size * perEntry - rowIndex.memoryBytes()
          - colIndex.memoryBytes());
      result = PreparedMatrix.sparse(rowIndex, colIndex, r, c, v, reservation);
    }
    values = null;
    return result;
  }

  /** Gives back the memory of an abandoned matrix; a no-op once finished. */
  @Override
  public void close() {
    if (!finished) {
      values = null;
      rowIdx = null;
      colIdx = null;
      reservation.close();
    }
  }
}
