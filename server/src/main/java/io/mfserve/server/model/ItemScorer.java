package io.mfserve.server.model;

import io.mfserve.solver.FactorModel;

/**
 * Top-k scoring: walks one side of a model (items, or users for similar users) in blocks of
 * {@value #BLOCK} rows, computes the block's dot products with a query vector (for items
 * {@link FactorModel#dotItemBlock}, a SIMD pass over the model's column blocks; for users
 * {@link FactorModel#dotUsers} over the row-major factors), turns each into a score, skips
 * excluded rows, and offers the rest to a {@link TopK}. The only buffer is one block of floats,
 * so a request allocates nothing proportional to the catalogue; the caller passes the buffers
 * (see {@link Scratch}).
 *
 * <p>Scores are, by {@link Kind}: the model's prediction
 * {@code (float) (base + itemBias(i) + q·v_i)} with {@code base = μ + b_u} (for a known user
 * exactly {@link FactorModel#predict}), the plain dot product, or the cosine
 * {@code q·v_i / (‖q‖ ‖v_i‖)} (0 when either norm is 0) with the row norms precomputed once per
 * model. Stateless; safe for any number of threads, each with its own buffers.
 */
final class ItemScorer {
  /** Rows per block: the model's item column block, so a block's scores stay in L1. */
  static final int BLOCK = FactorModel.ITEM_BLOCK;

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
    final float[] norms;
    final double queryNorm;

    /**
     * @param users false to score items (V), true to score users (U)
     * @param vector the query, k floats
     * @param base μ + b_u for PREDICT, else ignored
     * @param norms the scored side's row norms, for COSINE (else ignored)
     */
    Query(FactorModel model, boolean users, float[] vector, Kind kind, double base,
        float[] norms) {
      this.model = model;
      this.users = users;
      this.vector = vector;
      this.kind = kind;
      this.base = base;
      this.norms = norms;
      double n = 0;
      if (kind == Kind.COSINE) {
        for (int f = 0; f < model.numFactors(); f++) {
          n += (double) vector[f] * vector[f];
        }
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
          return (float) dot;
        default:
          double d = queryNorm * norms[row];
          return d > 0 ? (float) (dot / d) : 0f;
      }
    }
  }

  private ItemScorer() { }

  /**
   * Offers every row of the query's side except the excluded ones to {@code top}.
   *
   * @param excluded positions to skip, ascending and distinct; may be empty
   * @param buffer at least {@value #BLOCK} floats
   */
  static void scan(Query q, int[] excluded, TopK top, float[] buffer) {
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
   * Per-thread buffers for scoring: a block of floats, a query vector and a small heap, kept
   * so that a request allocates only its result. Heaps of more than {@value #KEEP_HEAP} pairs
   * (a rare, huge k) are allocated per request rather than kept.
   */
  static final class Scratch {
    static final int KEEP_HEAP = 4096;
    private static final ThreadLocal<Scratch> LOCAL = ThreadLocal.withInitial(Scratch::new);

    final float[] buffer = new float[BLOCK];
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
