package io.mfserve.solver.nmf;

import io.mfserve.solver.TrainingMatrix;
import java.util.concurrent.ForkJoinPool;

/**
 * One way of sweeping W and then H once. A subclass owns the loss it minimises; the shared row
 * kernels below are the HALS and multiplicative steps for one row of a factor, given the Gram
 * matrix and the right-hand side of that row's least-squares problem.
 *
 * <p>For a row f (length k) of either factor, the subproblem is
 * {@code min_{f ≥ 0} ½ fᵀ G f − aᵀ f + ½ λ ‖f‖²}, where G is the Gram matrix of the other factor
 * (HᵀH for a row of W; the rows restricted to observed entries in the weighted case) and a the
 * matching row of X H (or Xᵀ W). Not thread-safe: one fit drives it from one thread, and each
 * block of rows it fans out writes only its own rows and its own scratch.
 */
abstract class Updater {
  /** Keeps a multiplicative update's denominator off zero (0/0 when a row has no signal). */
  static final double EPS = 1e-16;

  final TrainingMatrix x;
  final int k;
  final double lambda;
  final Method method;
  final float[] w;
  final float[] h;
  final ForkJoinPool pool;
  final Blocks rowBlocks;
  final Blocks colBlocks;
  /** One buffer per block, reused by every pass, so the row loops allocate nothing. */
  final double[][] scratch;

  Updater(TrainingMatrix x, int k, double lambda, Method method, float[] w, float[] h,
      ForkJoinPool pool, int scratchPerBlock) {
    this.x = x;
    this.k = k;
    this.lambda = lambda;
    this.method = method;
    this.w = w;
    this.h = h;
    this.pool = pool;
    this.rowBlocks = new Blocks(x.rows());
    this.colBlocks = new Blocks(x.cols());
    this.scratch = new double[Math.max(rowBlocks.count(), colBlocks.count())][scratchPerBlock];
  }

  /** Returns the doubles of scratch one block needs for rank {@code k}. */
  static long scratchPerBlock(int k) {
    return (long) k * k + 2L * k + 2;
  }

  /** Updates every row of W with H fixed. */
  abstract void updateW();

  /** Updates every row of H with W fixed and returns the loss of the new (W, H). */
  abstract double updateH();

  /**
   * One HALS sweep over the coordinates of row {@code f[base..base+k)}: for t = 1..k in turn,
   * {@code f_t ← max(0, f_t − (G f − a + λ f)_t / (G_tt + λ))}, the exact minimiser along that
   * coordinate (Cichocki and Phan 2009, eq. 11 with the L2 term). Each coordinate sees the ones
   * before it already updated, which is what makes the loss never rise. A coordinate with
   * {@code G_tt + λ = 0} belongs to a factor column that is all zero on the other side; the loss
   * does not depend on it, so it is left as it is.
   *
   * @param gram G, k × k row-major at {@code gram[gOff..]}
   * @param s scratch holding a at {@code s[aOff..aOff+k)}; {@code s[tOff..tOff+k)} is
   *     overwritten
   */
  final void halsRow(float[] f, int base, double[] gram, int gOff, double[] s, int aOff,
      int tOff) {
    for (int t = 0; t < k; t++) {
      s[tOff + t] = f[base + t];
    }
    for (int t = 0; t < k; t++) {
      int g0 = gOff + t * k;
      double hess = gram[g0 + t] + lambda;
      if (!(hess > 0)) {
        continue;
      }
      double grad = lambda * s[tOff + t] - s[aOff + t];
      for (int r = 0; r < k; r++) {
        grad += gram[g0 + r] * s[tOff + r];
      }
      double v = s[tOff + t] - grad / hess;
      s[tOff + t] = v > 0 ? v : 0;
    }
    for (int t = 0; t < k; t++) {
      f[base + t] = (float) s[tOff + t];
    }
  }

  /**
   * Lee and Seung's multiplicative step for a row: {@code f_t ← f_t · num_t / (den_t + ε)}.
   * With num and den non-negative, f stays non-negative.
   */
  static void muRow(float[] f, int base, int k, double[] s, int numOff, int denOff) {
    for (int t = 0; t < k; t++) {
      f[base + t] = (float) (f[base + t] * s[numOff + t] / (s[denOff + t] + EPS));
    }
  }

  /** Returns the squared Euclidean norm of row {@code f[base..base+k)}. */
  final double normSq(float[] f, int base) {
    double sum = 0;
    for (int t = 0; t < k; t++) {
      double v = f[base + t];
      sum += v * v;
    }
    return sum;
  }

  /** Returns the dot product of the W row at {@code wBase} and the H row at {@code hBase}. */
  final double dot(int wBase, int hBase) {
    double sum = 0;
    for (int t = 0; t < k; t++) {
      sum += (double) w[wBase + t] * h[hBase + t];
    }
    return sum;
  }
}
