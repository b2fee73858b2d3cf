package io.mfserve.solver.sgd;

/**
 * Squared loss on observed entries: for entry (u, i) with standardised value r and error
 * {@code e = r − (b_u + b_i + p_u·q_i)}, the descent directions are
 * <pre>
 *   g_p = e q_i − λ p_u     g_q = e p_u − λ q_i     g_bu = e − λ_b b_u     g_bi = e − λ_b b_i
 * </pre>
 * (both factor directions read the old p_u and q_i).
 *
 * <p><b>AdaGrad</b> (the default), as LibMF applies it (Chin, Yuan, Zhuang and Lin, "A
 * Learning-Rate Schedule for Stochastic Gradient Methods to Matrix Factorization", PAKDD 2015):
 * one accumulator per row and side rather than per coordinate, G_u ← G_u + ‖g_p‖²/k after the
 * step p_u ← p_u + η g_p / √G_u, and likewise for q_i. The biases have their own accumulators,
 * because a bias gradient is on another scale than a factor gradient: G_bu ← G_bu + g_bu².
 * Rows that are updated often take ever smaller steps, rare ones keep large steps: the schedule
 * adapts per row, without tuning a decay.
 *
 * <p><b>Fixed</b>: every update takes the same step γ: p_u ← p_u + γ g_p and so on (Funk 2006;
 * Koren, Bell and Volinsky 2009).
 */
final class SquaredKernel extends Kernel {
  /**
   * Creates the kernel.
   *
   * @param adaptive AdaGrad if true, else a fixed step
   * @param lambda λ on the factors, in standardised units
   * @param biasLambda λ_b on the biases
   */
  SquaredKernel(boolean adaptive, BlockGrid grid, FactorState state, double lambda,
      double biasLambda) {
    super(adaptive, grid, state, lambda, biasLambda);
  }

  @Override
  double run(int from, int to, int blockFrom, int blockTo, int colFrom, int colTo,
      long rngSeed) {
    return adaptive ? runAdaGrad(from, to) : runFixed(from, to);
  }

  /**
   * One AdaGrad pass over entries [from, to); the math of the class Javadoc, arranged so that
   * each factor costs few instructions (the inner loops are scalar, and at k = 10 the loop
   * overhead and the flops per factor, not memory, bound an update):
   * <ul>
   *   <li>one pass over the two rows gathers p·q, ‖p‖² and ‖q‖² with fused multiply-adds;
   *   <li>‖g_p‖² = e²‖q‖² − 2eλ p·q + λ²‖p‖² (and ‖g_q‖² likewise) follows from them, so the
   *       update pass never forms g_p or squares it;
   *   <li>p ← p + s_p(e q − λ p) is applied as p ← (1 − s_pλ) p + (s_p e) q, a multiply and a
   *       fused multiply-add per factor and side.
   * </ul>
   * The result equals the step-by-step form up to float rounding (the order of the additions
   * differs); the norm is clamped at 0 against rounding below it, harmless as the accumulators
   * start at 1. Test code keeps the step-by-step form as the reference this is checked against.
   */
  private double runAdaGrad(int from, int to) {
    final int k = this.k;
    final int s = this.stride;
    final int bo = this.biasAt;
    final float[] users = this.users;
    final float[] items = this.items;
    final int[] entryRow = this.entryRow;
    final int[] entryCol = this.entryCol;
    final float[] entryVal = this.entryVal;
    final float eta = rate;
    final float lambda = this.lambda;
    final float lambda2 = lambda * lambda;
    final float biasLambda = this.biasLambda;
    final float invK = 1f / k;
    double sse = 0;
    for (int n = from; n < to; n++) {
      final int a = entryRow[n] * s;
      final int b = entryCol[n] * s;
      // Two partial sums of each kind break the dependency chains of the accumulation.
      float pq0 = 0;
      float pq1 = 0;
      float pp0 = 0;
      float pp1 = 0;
      float qq0 = 0;
      float qq1 = 0;
      int f = 0;
      for (; f + 1 < k; f += 2) {
        float p0 = users[a + f];
        float q0 = items[b + f];
        float p1 = users[a + f + 1];
        float q1 = items[b + f + 1];
        pq0 = Math.fma(p0, q0, pq0);
        pp0 = Math.fma(p0, p0, pp0);
        qq0 = Math.fma(q0, q0, qq0);
        pq1 = Math.fma(p1, q1, pq1);
        pp1 = Math.fma(p1, p1, pp1);
        qq1 = Math.fma(q1, q1, qq1);
      }
      if (f < k) {
        float p0 = users[a + f];
        float q0 = items[b + f];
        pq0 = Math.fma(p0, q0, pq0);
        pp0 = Math.fma(p0, p0, pp0);
        qq0 = Math.fma(q0, q0, qq0);
      }
      final float pq = pq0 + pq1;
      final float pp = pp0 + pp1;
      final float qq = qq0 + qq1;
      final float bu = users[a + bo];
      final float bi = items[b + bo];
      final float e = entryVal[n] - (bu + bi + pq);
      sse += (double) e * e;
      final float stepP = eta / (float) Math.sqrt(users[a + bo + 1]);
      final float stepQ = eta / (float) Math.sqrt(items[b + bo + 1]);
      final float e2 = e * e;
      final float cross = 2 * e * lambda * pq;
      final float normP = Math.max(0f, Math.fma(e2, qq, Math.fma(lambda2, pp, -cross)));
      final float normQ = Math.max(0f, Math.fma(e2, pp, Math.fma(lambda2, qq, -cross)));
      final float keepP = 1 - stepP * lambda;
      final float keepQ = 1 - stepQ * lambda;
      final float moveP = stepP * e;
      final float moveQ = stepQ * e;
      for (f = 0; f < k; f++) {
        float p = users[a + f];
        float q = items[b + f];
        users[a + f] = Math.fma(keepP, p, moveP * q);
        items[b + f] = Math.fma(keepQ, q, moveQ * p);
      }
      users[a + bo + 1] += normP * invK;
      items[b + bo + 1] += normQ * invK;
      FactorState.adaGradBiasStep(users, a + bo, e - biasLambda * bu, eta);
      FactorState.adaGradBiasStep(items, b + bo, e - biasLambda * bi, eta);
    }
    return sse;
  }

