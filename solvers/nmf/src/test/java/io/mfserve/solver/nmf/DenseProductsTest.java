package io.mfserve.solver.nmf;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.mfserve.solver.AbsentEntries;
import io.mfserve.solver.TrainingMatrix;
import java.util.Random;
import java.util.concurrent.ForkJoinPool;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The SIMD-shaped dense kernels against plain double-precision loops. */
class DenseProductsTest {

  private static float[] randomNonNegative(int n, Random rnd, double zeroShare) {
    float[] a = new float[n];
    for (int i = 0; i < n; i++) {
      a[i] = rnd.nextDouble() < zeroShare ? 0f : rnd.nextFloat();
    }
    return a;
  }

  /** {@code X F} (rows) or {@code Xᵀ F} in double, F row-major. */
  private static double[] reference(float[] x, int rows, int cols, float[] f, int k,
      boolean byRows) {
    int n = byRows ? rows : cols;
    int inner = byRows ? cols : rows;
    double[] out = new double[n * k];
    for (int a = 0; a < n; a++) {
      for (int b = 0; b < inner; b++) {
        double v = byRows ? x[a * cols + b] : x[b * cols + a];
        for (int t = 0; t < k; t++) {
          out[a * k + t] += v * f[b * k + t];
        }
      }
    }
    return out;
  }

  private static void assertClose(double expected, double actual, String where) {
    assertEquals(expected, actual, 1e-5 * Math.max(1, Math.abs(expected)), where);
  }

  @ParameterizedTest
  @CsvSource({"70, 1101, 5", "600, 131, 8", "97, 65, 1", "33, 200, 20"})
  void tiles_randomCases_equalPlainProduct(int rows, int cols, int k) {
    Random rnd = new Random(rows * 31L + cols + k);
    float[] x = randomNonNegative(rows * cols, rnd, 0.2);
    TrainingMatrix m = TrainingMatrix.fromDense(rows, cols, x, AbsentEntries.ZERO);
    // Factors with exact zeros, which the kernels skip.
    float[] h = randomNonNegative(cols * k, rnd, 0.4);
    float[] w = randomNonNegative(rows * k, rnd, 0.4);
    int tile = DenseProducts.tile(k);
    DenseProducts.Workspace ws = new DenseProducts.Workspace(k, tile);
    double[] xh = reference(x, rows, cols, h, k, true);
    for (int lo = 0; lo < rows; lo += tile) {
      int hi = Math.min(rows, lo + tile);
      DenseProducts.rowsTimes(m, lo, hi, h, k, ws);
      for (int r = lo; r < hi; r++) {
        for (int t = 0; t < k; t++) {
          assertClose(xh[r * k + t], ws.out[t][r - lo], "X H (" + r + ", " + t + ")");
        }
      }
    }
    double[] xtw = reference(x, rows, cols, w, k, false);
    for (int lo = 0; lo < cols; lo += tile) {
      int hi = Math.min(cols, lo + tile);
      DenseProducts.colsTimes(m, lo, hi, w, k, ws);
      for (int c = lo; c < hi; c++) {
        for (int t = 0; t < k; t++) {
          assertClose(xtw[c * k + t], ws.out[t][c - lo], "Xᵀ W (" + c + ", " + t + ")");
        }
      }
    }
    float[] out = new float[rows * k];
    DenseProducts.times(m, true, h, k, out, ForkJoinPool.commonPool());
    for (int n = 0; n < out.length; n++) {
      assertClose(xh[n], out[n], "times " + n);
    }
  }

  @ParameterizedTest
  @CsvSource({"300, 40, 7, 0, 0", "130, 50, 12, 0.3, 0.2"})
  void halsTile_onePass_equalsRowByRowHals(int rows, int cols, int k, double l1, double l2) {
    Random rnd = new Random(rows + k);
    TrainingMatrix m = TrainingMatrix.fromDense(rows, cols,
        randomNonNegative(rows * cols, rnd, 0.1), AbsentEntries.ZERO);
    float[] w = randomNonNegative(rows * k, rnd, 0.3);
    float[] h = randomNonNegative(cols * k, rnd, 0.3);
    FullUpdater u = new FullUpdater(m, k, Penalty.of(0, 0, 0, 0, rows, cols), Method.HALS, 1,
        false, w.clone(), h, ForkJoinPool.commonPool());
    // A symmetric positive semi-definite G (a Gram matrix) and right-hand sides a.
    float[] g0 = randomNonNegative(3 * k * k, rnd, 0.2);
    double[] gram = new double[k * k];
    for (int a = 0; a < k; a++) {
      for (int b = 0; b < k; b++) {
        for (int n = 0; n < 3 * k; n++) {
          gram[a * k + b] += (double) g0[n * k + a] * g0[n * k + b];
        }
      }
    }
    DenseProducts.Workspace ws = new DenseProducts.Workspace(k, DenseProducts.tile(k));
    int len = Math.min(rows, DenseProducts.tile(k));
    double[][] rhs = new double[len][k];
    for (int r = 0; r < len; r++) {
      for (int t = 0; t < k; t++) {
        rhs[r][t] = 3 * rnd.nextDouble();
        ws.out[t][r] = rhs[r][t];
      }
    }
    float[] tiled = w.clone();
    double tileViolation = u.halsTile(tiled, 0, len, gram, ws, l1, l2, 1);
    float[] rowWise = w.clone();
    double[] s = new double[(int) Updater.scratchPerBlock(k)];
    double rowViolation = 0;
    for (int r = 0; r < len; r++) {
      System.arraycopy(rhs[r], 0, s, k * k, k);
      rowViolation += u.hals(rowWise, r * k, gram, 0, s, k * k, k * k + k, l1, l2, 1);
    }
    // Both measure the projected gradient where the rows started (the tile in floats).
    assertEquals(rowViolation, tileViolation, 1e-4 * rowViolation, "violation");
    for (int n = 0; n < len * k; n++) {
      assertEquals(rowWise[n], tiled[n], 1e-5 * Math.max(1, Math.abs(rowWise[n])), "entry " + n);
    }
    for (int n = len * k; n < rows * k; n++) {
      assertEquals(w[n], tiled[n], "rows past the tile are untouched");
    }
  }
}
