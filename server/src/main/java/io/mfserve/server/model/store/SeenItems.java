package io.mfserve.server.model.store;

import io.mfserve.solver.TrainingMatrix;
import java.util.Arrays;

/**
 * The items each user has in the training data (row structure of the input), for excluding
 * them from recommendations, and where known the entries' values, for explaining a score by
 * the user's history. 4 bytes per entry, 8 with values. Immutable.
 */
public final class SeenItems {
  private final int[] rowPtr;
  private final int[] cols;
  /** Entry p's value, parallel to {@link #cols}; null when unknown (imported, older snapshot). */
  private final float[] values;

  private SeenItems(int[] rowPtr, int[] cols, float[] values) {
    this.rowPtr = rowPtr;
    this.cols = cols;
    this.values = values;
  }

  /** Returns the bytes a seen-items index of this size takes, with or without values. */
  public static long estimateBytes(long rows, long nnz, boolean values) {
    return (rows + 1) * Integer.BYTES + nnz * (Integer.BYTES + (values ? Float.BYTES : 0));
  }

  /** Copies the row structure of {@code m} and its values. */
  public static SeenItems of(TrainingMatrix m) {
    int[] ptr = new int[m.rows() + 1];
    int[] cols = new int[m.nnz()];
    float[] values = new float[m.nnz()];
    for (int r = 0; r < m.rows(); r++) {
      ptr[r + 1] = m.rowEnd(r);
      for (int p = m.rowStart(r); p < m.rowEnd(r); p++) {
        cols[p] = m.rowColumn(p);
        values[p] = m.rowValue(p);
      }
    }
    return new SeenItems(ptr, cols, values);
  }

  /**
   * Wraps a row structure read back from a snapshot or sent by a client, after checking it:
   * {@code rowPtr} has {@code users + 1} non-decreasing offsets from 0 to {@code cols.length},
   * and each row's items are strictly ascending positions below {@code items}. Takes
   * ownership of the arrays.
   *
   * @throws IllegalArgumentException naming the first inconsistency
   */
  public static SeenItems of(int[] rowPtr, int[] cols, int users, int items) {
    if (rowPtr.length != users + 1 || rowPtr[0] != 0 || rowPtr[users] != cols.length) {
      throw new IllegalArgumentException("seen items: row offsets do not span " + cols.length
          + " entries of " + users + " users");
    }
    for (int u = 0; u < users; u++) {
      if (rowPtr[u + 1] < rowPtr[u]) {
        throw new IllegalArgumentException("seen items: row offsets decrease at user " + u);
      }
      for (int p = rowPtr[u]; p < rowPtr[u + 1]; p++) {
        if (cols[p] < 0 || cols[p] >= items || (p > rowPtr[u] && cols[p] <= cols[p - 1])) {
          throw new IllegalArgumentException("seen items: user " + u + "'s items are not"
              + " ascending positions below " + items);
        }
      }
    }
    return new SeenItems(rowPtr, cols, null);
  }

  /**
   * Returns these items with their entries' values (read back from a snapshot), after checking
   * them: one finite value per entry. Takes ownership of the array.
   *
   * @throws IllegalArgumentException for the wrong length or a non-finite value
   */
  public SeenItems withValues(float[] entryValues) {
    if (entryValues.length != cols.length) {
      throw new IllegalArgumentException("seen values: " + entryValues.length + " values for "
          + cols.length + " entries");
    }
    for (int p = 0; p < entryValues.length; p++) {
      if (!Float.isFinite(entryValues[p])) {
        throw new IllegalArgumentException("seen values: entry " + p + " is not finite");
      }
    }
    return new SeenItems(rowPtr, cols, entryValues);
  }

  /**
   * Copies the row offsets {@code [from, from + dst.length)} (user u's items are entries
   * {@code offset(u)} to {@code offset(u + 1)}, u from 0 to users) into {@code dst}: for
   * writing the index out in bulk.
   */
  public void copyOffsets(int from, int[] dst) {
    System.arraycopy(rowPtr, from, dst, 0, dst.length);
  }

  /** Copies entries {@code [from, from + dst.length)}, every user's items in user order. */
  public void copyEntries(int from, int[] dst) {
    System.arraycopy(cols, from, dst, 0, dst.length);
  }

  /** Copies the values of entries {@code [from, from + dst.length)}; only with values. */
  public void copyValues(int from, float[] dst) {
    System.arraycopy(values, from, dst, 0, dst.length);
  }

  /** Whether the entries' values are known. */
  public boolean hasValues() {
    return values != null;
  }

  /** Returns a copy of user {@code u}'s values, in the order of {@link #items}; with values. */
  public float[] values(int u) {
    return Arrays.copyOfRange(values, rowPtr[u], rowPtr[u + 1]);
  }

  /** Returns whether user {@code u} has item {@code i}. */
  public boolean contains(int u, int i) {
    return Arrays.binarySearch(cols, rowPtr[u], rowPtr[u + 1], i) >= 0;
  }

  /** Returns a copy of user {@code u}'s items, ascending. */
  public int[] items(int u) {
    return Arrays.copyOfRange(cols, rowPtr[u], rowPtr[u + 1]);
  }

  /** Returns the number of (user, item) entries held. */
  public long entries() {
    return cols.length;
  }

  /** Returns how many items user {@code u} has. */
  public int count(int u) {
    return rowPtr[u + 1] - rowPtr[u];
  }

  /** Returns the bytes held. */
  public long memoryBytes() {
    return estimateBytes(rowPtr.length - 1, cols.length, values != null);
  }
}
