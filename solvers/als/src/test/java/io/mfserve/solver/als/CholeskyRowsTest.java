package io.mfserve.solver.als;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The row-wise Cholesky against the flat one, and each form of {@link RowKernels} against a
 * dense reference solve.
 */
class CholeskyRowsTest {
  static Stream<Arguments> widthsAndKernels() {
    Stream.Builder<Arguments> b = Stream.builder();
    for (RowKernels kernels : RowKernels.available()) {
      // Around the vector form's hand-over width (16), its pairs of rows and its 8 lanes.
      for (int w : new int[] {1, 2, 3, 5, 11, 15, 16, 17, 19, 24, 33, 64, 65, 66, 67, 128, 129}) {
        b.add(Arguments.of(w, kernels));
      }
    }
    return b.build();
  }

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

  /** R of A = RᵀR, upper triangle, by the textbook inner-product form. */
  private static double[] referenceCholesky(double[] a, int w) {
    double[] r = new double[w * w];
    for (int x = 0; x < w; x++) {
      double d = a[x * w + x];
      for (int t = 0; t < x; t++) {
        d -= r[t * w + x] * r[t * w + x];
      }
      r[x * w + x] = Math.sqrt(d);
      for (int c = x + 1; c < w; c++) {
        double s = a[x * w + c];
        for (int t = 0; t < x; t++) {
          s -= r[t * w + x] * r[t * w + c];
        }
        r[x * w + c] = s / r[x * w + x];
      }
    }
    return r;
  }

  @org.junit.jupiter.api.Test
  void factor_twoByTwo_leavesReciprocalPivotsAndEliminatedRows() {
    // A = [[4, 2], [2, 3]]: d₁ = 4, u₁₂ = 2, d₂ = 3 − 2·2/4 = 2; A⁻¹ (2, 1) = (0.5, 0).
    double[] m = {4, 2, 2, 3};
    assertTrue(Cholesky.factor(m, 2, new double[] {4, 3}));
    assertArrayEquals(new double[] {0.25, 2, 0.5}, new double[] {m[0], m[1], m[3]}, 0.0);
    double[] x = new double[2];
    Cholesky.solve(m, new double[] {2, 1}, x, 2);
    assertArrayEquals(new double[] {0.5, 0}, x, 1e-15);
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

  @ParameterizedTest(name = "w={0} {1}")
  @MethodSource("widthsAndKernels")
  void kernels_randomSpd_solveTheSystem(int w, RowKernels kernels) {
    Random rnd = new Random(100 + w);
    double[] a = spd(rnd, w);
    double[] diag = new double[w];
    for (int f = 0; f < w; f++) {
      diag[f] = a[f * w + f];
    }
    double[] m = a.clone();
    // Garbage in the scratch rows, as a worker's rows hold the previous system's R.
    double[][] rows = kernels.systemRows(w);
    for (double[] row : rows) {
      java.util.Arrays.fill(row, 1e300);
    }
    assertTrue(kernels.factor(m, w, diag, rows));
    // Where the kernels leave which factors: see RowKernels.factor.
    boolean rowsHoldR = w >= Cholesky.ROWS_MIN_WIDTH && kernels != RowKernels.SCALAR;
    double[] expectedFactors = a.clone();
    if (rowsHoldR) {
      expectedFactors = referenceCholesky(a, w);
    } else {
      assertTrue(Cholesky.factor(expectedFactors, w, diag));
    }
    for (int x = 0; x < w; x++) {
      for (int c = x; c < w; c++) {
        double r = expectedFactors[x * w + c];
        double actual = rowsHoldR ? rows[x][c] : m[x * w + c];
        assertEquals(r, actual, 1e-12 * (1 + Math.abs(r)) * w, "factor[" + x + "][" + c + "]");
      }
    }
    double[] b = new double[w];
    for (int f = 0; f < w; f++) {
      b[f] = rnd.nextGaussian();
    }
    double[] expected = ReferenceKernels.solve(a, b, w);
    double[] x = new double[w];
    kernels.solve(m, rows, b.clone(), x, w);
    assertArrayEquals(expected, x, 1e-9 * w);
  }

  @ParameterizedTest(name = "w={0} {1}")
  @MethodSource("widthsAndKernels")
  void kernels_singularOrNonFinite_returnFalse(int w, RowKernels kernels) {
    double[] ones = new double[w * w];
    java.util.Arrays.fill(ones, 1);
    double[] diag = new double[w];
    java.util.Arrays.fill(diag, 1);
    // All ones is singular from w = 2 on; w = 1 is the positive 1 × 1 matrix [1].
    assertEquals(w == 1, kernels.factor(ones, w, diag, kernels.systemRows(w)));
    double[] nan = spd(new Random(w), w);
    nan[(w / 2) * w + w - 1] = Double.NaN;
    for (int f = 0; f < w; f++) {
      diag[f] = nan[f * w + f];
    }
    assertFalse(kernels.factor(nan, w, diag, kernels.systemRows(w)));
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
