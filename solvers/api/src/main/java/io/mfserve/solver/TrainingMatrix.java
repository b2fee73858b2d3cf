package io.mfserve.solver;

import java.util.Arrays;
import java.util.Objects;

/**
 * An immutable training matrix held once in both compressed sparse row (CSR) and compressed
 * sparse column (CSC) form, with int32 indices and float32 values.
 *
 * <p>Rows and columns are dense positions {@code 0..rows-1} and {@code 0..cols-1}; the server
 * maps external ids to them. Within a row the entries are sorted by column, within a column by
 * row, and each (row, column) pair occurs at most once. A dense input is the same structure
 * with every entry present ({@link #isDense()}).
 *
 * <p>Solvers walk a row as {@code for (int p = rowStart(r); p < rowEnd(r); p++)} reading
 * {@link #rowColumn(int)} and {@link #rowValue(int)}, and a column likewise; the accessors are
 * small enough for the JIT to inline, so the loop costs what a raw array walk costs. Thread-safe:
 * nothing changes after construction.
 */
public final class TrainingMatrix {
  private final int rows;
  private final int cols;
  private final AbsentEntries absentEntries;
  private final int[] rowPtr;
  private final int[] rowCol;
  private final float[] rowVal;
  private final int[] colPtr;
  private final int[] colRow;
  private final float[] colVal;
  private final double mean;

  private TrainingMatrix(int rows, int cols, AbsentEntries absentEntries, int[] rowPtr,
      int[] rowCol, float[] rowVal) {
    this.rows = rows;
    this.cols = cols;
    this.absentEntries = Objects.requireNonNull(absentEntries, "absentEntries");
    this.rowPtr = rowPtr;
    this.rowCol = rowCol;
    this.rowVal = rowVal;
    int nnz = rowCol.length;
    // CSC by a counting sort over the CSR entries: walking rows in order leaves each column's
    // entries sorted by row.
    colPtr = new int[cols + 1];
    for (int p = 0; p < nnz; p++) {
      colPtr[rowCol[p] + 1]++;
    }
    for (int c = 0; c < cols; c++) {
      colPtr[c + 1] += colPtr[c];
    }
    colRow = new int[nnz];
    colVal = new float[nnz];
    int[] next = Arrays.copyOf(colPtr, cols);
    double sum = 0;
    for (int r = 0; r < rows; r++) {
      for (int p = rowPtr[r]; p < rowPtr[r + 1]; p++) {
        int q = next[rowCol[p]]++;
        colRow[q] = r;
        colVal[q] = rowVal[p];
        sum += rowVal[p];
      }
    }
    mean = nnz == 0 ? 0 : sum / nnz;
  }

  /** A view of {@code m} whose absent entries mean {@code absentEntries}; shares its arrays. */
  private TrainingMatrix(TrainingMatrix m, AbsentEntries absentEntries) {
    this.rows = m.rows;
    this.cols = m.cols;
    this.absentEntries = Objects.requireNonNull(absentEntries, "absentEntries");
    this.rowPtr = m.rowPtr;
    this.rowCol = m.rowCol;
    this.rowVal = m.rowVal;
    this.colPtr = m.colPtr;
    this.colRow = m.colRow;
    this.colVal = m.colVal;
    this.mean = m.mean;
  }

  /**
   * Returns this matrix with absent entries meaning {@code absentEntries}: this matrix itself if
   * they already do, else a view that shares its (immutable) arrays, so that one built matrix
   * serves fits that read absent entries differently without another copy.
   */
  public TrainingMatrix withAbsentEntries(AbsentEntries absentEntries) {
    return absentEntries == this.absentEntries ? this : new TrainingMatrix(this, absentEntries);
  }

  /**
   * Returns the bytes a matrix of this shape occupies (both forms), so that a caller can check a
   * memory budget before building one.
   */
  public static long estimateBytes(long rows, long cols, long nnz) {
    return 2 * nnz * (Integer.BYTES + Float.BYTES) + (rows + cols + 2) * Integer.BYTES;
  }

