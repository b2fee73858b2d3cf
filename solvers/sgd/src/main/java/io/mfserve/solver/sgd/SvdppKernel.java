package io.mfserve.solver.sgd;

import java.util.SplittableRandom;

/**
 * SVD++ (Koren, "Factorization Meets the Neighborhood: a Multifaceted Collaborative Filtering
 * Model", KDD 2008): the squared loss of {@link SquaredKernel} on the prediction
 * <pre>
 *   r̂(u, i) = b_u + b_i + (p_u + z_u)·q_i,   z_u = |N(u)|^−½ Σ_{j∈N(u)} y_j
 * </pre>
 * (standardised units), N(u) the items u has a training entry for: which items a user rated is
 * itself evidence about the user, carried by one more factor y_j per item.
 *
 * <h2>Update, user by user</h2>
 * z_u involves every item of the user, so an update of one entry would touch |N(u)| rows of y;
 * instead the kernel visits a user at a time, in an order drawn afresh each epoch
 * ({@link #beginEpoch}), and within a user in the grid's order (by column):
 * <ol>
 *   <li>compute z_u from the current y once;
 *   <li>for each of the user's entries, with e = r − r̂, step b_u, b_i, p_u and q_i along
 * <pre>
 *   g_p = e q_i − λ p_u    g_q = e (p_u + z_u) − λ q_i    g_b = e − λ_b b
 * </pre>
 *       and add e q_i (old q_i) to the gradient g_z of z_u;
 *   <li>then step every y_j, j ∈ N(u), once along g_y = |N(u)|^−½ g_z − λ_y y_j.
 * </ol>
 * This is Koren's per-entry update with the y steps of one user summed and z_u held fixed
 * during the user's entries: |N(u)| + 1 row updates per user instead of |N(u)|² (LibRec and
 * Surprise's per-entry loops are quadratic in a user's count). The penalty on y is thus
 * λ_y Σ_j n_j ‖y_j‖², n_j the entries of item j, as the others are per entry.
 *
 * <p>Schedules as in {@link SquaredKernel}: fixed (every step γ) or AdaGrad with one accumulator
 * per row and side, y_j having its own (‖g_y‖²/k per visit). y starts at zero, so the first
 * epoch starts as the biased model does.
 *
 * <h2>Threads</h2>
 * The item-side rows (q_i, b_i, y_j) are shared between users, so no grid of blocks keeps two
 * threads apart: {@link EpochRunner#overUsers} runs one thread (deterministic) or Hogwild over
 * users. Each {@link #run} call allocates one k-float scratch for g_z and nothing per update.
 */
final class SvdppKernel extends Kernel {
  /** Relabelled user u's entries are [userStart[u], userStart[u + 1]). */
  private final int[] userStart;
  /** This epoch's order of the relabelled users. */
  private final int[] order;
  private final float[] y;
  private final float[] z;
  private final int implicitStride;
  private final float implicitLambda;
  private final long seed;

  /**
   * Creates the kernel.
   *
   * @param grid a one-block grid ({@link BlockGrid#blocked} with nb = 1): entries by user
   * @param state the state, with its implicit arrays
   * @param rowCounts entries per relabelled user
   * @param lambda λ on p and q, standardised units
   * @param biasLambda λ_b
   * @param implicitLambda λ_y on y, standardised units
   * @param seed the fit's seed, for the users' order
   */
  SvdppKernel(boolean adaptive, BlockGrid grid, FactorState state, int[] rowCounts,
      double lambda, double biasLambda, double implicitLambda, long seed) {
    super(adaptive, grid, state, lambda, biasLambda);
    if (grid.nb != 1 || !grid.sortedByRow) {
      throw new IllegalArgumentException("SVD++ needs a one-block grid sorted by user");
    }
    this.userStart = new int[rowCounts.length + 1];
    for (int u = 0; u < rowCounts.length; u++) {
      userStart[u + 1] = userStart[u] + rowCounts[u];
    }
    this.order = new int[rowCounts.length];
    this.y = state.implicitItems;
    this.z = state.implicitUsers;
    this.implicitStride = state.implicitStride;
    this.implicitLambda = (float) implicitLambda;
    this.seed = seed;
  }

  /** Returns the bytes the kernel allocates beyond the grid and the state. */
  static long estimateBytes(long rows) {
    return 2 * (rows + 1) * Integer.BYTES;
  }

  /** Draws the epoch's user order from the seed and the epoch alone. */
  @Override
  void beginEpoch(int epoch) {
    BlockGrid.shuffle(order,
        new SplittableRandom(mix(seed ^ 0x5FDB7E57L ^ (epoch * GOLDEN))));
  }

  /** Recomputes every user's z_u from the current y. */
  @Override
  void prepareScoring() {
    for (int u = 0; u < order.length; u++) {
      int start = userStart[u];
      int end = userStart[u + 1];
      if (start < end) {
        sumImplicit(u, start, end, (float) (1 / Math.sqrt(end - start)));
      }
    }
  }

  /** Updates the users at positions [from, to) of this epoch's order; see the class Javadoc. */
  @Override
  double run(int from, int to, int blockFrom, int blockTo, int colFrom, int colTo,
      long rngSeed) {
    float[] gz = new float[k];
    double sse = 0;
    for (int x = from; x < to; x++) {
      int u = order[x];
      int start = userStart[u];
      int end = userStart[u + 1];
      if (start == end) {
        continue;
      }
      float norm = (float) (1 / Math.sqrt(end - start));
      sumImplicit(u, start, end, norm);
      java.util.Arrays.fill(gz, 0f);
      sse += adaptive ? userAdaGrad(u, start, end, norm, gz) : userFixed(u, start, end, norm, gz);
    }
    return sse;
  }

