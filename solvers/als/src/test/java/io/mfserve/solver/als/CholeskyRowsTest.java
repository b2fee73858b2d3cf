package io.mfserve.solver.als;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The row-wise Cholesky against the flat one and against a dense reference solve. */
class CholeskyRowsTest {
  /** A random SPD matrix BᵀB + I, both triangles filled. */
  private static double[] spd(Random rnd, int w) {
    double[] b = new double[w * w];
    for (int e = 0; e < b.length; e++) {
      b[e] = rnd.nextGaussian();
    }
    double[] a = new double[w * w];
    for (int x = 0; x < w; x++) {
      for (int c = 0; c < w; c++) {
        double s = x == c ? 1 : 0;
        for (int t = 0; t < w; t++) {
          s += b[t * w + x] * b[t * w + c];
        }
        a[x * w + c] = s;
      }
    }
    return a;
  }

  @ParameterizedTest(name = "w={0}")
  @ValueSource(ints = {1, 2, 3, 8, 17, 64, 65, 128})
  void factorRows_randomSpd_equalsFlatFactorAndSolvesTheSystem(int w) {
    Random rnd = new Random(w);
    double[] a = spd(rnd, w);
    double[] diag = new double[w];
    for (int f = 0; f < w; f++) {
      diag[f] = a[f * w + f];
    }
    double[] flat = a.clone();
    double[] rowwise = a.clone();

    assertTrue(Cholesky.factor(flat, w, diag));
    assertTrue(Cholesky.factor(rowwise, w, diag, new double[w][w]));

    for (int x = 0; x < w; x++) {
      for (int c = x; c < w; c++) {
        assertEquals(flat[x * w + c], rowwise[x * w + c], 0.0, "R[" + x + "][" + c + "]");
      }
    }
    double[] b = new double[w];
    for (int f = 0; f < w; f++) {
      b[f] = rnd.nextGaussian();
    }
    double[] expected = ReferenceKernels.solve(a, b, w);
    double[] x = new double[w];
    Cholesky.solve(rowwise, b.clone(), x, w);
    assertArrayEquals(expected, x, 1e-9 * w);
  }

  @ParameterizedTest(name = "w={0}")
  @ValueSource(ints = {2, 17, 64})
  void factorRows_singularMatrix_returnsFalse(int w) {
    double[] a = new double[w * w];
    double[] diag = new double[w];
    for (int x = 0; x < w; x++) {
      for (int c = 0; c < w; c++) {
        a[x * w + c] = 1;
      }
      diag[x] = 1;
    }
    assertFalse(Cholesky.factor(a, w, diag, new double[w][w]));
  }
}
