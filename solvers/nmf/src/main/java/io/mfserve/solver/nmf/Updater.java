package io.mfserve.solver.nmf;

import io.mfserve.solver.TrainingMatrix;
import java.util.concurrent.ForkJoinPool;

/**
 * One way of sweeping W and then H once. A subclass owns the loss it minimises; the shared row
 * kernels below are the HALS and multiplicative steps for one row of a factor, given the Gram
 * matrix and the right-hand side of that row's least-squares problem.
 *
 * <p>For a row f (length k) of either factor, the Frobenius subproblem is
 * {@code min_{f ≥ 0} ½ fᵀ G f − aᵀ f + l1 Σ f + ½ l2 ‖f‖²}, where G is the Gram matrix of the
 * other factor (HᵀH for a row of W; the rows restricted to observed entries in the weighted
 * case), a the matching row of X H (or Xᵀ W), and l1, l2 that side's {@link Penalty}
 * coefficients. Not thread-safe: one fit drives it from one thread, and each block of rows it
 * fans out writes only its own rows and its own scratch.
 */
abstract class Updater {
  /** Keeps a multiplicative update's denominator off zero (0/0 when a row has no signal). */
  static final double EPS = 1e-16;
  /**
   * The most HALS passes over one row per update when {@code inner_sweeps} is automatic: a
   * bound for very long rows, where α ρ would allow hundreds (a dense 2,000 × 1,000 matrix at
   * k = 20 gets 26, and reaches a given error in about a third of the sweeps 1 pass needs).
   */
  static final int MAX_AUTO_PASSES = 50;
  /**
   * Gillis and Glineur's α: a row gets {@code 1 + α ρ} passes, ρ being what its right-hand side
   * cost relative to one pass (N. Gillis and F. Glineur, "Accelerated multiplicative updates and
   * hierarchical ALS algorithms for nonnegative matrix factorization", Neural Computation
   * 24(4), 2012, section 3: α = 0.5).
   */
  static final double PASS_ALPHA = 0.5;
  /**
   * Their ε, squared: passes over a row stop once one moves it by less than 10% of what the
   * first pass moved it, since the rest of the budget buys little.
   */
  static final double PASS_STOP_SQ = 0.01;

  final TrainingMatrix x;
  final int k;
  final Penalty penalty;
  final Method method;
  final float[] w;
  final float[] h;
  final ForkJoinPool pool;
  final Blocks rowBlocks;
  final Blocks colBlocks;
  /** The fixed number of HALS passes per row, or 0 to choose per row (see {@link #passes}). */
  final int innerSweeps;
  /** One buffer per block, reused by every pass, so the row loops allocate nothing. */
  final double[][] scratch;

  Updater(TrainingMatrix x, int k, Penalty penalty, Method method, int innerSweeps, float[] w,
      float[] h, ForkJoinPool pool, int scratchPerBlock) {
    this(x, k, penalty, method, innerSweeps, w, h, pool, scratchPerBlock, 1);
  }

  /** As above, with blocks of rows and columns starting at multiples of {@code align}. */
  Updater(TrainingMatrix x, int k, Penalty penalty, Method method, int innerSweeps, float[] w,
      float[] h, ForkJoinPool pool, int scratchPerBlock, int align) {
    this.x = x;
    this.k = k;
    this.penalty = penalty;
    this.method = method;
    this.innerSweeps = innerSweeps;
    this.w = w;
    this.h = h;
    this.pool = pool;
    this.rowBlocks = new Blocks(x.rows(), align);
    this.colBlocks = new Blocks(x.cols(), align);
    this.scratch = new double[Math.max(rowBlocks.count(), colBlocks.count())][scratchPerBlock];
  }

  /** Returns the doubles of scratch one block needs for rank {@code k}. */
  static long scratchPerBlock(int k) {
    return (long) k * k + 3L * k + 4;
  }

  /** Returns where in a block's scratch {@link #hals} keeps the gradient: the last k doubles. */
  static int gradientOffset(int k) {
    return k * k + 2 * k + 4;
  }

  /**
   * Returns whether the last sweep was undone (an extrapolating updater whose sweep raised the
   * loss): the factors are back where the sweep started and {@link #updateH} returned their
   * loss.
   */
  boolean rejected() {
    return false;
  }

  /**
   * Asks for the next sweep to be plain, unextrapolated HALS from the current factors, when the
   * last one was extrapolated; returns whether it will be (false where the last sweep already
   * was plain, or this updater never extrapolates). The stopping rule judges a stall of the loss
   * on a plain sweep: an extrapolated sweep can stall because its step is too long, just before
   * a restart, not because the factors are near a stationary point.
   */
  boolean plainSweepNext() {
    return false;
  }

  /**
   * Returns the L1 norm of the objective's projected gradient (see {@link #projected}) summed
   * over the points the last sweep's two halves started from: W's at the start of the sweep,
   * H's after W was updated, as scikit-learn's coordinate descent measures it. NaN when this
   * updater does not compute it.
   */
  double violation() {
    return Double.NaN;
  }

  /** Updates every row of W with H fixed. */
  abstract void updateW();

  /** Updates every row of H with W fixed and returns the loss of the new (W, H). */
  abstract double updateH();

  /**
   * Returns how many HALS passes a row may get whose right-hand side (and Gram matrix, when it
   * is the row's own) cost {@code setupCost} multiply-adds: the fixed {@code inner_sweeps}, or
   * {@code 1 + α · setupCost / k²} up to {@link #MAX_AUTO_PASSES}, so that the passes never
   * cost much more than building the problem did.
   */
  final int passes(long setupCost) {
    if (innerSweeps > 0) {
      return innerSweeps;
    }
    long extra = (long) (PASS_ALPHA * setupCost / ((double) k * k));
    return (int) Math.min(MAX_AUTO_PASSES, 1 + extra);
  }

