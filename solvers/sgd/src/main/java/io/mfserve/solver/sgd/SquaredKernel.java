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

  private double runAdaGrad(int from, int to) {
    final int k = this.k;
    final int s = this.stride;
    final float[] users = this.users;
    final float[] items = this.items;
    final int[] entryRow = this.entryRow;
    final int[] entryCol = this.entryCol;
    final float[] entryVal = this.entryVal;
    final float eta = rate;
    final float lambda = this.lambda;
    final float biasLambda = this.biasLambda;
    final float invK = 1f / k;
    double sse = 0;
    for (int n = from; n < to; n++) {
      final int a = entryRow[n] * s;
      final int b = entryCol[n] * s;
      float e = entryVal[n] - (users[a + k] + items[b + k] + dot(users, a, items, b, k));
      sse += (double) e * e;
      float stepP = eta / (float) Math.sqrt(users[a + k + 1]);
      float stepQ = eta / (float) Math.sqrt(items[b + k + 1]);
      // Two partial sums per side break the dependency chain of the accumulation.
      float sumP0 = 0;
      float sumP1 = 0;
      float sumQ0 = 0;
      float sumQ1 = 0;
      int f = 0;
      for (; f + 1 < k; f += 2) {
        float p0 = users[a + f];
        float q0 = items[b + f];
        float p1 = users[a + f + 1];
        float q1 = items[b + f + 1];
        float gp0 = e * q0 - lambda * p0;
        float gq0 = e * p0 - lambda * q0;
        float gp1 = e * q1 - lambda * p1;
        float gq1 = e * p1 - lambda * q1;
        sumP0 += gp0 * gp0;
        sumQ0 += gq0 * gq0;
        sumP1 += gp1 * gp1;
        sumQ1 += gq1 * gq1;
        users[a + f] = p0 + stepP * gp0;
        items[b + f] = q0 + stepQ * gq0;
        users[a + f + 1] = p1 + stepP * gp1;
        items[b + f + 1] = q1 + stepQ * gq1;
      }
      if (f < k) {
        float p0 = users[a + f];
        float q0 = items[b + f];
        float gp0 = e * q0 - lambda * p0;
        float gq0 = e * p0 - lambda * q0;
        sumP0 += gp0 * gp0;
        sumQ0 += gq0 * gq0;
        users[a + f] = p0 + stepP * gp0;
        items[b + f] = q0 + stepQ * gq0;
      }
      users[a + k + 1] += (sumP0 + sumP1) * invK;
      items[b + k + 1] += (sumQ0 + sumQ1) * invK;
      float gbu = e - biasLambda * users[a + k];
      float gbi = e - biasLambda * items[b + k];
      FactorState.adaGradBiasStep(users, a + k, gbu, eta);
      FactorState.adaGradBiasStep(items, b + k, gbi, eta);
    }
    return sse;
  }

  private double runFixed(int from, int to) {
    final int k = this.k;
    final int s = this.stride;
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
      float e = entryVal[n] - (users[a + k] + items[b + k] + dot(users, a, items, b, k));
      sse += (double) e * e;
      float g = step * e;
      users[a + k] = biasShrink * users[a + k] + g;
      items[b + k] = biasShrink * items[b + k] + g;
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