  /**
   * Builds a matrix from a dense row-major array in which every entry is observed.
   *
   * @param values rows × cols finite values; copied
   */
  public static TrainingMatrix fromDense(int rows, int cols, float[] values,
      AbsentEntries absentEntries) {
    checkShape(rows, cols);
    if ((long) rows * cols != values.length) {
      throw new IllegalArgumentException("values has " + values.length + " entries; rows × cols = "
          + (long) rows * cols);
    }
    if ((long) rows * cols > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException("a dense matrix may have at most 2^31 - 9 entries");
    }
    int[] rowPtr = new int[rows + 1];
    int[] rowCol = new int[values.length];
    for (int r = 0; r < rows; r++) {
      rowPtr[r + 1] = (r + 1) * cols;
      for (int c = 0; c < cols; c++) {
        rowCol[r * cols + c] = c;
      }
    }
    checkFinite(values);
    return new TrainingMatrix(rows, cols, absentEntries, rowPtr, rowCol, values.clone());
  }

  /**
   * Builds a matrix from coordinate triplets (entry n is {@code (rowIdx[n], colIdx[n],
   * values[n])}). The arrays are not kept.
   *
   * @throws DuplicateEntryException if a (row, column) pair occurs twice
   * @throws IllegalArgumentException if the arrays differ in length, an index is out of range or
   *     a value is not finite
   */
  public static TrainingMatrix fromCoordinates(int rows, int cols, int[] rowIdx, int[] colIdx,
      float[] values, AbsentEntries absentEntries) {
    checkShape(rows, cols);
    int nnz = values.length;
    if (rowIdx.length != nnz || colIdx.length != nnz) {
      throw new IllegalArgumentException("row, column and value arrays differ in length: "
          + rowIdx.length + ", " + colIdx.length + ", " + nnz);
    }
    checkFinite(values);
    int[] rowPtr = new int[rows + 1];
    for (int n = 0; n < nnz; n++) {
      int r = rowIdx[n];
      int c = colIdx[n];
      if (r < 0 || r >= rows || c < 0 || c >= cols) {
        throw new IllegalArgumentException("entry " + n + " at (" + r + ", " + c
            + ") lies outside " + rows + " × " + cols);
      }
      rowPtr[r + 1]++;
    }
    for (int r = 0; r < rows; r++) {
      rowPtr[r + 1] += rowPtr[r];
    }
    // Bucket by row, then sort each row by column. Packing (column, entry) into one long sorts
    // both at once without boxing.
    long[] packed = new long[nnz];
    int[] next = Arrays.copyOf(rowPtr, rows);
    for (int n = 0; n < nnz; n++) {
      packed[next[rowIdx[n]]++] = ((long) colIdx[n] << 32) | n;
    }
    int[] rowCol = new int[nnz];
    float[] rowVal = new float[nnz];
    for (int r = 0; r < rows; r++) {
      int from = rowPtr[r];
      int to = rowPtr[r + 1];
      Arrays.sort(packed, from, to);
      for (int p = from; p < to; p++) {
        int c = (int) (packed[p] >>> 32);
        if (p > from && c == rowCol[p - 1]) {
          throw new DuplicateEntryException((int) packed[p - 1], (int) packed[p], r, c);
        }
        rowCol[p] = c;
        rowVal[p] = values[(int) packed[p]];
      }
    }
    return new TrainingMatrix(rows, cols, absentEntries, rowPtr, rowCol, rowVal);
  }

  private static void checkShape(int rows, int cols) {
    if (rows < 1 || cols < 1) {
      throw new IllegalArgumentException("a training matrix needs at least one row and one"
          + " column, got " + rows + " × " + cols);
    }
  }

  private static void checkFinite(float[] values) {
    for (int n = 0; n < values.length; n++) {
      if (!Float.isFinite(values[n])) {
        throw new IllegalArgumentException("value " + n + " is " + values[n]
            + "; every value must be finite");
      }
    }
  }

  /** Returns the number of rows (users, documents). */
  public int rows() {
    return rows;
  }

  /** Returns the number of columns (items, terms). */
  public int cols() {
    return cols;
  }

  /** Returns the number of stored entries. */
  public int nnz() {
    return rowCol.length;
  }

  /** Returns whether every entry of the matrix is stored. */
  public boolean isDense() {
    return (long) rows * cols == rowCol.length;
  }

  /** Returns what an absent entry means. */
  public AbsentEntries absentEntries() {
    return absentEntries;
  }

  /** Returns the mean of the stored values (0 for an empty matrix). */
  public double mean() {
    return mean;
  }

  /** Returns the number of stored entries in row {@code r}. */
  public int rowLength(int r) {
    return rowPtr[r + 1] - rowPtr[r];
  }

  /** Returns the position of row {@code r}'s first entry. */
  public int rowStart(int r) {
    return rowPtr[r];
  }

