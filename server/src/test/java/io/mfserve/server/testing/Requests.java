package io.mfserve.server.testing;

import io.mfserve.proto.v1.DenseMatrix;
import io.mfserve.proto.v1.FitRequest;
import io.mfserve.proto.v1.Matrix;
import io.mfserve.proto.v1.SparseMatrix;
import java.util.Random;

/** Builders for the request messages tests send. */
public final class Requests {
  private Requests() { }

  /** The seed example: rows × cols random integers 0..5. */
  public static Matrix seedMatrix(int rows, int cols, long seed) {
    Random rnd = new Random(seed);
    DenseMatrix.Builder d = DenseMatrix.newBuilder().setRows(rows).setCols(cols);
    for (int n = 0; n < rows * cols; n++) {
      d.addValues(rnd.nextInt(6));
    }
    return Matrix.newBuilder().setDense(d).build();
  }

  /**
   * A sparse rank-2 rating-like matrix with int64 ids that are not contiguous
   * (user u is id 1000 + 7u, item i is id 50 + 3i), about {@code density} observed.
   */
  public static Matrix sparseRatings(int users, int items, double density, long seed) {
    Random rnd = new Random(seed);
    double[][] u = new double[users][2];
    double[][] v = new double[items][2];
    for (double[] row : u) {
      row[0] = 1 + rnd.nextDouble();
      row[1] = rnd.nextDouble();
    }
    for (double[] row : v) {
      row[0] = 1 + rnd.nextDouble();
      row[1] = rnd.nextDouble();
    }
    SparseMatrix.Builder s = SparseMatrix.newBuilder();
    for (int a = 0; a < users; a++) {
      for (int b = 0; b < items; b++) {
        if (a % items == b || rnd.nextDouble() < density) {
          s.addRowIds(1000 + 7L * a).addColIds(50 + 3L * b)
              .addValues((float) (u[a][0] * v[b][0] + u[a][1] * v[b][1]));
        }
      }
    }
    return Matrix.newBuilder().setSparse(s).build();
  }

  /** A Fit of {@code matrix} with {@code solver} and {@code k} factors. */
  public static FitRequest.Builder fit(String solver, int k, Matrix matrix) {
    return FitRequest.newBuilder().setSolver(solver).setNumFactors(k).setMatrix(matrix);
  }
}
