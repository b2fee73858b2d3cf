package io.mfserve.solver;

/**
 * Folds a new user into a trained model by regularised least squares against the fixed item
 * factors (and item biases and global mean): the default of
 * {@link SolverProvider#foldInUser}, public so that a solver overriding it for other reasons can
 * still reuse the math.
 *
 * <p>Given the user's entries (i, r_i), i ∈ I, it minimises over the user's factors p (and,
 * for a model with biases, the user bias b)
 * <pre>
 *   Σ_{i∈I} (r_i − μ − b_i − b − p·v_i)² + s (λ ‖p‖² + λ_b b²),   s = |I| if perEntry, else 1
 * </pre>
 * by solving its normal equations (Σ x_i x_iᵀ + s·diag(λ, …, λ, λ_b)) θ = Σ (r_i − μ − b_i) x_i
 * with x_i = (v_i, 1) and θ = (p, b) — for a model without biases, just x_i = v_i and θ = p —
 * by Cholesky, accumulated in double. This is one user's step of the user half-sweep of
 * explicit ALS (Zhou et al. 2008 give the weighted-λ form, perEntry = true) and the exact
 * minimiser, over one user, of the per-entry-penalised objective SGD descends (Koren, Bell and
 * Volinsky 2009). Absent entries count as unknown: only the given entries
 * enter the loss. Stateless and thread-safe; allocates O(k²) per call.
 */
public final class RidgeFoldIn {
  private RidgeFoldIn() { }

  /**
   * Solves for one user.
   *
   * @param model the trained model, unchanged
   * @param items the user's items, positions in the model, distinct
   * @param values the user's value of each item
   * @param lambda λ, the penalty on the factors, at least 0
   * @param biasLambda λ_b, the penalty on the user bias (ignored without biases), at least 0
   * @param perEntry whether the penalties are multiplied by the number of entries (weighted-λ)
   * @return the user's factors, and bias for a model with biases
   * @throws IllegalArgumentException if the arrays differ in length or are empty, an item is out
   *     of range, or a penalty is negative or not finite
   */
  public static FoldedUser solve(FactorModel model, int[] items, float[] values, double lambda,
      double biasLambda, boolean perEntry) {
    check(model, items, values);
    if (!(lambda >= 0) || !(biasLambda >= 0) || Double.isInfinite(lambda)
        || Double.isInfinite(biasLambda)) {
      throw new IllegalArgumentException("penalties must be finite and at least 0, got "
          + lambda + " and " + biasLambda);
    }
    int k = model.numFactors();
    boolean biased = model.hasBiases();
    int n = biased ? k + 1 : k;
    double[] a = new double[n * n];
    double[] b = new double[n];
    float[] v = new float[k];
    double mu = model.globalMean();
    for (int j = 0; j < items.length; j++) {
      int i = items[j];
      model.itemVector(i, v);
      double y = values[j] - (biased ? mu + model.itemBias(i) : 0);
      for (int x = 0; x < k; x++) {
        double vx = v[x];
        b[x] += y * vx;
        int row = x * n;
        for (int z = 0; z <= x; z++) {
          a[row + z] += vx * v[z];
        }
      }
      if (biased) {
        // The bias's feature is the constant 1: its row of A sums the item vectors.
        int row = k * n;
        for (int z = 0; z < k; z++) {
          a[row + z] += v[z];
        }
        a[row + k] += 1;
        b[k] += y;
      }
    }
    double scale = perEntry ? items.length : 1;
    for (int x = 0; x < k; x++) {
      a[x * n + x] += lambda * scale;
    }
    if (biased) {
      a[k * n + k] += biasLambda * scale;
    }
    double[] theta = Cholesky.solve(a, b, n);
    float[] factors = new float[k];
    for (int x = 0; x < k; x++) {
      factors[x] = (float) theta[x];
    }
    return new FoldedUser(factors, biased ? (float) theta[k] : 0f);
  }

  /**
   * Checks a fold-in's arguments, as every implementation should.
   *
   * @throws IllegalArgumentException if the arrays differ in length or are empty, or an item is
   *     not a position of the model
   */
  public static void check(FactorModel model, int[] items, float[] values) {
    if (items.length != values.length || items.length == 0) {
      throw new IllegalArgumentException("need as many values as items, at least one; got "
          + items.length + " items and " + values.length + " values");
    }
    for (int i : items) {
      if (i < 0 || i >= model.numItems()) {
        throw new IllegalArgumentException("item " + i + " is not in [0, " + model.numItems()
            + ")");
      }
    }
  }
}
