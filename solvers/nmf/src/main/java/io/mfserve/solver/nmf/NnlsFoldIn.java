package io.mfserve.solver.nmf;

import io.mfserve.solver.AbsentEntries;
import io.mfserve.solver.FactorModel;
import io.mfserve.solver.FoldedUser;
import io.mfserve.solver.InvalidParameterException;

/**
 * Folds a new row into a trained NMF model: the non-negative least-squares problem the W half of
 * a sweep solves for one row, with H fixed,
 * <pre>
 *   minimise over w ≥ 0:  ½ Σ_{i∈S} (x_i − w·h_i)² + ½ λ ‖w‖²
 * </pre>
 * where S is every item when absent entries mean zero (x_i = 0 for the items not given) and the
 * given items when they mean unknown (weighted NMF), λ the model's {@code regularization}.
 * Written as ½ wᵀ G w − bᵀw with G = Σ_{i∈S} h_i h_iᵀ + λI (for S = every item, the model's
 * cached HᵀH) and b = Σ x_i h_i, it is solved by cyclic coordinate descent,
 * w_t ← max(0, w_t − (G w − b)_t / G_tt), the exact one-variable minimiser that HALS applies
 * once per sweep (Cichocki and Phan 2009), here repeated until no coordinate moves by more than
 * 10⁻⁹ of the largest (or 10 000 sweeps). The problem is convex, so this converges to its
 * minimum; every factor stays ≥ 0 by construction. Stateless and thread-safe.
 */
final class NnlsFoldIn {
  /** Stop once no coordinate changes by more than this fraction of the largest. */
  static final double TOLERANCE = 1e-9;
  /** A bound on the sweeps, each O(k²), for ill-conditioned G. */
  static final int MAX_SWEEPS = 10_000;

  private NnlsFoldIn() { }

  /**
   * Solves for one row.
   *
   * @param absent what absent entries meant in training: ZERO or UNKNOWN
   * @param lambda the model's regularisation λ
   * @throws InvalidParameterException naming {@code values} if a value is negative
   */
  static FoldedUser solve(FactorModel model, AbsentEntries absent, double lambda, int[] items,
      float[] values) {
    FoldIns.checkRow(model, items, values);
    int k = model.numFactors();
    double[] g = absent == AbsentEntries.ZERO ? model.itemGram() : new double[k * k];
    double[] b = new double[k];
    float[] h = new float[k];
    for (int j = 0; j < items.length; j++) {
      model.itemVector(items[j], h);
      double x = values[j];
      for (int s = 0; s < k; s++) {
        b[s] += x * h[s];
        if (absent != AbsentEntries.ZERO) {
          for (int t = 0; t < k; t++) {
            g[s * k + t] += (double) h[s] * h[t];
          }
        }
      }
    }
    for (int t = 0; t < k; t++) {
      g[t * k + t] += lambda;
    }
    double[] w = new double[k];
    // grad = G w − b, kept up to date as coordinates move.
    double[] grad = new double[k];
    for (int t = 0; t < k; t++) {
      grad[t] = -b[t];
    }
    for (int sweep = 0; sweep < MAX_SWEEPS; sweep++) {
      double maxStep = 0;
      double maxW = 0;
      for (int t = 0; t < k; t++) {
        double gtt = g[t * k + t];
        // A zero diagonal means h_t is zero on every item that counts: w_t has no effect.
        double next = gtt > 0 ? Math.max(0, w[t] - grad[t] / gtt) : 0;
        double step = next - w[t];
        if (step != 0) {
          w[t] = next;
          for (int s = 0; s < k; s++) {
            grad[s] += step * g[s * k + t];
          }
        }
        maxStep = Math.max(maxStep, Math.abs(step));
        maxW = Math.max(maxW, w[t]);
      }
      if (maxStep <= TOLERANCE * maxW || maxW == 0 && maxStep == 0) {
        break;
      }
    }
    return FoldIns.toFolded(w);
  }

  /**
   * Folds a new row into a biased model (ratings): w ≥ 0 and a free bias b minimise
   * <pre>
   *   ½ Σ_i (x_i − μ − b − b_i − w·h_i)² + ½ λ ‖w‖² + ½ λ_b b²
   * </pre>
   * over the given items, the model's μ and item biases (which hold the training shift) fixed:
   * the same coordinate descent on the system augmented by a constant column for b, whose
   * coordinate is not clamped.
   *
   * @param lambda the model's regularisation λ
   * @param biasLambda the model's λ_b
   * @throws InvalidParameterException naming {@code values} if a value is not finite
   */
  static FoldedUser solveBiased(FactorModel model, double lambda, double biasLambda,
      int[] items, float[] values) {
    io.mfserve.solver.RidgeFoldIn.check(model, items, values);
    int k = model.numFactors();
    int n = k + 1;
    double[] g = new double[n * n];
    double[] b = new double[n];
    float[] h = new float[k];
    double[] a = new double[n];
    for (int j = 0; j < items.length; j++) {
      model.itemVector(items[j], h);
      for (int s = 0; s < k; s++) {
        a[s] = h[s];
      }
      a[k] = 1;
      double x = values[j] - model.globalMean() - model.itemBias(items[j]);
      for (int s = 0; s < n; s++) {
        b[s] += x * a[s];
        for (int t = 0; t < n; t++) {
          g[s * n + t] += a[s] * a[t];
        }
      }
    }
    for (int t = 0; t < k; t++) {
      g[t * n + t] += lambda;
    }
    g[k * n + k] += biasLambda;
    double[] w = new double[n];
    double[] grad = new double[n];
    for (int t = 0; t < n; t++) {
      grad[t] = -b[t];
    }
    for (int sweep = 0; sweep < MAX_SWEEPS; sweep++) {
      double maxStep = 0;
      double maxW = 0;
      for (int t = 0; t < n; t++) {
        double gtt = g[t * n + t];
        double free = gtt > 0 ? w[t] - grad[t] / gtt : 0;
        double next = t == k ? free : Math.max(0, free);
        double step = next - w[t];
        if (step != 0) {
          w[t] = next;
          for (int s = 0; s < n; s++) {
            grad[s] += step * g[s * n + t];
          }
        }
        maxStep = Math.max(maxStep, Math.abs(step));
        maxW = Math.max(maxW, Math.abs(w[t]));
      }
      if (maxStep <= TOLERANCE * maxW || maxW == 0 && maxStep == 0) {
        break;
      }
    }
    float[] factors = new float[k];
    for (int t = 0; t < k; t++) {
      factors[t] = (float) w[t];
    }
    return new FoldedUser(factors, (float) w[k]);
  }
}
