package io.mfserve.server.model.query;

import io.mfserve.server.model.store.ScanIndex;
import io.mfserve.solver.FactorModel;
import java.util.Arrays;

/**
 * Top-k scoring: walks one side of a model (items, or users for similar users) in blocks of
 * {@value #BLOCK} rows, computes the block's dot products with a query vector (for items
 * {@link FactorModel#dotItemBlock}, a SIMD pass over the model's column blocks; for users
 * {@link FactorModel#dotUsers} over the row-major factors), turns each into a score, skips
 * excluded rows, and offers the rest to a {@link TopK}. The buffers are one block of floats
 * each, so a request allocates nothing proportional to the catalogue; the caller passes them
 * (see {@link Scratch}).
 *
 * <p>Scores are, by {@link Kind}: the model's prediction
 * {@code (float) (base + itemBias(i) + q·v_i)} with {@code base = μ + b_u} (for a known user
 * exactly {@link FactorModel#predict}), the plain dot product, or the cosine
 * {@code q·v_i / (‖q‖ ‖v_i‖)} (0 when either norm is 0) with the row norms precomputed once per
 * model ({@link ScanIndex}).
 *
 * <p>Scanning items, the exact score (double arithmetic) is computed only for rows that can
 * still enter the top k. A block's dot products first become float <em>keys</em> in one SIMD
 * loop (dot + item bias; dot / ‖v_i‖), each key within a few float roundings of a fixed
 * monotone function of the score; a row whose key is below the key of the current k-th best
 * score, less a margin far wider than those roundings, cannot beat it and is passed over. The
 * blocks are visited in decreasing order of an upper bound on their keys (largest bias plus
 * ‖q‖ times largest norm, for predictions and dot products), so the best rows come early and the
 * threshold rises fast even when scores grow with the item position, and the scan stops at the
 * first block whose bound is below the threshold. The result is the same as scoring every row:
 * the top k is a total order (ties to the lower position), whatever the visiting order.
 *
 * <p>Stateless; safe for any number of threads, each with its own buffers.
 */
final class ItemScorer {
  /** Rows per block: the model's item column block, so a block's scores stay in L1. */
  static final int BLOCK = FactorModel.ITEM_BLOCK;

  /**
   * The relative margin a key must fall short by to be passed over: float roundings move a key
   * by about 1e-7 of its size, so 1e-5 is safe by a factor of 100 and still tight enough to
   * pass over nearly every row.
   */
  static final float MARGIN = 1e-5f;

  /** How a dot product becomes a score. */
  enum Kind {
    /** The model's predicted value: base + item bias + dot. */
    PREDICT,
    /** The dot product of the factor vectors. */
    DOT,
    /** The cosine of the angle between the factor vectors. */
    COSINE
  }

  /** One scoring pass's parameters. */
  static final class Query {
    final FactorModel model;
    final boolean users;
    final float[] vector;
    final Kind kind;
    final double base;
    final ScanIndex index;
    final double queryNorm;

    /**
     * @param users false to score items (V), true to score users (U)
     * @param vector the query, k floats
     * @param base μ + b_u for PREDICT, else ignored
     * @param index the model's scan index
     */
    Query(FactorModel model, boolean users, float[] vector, Kind kind, double base,
        ScanIndex index) {
      this.model = model;
      this.users = users;
      this.vector = vector;
      this.kind = kind;
      this.base = base;
      this.index = index;
      double n = 0;
      for (int f = 0; f < model.numFactors(); f++) {
        n += (double) vector[f] * vector[f];
      }
      this.queryNorm = Math.sqrt(n);
    }

    int rows() {
      return users ? model.numUsers() : model.numItems();
    }

    /** Writes the dot products of the block starting at {@code from}; returns its rows. */
    int dotBlock(int from, float[] out) {
      if (users) {
        int to = Math.min(rows(), from + BLOCK);
        model.dotUsers(vector, from, to, out);
        return to - from;
      }
      return model.dotItemBlock(vector, from, out);
    }

