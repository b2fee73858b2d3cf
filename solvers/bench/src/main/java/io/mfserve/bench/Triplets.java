package io.mfserve.bench;

import java.util.Arrays;
import java.util.Objects;

/**
 * Growable coordinate lists (row, column, value) for the benchmarks' file readers, which do
 * not know the number of entries in advance. Not thread-safe.
 */
public final class Triplets {
  private int size;
  private int[] rows = new int[1 << 16];
  private int[] cols = new int[1 << 16];
  private float[] values = new float[1 << 16];

  /** Appends one entry, doubling the arrays when full. */
  public void add(int row, int col, float value) {
    if (size == rows.length) {
      rows = Arrays.copyOf(rows, size * 2);
      cols = Arrays.copyOf(cols, size * 2);
      values = Arrays.copyOf(values, size * 2);
    }
    rows[size] = row;
    cols[size] = col;
    values[size++] = value;
  }

  /** Returns the number of entries. */
  public int size() {
    return size;
  }

  /** Returns entry {@code n}'s row. */
  public int row(int n) {
    return rows[Objects.checkIndex(n, size)];
  }

  /** Returns entry {@code n}'s column. */
  public int col(int n) {
    return cols[Objects.checkIndex(n, size)];
  }

  /** Returns entry {@code n}'s value. */
  public float value(int n) {
    return values[Objects.checkIndex(n, size)];
  }

  /** Returns a copy of the rows, one per entry. */
  public int[] rows() {
    return Arrays.copyOf(rows, size);
  }

  /** Returns a copy of the columns, one per entry. */
  public int[] cols() {
    return Arrays.copyOf(cols, size);
  }

  /** Returns a copy of the values, one per entry. */
  public float[] values() {
    return Arrays.copyOf(values, size);
  }
}
