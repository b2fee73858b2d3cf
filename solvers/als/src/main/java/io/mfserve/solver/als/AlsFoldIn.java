package io.mfserve.solver.als;

import io.mfserve.solver.FactorModel;
import io.mfserve.solver.FoldedUser;
import io.mfserve.solver.RidgeFoldIn;
import io.mfserve.solver.ScoreContributions;

/**
 * Folds a new user into an ALS model with exactly the user half-sweep the model was trained
 * with: the same λ (weighted or plain), the unscaled bias penalty λ_b, non-negative least
 * squares for a non-negative model, and for implicit feedback the confidence-weighted system
 * (VᵀV + Σ (c − 1) v vᵀ + λ_u I) x = Σ c p v over every item (Hu, Koren and Volinsky 2008),
 * solved exactly. Stateless and thread-safe; allocates O(k²) per call.
 */
final class AlsFoldIn {
  private AlsFoldIn() {
  }

  /** Solves for one user; see {@link AlsSolverProvider#foldInUser}. */
  static FoldedUser solve(FactorModel model, AlsOptions o, int[] items, float[] values) {
    RidgeFoldIn.check(model, items, values);
    int n = items.length;
    if (!o.implicit() && !o.nonnegative()) {
      // RidgeFoldIn scales both penalties by n when perEntry; the bias's is not scaled here.
      return o.weightedLambda()
          ? RidgeFoldIn.solve(model, items, values, o.lambda(), o.biasLambda() / n, true)
          : RidgeFoldIn.solve(model, items, values, o.lambda(), o.biasLambda(), false);
    }
    int k = model.numFactors();
    boolean biased = model.hasBiases() && !o.implicit();
    int w = biased ? k + 1 : k;
    double[] b = new double[w];
    double[] m = normalMatrix(model, o, items, values, b);
    double[] diag = new double[w];
    for (int f = 0; f < w; f++) {
      diag[f] = m[f * w + f];
    }
    double[] x = new double[w];
    if (o.nonnegative()) {
      Nnls.solve(m, b, x, new double[w], w, k);
    } else if (!Cholesky.factor(m, w, diag)) {
      throw new IllegalArgumentException("the fold-in system is singular; the model was trained"
          + " with regularization 0");
    } else {
      Cholesky.solve(m, b, x, w);
    }
    float[] factors = new float[k];
    for (int f = 0; f < k; f++) {
      factors[f] = (float) x[f];
    }
    return new FoldedUser(factors, biased ? (float) x[k] : 0f);
  }
  /**
   * Splits the score of {@code item} over the user's entries; see
   * {@link AlsSolverProvider#explainScore}. Null for a non-negative model, whose fold-in
   * (NNLS) is not linear in the values.
   */
  static ScoreContributions explain(FactorModel model, AlsOptions o, int[] items, float[] values,
      int item) {
    RidgeFoldIn.check(model, items, values);
    if (o.nonnegative()) {
      return null;
    }
    int k = model.numFactors();
    boolean biased = model.hasBiases() && !o.implicit();
    int w = biased ? k + 1 : k;
    double[] m = normalMatrix(model, o, items, values, new double[w]);
    double[] diag = new double[w];
    for (int f = 0; f < w; f++) {
      diag[f] = m[f * w + f];
    }
    if (!Cholesky.factor(m, w, diag)) {
      throw new IllegalArgumentException("the fold-in system is singular; the model was trained"
          + " with regularization 0");
    }
    // z = A⁻¹ x_i once; entry j's share is then t_j z·x_j (A is symmetric).
    float[] v = new float[k];
    model.itemVector(item, v);
    double[] rhs = new double[w];
    for (int f = 0; f < k; f++) {
      rhs[f] = v[f];
    }
    if (biased) {
      rhs[k] = 1;
    }
    double[] z = new double[w];
    Cholesky.solve(m, rhs, z, w);
    double[] shares = new double[items.length];
    for (int j = 0; j < items.length; j++) {
      model.itemVector(items[j], v);
      double dot = biased ? z[k] : 0;
      for (int f = 0; f < k; f++) {
        dot += z[f] * v[f];
      }
      shares[j] = target(model, o, biased, items[j], values[j]) * dot;
    }
    double base = biased ? model.globalMean() + model.itemBias(item) : 0;
    return new ScoreContributions(base, shares);
  }

  /**
   * Fills the upper triangle of the user's normal matrix A (row-major w × w, w = k + 1 with a
   * bias) and its right-hand side {@code b}, penalties included: the system both the fold-in
   * and the explanations solve, the same as the training's user half-sweep.
   */
  private static double[] normalMatrix(FactorModel model, AlsOptions o, int[] items,
      float[] values, double[] b) {
    int n = items.length;
    int k = model.numFactors();
    boolean biased = model.hasBiases() && !o.implicit();
    int w = biased ? k + 1 : k;
    double[] m = new double[w * w];
    float[] v = new float[k];
    if (o.implicit()) {
      double[] gram = model.itemGram();
      for (int x = 0; x < k; x++) {
        System.arraycopy(gram, x * k, m, x * w, k);
      }
    }
    for (int j = 0; j < n; j++) {
      int i = items[j];
      model.itemVector(i, v);
      double weight = o.implicit() ? confidence(o, values[j]) : 1;
      double target = target(model, o, biased, i, values[j]);
      for (int x = 0; x < k; x++) {
        double wx = weight * v[x];
        b[x] += target * v[x];
        int row = x * w;
        for (int c = x; c < k; c++) {
          m[row + c] += wx * v[c];
        }
      }
      if (biased) {
        for (int x = 0; x < k; x++) {
          m[x * w + k] += v[x];
        }
        m[k * w + k] += 1;
        b[k] += target;
      }
    }
    double reg = o.weightedLambda() ? o.lambda() * n : o.lambda();
    for (int f = 0; f < w; f++) {
      m[f * w + f] += f < k ? reg : o.biasLambda();
    }
    return m;
  }

  /** Implicit feedback's c − 1 for a value: α r, or α log(1 + r/ε). */
  private static double confidence(AlsOptions o, float value) {
    double r = Math.abs(value);
    double c1 = o.logConfidence() ? o.alpha() * Math.log1p(r / o.epsilon()) : o.alpha() * r;
    return (float) c1;
  }

  /**
   * The entry's target in the right-hand side: c·p for implicit feedback (p = 1 for a positive
   * value, else 0), else the value less the global mean and the item's bias.
   */
  private static double target(FactorModel model, AlsOptions o, boolean biased, int item,
      float value) {
    if (o.implicit()) {
      return value > 0 ? 1.0 + confidence(o, value) : 0;
    }
    return value - (biased ? model.globalMean() + model.itemBias(item) : 0);
  }
}