    /** Writes the dot product of one row into {@code out[0]}. */
    void dotOne(int row, float[] out) {
      if (users) {
        model.dotUsers(vector, row, row + 1, out);
      } else {
        model.dotItems(vector, row, row + 1, out);
      }
    }

    float score(int row, float dot) {
      switch (kind) {
        case PREDICT:
          return (float) (base + (users ? 0 : model.itemBias(row)) + dot);
        case DOT:
          return dot;
        default:
          float[] norms = users ? index.users() : index.items();
          double d = queryNorm * norms[row];
          return d > 0 ? (float) (dot / d) : 0f;
      }
    }

    /**
     * Writes item block {@code b}'s keys (len rows, from their dot products) and returns the
     * array holding them: the dots themselves when they are the keys.
     */
    float[] keys(int b, int len, float[] dots, float[] out) {
      switch (kind) {
        case PREDICT: {
          float[] bias = index.itemBiases(b);
          if (bias == null) {
            return dots;
          }
          for (int j = 0; j < len; j++) {
            out[j] = dots[j] + bias[j];
          }
          return out;
        }
        case DOT:
          return dots;
        default: {
          float[] inverse = index.itemInverseNorms(b);
          for (int j = 0; j < len; j++) {
            out[j] = dots[j] * inverse[j];
          }
          return out;
        }
      }
    }

    /**
     * The smallest key a row scoring at least {@code score} can have, less the margin: the key
     * is dot + bias ≈ score − base, dot ≈ score, or dot / ‖v‖ ≈ score · ‖q‖.
     */
    float keyFloor(float score) {
      double key = switch (kind) {
        case PREDICT -> score - base;
        case DOT -> score;
        default -> score * queryNorm;
      };
      double slack = MARGIN * (Math.abs(key) + (kind == Kind.PREDICT ? Math.abs(score)
          + Math.abs(base) : 0)) + Float.MIN_NORMAL;
      return (float) (key - slack);
    }

    /**
     * An upper bound (with the margin) on item block {@code b}'s keys, or +∞ where no useful
     * bound exists (cosine keys are bounded by ‖q‖ in every block alike).
     */
    float blockBound(int b) {
      if (kind == Kind.COSINE) {
        return Float.POSITIVE_INFINITY;
      }
      double dot = queryNorm * index.blockMaxNorm(b);
      double bias = kind == Kind.PREDICT ? index.blockMaxBias(b) : 0;
      // A float dot product of k terms can exceed the exact one by about k ulps of ‖q‖‖v‖.
      double slack = (MARGIN + model.numFactors() * 1e-7) * (dot + Math.abs(bias));
      return (float) (dot + bias + slack);
    }
  }

  private ItemScorer() { }

  /**
   * Offers every row of the query's side except the excluded ones to {@code top}, or, for items,
   * every such row that can still enter it (see the class comment).
   *
   * @param excluded positions to skip, ascending and distinct; may be empty
   */
  static void scan(Query q, int[] excluded, TopK top, Scratch scratch) {
    if (q.users) {
      scanAll(q, excluded, top, scratch.buffer);
      return;
    }
    int n = q.rows();
    int blocks = (n + BLOCK - 1) / BLOCK;
    long[] order = scratch.order(blocks);
    for (int b = 0; b < blocks; b++) {
      // Descending bound first: sort ascending on the negated bound, then the block.
      order[b] = ((long) flip(Float.floatToIntBits(-q.blockBound(b))) << 32) | b;
    }
    Arrays.sort(order, 0, blocks);
    float[] dots = scratch.buffer;
    for (int t = 0; t < blocks; t++) {
      int b = (int) order[t];
      float bound = -Float.intBitsToFloat(flip((int) (order[t] >> 32)));
      float floor = top.hasThreshold() ? q.keyFloor(top.thresholdScore())
          : Float.NEGATIVE_INFINITY;
      if (bound < floor) {
        break;
      }
      int from = b * BLOCK;
      int len = q.dotBlock(from, dots);
      float[] keys = q.keys(b, len, dots, scratch.keys);
      int e = lowerBound(excluded, from);
      for (int j = 0; j < len; j++) {
        if (keys[j] < floor) {
          continue;
        }
        int r = from + j;
        while (e < excluded.length && excluded[e] < r) {
          e++;
        }
        if (e < excluded.length && excluded[e] == r) {
          continue;
        }
        if (top.offer(r, q.score(r, dots[j])) && top.hasThreshold()) {
          floor = q.keyFloor(top.thresholdScore());
        }
      }
    }
  }

