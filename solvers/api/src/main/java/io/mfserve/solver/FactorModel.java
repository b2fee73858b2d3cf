package io.mfserve.solver;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * A trained low-rank model: user factors U (users × k), item factors V (items × k), optional
 * biases, and the training history. The prediction for (u, i) is
 * {@code mu + b_u + b_i + U[u]·V[i]}, the bias terms being zero for a model without biases.
 *
 * <p>Factors are float32. The user factors are kept row-major, as given: a user is looked up
 * (one row per query). The item factors are what a query is scored against, so they are kept
 * in column blocks: items are cut into blocks of {@value #ITEM_BLOCK}, and each block holds one
 * array per factor ({@code V[i][f]} of the block's items, in item order). Scoring a block is
 * then k passes of {@code out[j] += q[f] * column[j]}, a loop over two arrays with the same
 * index that C2 compiles to SIMD instructions; a row-major dot product is a chain of additions
 * that Java's floating-point rules keep scalar (measured: about 10× slower on the same data).
 * The constructor takes ownership of the arrays (a model may be gigabytes): the solver must not
 * touch them afterwards; the row-major item array is copied into blocks once and dropped.
 *
 * <p>Every dot product, wherever it is formed (predict, a block of top-k scores, RMSE), is a
 * float32 sum of float32 products in factor order, so a top-k list and Predict never disagree
 * on a score. After construction nothing changes, so any number of threads may read a model
 * without locks. The constructor rejects non-finite numbers, so no model that diverged can
 * exist.
 */
public final class FactorModel {
  /**
   * Items per column block of the item factors: a block's score buffer and one factor's column
   * (4 KiB each) stay in L1 while the block is scored.
   */
  public static final int ITEM_BLOCK = 1024;
  /** {@code i >> BLOCK_SHIFT} is item i's block: log₂ {@link #ITEM_BLOCK}, a power of two. */
  private static final int BLOCK_SHIFT = Integer.numberOfTrailingZeros(ITEM_BLOCK);

  private final int numUsers;
  private final int numItems;
  private final int numFactors;
  private final float[] userFactors;
  /** Column blocks: {@code itemColumns[b * k + f][j] = V[b * ITEM_BLOCK + j][f]}. */
  private final float[][] itemColumns;
  private final Biases biases;
  private final List<IterationProgress> history;
  /** VᵀV, computed on first use by {@link #itemGram()}; a cache, not state. */
  private volatile double[] itemGram;

  /**
   * Global mean and per-user and per-item offsets of a biased model.
   *
   * @param globalMean mu
   * @param user b_u, one per user
   * @param item b_i, one per item
   */
  public record Biases(double globalMean, float[] user, float[] item) {
    /** Checks the arguments. */
    public Biases {
      Objects.requireNonNull(user, "user");
      Objects.requireNonNull(item, "item");
    }
  }

  /**
   * Creates a model, taking ownership of the arrays.
   *
   * @param numUsers users (rows)
   * @param numItems items (columns)
   * @param numFactors k, at least 1
   * @param userFactors numUsers × k, row-major
   * @param itemFactors numItems × k, row-major
   * @param biases the biases, or null for a model without them
   * @param history one entry per completed iteration, in order
   * @throws FitDivergedException if any number is not finite
   * @throws IllegalArgumentException if an array's length does not match the shape
   */
  public FactorModel(int numUsers, int numItems, int numFactors, float[] userFactors,
      float[] itemFactors, Biases biases, List<IterationProgress> history) {
    if (numFactors < 1 || numUsers < 0 || numItems < 0) {
      throw new IllegalArgumentException("bad shape " + numUsers + " × " + numItems + " × "
          + numFactors);
    }
    if (userFactors.length != (long) numUsers * numFactors
        || itemFactors.length != (long) numItems * numFactors) {
      throw new IllegalArgumentException("factor arrays do not match " + numUsers + " users, "
          + numItems + " items, " + numFactors + " factors");
    }
    if (biases != null && (biases.user().length != numUsers || biases.item().length != numItems)) {
      throw new IllegalArgumentException("bias arrays do not match the shape");
    }
    this.numUsers = numUsers;
    this.numItems = numItems;
    this.numFactors = numFactors;
    this.userFactors = userFactors;
    this.biases = biases;
    this.history = List.copyOf(history);
    requireFinite(itemFactors);
    this.itemColumns = toColumnBlocks(itemFactors, numItems, numFactors);
  }

  private static float[][] toColumnBlocks(float[] rowMajor, int n, int k) {
    int blocks = (n + ITEM_BLOCK - 1) / ITEM_BLOCK;
    float[][] columns = new float[blocks * k][];
    for (int b = 0; b < blocks; b++) {
      int first = b * ITEM_BLOCK;
      int len = Math.min(ITEM_BLOCK, n - first);
      for (int f = 0; f < k; f++) {
        float[] column = new float[len];
        for (int j = 0, src = first * k + f; j < len; j++, src += k) {
          column[j] = rowMajor[src];
        }
        columns[b * k + f] = column;
      }
    }
    return columns;
  }

  private void requireFinite(float[] itemFactors) {
    if (!allFinite(userFactors) || !allFinite(itemFactors)
        || (biases != null && (!Double.isFinite(biases.globalMean()) || !allFinite(biases.user())
            || !allFinite(biases.item())))) {
      throw new FitDivergedException("training diverged: the factors hold non-finite numbers"
          + " after " + history.size() + " iteration(s); lower learning_rate or raise"
          + " regularization");
    }
  }

  private static boolean allFinite(float[] a) {
    for (float v : a) {
      if (!Float.isFinite(v)) {
        return false;
      }
    }
    return true;
  }

  /**
   * Returns the bytes a model of this shape occupies, so a caller can check a memory budget
   * before training one.
   */
  public static long estimateBytes(long numUsers, long numItems, int numFactors,
      boolean withBiases) {
    long columnArrays = (numItems + ITEM_BLOCK - 1) / ITEM_BLOCK * numFactors;
    return (numUsers + numItems) * (long) numFactors * Float.BYTES
        + columnArrays * (16 + Long.BYTES) // each column's array header and reference
        + (withBiases ? (numUsers + numItems) * Float.BYTES : 0);
  }

  /** Returns the number of users (rows). */
  public int numUsers() {
    return numUsers;
  }

  /** Returns the number of items (columns). */
  public int numItems() {
    return numItems;
  }

  /** Returns k, the number of latent factors. */
  public int numFactors() {
    return numFactors;
  }

  /** Returns whether the model has a global mean and user and item biases. */
  public boolean hasBiases() {
    return biases != null;
  }

  /** Returns mu, or 0 for a model without biases. */
  public double globalMean() {
    return biases == null ? 0 : biases.globalMean();
  }

  /** Returns b_u, or 0 for a model without biases. */
  public float userBias(int u) {
    return biases == null ? 0f : biases.user()[u];
  }

  /** Returns b_i, or 0 for a model without biases. */
  public float itemBias(int i) {
    return biases == null ? 0f : biases.item()[i];
  }

  /** Returns U[u][f]. */
  public float userFactor(int u, int f) {
    return userFactors[u * numFactors + f];
  }

  /** Returns V[i][f]. */
  public float itemFactor(int i, int f) {
    Objects.checkIndex(f, numFactors);
    return itemColumns[(i >> BLOCK_SHIFT) * numFactors + f][i & (ITEM_BLOCK - 1)];
  }

  /** Returns the predicted value of (u, i). */
  public double predict(int u, int i) {
    Objects.checkIndex(i, numItems);
    int ub = u * numFactors;
    int cb = (i >> BLOCK_SHIFT) * numFactors;
    int j = i & (ITEM_BLOCK - 1);
    float dot = 0;
    for (int f = 0; f < numFactors; f++) {
      dot += userFactors[ub + f] * itemColumns[cb + f][j];
    }
    return biases == null ? dot : biases.globalMean() + biases.user()[u] + biases.item()[i] + dot;
  }

  /**
   * Writes the predicted value of (u, i) for every item i into {@code out}, which must hold at
   * least {@link #numItems()} floats. Allocates one block of floats.
   */
  public void scoreAllItems(int u, float[] out) {
    float[] query = new float[numFactors];
    userVector(u, query);
    float[] block = new float[ITEM_BLOCK];
    double offset = biases == null ? 0 : biases.globalMean() + biases.user()[u];
    for (int from = 0; from < numItems; from += ITEM_BLOCK) {
      int len = dotItemBlock(query, from, block);
      for (int j = 0; j < len; j++) {
        out[from + j] = (float) (offset + (biases == null ? 0 : biases.item()[from + j])
            + block[j]);
      }
    }
  }

  /**
   * Copies U[u] into {@code out[0..k)}. Allocates nothing.
   *
   * @throws IndexOutOfBoundsException if {@code u} is not a user or {@code out} is shorter than k
   */
  public void userVector(int u, float[] out) {
    System.arraycopy(userFactors, Math.multiplyExact(u, numFactors), out, 0, numFactors);
  }

  /**
   * Copies V[i] into {@code out[0..k)}. Allocates nothing.
   *
   * @throws IndexOutOfBoundsException if {@code i} is not an item or {@code out} is shorter than k
   */
  public void itemVector(int i, float[] out) {
    Objects.checkIndex(i, numItems);
    Objects.checkFromIndexSize(0, numFactors, out.length);
    int cb = (i >> BLOCK_SHIFT) * numFactors;
    int j = i & (ITEM_BLOCK - 1);
    for (int f = 0; f < numFactors; f++) {
      out[f] = itemColumns[cb + f][j];
    }
  }

  /**
   * Writes {@code query · V[from + j]} into {@code out[j]} for every item of the column block
   * that starts at {@code from}: one block of the matrix-vector product V q, the kernel of top-k
   * scoring. Allocates nothing. The sums run over the factors in order, each lane a float32 sum
   * of float32 products, exactly as {@link #predict} forms its dot product: for
   * {@code query = U[u]}, {@code globalMean() + userBias(u) + itemBias(i) + out[j]}, added in
   * that order, is {@code predict(u, i)} bit for bit.
   *
   * @param query k floats
   * @param from the block's first item, a multiple of {@link #ITEM_BLOCK} below
   *     {@link #numItems()}
   * @param out at least {@code min(ITEM_BLOCK, numItems() - from)} floats
   * @return the number of items in the block
   * @throws IndexOutOfBoundsException if {@code from} does not start a block
   */
  public int dotItemBlock(float[] query, int from, float[] out) {
    Objects.checkIndex(from, numItems);
    if ((from & (ITEM_BLOCK - 1)) != 0) {
      throw new IndexOutOfBoundsException("a block starts at a multiple of " + ITEM_BLOCK
          + ", not at " + from);
    }
    int k = numFactors;
    int cb = (from >> BLOCK_SHIFT) * k;
    int len = itemColumns[cb].length;
    Objects.checkFromIndexSize(0, k, query.length);
    Objects.checkFromIndexSize(0, len, out.length);
    Arrays.fill(out, 0, len, 0f);
    for (int f = 0; f < k; f++) {
      float x = query[f];
      float[] column = itemColumns[cb + f];
      // Same index on both arrays: C2 turns this loop into SIMD multiply-adds.
      for (int j = 0; j < len; j++) {
        out[j] += x * column[j];
      }
    }
    return len;
  }

  /**
   * Writes {@code query · V[i]} for every item i in [from, to) into {@code out[i - from]},
   * summed as in {@link #dotItemBlock} (so the values are the same), one item at a time: for a
   * few scattered items; a whole catalogue is faster block by block. Allocates nothing.
   *
   * @param query k floats
   * @param out at least {@code to - from} floats
   * @throws IndexOutOfBoundsException if the range is outside the items
   */
  public void dotItems(float[] query, int from, int to, float[] out) {
    Objects.checkFromToIndex(from, to, numItems);
    Objects.checkFromIndexSize(0, numFactors, query.length);
    Objects.checkFromIndexSize(0, to - from, out.length);
    for (int i = from; i < to; i++) {
      int cb = (i >> BLOCK_SHIFT) * numFactors;
      int j = i & (ITEM_BLOCK - 1);
      float dot = 0;
      for (int f = 0; f < numFactors; f++) {
        dot += query[f] * itemColumns[cb + f][j];
      }
      out[i - from] = dot;
    }
  }

  /**
   * Writes {@code query · U[u]} for every user u in [from, to) into {@code out[u - from]}, each a
   * float32 sum in factor order as in {@link #dotItemBlock}. Allocates nothing. Four rows are
   * walked at once so that four independent sums keep the floating-point units busy (one
   * dependent chain of additions would leave them waiting on latency).
   *
   * @param query k floats
   * @param out at least {@code to - from} floats
   * @throws IndexOutOfBoundsException if the range is outside the users
   */
  public void dotUsers(float[] query, int from, int to, float[] out) {
    Objects.checkFromToIndex(from, to, numUsers);
    int k = numFactors;
    Objects.checkFromIndexSize(0, k, query.length);
    Objects.checkFromIndexSize(0, to - from, out.length);
    float[] rows = userFactors;
    int r = from;
    int o = 0;
    for (; r + 3 < to; r += 4, o += 4) {
      int b0 = r * k;
      int b1 = b0 + k;
      int b2 = b1 + k;
      int b3 = b2 + k;
      float s0 = 0;
      float s1 = 0;
      float s2 = 0;
      float s3 = 0;
      for (int f = 0; f < k; f++) {
        float x = query[f];
        s0 += x * rows[b0 + f];
        s1 += x * rows[b1 + f];
        s2 += x * rows[b2 + f];
        s3 += x * rows[b3 + f];
      }
      out[o] = s0;
      out[o + 1] = s1;
      out[o + 2] = s2;
      out[o + 3] = s3;
    }
    for (; r < to; r++, o++) {
      int b = r * k;
      float s = 0;
      for (int f = 0; f < k; f++) {
        s += query[f] * rows[b + f];
      }
      out[o] = s;
    }
  }

  /**
   * Returns VᵀV, the k × k Gram matrix of the item factors (row-major, accumulated in double):
   * what a fold-in needs when every absent entry counts (zeros, implicit feedback). Computed on
   * first use and kept (k² doubles, not counted in {@link #memoryBytes()}); each call returns a
   * fresh copy, so the model stays immutable. Thread-safe: two threads may both compute it once.
   */
  public double[] itemGram() {
    double[] g = itemGram;
    if (g == null) {
      int k = numFactors;
      g = new double[k * k];
      for (int cb = 0; cb < itemColumns.length; cb += k) {
        for (int x = 0; x < k; x++) {
          float[] cx = itemColumns[cb + x];
          for (int y = 0; y <= x; y++) {
            float[] cy = itemColumns[cb + y];
            double sum = 0;
            for (int j = 0; j < cx.length; j++) {
              sum += (double) cx[j] * cy[j];
            }
            g[x * k + y] += sum;
          }
        }
      }
      for (int x = 0; x < k; x++) {
        for (int y = 0; y < x; y++) {
          g[y * k + x] = g[x * k + y];
        }
      }
      itemGram = g;
    }
    return g.clone();
  }

  /** Returns a copy of rows [from, to) of U, row-major. */
  public float[] copyUserFactors(int from, int to) {
    return Arrays.copyOfRange(userFactors, from * numFactors, to * numFactors);
  }

  /** Returns a copy of rows [from, to) of V, row-major. */
  public float[] copyItemFactors(int from, int to) {
    Objects.checkFromToIndex(from, to, numItems);
    int k = numFactors;
    float[] out = new float[Math.multiplyExact(to - from, k)];
    for (int i = from; i < to; i++) {
      int cb = (i >> BLOCK_SHIFT) * k;
      int j = i & (ITEM_BLOCK - 1);
      for (int f = 0, o = (i - from) * k; f < k; f++, o++) {
        out[o] = itemColumns[cb + f][j];
      }
    }
    return out;
  }

  /** Returns the training history, one entry per completed iteration. */
  public List<IterationProgress> history() {
    return history;
  }

  /** Returns the number of completed iterations. */
  public int iterations() {
    return history.size();
  }

  /**
   * Returns the root mean squared error over the stored entries of {@code data} (for a dense
   * matrix, every entry), each prediction as {@link #predict} forms it, accumulated in double.
   * A dense matrix is scored a user at a time against whole item blocks
   * ({@link #dotItemBlock}, SIMD); a sparse one column by column, so that each item's factors
   * are gathered once.
   */
  public double rmse(TrainingMatrix data) {
    if (data.nnz() == 0) {
      return 0;
    }
    double sum = data.isDense() ? denseSquaredError(data) : sparseSquaredError(data);
    return Math.sqrt(sum / data.nnz());
  }

  private double denseSquaredError(TrainingMatrix data) {
    float[] query = new float[numFactors];
    float[] block = new float[ITEM_BLOCK];
    double sum = 0;
    for (int r = 0; r < data.rows(); r++) {
      userVector(r, query);
      double base = biases == null ? 0 : biases.globalMean() + biases.user()[r];
      // A dense row stores every column in order, so column c is entry rowStart + c.
      int start = data.rowStart(r);
      for (int from = 0; from < numItems; from += ITEM_BLOCK) {
        int len = dotItemBlock(query, from, block);
        for (int j = 0; j < len; j++) {
          double predicted = biases == null ? block[j]
              : base + biases.item()[from + j] + block[j];
          double e = data.rowValue(start + from + j) - predicted;
          sum += e * e;
        }
      }
    }
    return sum;
  }

  private double sparseSquaredError(TrainingMatrix data) {
    int k = numFactors;
    float[] item = new float[k];
    double sum = 0;
    for (int c = 0; c < data.cols(); c++) {
      if (data.colLength(c) == 0) {
        continue;
      }
      itemVector(c, item);
      double itemBase = biases == null ? 0 : biases.item()[c];
      for (int q = data.colStart(c); q < data.colEnd(c); q++) {
        int r = data.colRow(q);
        int ub = r * k;
        float dot = 0;
        for (int f = 0; f < k; f++) {
          dot += userFactors[ub + f] * item[f];
        }
        double predicted = biases == null ? dot
            : biases.globalMean() + biases.user()[r] + itemBase + dot;
        double e = data.colValue(q) - predicted;
        sum += e * e;
      }
    }
    return sum;
  }

  /** Returns the bytes this model occupies. */
  public long memoryBytes() {
    return estimateBytes(numUsers, numItems, numFactors, biases != null);
  }
}
