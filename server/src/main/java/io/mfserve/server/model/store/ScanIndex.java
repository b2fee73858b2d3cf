package io.mfserve.server.model.store;

import io.mfserve.solver.FactorModel;

/**
 * What a model's top-k scans read besides its factors, computed once when the model is stored
 * (O((users + items) k), a fraction of one training iteration), kept with it and counted in its
 * memory. Immutable.
 *
 * <ul>
 *   <li>The Euclidean norm of every user and item factor vector, for cosine similarity.
 *   <li>Per block of {@link FactorModel#ITEM_BLOCK} items (the model's column blocks), one float
 *       array each of the items' inverse norms and of their biases. A scan turns a block's dot
 *       products into ranking keys with them in a same-index loop over separate float arrays,
 *       the one loop shape Java 17's C2 turns into SIMD, instead of a double-precision score
 *       per item.
 *   <li>Per item block, the largest norm and the largest bias: with the query's norm they bound
 *       every key in the block (Cauchy–Schwarz), so a scan can visit the most promising blocks
 *       first and stop at the first block whose bound is below its k-th best.
 * </ul>
 */
public final class ScanIndex {
  private static final int BLOCK = FactorModel.ITEM_BLOCK;

  private final float[] users;
  private final float[] items;
  private final float[][] itemInverseNorms;
  /** Per block, the item biases; null for a model without biases. */
  private final float[][] itemBiases;
  private final float[] blockMaxNorm;
  private final float[] blockMaxBias;

  private ScanIndex(float[] users, float[] items, float[][] itemInverseNorms,
      float[][] itemBiases, float[] blockMaxNorm, float[] blockMaxBias) {
    this.users = users;
    this.items = items;
    this.itemInverseNorms = itemInverseNorms;
    this.itemBiases = itemBiases;
    this.blockMaxNorm = blockMaxNorm;
    this.blockMaxBias = blockMaxBias;
  }

  /** Returns the bytes the index of a model of this shape takes. */
  public static long estimateBytes(long users, long items) {
    long blocks = (items + BLOCK - 1) / BLOCK;
    // Norms of both sides; inverse norms and biases of the items; two bounds and two array
    // headers per block.
    return (users + 3 * items) * Float.BYTES + blocks * (2 * Float.BYTES + 2 * 16);
  }

  /** Computes the index of {@code model}, accumulating norms in double. */
  public static ScanIndex of(FactorModel model) {
    int k = model.numFactors();
    float[] v = new float[k];
    float[] users = new float[model.numUsers()];
    for (int u = 0; u < users.length; u++) {
      model.userVector(u, v);
      users[u] = norm(v, k);
    }
    int n = model.numItems();
    float[] items = new float[n];
    for (int i = 0; i < n; i++) {
      model.itemVector(i, v);
      items[i] = norm(v, k);
    }
    int blocks = (n + BLOCK - 1) / BLOCK;
    float[][] inverse = new float[blocks][];
    float[][] biases = model.hasBiases() ? new float[blocks][] : null;
    float[] maxNorm = new float[blocks];
    float[] maxBias = new float[blocks];
    for (int b = 0; b < blocks; b++) {
      int from = b * BLOCK;
      int len = Math.min(BLOCK, n - from);
      inverse[b] = new float[len];
      float mn = 0;
      float mb = model.hasBiases() ? Float.NEGATIVE_INFINITY : 0;
      if (biases != null) {
        biases[b] = new float[len];
      }
      for (int j = 0; j < len; j++) {
        float norm = items[from + j];
        inverse[b][j] = norm > 0 ? 1f / norm : 0f;
        mn = Math.max(mn, norm);
        if (biases != null) {
          biases[b][j] = model.itemBias(from + j);
          mb = Math.max(mb, biases[b][j]);
        }
      }
      maxNorm[b] = mn;
      maxBias[b] = mb;
    }
    return new ScanIndex(users, items, inverse, biases, maxNorm, maxBias);
  }

  private static float norm(float[] v, int k) {
    double s = 0;
    for (int f = 0; f < k; f++) {
      s += (double) v[f] * v[f];
    }
    return (float) Math.sqrt(s);
  }

  /** Returns ‖U[u]‖ for every user; callers must not modify it. */
  public float[] users() {
    return users;
  }

  /** Returns ‖V[i]‖ for every item; callers must not modify it. */
  public float[] items() {
    return items;
  }

  /** Returns 1/‖V[i]‖ (0 for a zero vector) of item block {@code b}; do not modify it. */
  public float[] itemInverseNorms(int b) {
    return itemInverseNorms[b];
  }

  /** Returns the item biases of block {@code b}, or null for a model without biases. */
  public float[] itemBiases(int b) {
    return itemBiases == null ? null : itemBiases[b];
  }

  /** Returns the largest item norm in block {@code b}. */
  public float blockMaxNorm(int b) {
    return blockMaxNorm[b];
  }

  /** Returns the largest item bias in block {@code b} (0 for a model without biases). */
  public float blockMaxBias(int b) {
    return blockMaxBias[b];
  }

  /** Returns the bytes held. */
  public long memoryBytes() {
    return estimateBytes(users.length, items.length);
  }
}
