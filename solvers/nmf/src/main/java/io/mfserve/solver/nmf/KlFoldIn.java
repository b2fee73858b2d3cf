package io.mfserve.solver.nmf;

import io.mfserve.solver.AbsentEntries;
import io.mfserve.solver.FactorModel;
import io.mfserve.solver.FoldedUser;
import io.mfserve.solver.InvalidParameterException;

/**
 * Folds a new row into an NMF model trained with the Kullback–Leibler loss: with H fixed,
 *
 * <pre>  minimise over w ≥ 0:  Σ_{i∈S} (x_i log(x_i / y_i) − x_i + y_i) + l1 Σ w + ½ l2 ‖w‖²,
 *   y_i = w · h_i,</pre>
 *
 * S being every item when absent entries mean zero and the given items when they mean unknown:
 * the W half of a training sweep for one row, so a new document's topic mixture is what
 * training would have given it. Solved by the same multiplicative update (Lee and Seung 2001),
 * {@code w_t ← w_t Σ_i (x_i / y_i) h_it / (Σ_{i∈S} h_it + l2 w_t + l1)}, from a flat start until
 * no coordinate moves by more than 10⁻⁷ of the largest (or {@link #MAX_STEPS} steps). The
 * problem is convex in w and the update never increases it. Stateless and thread-safe;
 * allocates O(k + items).
 */
final class KlFoldIn {
  static final double TOLERANCE = 1e-7;
  static final int MAX_STEPS = 5_000;

  private KlFoldIn() { }

  /**
   * Solves for one row.
   *
   * @throws InvalidParameterException naming {@code values} if a value is negative
   */
  static FoldedUser solve(FactorModel model, AbsentEntries absent, Penalty penalty, int[] items,
      float[] values) {
    FoldIns.checkRow(model, items, values);
    int k = model.numFactors();
    int n = items.length;
    float[] h = new float[n * k];
    float[] row = new float[k];
    double[] den = new double[k];
    double total = 0;
    for (int j = 0; j < n; j++) {
      model.itemVector(items[j], row);
      System.arraycopy(row, 0, h, j * k, k);
      total += values[j];
    }
    if (absent == AbsentEntries.ZERO) {
      for (int i = 0; i < model.numItems(); i++) {
        model.itemVector(i, row);
        for (int t = 0; t < k; t++) {
          den[t] += row[t];
        }
      }
    } else {
      for (int j = 0; j < n; j++) {
        for (int t = 0; t < k; t++) {
          den[t] += h[j * k + t];
        }
      }
    }
    // A flat start whose predictions sum to the row's total, the scale the solution has.
    double scale = 0;
    for (int t = 0; t < k; t++) {
      scale += den[t];
    }
    double[] w = new double[k];
    java.util.Arrays.fill(w, scale > 0 ? total / scale : 0);
    double[] num = new double[k];
    for (int step = 0; step < MAX_STEPS; step++) {
      java.util.Arrays.fill(num, 0);
      for (int j = 0; j < n; j++) {
        if (values[j] <= 0) {
          continue;
        }
        double y = 0;
        for (int t = 0; t < k; t++) {
          y += w[t] * h[j * k + t];
        }
        double ratio = values[j] / Math.max(y, 1e-300);
        for (int t = 0; t < k; t++) {
          num[t] += ratio * h[j * k + t];
        }
      }
      double maxStep = 0;
      double maxW = 0;
      for (int t = 0; t < k; t++) {
        double next = w[t] * num[t] / (den[t] + penalty.l2W() * w[t] + penalty.l1W()
            + Updater.EPS);
        maxStep = Math.max(maxStep, Math.abs(next - w[t]));
        maxW = Math.max(maxW, next);
        w[t] = next;
      }
      if (maxStep <= TOLERANCE * maxW) {
        break;
      }
    }
    return FoldIns.toFolded(w);
  }
}
