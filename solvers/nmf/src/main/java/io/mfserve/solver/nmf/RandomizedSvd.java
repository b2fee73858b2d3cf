package io.mfserve.solver.nmf;

import io.mfserve.solver.TrainingMatrix;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.ForkJoinPool;

/**
 * A truncated SVD {@code X ≈ U diag(σ) Vᵀ} of the training matrix, absent entries read as zeros,
 * by randomized subspace iteration (N. Halko, P.-G. Martinsson and J. A. Tropp, "Finding
 * structure with randomness", SIAM Review 53(2), 2011, Algorithms 4.4 and 5.1): a seeded
 * Gaussian test matrix Ω (cols × l, l = k + {@link #OVERSAMPLING}), {@code Q = orth(X Ω)},
 * {@link #POWER_ITERATIONS} rounds of {@code Q = orth(X orth(Xᵀ Q))}, then the small problem
 * {@code B = Qᵀ X}: the eigenvectors Ũ of {@code B Bᵀ} (l × l) give {@code U = Q Ũ},
 * {@code σ² =} their eigenvalues and {@code V = Bᵀ Ũ / σ}.
 *
 * <p>X is touched only through products with thin dense matrices, {@code X·Z} row by row over
 * the CSR form and {@code Xᵀ·Q} column by column over the CSC form, so a sparse matrix is never
 * densified. Bases are orthonormalised by SVQB (A. Stathopoulos and K. Wu, "A block orthogonal
 * iteration...", SIAM J. Sci. Comput. 23(6), 2002): {@code Q ← Q E Λ^{-1/2}} from the
 * eigendecomposition {@code QᵀQ = E Λ Eᵀ}, directions with {@code λ ≤ 1e-12 λ_max} dropped, which
 * survives an X of rank below l. Working memory: one rows × l and one cols × l float array.
 * Products run in fixed blocks on the pool and are combined in block order, so the result is the
 * same on any number of threads.
 */
final class RandomizedSvd {
  /** Extra columns beyond k; Halko et al. recommend 5 to 10. */
  static final int OVERSAMPLING = 10;
  /**
   * Rounds of subspace iteration. Each costs two passes over X; one is enough for an NMF start,
   * which only needs the leading directions roughly right (scikit-learn's 4 to 7 buy accuracy
   * the iterations that follow throw away: on the 20,000 × 10,000 planted-topic benchmark one
   * and two rounds give the same fit, in the same sweeps).
   */
  static final int POWER_ITERATIONS = 1;

  /** The rank-k result: U (rows × k) and V (cols × k) row-major, σ largest first. */
  record Result(float[] u, double[] sigma, float[] v) { }

  private final TrainingMatrix x;
  private final ForkJoinPool pool;
  private final Blocks rowBlocks;
  private final Blocks colBlocks;

  private RandomizedSvd(TrainingMatrix x, ForkJoinPool pool) {
    this.x = x;
    this.pool = pool;
    this.rowBlocks = new Blocks(x.rows());
    this.colBlocks = new Blocks(x.cols());
  }

  /** Returns the width l of the working bases for rank {@code k} of a rows × cols matrix. */
  static int width(int k, int rows, int cols) {
    return Math.max(k, Math.min(k + OVERSAMPLING, Math.min(rows, cols)));
  }

  /** Returns the bytes {@link #compute} allocates beyond its result. */
  static long workingBytes(int k, long rows, long cols) {
    long l = k + OVERSAMPLING;
    return (rows + cols) * l * Float.BYTES + 4 * l * l * Double.BYTES
        + Blocks.MAX_BLOCKS * (l * l + l) * Double.BYTES;
  }

  /**
   * Computes the rank-k truncated SVD.
   *
   * @param k the rank, at most min(rows, cols)
   * @param seed seeds Ω
   * @param cancelled checked between passes over X; throws to stop
   */
  static Result compute(TrainingMatrix x, int k, long seed, ForkJoinPool pool,
      Runnable cancelled) {
    return new RandomizedSvd(x, pool).run(k, seed, cancelled);
  }