  /** Returns the position just past row {@code r}'s last entry. */
  public int rowEnd(int r) {
    return rowPtr[r + 1];
  }

  /** Returns the column of the row-ordered entry at position {@code p}. */
  public int rowColumn(int p) {
    return rowCol[p];
  }

  /** Returns the value of the row-ordered entry at position {@code p}. */
  public float rowValue(int p) {
    return rowVal[p];
  }

  /**
   * Copies the values of the row-ordered entries at positions {@code [from, from + length)}
   * into {@code dst[at..at + length)}, in one {@link System#arraycopy}: kernels that want a run
   * of a row in an array of their own (so that a loop over it and an accumulator indexed alike
   * compiles to SIMD; see the NMF solver's dense products) get it without an element-by-element
   * copy through {@link #rowValue}.
   *
   * @throws IndexOutOfBoundsException if either range is out of bounds
   */
  public void copyRowValues(int from, float[] dst, int at, int length) {
    System.arraycopy(rowVal, from, dst, at, length);
  }

  /** As {@link #copyRowValues}, for the column-ordered entries. */
  public void copyColValues(int from, float[] dst, int at, int length) {
    System.arraycopy(colVal, from, dst, at, length);
  }

  /** Returns the number of stored entries in column {@code c}. */
  public int colLength(int c) {
    return colPtr[c + 1] - colPtr[c];
  }

  /** Returns the position of column {@code c}'s first entry. */
  public int colStart(int c) {
    return colPtr[c];
  }

  /** Returns the position just past column {@code c}'s last entry. */
  public int colEnd(int c) {
    return colPtr[c + 1];
  }

  /** Returns the row of the column-ordered entry at position {@code q}. */
  public int colRow(int q) {
    return colRow[q];
  }

  /** Returns the value of the column-ordered entry at position {@code q}. */
  public float colValue(int q) {
    return colVal[q];
  }

  /**
   * Returns whether row {@code r} stores column {@code c}, by binary search within the row.
   */
  public boolean contains(int r, int c) {
    return Arrays.binarySearch(rowCol, rowPtr[r], rowPtr[r + 1], c) >= 0;
  }

  /**
   * Holds out a seeded random fraction of the stored entries for validation.
   *
   * <p>Each entry is held out independently with probability {@code fraction}, drawn in row
   * order from {@code new Random(seed)}, so the split depends only on the matrix, the fraction
   * and the seed. The training part keeps this matrix's shape and meaning of absent entries.
   *
   * @param fraction in [0, 1); 0 returns this matrix and an empty validation set
   */
  public Split split(double fraction, long seed) {
    if (!(fraction >= 0 && fraction < 1)) {
      throw new IllegalArgumentException("fraction must be in [0, 1), got " + fraction);
    }
    if (fraction == 0) {
      return new Split(this, ValidationSet.empty());
    }
    java.util.Random rnd = new java.util.Random(seed);
    int nnz = nnz();
    boolean[] held = new boolean[nnz];
    int heldCount = 0;
    for (int p = 0; p < nnz; p++) {
      if (rnd.nextDouble() < fraction) {
        held[p] = true;
        heldCount++;
      }
    }
    int keep = nnz - heldCount;
    int[] tr = new int[keep];
    int[] tc = new int[keep];
    float[] tv = new float[keep];
    int[] vr = new int[heldCount];
    int[] vc = new int[heldCount];
    float[] vv = new float[heldCount];
    int t = 0;
    int v = 0;
    for (int r = 0; r < rows; r++) {
      for (int p = rowPtr[r]; p < rowPtr[r + 1]; p++) {
        if (held[p]) {
          vr[v] = r;
          vc[v] = rowCol[p];
          vv[v++] = rowVal[p];
        } else {
          tr[t] = r;
          tc[t] = rowCol[p];
          tv[t++] = rowVal[p];
        }
      }
    }
    // A held-out entry of a dense matrix is unknown to the training part, not zero.
    AbsentEntries absent = isDense() ? AbsentEntries.UNKNOWN : absentEntries;
    return new Split(fromCoordinates(rows, cols, tr, tc, tv, absent),
        ValidationSet.of(vr, vc, vv));
  }

  /**
   * A training matrix and the entries held out of it.
   *
   * @param train the entries to train on
   * @param validation the held-out entries
   */
  public record Split(TrainingMatrix train, ValidationSet validation) { }

  /** Returns the bytes this matrix occupies. */
  public long memoryBytes() {
    return estimateBytes(rows, cols, nnz());
  }
}
