package io.mfserve.server.model.store;

import io.mfserve.solver.TrainingMatrix;
import java.util.Arrays;

/**
 * The items each user has in the training data (row structure of the input, without values),
 * for excluding them from recommendations. 4 bytes per entry. Immutable.
 */
public final class SeenItems {
  private final int[] rowPtr;
  private final int[] cols;

  private SeenItems(int[] rowPtr, int[] cols) {
    this.rowPtr = rowPtr;
    this.cols = cols;
  }

  /** Returns the bytes a seen-items index of this size takes. */
  public static long estimateBytes(long rows, long nnz) {
    return (rows + 1) * Integer.BYTES + nnz * Integer.BYTES;
  }

  /** Copies the row structure of {@code m}. */
  public static SeenItems of(TrainingMatrix m) {
    int[] ptr = new int[m.rows() + 1];
    int[] cols = new int[m.nnz()];
    for (int r = 0; r < m.rows(); r++) {
      ptr[r + 1] = m.rowEnd(r);
      for (int p = m.rowStart(r); p < m.rowEnd(r); p++) {
        cols[p] = m.rowColumn(p);
      }
    }
    return new SeenItems(ptr, cols);
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
    return new SeenItems(rowPtr, cols);
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
    return estimateBytes(rowPtr.length - 1, cols.length);
  }
}
