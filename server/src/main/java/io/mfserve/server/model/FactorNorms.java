package io.mfserve.server.model;

import io.mfserve.solver.FactorModel;

/**
 * The Euclidean norm of every user and item factor vector, for cosine similarity. Computed once
 * when a model is stored (O((users + items) k), a fraction of one training iteration) and kept
 * with it, 4 bytes per row, counted in the model's memory. Immutable.
 */
public final class FactorNorms {
  private final float[] users;
  private final float[] items;

  private FactorNorms(float[] users, float[] items) {
    this.users = users;
    this.items = items;
  }

  /** Returns the bytes the norms of a model of this shape take. */
  public static long estimateBytes(long users, long items) {
    return (users + items) * Float.BYTES;
  }

  /** Computes the norms of {@code model}'s rows, accumulating in double. */
  public static FactorNorms of(FactorModel model) {
    int k = model.numFactors();
    float[] v = new float[k];
    float[] users = new float[model.numUsers()];
    for (int u = 0; u < users.length; u++) {
      model.userVector(u, v);
      users[u] = norm(v, k);
    }
    float[] items = new float[model.numItems()];
    for (int i = 0; i < items.length; i++) {
      model.itemVector(i, v);
      items[i] = norm(v, k);
    }
    return new FactorNorms(users, items);
  }

  private static float norm(float[] v, int k) {
    double s = 0;
    for (int f = 0; f < k; f++) {
      s += (double) v[f] * v[f];
    }
    return (float) Math.sqrt(s);
  }

  /** Returns ‖U[u]‖ for every user; callers must not modify it. */
  float[] users() {
    return users;
  }

  /** Returns ‖V[i]‖ for every item; callers must not modify it. */
  float[] items() {
    return items;
  }

  /** Returns the bytes held. */
  public long memoryBytes() {
    return estimateBytes(users.length, items.length);
  }
}
