package io.mfserve.server.model.fit;

import io.mfserve.server.model.errors.InvalidRequestException;
import io.mfserve.server.model.ids.IdForm;
import io.mfserve.server.model.ids.IdIndex;
import io.mfserve.server.model.store.ServedModel;
import io.mfserve.solver.FactorModel;
import io.mfserve.solver.WarmStart;
import java.util.BitSet;

/**
 * Builds the {@link WarmStart} of a fit from an earlier model: each row and column of the new
 * matrix whose id the earlier model knows starts from that model's factors (and biases); the
 * others start as in a cold fit.
 */
final class WarmStarts {
  private WarmStarts() { }

  /**
   * Checks that {@code from} can warm-start a fit of rank {@code k}.
   *
   * @throws InvalidRequestException naming warm_start_model_id
   */
  static void check(ServedModel from, int k) {
    if (from.factors().numFactors() != k) {
      throw new InvalidRequestException("warm_start_model_id", "model '" + from.id() + "' has "
          + from.factors().numFactors() + " factors but this fit asks for " + k + "; set"
          + " num_factors to " + from.factors().numFactors() + " or fit cold");
    }
  }

  /**
   * Returns the warm start for a matrix whose sides are {@code rows} and {@code cols}.
   *
   * @throws InvalidRequestException if the two share no user and no item (different id forms)
   */
  static WarmStart of(ServedModel from, IdIndex rows, IdIndex cols) {
    FactorModel f = from.factors();
    int k = f.numFactors();
    float[] u = new float[Math.multiplyExact(rows.size(), k)];
    float[] v = new float[Math.multiplyExact(cols.size(), k)];
    BitSet knownUsers = new BitSet(rows.size());
    BitSet knownItems = new BitSet(cols.size());
    float[] bu = f.hasBiases() ? new float[rows.size()] : null;
    float[] bi = f.hasBiases() ? new float[cols.size()] : null;
    float[] row = new float[k];
    for (int r = 0; r < rows.size(); r++) {
      int old = positionIn(from.users(), rows, r);
      if (old >= 0) {
        f.userVector(old, row);
        System.arraycopy(row, 0, u, r * k, k);
        knownUsers.set(r);
        if (bu != null) {
          bu[r] = f.userBias(old);
        }
      }
    }
    for (int c = 0; c < cols.size(); c++) {
      int old = positionIn(from.items(), cols, c);
      if (old >= 0) {
        f.itemVector(old, row);
        System.arraycopy(row, 0, v, c * k, k);
        knownItems.set(c);
        if (bi != null) {
          bi[c] = f.itemBias(old);
        }
      }
    }
    if (knownUsers.isEmpty() && knownItems.isEmpty()) {
      throw new InvalidRequestException("warm_start_model_id", "model '" + from.id()
          + "' shares no user and no item with this matrix (its ids are "
          + from.users().form() + "/" + from.items().form() + "); fit cold instead");
    }
    return new WarmStart(k, u, knownUsers, v, knownItems,
        bu == null ? null : new FactorModel.Biases(f.globalMean(), bu, bi));
  }

  private static int positionIn(IdIndex old, IdIndex now, int p) {
    if (now.form() != old.form()) {
      return -1;
    }
    return now.form() == IdForm.INT64 ? old.indexOf(now.idAt(p)) : old.indexOf(now.keyAt(p));
  }
}