  private Result run(int k, long seed, Runnable cancelled) {
    int rows = x.rows();
    int cols = x.cols();
    int l = width(k, rows, cols);
    float[] z = new float[cols * l];
    Random rnd = new Random(seed);
    for (int n = 0; n < z.length; n++) {
      z[n] = (float) rnd.nextGaussian();
    }
    float[] q = new float[rows * l];
    times(true, z, q, l);
    orthonormalise(q, rowBlocks, l);
    for (int it = 0; it < POWER_ITERATIONS; it++) {
      cancelled.run();
      times(false, q, z, l);
      orthonormalise(z, colBlocks, l);
      times(true, z, q, l);
      orthonormalise(q, rowBlocks, l);
    }
    cancelled.run();
    // z = Xᵀ Q = Bᵀ (cols × l); B Bᵀ = zᵀ z.
    times(false, q, z, l);
    SymmetricEigen eig = SymmetricEigen.of(gram(z, colBlocks, l), l);
    double[] sigma = new double[k];
    double[] uTilde = new double[l * k];
    double[] vScale = new double[l * k];
    for (int j = 0; j < k; j++) {
      double lambda = Math.max(0, eig.values[j]);
      sigma[j] = Math.sqrt(lambda);
      for (int r = 0; r < l; r++) {
        double e = eig.vectors[r * l + j];
        uTilde[r * k + j] = e;
        vScale[r * k + j] = sigma[j] > 0 ? e / sigma[j] : 0;
      }
    }
    float[] u = new float[rows * k];
    float[] v = new float[cols * k];
    multiply(q, rowBlocks, l, uTilde, k, u);
    multiply(z, colBlocks, l, vScale, k, v);
    return new Result(u, sigma, v);
  }

  /**
   * {@code out (rows × l) = X · in (cols × l)} over the CSR form when {@code rows}, else
   * {@code out (cols × l) = Xᵀ · in (rows × l)} over the CSC form.
   */
  private void times(boolean rows, float[] in, float[] out, int l) {
    if (x.isDense()) {
      DenseProducts.times(x, rows, in, l, out, pool);
      return;
    }
    Blocks blocks = rows ? rowBlocks : colBlocks;
    blocks.forEach(pool, b -> {
      double[] acc = new double[l];
      for (int i = blocks.start(b); i < blocks.end(b); i++) {
        if (rows) {
          Products.rowTimes(x, i, in, l, acc, 0);
        } else {
          Products.colTimes(x, i, in, l, acc, 0);
        }
        for (int t = 0; t < l; t++) {
          out[i * l + t] = (float) acc[t];
        }
      }
    });
  }

  /** Returns {@code aᵀ a} (l × l) of an n × l array, summed per block in block order. */
  private double[] gram(float[] a, Blocks blocks, int l) {
    double[][] partial = new double[blocks.count()][l * l];
    blocks.forEach(pool, b -> {
      double[] g = partial[b];
      for (int i = blocks.start(b); i < blocks.end(b); i++) {
        int base = i * l;
        for (int r = 0; r < l; r++) {
          double ar = a[base + r];
          if (ar == 0) {
            continue;
          }
          for (int c = r; c < l; c++) {
            g[r * l + c] += ar * a[base + c];
          }
        }
      }
    });
    double[] g = new double[l * l];
    for (double[] p : partial) {
      for (int n = 0; n < g.length; n++) {
        g[n] += p[n];
      }
    }
    for (int r = 0; r < l; r++) {
      for (int c = 0; c < r; c++) {
        g[r * l + c] = g[c * l + r];
      }
    }
    return g;
  }

  /** SVQB: makes the columns of the n × l array {@code a} orthonormal (or zero), in place. */
  private void orthonormalise(float[] a, Blocks blocks, int l) {
    SymmetricEigen eig = SymmetricEigen.of(gram(a, blocks, l), l);
    double floor = 1e-12 * Math.max(eig.values[0], 0);
    double[] t = new double[l * l];
    for (int j = 0; j < l; j++) {
      double lambda = eig.values[j];
      double scale = lambda > floor && lambda > 0 ? 1 / Math.sqrt(lambda) : 0;
      for (int r = 0; r < l; r++) {
        t[r * l + j] = eig.vectors[r * l + j] * scale;
      }
    }
    multiply(a, blocks, l, t, l, a);
  }

  /**
   * {@code out (n × m) = a (n × l) · t (l × m)}, row by row; {@code out} may be {@code a} when
   * m = l, since each row is read whole before it is written.
   */
  private void multiply(float[] a, Blocks blocks, int l, double[] t, int m, float[] out) {
    blocks.forEach(pool, b -> {
      double[] row = new double[l];
      double[] acc = new double[m];
      for (int i = blocks.start(b); i < blocks.end(b); i++) {
        for (int r = 0; r < l; r++) {
          row[r] = a[i * l + r];
        }
        Arrays.fill(acc, 0);
        for (int r = 0; r < l; r++) {
          double ar = row[r];
          if (ar == 0) {
            continue;
          }
          for (int c = 0; c < m; c++) {
            acc[c] += ar * t[r * m + c];
          }
        }
        for (int c = 0; c < m; c++) {
          out[i * m + c] = (float) acc[c];
        }
      }
    });
  }
}
