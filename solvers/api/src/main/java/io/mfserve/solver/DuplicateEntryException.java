package io.mfserve.solver;

/**
 * A training matrix was given the same (row, column) pair twice. Carries the positions so the
 * caller can name the entries in its own terms (ids, keys).
 */
public final class DuplicateEntryException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  private final int firstEntry;
  private final int repeatEntry;
  private final int row;
  private final int col;

  /** Creates the exception for entries {@code firstEntry} and {@code repeatEntry} at (row, col). */
  public DuplicateEntryException(int firstEntry, int repeatEntry, int row, int col) {
    super("entry " + repeatEntry + " repeats (row " + row + ", column " + col
        + "), first given as entry " + firstEntry);
    this.firstEntry = firstEntry;
    this.repeatEntry = repeatEntry;
    this.row = row;
    this.col = col;
  }

  /** Returns the index of the first entry with this pair, in input order. */
  public int firstEntry() {
    return firstEntry;
  }

  /** Returns the index of the repeating entry, in input order. */
  public int repeatEntry() {
    return repeatEntry;
  }

  /** Returns the row position. */
  public int row() {
    return row;
  }

  /** Returns the column position. */
  public int col() {
    return col;
  }
}
