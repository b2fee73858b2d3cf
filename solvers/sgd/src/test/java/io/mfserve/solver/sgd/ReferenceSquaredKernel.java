package io.mfserve.solver.sgd;

/**
 * The squared-loss AdaGrad update written step by step, as {@link SquaredKernel} first had it:
 * form g_p and g_q factor by factor, square them into the accumulators, step. Kept as the
 * reference the faster kernel is checked against; not used by the solver.
 */
final class ReferenceSquaredKernel {
  private ReferenceSquaredKernel() {
  }

  /**
   * Applies the AdaGrad updates of entries [from, to) to {@code users} and {@code items} (rows
   * laid out as {@link FactorState} lays them out: stride {@code s}, the bias at {@code bo}) and
   * returns the sum of squared errors, each measured before its update.
   */
  static double runAdaGrad(int[] entryRow, int[] entryCol, float[] entryVal, float[] users,
      float[] items, int k, int s, int bo, float eta, float lambda, float biasLambda, int from,
      int to) {
    final float invK = 1f / k;
    double sse = 0;
    for (int n = from; n < to; n++) {
      final int a = entryRow[n] * s;
      final int b = entryCol[n] * s;
      float e = entryVal[n] - (users[a + bo] + items[b + bo] + dot(users, a, items, b, k));
      sse += (double) e * e;
      float stepP = eta / (float) Math.sqrt(users[a + bo + 1]);
      float stepQ = eta / (float) Math.sqrt(items[b + bo + 1]);
      float sumP = 0;
      float sumQ = 0;
      for (int f = 0; f < k; f++) {
        float p = users[a + f];
        float q = items[b + f];
        float gp = e * q - lambda * p;
        float gq = e * p - lambda * q;
        sumP += gp * gp;
        sumQ += gq * gq;
        users[a + f] = p + stepP * gp;
        items[b + f] = q + stepQ * gq;
      }
      users[a + bo + 1] += sumP * invK;
      items[b + bo + 1] += sumQ * invK;
      float gbu = e - biasLambda * users[a + bo];
      float gbi = e - biasLambda * items[b + bo];
      users[a + bo] += eta / (float) Math.sqrt(users[a + bo + 2]) * gbu;
      users[a + bo + 2] += gbu * gbu;
      items[b + bo] += eta / (float) Math.sqrt(items[b + bo + 2]) * gbi;
      items[b + bo + 2] += gbi * gbi;
    }
    return sse;
  }

  private static float dot(float[] x, int a, float[] y, int b, int k) {
    float sum = 0;
    for (int f = 0; f < k; f++) {
      sum += x[a + f] * y[b + f];
    }
    return sum;
  }
}
