package io.mfserve.client;

import io.mfserve.proto.v1.DenseMatrix;
import io.mfserve.proto.v1.Matrix;

/**
 * Builds {@link Matrix} messages from Java arrays.
 *
 * <p>A dense matrix's rows are users (documents) and its columns items (terms); the server names
 * them by position, 0 to n-1. The arrays are copied, so later changes to them do not affect the
 * message.
 */
public final class Matrices {
  private Matrices() {}

  /**
   * A dense matrix from a rectangular array.
   *
   * @param rows the entries, one array per row, all of the same non-zero length
   * @return the matrix message
   * @throws IllegalArgumentException if the array is empty or ragged
   */
  public static Matrix dense(float[][] rows) {
    int cols = checkShape(rows.length, rows.length == 0 ? 0 : rows[0].length);
    DenseMatrix.Builder b = DenseMatrix.newBuilder().setRows(rows.length).setCols(cols);
    for (int i = 0; i < rows.length; i++) {
      checkRow(i, rows[i].length, cols);
      for (float v : rows[i]) {
        b.addValues(v);
      }
    }
    return Matrix.newBuilder().setDense(b).build();
  }

  /**
   * A dense matrix from a rectangular array of doubles, narrowed to float32 (the server's
   * precision).
   *
   * @param rows the entries, one array per row, all of the same non-zero length
   * @return the matrix message
   * @throws IllegalArgumentException if the array is empty or ragged
   */
  public static Matrix dense(double[][] rows) {
    int cols = checkShape(rows.length, rows.length == 0 ? 0 : rows[0].length);
    DenseMatrix.Builder b = DenseMatrix.newBuilder().setRows(rows.length).setCols(cols);
    for (int i = 0; i < rows.length; i++) {
      checkRow(i, rows[i].length, cols);
      for (double v : rows[i]) {
        b.addValues((float) v);
      }
    }
    return Matrix.newBuilder().setDense(b).build();
  }

  private static int checkShape(int rows, int cols) {
    if (rows == 0 || cols == 0) {
      throw new IllegalArgumentException(
          "the matrix is empty (" + rows + " x " + cols + "); it needs at least one row and"
              + " column");
    }
    return cols;
  }

  private static void checkRow(int i, int length, int cols) {
    if (length != cols) {
      throw new IllegalArgumentException(
          "row " + i + " has " + length + " entries but row 0 has " + cols
              + "; a dense matrix must be rectangular");
    }
  }
}
