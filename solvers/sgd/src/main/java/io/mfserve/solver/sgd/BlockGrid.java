package io.mfserve.solver.sgd;

import io.mfserve.solver.TrainingMatrix;
import java.util.SplittableRandom;

/**
 * The solver's private copy of the entries, arranged for parallel SGD.
 *
 * <p>{@link #blocked} follows FPSGD (Chin, Zhuang, Juan and Lin, "A Fast Parallel Stochastic
 * Gradient Method for Matrix Factorization in Shared Memory Systems", ACM TIST 2015): rows and
 * columns are relabelled by a seeded random permutation once, which spreads heavy users and
 * popular items evenly, then cut into an {@code nb × nb} grid of blocks of consecutive labels.
 * Two blocks in different block-rows and block-columns share no row and no column, so two
 * threads may update them at once without locks. Within a block the entries are stored by
 * increasing user label, then column (LibMF's order): consecutive updates mostly reuse the
 * same user row, and the block's users and items are contiguous slices of the factor arrays
 * that stay in cache.
 *
 * <p>{@link #shuffled} is the layout for Hogwild (Niu, Recht, Ré and Wright, NIPS 2011): one
 * block holding every entry in a seeded random order, labels unchanged.
 *
 * <p>Entries are held as three parallel arrays (relabelled row, relabelled column, value),
 * 12 bytes each; the value is already standardised, {@code (r − mu) / scale}, or absent when
 * the loss ignores values. Immutable after construction.
 */
final class BlockGrid {
  /** Blocks per side; 1 for Hogwild. */
  final int nb;
  /** Whether each block's entries are sorted by relabelled row (not for Hogwild). */
  final boolean sortedByRow;
  final int rows;
  final int cols;
  /** Original row → relabelled row. */
  final int[] rowLabel;
  /** Original column → relabelled column. */
  final int[] colLabel;
  /** Relabelled row → original row. */
  final int[] rowOrig;
  /** Relabelled column → original column. */
  final int[] colOrig;
  /** Block (br, bc) holds entries [blockStart[br·nb + bc], blockStart[br·nb + bc + 1]). */
  final int[] blockStart;
  /** Block-column bc holds relabelled columns [colBlockStart[bc], colBlockStart[bc + 1]). */
  final int[] colBlockStart;
  final int[] entryRow;
  final int[] entryCol;
  /** Standardised values, or null when the loss ignores them. */
  final float[] entryVal;

  private BlockGrid(int nb, boolean sortedByRow, int rows, int cols, int[] rowOrig,
      int[] colOrig, int nnz, boolean values) {
    this.nb = nb;
    this.sortedByRow = sortedByRow;
    this.rows = rows;
    this.cols = cols;
    this.rowOrig = rowOrig;
    this.colOrig = colOrig;
    this.rowLabel = inverse(rowOrig);
    this.colLabel = inverse(colOrig);
    this.blockStart = new int[nb * nb + 1];
    this.colBlockStart = bounds(cols, nb);
    this.entryRow = new int[nnz];
    this.entryCol = new int[nnz];
    this.entryVal = values ? new float[nnz] : null;
  }

  /** Returns the bytes {@link #blocked} or {@link #shuffled} allocates. */
  static long estimateBytes(long rows, long cols, long nnz, int nb, boolean values) {
    return nnz * (values ? 12 : 8) + (rows + cols) * 2L * Integer.BYTES
        + ((long) nb * nb + nb + 2) * Integer.BYTES;
  }

  /**
   * Builds the FPSGD layout.
   *
   * @param nb blocks per side, at least 1
   * @param rnd the fit's seeded stream; the two permutations are drawn from it
   * @param mu subtracted from every value
   * @param scale every value is divided by it
   * @param values whether to keep the values (false for ranking losses)
   */
  static BlockGrid blocked(TrainingMatrix data, int nb, SplittableRandom rnd, double mu,
      double scale, boolean values) {
    int rows = data.rows();
    int cols = data.cols();
    BlockGrid g = new BlockGrid(nb, true, rows, cols, permutation(rows, rnd),
        permutation(cols, rnd), data.nnz(), values);
    int[] rowBlock = blockOf(rows, nb);
    int[] colBlock = blockOf(cols, nb);
    int[] start = g.blockStart;
    for (int r = 0; r < rows; r++) {
      int base = rowBlock[g.rowLabel[r]] * nb + 1;
      for (int p = data.rowStart(r); p < data.rowEnd(r); p++) {
        start[base + colBlock[g.colLabel[data.rowColumn(p)]]]++;
      }
    }
    for (int b = 0; b < nb * nb; b++) {
      start[b + 1] += start[b];
    }
    // A counting sort that walks users in relabelled order, so each block ends up sorted by
    // user without a comparison sort.
    int[] cursor = java.util.Arrays.copyOf(start, nb * nb);
    for (int u = 0; u < rows; u++) {
      int r = g.rowOrig[u];
      int base = rowBlock[u] * nb;
      for (int p = data.rowStart(r); p < data.rowEnd(r); p++) {
        int i = g.colLabel[data.rowColumn(p)];
        int at = cursor[base + colBlock[i]]++;
        g.entryRow[at] = u;
        g.entryCol[at] = i;
        if (values) {
          g.entryVal[at] = (float) ((data.rowValue(p) - mu) / scale);
        }
      }
    }
    g.sortRunsByColumn();
    return g;
  }

