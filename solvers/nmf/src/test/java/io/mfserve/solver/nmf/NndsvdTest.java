package io.mfserve.solver.nmf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mfserve.solver.AbsentEntries;
import io.mfserve.solver.TrainingMatrix;
import java.util.Random;
import java.util.concurrent.ForkJoinPool;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** The randomized SVD, its Jacobi eigensolver, and the NNDSVD starts built on them. */
class NndsvdTest {
  private static final ForkJoinPool POOL = new ForkJoinPool(2);

  @AfterAll
  static void stop() {
    POOL.shutdown();
  }

  /**
   * Two topics on disjoint columns: rows 0-3 use columns 0-2, rows 4-7 columns 3-5, with some
   * variation, so the second singular pair has both signs and NNDSVD's second column has zeros.
   */
  private static TrainingMatrix twoBlocks() {
    int rows = 8;
    int cols = 6;
    float[] x = new float[rows * cols];
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        boolean same = (r < 4) == (c < 3);
        x[r * cols + c] = same ? 2 + (r % 4) * 0.5f + c % 3 : 0;
      }
    }
    return TrainingMatrix.fromDense(rows, cols, x, AbsentEntries.ZERO);
  }

  private static float[][] start(Init init, TrainingMatrix x, int k, long seed) {
    return Initializer.start(init, x, k, seed, true, POOL, () -> { });
  }

  @Test
  void symmetricEigen_randomMatrix_decomposesSortedAndOrthonormal() {
    int n = 7;
    Random rnd = new Random(3);
    double[] a = new double[n * n];
    for (int i = 0; i < n; i++) {
      for (int j = i; j < n; j++) {
        a[i * n + j] = rnd.nextGaussian();
        a[j * n + i] = a[i * n + j];
      }
    }
    SymmetricEigen e = SymmetricEigen.of(a, n);
    for (int j = 0; j < n; j++) {
      if (j > 0) {
        assertTrue(e.values[j - 1] >= e.values[j]);
      }
      for (int i = 0; i < n; i++) {
        double av = 0;
        for (int c = 0; c < n; c++) {
          av += a[i * n + c] * e.vectors[c * n + j];
        }
        assertEquals(e.values[j] * e.vectors[i * n + j], av, 1e-10);
      }
      for (int m = 0; m < n; m++) {
        double dot = 0;
        for (int i = 0; i < n; i++) {
          dot += e.vectors[i * n + j] * e.vectors[i * n + m];
        }
        assertEquals(j == m ? 1 : 0, dot, 1e-10);
      }
    }
  }

  @Test
  void randomizedSvd_exactRankTwo_findsItsSingularValuesAndVectors() {
    // X = 5 u1 v1ᵀ + 2 u2 v2ᵀ with orthonormal u's (30) and v's (20), stored sparse with zeros.
    int rows = 30;
    int cols = 20;
    double[] u1 = new double[rows];
    double[] u2 = new double[rows];
    double[] v1 = new double[cols];
    double[] v2 = new double[cols];
    for (int i = 0; i < rows; i++) {
      u1[i] = i < 15 ? 1 / Math.sqrt(15) : 0;
      u2[i] = i < 15 ? 0 : 1 / Math.sqrt(15);
    }
    for (int j = 0; j < cols; j++) {
      v1[j] = 1 / Math.sqrt(cols);
      v2[j] = (j % 2 == 0 ? 1 : -1) / Math.sqrt(cols);
    }
    float[] x = new float[rows * cols];
    for (int i = 0; i < rows; i++) {
      for (int j = 0; j < cols; j++) {
        x[i * cols + j] = (float) (5 * u1[i] * v1[j] + 2 * u2[i] * v2[j]);
      }
    }
    TrainingMatrix m = NmfObjectivesTest.nonZeros(x, rows, cols, AbsentEntries.ZERO);
    RandomizedSvd.Result svd = RandomizedSvd.compute(m, 3, 7, POOL, () -> { });
    assertEquals(5, svd.sigma()[0], 1e-4);
    assertEquals(2, svd.sigma()[1], 1e-4);
    assertEquals(0, svd.sigma()[2], 1e-3);
    // U Σ Vᵀ reproduces X.
    for (int i = 0; i < rows; i++) {
      for (int j = 0; j < cols; j++) {
        double y = 0;
        for (int t = 0; t < 3; t++) {
          y += svd.u()[i * 3 + t] * svd.sigma()[t] * svd.v()[j * 3 + t];
        }
        assertEquals(x[i * cols + j], y, 1e-4);
      }
    }
  }

  @Test
  void nndsvd_rankOneNonNegative_isExact() {
    int rows = 5;
    int cols = 4;
    float[] x = new float[rows * cols];
    for (int i = 0; i < rows; i++) {
      for (int j = 0; j < cols; j++) {
        x[i * cols + j] = (i + 1) * (j + 0.5f);
      }
    }
    float[][] wh = start(Init.NNDSVD, TrainingMatrix.fromDense(rows, cols, x,
        AbsentEntries.ZERO), 1, 1);
    for (int i = 0; i < rows; i++) {
      for (int j = 0; j < cols; j++) {
        assertEquals(x[i * cols + j], wh[0][i] * wh[1][j], 1e-4 * x[i * cols + j]);
      }
    }
  }

  @Test
  void nndsvd_sameSeed_sameStartAndNonNegative() {
    TrainingMatrix x = contrast();
    for (Init init : new Init[] {Init.NNDSVD, Init.NNDSVDA, Init.NNDSVDAR}) {
      float[][] a = start(init, x, 2, 5);
      float[][] b = start(init, x, 2, 5);
      assertArrayEquals(a[0], b[0], init.toString());
      assertArrayEquals(a[1], b[1], init.toString());
      for (float[] f : a) {
        for (float v : f) {
          assertTrue(v >= 0 && Float.isFinite(v), init + ": " + v);
        }
      }
    }
  }

  /**
   * A common level plus a contrast: rows 0-3 favour columns 0-2, rows 4-7 columns 3-5. The
   * second singular pair is that contrast, positive on one block and negative on the other, so
   * NNDSVD's second column is exactly zero on half the rows and columns.
   */
  private static TrainingMatrix contrast() {
    int rows = 8;
    int cols = 6;
    float[] x = new float[rows * cols];
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        x[r * cols + c] = ((r < 4) == (c < 3) ? 3 : 1) + 0.1f * (r % 3) + 0.05f * c;
      }
    }
    return TrainingMatrix.fromDense(rows, cols, x, AbsentEntries.ZERO);
  }

  @Test
  void nndsvdVariants_fillExactlyTheZerosOfNndsvd() {
    TrainingMatrix x = contrast();
    double mean = x.mean() * x.nnz() / ((double) x.rows() * x.cols());
    float[][] plain = start(Init.NNDSVD, x, 2, 5);
    float[][] a = start(Init.NNDSVDA, x, 2, 5);
    float[][] ar = start(Init.NNDSVDAR, x, 2, 5);
    int zeros = 0;
    for (int side = 0; side < 2; side++) {
      for (int n = 0; n < plain[side].length; n++) {
        if (plain[side][n] == 0) {
          zeros++;
          assertEquals((float) mean, a[side][n], "nndsvda fills a zero with the mean");
          assertTrue(ar[side][n] > 0 && ar[side][n] < mean, "nndsvdar: small, positive "
              + ar[side][n]);
        } else {
          assertEquals(plain[side][n], a[side][n]);
          assertEquals(plain[side][n], ar[side][n]);
        }
        assertTrue(a[side][n] > 0 && ar[side][n] > 0);
      }
    }
    // The second pair keeps one block of each side and zeros the other: 4 rows and 3 columns.
    assertTrue(zeros >= 7, "zeros in plain NNDSVD: " + zeros);
    for (int r = 0; r < 8; r++) {
      assertTrue(plain[0][r * 2] > 0, "the first pair is positive");
    }
  }

  @Test
  void fit_nndsvdStartOnTwoBlocks_separatesThem() {
    TrainingMatrix x = twoBlocks();
    NmfSolverProvider p = new NmfSolverProvider();
    io.mfserve.solver.FactorModel m;
    try (io.mfserve.solver.testing.TestFitContext c =
        new io.mfserve.solver.testing.TestFitContext(2)) {
      m = p.create(new io.mfserve.solver.SolverConfig(2, 1, AbsentEntries.ZERO,
          io.mfserve.solver.Parameters.resolve(p.parameters(), java.util.Map.of("init",
              "nndsvd", "max_iterations", "100")))).fit(x, c);
    }
    // Each block's rows load on one factor only: the other is (near) zero.
    for (int r = 0; r < 8; r++) {
      float f0 = m.userFactor(r, 0);
      float f1 = m.userFactor(r, 1);
      assertTrue(Math.min(f0, f1) < 1e-3 * Math.max(f0, f1), "row " + r + ": " + f0 + ", " + f1);
    }
  }
}