  /** Offers every row but the excluded, in order, scoring each exactly. */
  private static void scanAll(Query q, int[] excluded, TopK top, float[] buffer) {
    int n = q.rows();
    int e = 0;
    for (int from = 0; from < n; from += BLOCK) {
      int to = from + q.dotBlock(from, buffer);
      for (int r = from; r < to; r++) {
        if (e < excluded.length && excluded[e] == r) {
          e++;
          continue;
        }
        top.offer(r, q.score(r, buffer[r - from]));
      }
    }
  }

  /**
   * Turns a float's bits into an int whose signed order is the float's order (finite floats
   * and infinities), and back: the sign bit is kept, so applying it twice gives the bits again.
   */
  private static int flip(int bits) {
    return bits ^ ((bits >> 31) & 0x7fffffff);
  }

  /** The first index of {@code a} (ascending) whose value is at least {@code v}. */
  private static int lowerBound(int[] a, int v) {
    int lo = 0;
    int hi = a.length;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (a[mid] < v) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }

  /**
   * Offers only the {@code candidates} (ascending, distinct) that are not excluded.
   *
   * @param excluded ascending and distinct
   * @param buffer at least {@value #BLOCK} floats
   */
  static void scanSubset(Query q, int[] candidates, int[] excluded, TopK top, float[] buffer) {
    int e = 0;
    for (int c : candidates) {
      while (e < excluded.length && excluded[e] < c) {
        e++;
      }
      if (e < excluded.length && excluded[e] == c) {
        continue;
      }
      q.dotOne(c, buffer);
      top.offer(c, q.score(c, buffer[0]));
    }
  }

  /**
   * Writes the score of every row into {@code out} (a full row of predictions).
   *
   * @param buffer at least {@value #BLOCK} floats
   */
  static void scoreAll(Query q, float[] out, float[] buffer) {
    int n = q.rows();
    for (int from = 0; from < n; from += BLOCK) {
      int to = from + q.dotBlock(from, buffer);
      for (int r = from; r < to; r++) {
        out[r] = q.score(r, buffer[r - from]);
      }
    }
  }

  /**
   * Per-thread buffers for scoring: a block of dots and one of keys, the block order, a query
   * vector and a small heap, kept so that a request allocates only its result. Heaps of more
   * than {@value #KEEP_HEAP} pairs (a rare, huge k) are allocated per request rather than kept.
   */
  static final class Scratch {
    static final int KEEP_HEAP = 4096;
    private static final ThreadLocal<Scratch> LOCAL = ThreadLocal.withInitial(Scratch::new);

    final float[] buffer = new float[BLOCK];
    final float[] keys = new float[BLOCK];
    private long[] order = new long[64];
    private float[] vector = new float[16];
    private final TopK heap = new TopK(16);

    static Scratch get() {
      return LOCAL.get();
    }

    /** A buffer of at least k floats, valid until the next call on this thread. */
    float[] vector(int k) {
      if (vector.length < k) {
        vector = new float[k];
      }
      return vector;
    }

    /** A buffer of at least n longs (the block order), valid until the next call. */
    long[] order(int n) {
      if (order.length < n) {
        order = new long[n];
      }
      return order;
    }

    /** An empty heap keeping {@code capacity} pairs. */
    TopK heap(int capacity) {
      if (capacity > KEEP_HEAP) {
        TopK big = new TopK(capacity);
        big.reset(capacity);
        return big;
      }
      heap.reset(capacity);
      return heap;
    }
  }
}