  /**
   * Sorts each user's run of entries within a block by column: the item factors are then read
   * in increasing address order, and a ranking loss can binary-search a user's positives.
   * Sorting packs (column, value bits) into one long per entry, so nothing is boxed.
   */
  private void sortRunsByColumn() {
    long[] buffer = new long[16];
    for (int b = 0; b < nb * nb; b++) {
      int end = blockStart[b + 1];
      for (int from = blockStart[b]; from < end; ) {
        int to = from + 1;
        while (to < end && entryRow[to] == entryRow[from]) {
          to++;
        }
        int len = to - from;
        if (len > 1) {
          if (buffer.length < len) {
            buffer = new long[Math.max(len, buffer.length * 2)];
          }
          for (int x = 0; x < len; x++) {
            long bits = entryVal == null ? 0 : Float.floatToRawIntBits(entryVal[from + x]);
            buffer[x] = ((long) entryCol[from + x] << 32) | (bits & 0xFFFFFFFFL);
          }
          java.util.Arrays.sort(buffer, 0, len);
          for (int x = 0; x < len; x++) {
            entryCol[from + x] = (int) (buffer[x] >>> 32);
            if (entryVal != null) {
              entryVal[from + x] = Float.intBitsToFloat((int) buffer[x]);
            }
          }
        }
        from = to;
      }
    }
  }

  /**
   * Builds the Hogwild layout: one block, labels unchanged, entries in a seeded random order.
   * Parameters as for {@link #blocked}.
   */
  static BlockGrid shuffled(TrainingMatrix data, SplittableRandom rnd, double mu, double scale,
      boolean values) {
    int rows = data.rows();
    int cols = data.cols();
    BlockGrid g = new BlockGrid(1, false, rows, cols, identity(rows), identity(cols),
        data.nnz(), values);
    g.blockStart[1] = data.nnz();
    for (int r = 0; r < rows; r++) {
      for (int p = data.rowStart(r); p < data.rowEnd(r); p++) {
        g.entryRow[p] = r;
        g.entryCol[p] = data.rowColumn(p);
        if (values) {
          g.entryVal[p] = (float) ((data.rowValue(p) - mu) / scale);
        }
      }
    }
    for (int n = data.nnz() - 1; n > 0; n--) {
      int j = rnd.nextInt(n + 1);
      swap(g.entryRow, n, j);
      swap(g.entryCol, n, j);
      if (values) {
        float v = g.entryVal[n];
        g.entryVal[n] = g.entryVal[j];
        g.entryVal[j] = v;
      }
    }
    return g;
  }

  /** Returns the number of entries. */
  int nnz() {
    return entryRow.length;
  }

  /** Returns per relabelled row its number of entries in {@code data}. */
  int[] rowCounts(TrainingMatrix data) {
    int[] c = new int[rows];
    for (int u = 0; u < rows; u++) {
      c[u] = data.rowLength(rowOrig[u]);
    }
    return c;
  }

  /** Returns per relabelled column its number of entries in {@code data}. */
  int[] colCounts(TrainingMatrix data) {
    int[] c = new int[cols];
    for (int i = 0; i < cols; i++) {
      c[i] = data.colLength(colOrig[i]);
    }
    return c;
  }

  /** Starts of nb near-equal ranges covering [0, n). */
  private static int[] bounds(int n, int nb) {
    int[] b = new int[nb + 1];
    for (int x = 0; x <= nb; x++) {
      b[x] = (int) ((long) x * n / nb);
    }
    return b;
  }

  /** The range of {@link #bounds} each of [0, n) falls in. */
  private static int[] blockOf(int n, int nb) {
    int[] b = bounds(n, nb);
    int[] of = new int[n];
    for (int x = 0; x < nb; x++) {
      java.util.Arrays.fill(of, b[x], b[x + 1], x);
    }
    return of;
  }

  /** Returns a uniform permutation of [0, n) drawn from {@code rnd}; see {@link #shuffle}. */
  static int[] permutation(int n, SplittableRandom rnd) {
    int[] p = new int[n];
    shuffle(p, rnd);
    return p;
  }

  /**
   * Fills {@code p} with a uniform permutation of [0, p.length) drawn from {@code rnd}
   * (Fisher–Yates from the last position down, one draw per position), in place so that a
   * caller drawing an order per epoch reuses its array.
   */
  static void shuffle(int[] p, SplittableRandom rnd) {
    for (int x = 0; x < p.length; x++) {
      p[x] = x;
    }
    for (int x = p.length - 1; x > 0; x--) {
      swap(p, x, rnd.nextInt(x + 1));
    }
  }

  private static int[] identity(int n) {
    int[] p = new int[n];
    for (int x = 0; x < n; x++) {
      p[x] = x;
    }
    return p;
  }

  private static int[] inverse(int[] p) {
    int[] inv = new int[p.length];
    for (int x = 0; x < p.length; x++) {
      inv[p[x]] = x;
    }
    return inv;
  }

  private static void swap(int[] a, int x, int y) {
    int t = a[x];
    a[x] = a[y];
    a[y] = t;
  }
}