  private double runFixed(int from, int to) {
    final int k = this.k;
    final int s = this.stride;
    final int bo = this.biasAt;
    final float[] users = this.users;
    final float[] items = this.items;
    final int[] entryRow = this.entryRow;
    final int[] entryCol = this.entryCol;
    final float[] entryVal = this.entryVal;
    final float step = rate;
    // (1 − γλ) p + γ e q is the update regrouped: two multiply-adds per factor and side.
    final float shrink = 1 - step * lambda;
    final float biasShrink = 1 - step * biasLambda;
    double sse = 0;
    for (int n = from; n < to; n++) {
      final int a = entryRow[n] * s;
      final int b = entryCol[n] * s;
      float e = entryVal[n] - (users[a + bo] + items[b + bo] + dot(users, a, items, b, k));
      sse += (double) e * e;
      float g = step * e;
      users[a + bo] = biasShrink * users[a + bo] + g;
      items[b + bo] = biasShrink * items[b + bo] + g;
      for (int f = 0; f < k; f++) {
        float pf = users[a + f];
        float qf = items[b + f];
        users[a + f] = shrink * pf + g * qf;
        items[b + f] = shrink * qf + g * pf;
      }
    }
    return sse;
  }

  /**
   * Returns x[a..a+k)·y[b..b+k) with four partial sums, so that the additions do not wait on
   * each other (float addition is not associative, so the JIT will not reorder one chain).
   */
  static float dot(float[] x, int a, float[] y, int b, int k) {
    float s0 = 0;
    float s1 = 0;
    float s2 = 0;
    float s3 = 0;
    int f = 0;
    for (; f + 3 < k; f += 4) {
      s0 += x[a + f] * y[b + f];
      s1 += x[a + f + 1] * y[b + f + 1];
      s2 += x[a + f + 2] * y[b + f + 2];
      s3 += x[a + f + 3] * y[b + f + 3];
    }
    for (; f < k; f++) {
      s0 += x[a + f] * y[b + f];
    }
    return (s0 + s1) + (s2 + s3);
  }
}
