package io.mfserve.solver.als;

import io.mfserve.solver.FactorModel;
import io.mfserve.solver.FoldedUser;
import io.mfserve.solver.RidgeFoldIn;

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
    double[] m = new double[w * w];
    double[] b = new double[w];
    float[] v = new float[k];
    if (o.implicit()) {
      double[] gram = model.itemGram();
      for (int x = 0; x < k; x++) {
        System.arraycopy(gram, x * k, m, x * w, k);
      }
    }
    double mu = model.globalMean();
    for (int j = 0; j < n; j++) {
      int i = items[j];
      model.itemVector(i, v);
      double weight;
      double target;
      if (o.implicit()) {
        double r = Math.abs(values[j]);
        double c1 = o.logConfidence() ? o.alpha() * Math.log1p(r / o.epsilon()) : o.alpha() * r;
        weight = (float) c1;
        target = values[j] > 0 ? 1.0 + (float) c1 : 0;
      } else {
        weight = 1;
        target = values[j] - (biased ? mu + model.itemBias(i) : 0);
      }
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
    double[] diag = new double[w];
    for (int f = 0; f < w; f++) {
      m[f * w + f] += f < k ? reg : o.biasLambda();
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
}
