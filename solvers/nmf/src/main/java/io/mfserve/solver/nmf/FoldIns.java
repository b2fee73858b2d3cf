package io.mfserve.solver.nmf;

import io.mfserve.solver.FactorModel;
import io.mfserve.solver.FoldedUser;
import io.mfserve.solver.InvalidParameterException;
import io.mfserve.solver.RidgeFoldIn;

/**
 * The input check and result packing that {@link NnlsFoldIn} and {@link KlFoldIn} share: both
 * fold a new row into an NMF model, differing only in the loss they minimise. Stateless and
 * thread-safe.
 */
final class FoldIns {
  private FoldIns() { }

  /**
   * Checks a row to fold in: the shape and item range {@link RidgeFoldIn#check} checks, and
   * that every value is non-negative, as NMF requires.
   *
   * @throws InvalidParameterException naming {@code values} if a value is negative
   */
  static void checkRow(FactorModel model, int[] items, float[] values) {
    RidgeFoldIn.check(model, items, values);
    for (int j = 0; j < values.length; j++) {
      if (!(values[j] >= 0)) {
        throw new InvalidParameterException("values", "values[" + j + "] is " + values[j]
            + "; an nmf model takes non-negative values only");
      }
    }
  }

  /** The solved row as factors, with no bias (NMF models have none). */
  static FoldedUser toFolded(double[] w) {
    float[] factors = new float[w.length];
    for (int t = 0; t < w.length; t++) {
      factors[t] = (float) w[t];
    }
    return new FoldedUser(factors, 0f);
  }
}
