package io.mfserve.solver.testing;

import io.mfserve.solver.FactorModel;
import io.mfserve.solver.TrainingMatrix;
import io.mfserve.solver.WarmStart;
import java.util.Arrays;
import java.util.BitSet;

/**
 * Builds {@link WarmStart}s from a trained model for solver tests, as the server does from an
 * earlier model by matching ids: here the match is given as index maps.
 */
public final class WarmStarts {
  private WarmStarts() {
  }

  /** Every row and column of {@code model} known, in the same order. */
  public static WarmStart of(FactorModel model) {
    return mapped(model, identity(model.numUsers()), identity(model.numItems()));
  }

  /**
   * A warm start for a new matrix whose row r is the model's row {@code oldRow[r]} and whose
   * column c is the model's column {@code oldCol[c]}; -1 marks a row or column the model does
   * not have (its factors and biases are left zero and its bit clear).
   */
  public static WarmStart mapped(FactorModel model, int[] oldRow, int[] oldCol) {
    int k = model.numFactors();
    float[] users = new float[oldRow.length * k];
    float[] items = new float[oldCol.length * k];
    BitSet knownUsers = new BitSet(oldRow.length);
    BitSet knownItems = new BitSet(oldCol.length);
    float[] userBias = new float[oldRow.length];
    float[] itemBias = new float[oldCol.length];
    float[] row = new float[k];
    for (int r = 0; r < oldRow.length; r++) {
      if (oldRow[r] >= 0) {
        model.userVector(oldRow[r], row);
        System.arraycopy(row, 0, users, r * k, k);
        knownUsers.set(r);
        userBias[r] = model.userBias(oldRow[r]);
      }
    }
    for (int c = 0; c < oldCol.length; c++) {
      if (oldCol[c] >= 0) {
        model.itemVector(oldCol[c], row);
        System.arraycopy(row, 0, items, c * k, k);
        knownItems.set(c);
        itemBias[c] = model.itemBias(oldCol[c]);
      }
    }
    FactorModel.Biases biases = model.hasBiases()
        ? new FactorModel.Biases(model.globalMean(), userBias, itemBias) : null;
    return new WarmStart(k, users, knownUsers, items, knownItems, biases);
  }

  /** {@code 0, 1, …, n − 1}, then {@code extra} entries of -1 (rows the model lacks). */
  public static int[] prefix(int n, int extra) {
    int[] map = new int[n + extra];
    for (int i = 0; i < map.length; i++) {
      map[i] = i < n ? i : -1;
    }
    return map;
  }

  /**
   * The entries of {@code m} in its first {@code rows} rows and {@code cols} columns, as a
   * matrix of that shape with the same absent entries: "yesterday's" data, to which today's
   * {@code m} added rows and columns.
   */
  public static TrainingMatrix topLeft(TrainingMatrix m, int rows, int cols) {
    int[] rr = new int[m.nnz()];
    int[] cc = new int[m.nnz()];
    float[] vv = new float[m.nnz()];
    int n = 0;
    for (int r = 0; r < rows; r++) {
      for (int p = m.rowStart(r); p < m.rowEnd(r); p++) {
        if (m.rowColumn(p) < cols) {
          rr[n] = r;
          cc[n] = m.rowColumn(p);
          vv[n++] = m.rowValue(p);
        }
      }
    }
    return TrainingMatrix.fromCoordinates(rows, cols, Arrays.copyOf(rr, n), Arrays.copyOf(cc, n),
        Arrays.copyOf(vv, n), m.absentEntries());
  }

  private static int[] identity(int n) {
    return prefix(n, 0);
  }
}