  /**
   * HALS on row {@code f[base..base+k)}: up to {@code maxPasses} sweeps over its coordinates,
   * each coordinate set to its exact minimiser
   * {@code f_t ← max(0, f_t − (G f − a + l2 f + l1)_t / (G_tt + l2))} (Cichocki and Phan 2009,
   * eq. 11, with the penalty terms) with the ones before it already updated, which is what makes
   * the loss never rise. Repeating the sweep on the same G and a is Gillis and Glineur's
   * accelerated HALS; it stops early once a pass moves the row by under √{@link #PASS_STOP_SQ}
   * of what the first moved it. A coordinate with {@code G_tt + l2 = 0} belongs to a factor
   * column that is all zero on the other side: the data term does not depend on it, so it is
   * left as it is, or set to 0 when an L1 penalty makes 0 its minimiser.
   *
   * <p>The gradient {@code G f − a + l2 f + l1} is kept in {@code s} and updated by one row of
   * G (an axpy) whenever a coordinate moves, rather than recomputed as a dot product per
   * coordinate: the same arithmetic, but independent multiply-adds instead of one dependent
   * chain of k additions, which left the floating-point units waiting on latency (several times
   * slower at k = 50).
   *
   * @param gram G, k × k row-major and symmetric at {@code gram[gOff..]}
   * @param s scratch holding a at {@code s[aOff..aOff+k)}; {@code s[tOff..tOff+k)} is
   *     overwritten with the row and the k doubles at {@link #gradientOffset} with the gradient
   */
  final double hals(float[] f, int base, double[] gram, int gOff, double[] s, int aOff,
      int tOff, double l1, double l2, int maxPasses) {
    int dOff = gradientOffset(k);
    for (int t = 0; t < k; t++) {
      double v = f[base + t];
      s[tOff + t] = v;
      s[dOff + t] = l1 - s[aOff + t] + l2 * v;
    }
    for (int r = 0; r < k; r++) {
      double fr = s[tOff + r];
      if (fr != 0) {
        int g0 = gOff + r * k;
        for (int t = 0; t < k; t++) {
          s[dOff + t] += gram[g0 + t] * fr;
        }
      }
    }
    double violation = 0;
    for (int t = 0; t < k; t++) {
      violation += projected(s[tOff + t], s[dOff + t]);
    }
    double first = 0;
    for (int pass = 0; pass < maxPasses; pass++) {
      double moved = 0;
      for (int t = 0; t < k; t++) {
        int g0 = gOff + t * k;
        double old = s[tOff + t];
        double hess = gram[g0 + t] + l2;
        double v;
        if (hess > 0) {
          v = old - s[dOff + t] / hess;
          v = v > 0 ? v : 0;
        } else {
          v = l1 > 0 ? 0 : old;
        }
        double d = v - old;
        if (d != 0) {
          s[tOff + t] = v;
          for (int r = 0; r < k; r++) {
            s[dOff + r] += gram[g0 + r] * d;
          }
          s[dOff + t] += l2 * d;
          moved += d * d;
        }
      }
      if (pass == 0) {
        first = moved;
      }
      if (moved <= PASS_STOP_SQ * first || moved == 0) {
        break;
      }
    }
    for (int t = 0; t < k; t++) {
      f[base + t] = (float) s[tOff + t];
    }
    return violation;
  }

  /**
   * Returns {@code |∂L/∂f|} projected onto the feasible directions at f ≥ 0: the gradient g
   * itself where f > 0, and only its negative part where f = 0 (a positive gradient there
   * points out of the feasible set and is no sign of being unconverged).
   */
  static double projected(double f, double g) {
    return f > 0 ? Math.abs(g) : Math.max(0, -g);
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

  /** Returns the sum of row {@code f[base..base+k)} (its L1 norm: it is non-negative). */
  final double sum(float[] f, int base) {
    double sum = 0;
    for (int t = 0; t < k; t++) {
      sum += f[base + t];
    }
    return sum;
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

  /**
   * Returns the dot product of the W row at {@code wBase} and the H row at {@code hBase}, in
   * four partial sums (independent chains keep the adder busy; one chain waits on latency).
   */
  final double dot(int wBase, int hBase) {
    return dot(w, wBase, h, hBase, k);
  }

  /** Returns {@code a[aBase..aBase+k) · b[bBase..bBase+k)} in double, in four partial sums. */
  static double dot(float[] a, int aBase, float[] b, int bBase, int k) {
    double s0 = 0;
    double s1 = 0;
    double s2 = 0;
    double s3 = 0;
    int t = 0;
    for (; t + 3 < k; t += 4) {
      s0 += (double) a[aBase + t] * b[bBase + t];
      s1 += (double) a[aBase + t + 1] * b[bBase + t + 1];
      s2 += (double) a[aBase + t + 2] * b[bBase + t + 2];
      s3 += (double) a[aBase + t + 3] * b[bBase + t + 3];
    }
    for (; t < k; t++) {
      s0 += (double) a[aBase + t] * b[bBase + t];
    }
    return (s0 + s1) + (s2 + s3);
  }

  /** Returns the sum of scratch slot {@code at} over the blocks, in block order. */
  final double sumSlot(Blocks blocks, int at) {
    double total = 0;
    for (int b = 0; b < blocks.count(); b++) {
      total += scratch[b][at];
    }
    return total;
  }
}