  /** Writes z_u = norm · Σ_{n∈[start, end)} y_{col(n)}. */
  private void sumImplicit(int u, int start, int end, float norm) {
    final int k = this.k;
    final int c = u * k;
    final float[] y = this.y;
    final float[] z = this.z;
    for (int f = 0; f < k; f++) {
      z[c + f] = 0f;
    }
    for (int n = start; n < end; n++) {
      int j = entryCol[n] * implicitStride;
      for (int f = 0; f < k; f++) {
        z[c + f] += y[j + f];
      }
    }
    for (int f = 0; f < k; f++) {
      z[c + f] *= norm;
    }
  }

  private double userAdaGrad(int u, int start, int end, float norm, float[] gz) {
    final int k = this.k;
    final int s = this.stride;
    final int bo = this.biasAt;
    final int ys = this.implicitStride;
    final float[] users = this.users;
    final float[] items = this.items;
    final float[] y = this.y;
    final float[] z = this.z;
    final float eta = rate;
    final float lambda = this.lambda;
    final float biasLambda = this.biasLambda;
    final float implicitLambda = this.implicitLambda;
    final float invK = 1f / k;
    final int a = u * s;
    final int c = u * k;
    double sse = 0;
    for (int n = start; n < end; n++) {
      final int b = entryCol[n] * s;
      float e = entryVal[n] - (users[a + bo] + items[b + bo] + dot(users, a, z, c, items, b, k));
      sse += (double) e * e;
      float stepP = eta / (float) Math.sqrt(users[a + bo + 1]);
      float stepQ = eta / (float) Math.sqrt(items[b + bo + 1]);
      float sumP = 0;
      float sumQ = 0;
      for (int f = 0; f < k; f++) {
        float p = users[a + f];
        float q = items[b + f];
        float gp = e * q - lambda * p;
        float gq = e * (p + z[c + f]) - lambda * q;
        gz[f] += e * q;
        sumP += gp * gp;
        sumQ += gq * gq;
        users[a + f] = p + stepP * gp;
        items[b + f] = q + stepQ * gq;
      }
      users[a + bo + 1] += sumP * invK;
      items[b + bo + 1] += sumQ * invK;
      float gbu = e - biasLambda * users[a + bo];
      float gbi = e - biasLambda * items[b + bo];
      FactorState.adaGradBiasStep(users, a + bo, gbu, eta);
      FactorState.adaGradBiasStep(items, b + bo, gbi, eta);
    }
    for (int n = start; n < end; n++) {
      final int j = entryCol[n] * ys;
      float stepY = eta / (float) Math.sqrt(y[j + k]);
      float sumY = 0;
      for (int f = 0; f < k; f++) {
        float yf = y[j + f];
        float g = norm * gz[f] - implicitLambda * yf;
        sumY += g * g;
        y[j + f] = yf + stepY * g;
      }
      y[j + k] += sumY * invK;
    }
    return sse;
  }

  private double userFixed(int u, int start, int end, float norm, float[] gz) {
    final int k = this.k;
    final int s = this.stride;
    final int bo = this.biasAt;
    final int ys = this.implicitStride;
    final float[] users = this.users;
    final float[] items = this.items;
    final float[] y = this.y;
    final float[] z = this.z;
    final float step = rate;
    // (1 − γλ) x + γ g is the update regrouped, as in SquaredKernel.
    final float shrink = 1 - step * lambda;
    final float biasShrink = 1 - step * biasLambda;
    final float implicitShrink = 1 - step * implicitLambda;
    final int a = u * s;
    final int c = u * k;
    double sse = 0;
    for (int n = start; n < end; n++) {
      final int b = entryCol[n] * s;
      float e = entryVal[n] - (users[a + bo] + items[b + bo] + dot(users, a, z, c, items, b, k));
      sse += (double) e * e;
      float g = step * e;
      users[a + bo] = biasShrink * users[a + bo] + g;
      items[b + bo] = biasShrink * items[b + bo] + g;
      for (int f = 0; f < k; f++) {
        float p = users[a + f];
        float q = items[b + f];
        gz[f] += e * q;
        users[a + f] = shrink * p + g * q;
        items[b + f] = shrink * q + g * (p + z[c + f]);
      }
    }
    final float stepZ = step * norm;
    for (int n = start; n < end; n++) {
      final int j = entryCol[n] * ys;
      for (int f = 0; f < k; f++) {
        y[j + f] = implicitShrink * y[j + f] + stepZ * gz[f];
      }
    }
    return sse;
  }

  /**
   * Returns (p[a..a+k) + z[c..c+k))·q[b..b+k) with four partial sums, as
   * {@link SquaredKernel#dot}.
   */
  static float dot(float[] p, int a, float[] z, int c, float[] q, int b, int k) {
    float s0 = 0;
    float s1 = 0;
    float s2 = 0;
    float s3 = 0;
    int f = 0;
    for (; f + 3 < k; f += 4) {
      s0 += (p[a + f] + z[c + f]) * q[b + f];
      s1 += (p[a + f + 1] + z[c + f + 1]) * q[b + f + 1];
      s2 += (p[a + f + 2] + z[c + f + 2]) * q[b + f + 2];
      s3 += (p[a + f + 3] + z[c + f + 3]) * q[b + f + 3];
    }
    for (; f < k; f++) {
      s0 += (p[a + f] + z[c + f]) * q[b + f];
    }
    return (s0 + s1) + (s2 + s3);
  }
}
