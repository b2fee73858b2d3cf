package io.mfserve.solver.nmf;

import io.mfserve.solver.TrainingMatrix;
import io.mfserve.solver.WarmStart;
import java.util.BitSet;
import java.util.Random;
import java.util.concurrent.ForkJoinPool;

/**
 * The starting W (rows × k) and H (cols × k) of a fit, every entry ≥ 0.
 *
 * <ul>
 *   <li>{@link Init#RANDOM}: {@code sqrt(m/k) · |N(0,1)|}, seeded, m the mean of X, so that
 *       {@code W Hᵀ} starts at about X's mean (E|N(0,1)|² = 1, so each of the k terms of
 *       {@code w·h} averages m/k): scikit-learn's {@code 'random'}.
 *   <li>{@link Init#NNDSVD}: C. Boutsidis and E. Gallopoulos, "SVD based initialization: A head
 *       start for nonnegative matrix factorization", Pattern Recognition 41(4), 2008,
 *       Algorithm 1. From the rank-k truncated SVD (by {@link RandomizedSvd}), the first pair
 *       is {@code √σ₁ |u₁|, √σ₁ |v₁|} (the Perron pair of a non-negative matrix); for each later
 *       pair, of the two non-negative rank-one pieces {@code u⁺v⁺ᵀ} and {@code u⁻v⁻ᵀ} of
 *       {@code u vᵀ} the one with the larger norm product {@code m} is kept, scaled to
 *       {@code √(σ_j m)}. Entries below 1e-6 become exact zeros.
 *   <li>{@link Init#NNDSVDA}: those zeros set to the mean of X; {@link Init#NNDSVDAR}: to
 *       {@code |mean · N(0,1)| / 100}, seeded (both from the same paper, as scikit-learn has
 *       them). Plain NNDSVD's zeros stay zero under multiplicative updates forever, and HALS
 *       starts slowly from them; the filled variants avoid both.
 * </ul>
 *
 * The mean m is over every entry (absent ones read as zeros, as the SVD reads them) when every
 * entry counts, and over the observed ones for the random start when absent entries are
 * unknown.
 */
final class Initializer {
  /** scikit-learn's threshold below which an NNDSVD entry is an exact zero. */
  static final double ZERO_BELOW = 1e-6;
  /**
   * For multiplicative updates, a warm value at or below 0 starts at this fraction of the
   * random start's scale {@code sqrt(m/k)} instead: a multiplicative update can never move a
   * factor off an exact 0 (a small positive value it can, so those are kept). 1% changes the
   * earlier model's predictions little; on the module's test with a warm start of N(0, 1)
   * factors (half of them clamped), 100 sweeps of mu reached a Frobenius loss 1.1% and a KL
   * loss 1.0% above a cold fit's, against 58% and 1260% with the zeros kept (a floor of 1e-4
   * gave 1.2% and 1.8%, the full scale 0.1% and 1.6%).
   */
  static final double WARM_FLOOR = 0.01;

  private Initializer() { }

  /**
   * The start: W and H filled as {@code init} says.
   *
   * @param everyEntryCounts whether absent entries are zeros (or there are none)
   * @param cancelled checked between passes over X; throws to stop
   * @return {W, H}
   */
  static float[][] start(Init init, TrainingMatrix x, int k, long seed, boolean everyEntryCounts,
      ForkJoinPool pool, Runnable cancelled) {
    int rows = x.rows();
    int cols = x.cols();
    double meanAll = x.mean() * x.nnz() / ((double) rows * cols);
    if (!init.needsSvd()) {
      double mean = everyEntryCounts ? meanAll : x.mean();
      return random(rows, cols, k, mean, seed);
    }
    RandomizedSvd.Result svd = RandomizedSvd.compute(x, k, seed, pool, cancelled);
    float[] w = svd.u();
    float[] h = svd.v();
    nndsvd(w, rows, h, cols, k, svd.sigma());
    if (init == Init.NNDSVDA) {
      fillZeros(w, (float) meanAll, null, 0);
      fillZeros(h, (float) meanAll, null, 0);
    } else if (init == Init.NNDSVDAR) {
      Random rnd = new Random(seed ^ 0x5DEECE66DL);
      fillZeros(w, 0, rnd, meanAll / 100);
      fillZeros(h, 0, rnd, meanAll / 100);
    }
    return new float[][] {w, h};
  }

  /**
   * The start of a warm fit: {@code init}'s start (see {@link #start}) with the rows and columns
   * the warm start knows overwritten by its factors, each value clamped to ≥ 0 (a warm start
   * from a model that was not an NMF may hold negatives; NMF's factors must not), or with
   * {@code multiplicative} to at least {@link #WARM_FLOOR} times the random start's scale, since
   * multiplicative updates cannot leave 0 (an earlier HALS model's exact zeros are raised too).
   * When it knows every row and column, {@code init}'s start is not computed at all (an NNDSVD
   * start costs a truncated SVD); otherwise it is computed in full, so an unknown row starts
   * exactly as in a cold fit with the same seed.
   */
  static float[][] warmStart(WarmStart warm, Init init, TrainingMatrix x, int k, long seed,
      boolean everyEntryCounts, boolean multiplicative, ForkJoinPool pool, Runnable cancelled) {
    int rows = x.rows();
    int cols = x.cols();
    float[][] wh = warm.knownUsers().cardinality() == rows
        && warm.knownItems().cardinality() == cols
        ? new float[][] {new float[rows * k], new float[cols * k]}
        : start(init, x, k, seed, everyEntryCounts, pool, cancelled);
    double mean = everyEntryCounts ? x.mean() * x.nnz() / ((double) rows * cols) : x.mean();
    float floor = multiplicative ? (float) (WARM_FLOOR * Math.sqrt(Math.max(0, mean) / k)) : 0f;
    copyKnown(warm.userFactors(), warm.knownUsers(), wh[0], k, floor);
    copyKnown(warm.itemFactors(), warm.knownItems(), wh[1], k, floor);
    return wh;
  }

  /**
   * Copies the known rows of {@code from} into {@code to}, a value at or below 0 (and NaN) as
   * {@code floor}.
   */
  static void copyKnown(float[] from, BitSet known, float[] to, int k, float floor) {
    for (int r = known.nextSetBit(0); r >= 0; r = known.nextSetBit(r + 1)) {
      for (int t = r * k; t < (r + 1) * k; t++) {
        float v = from[t];
        to[t] = v > 0 ? v : floor;
      }
    }
  }

  private static float[][] random(int rows, int cols, int k, double mean, long seed) {
    double scale = Math.sqrt(Math.max(0, mean) / k);
    Random rnd = new Random(seed);
    float[] w = new float[rows * k];
    float[] h = new float[cols * k];
    for (int n = 0; n < w.length; n++) {
      w[n] = (float) (scale * Math.abs(rnd.nextGaussian()));
    }
    for (int n = 0; n < h.length; n++) {
      h[n] = (float) (scale * Math.abs(rnd.nextGaussian()));
    }
    return new float[][] {w, h};
  }

  /** Turns the singular vectors in u and v, in place, into NNDSVD's non-negative factors. */
  static void nndsvd(float[] u, int rows, float[] v, int cols, int k, double[] sigma) {
    double[] uPos = new double[k];
    double[] uNeg = new double[k];
    double[] vPos = new double[k];
    double[] vNeg = new double[k];
    squaredParts(u, rows, k, uPos, uNeg);
    squaredParts(v, cols, k, vPos, vNeg);
    // Per column: the sign to keep (+1, -1, or 0 for "all zero") and the scale of each side.
    int[] sign = new int[k];
    double[] uScale = new double[k];
    double[] vScale = new double[k];
    for (int j = 0; j < k; j++) {
      if (j == 0) {
        // The leading pair of a non-negative matrix has one sign; |·| undoes a flipped one.
        sign[j] = 2;
        uScale[j] = Math.sqrt(sigma[0]) / Math.sqrt(uPos[0] + uNeg[0] > 0 ? uPos[0] + uNeg[0] : 1);
        vScale[j] = Math.sqrt(sigma[0]) / Math.sqrt(vPos[0] + vNeg[0] > 0 ? vPos[0] + vNeg[0] : 1);
        continue;
      }
      double up = Math.sqrt(uPos[j]);
      double un = Math.sqrt(uNeg[j]);
      double vp = Math.sqrt(vPos[j]);
      double vn = Math.sqrt(vNeg[j]);
      double mp = up * vp;
      double mn = un * vn;
      double m = Math.max(mp, mn);
      if (!(m > 0) || !(sigma[j] > 0)) {
        sign[j] = 0;
        continue;
      }
      double lambda = Math.sqrt(sigma[j] * m);
      if (mp >= mn) {
        sign[j] = 1;
        uScale[j] = lambda / up;
        vScale[j] = lambda / vp;
      } else {
        sign[j] = -1;
        uScale[j] = lambda / un;
        vScale[j] = lambda / vn;
      }
    }
    apply(u, rows, k, sign, uScale);
    apply(v, cols, k, sign, vScale);
  }

  private static void squaredParts(float[] a, int n, int k, double[] pos, double[] neg) {
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < k; j++) {
        double e = a[i * k + j];
        if (e > 0) {
          pos[j] += e * e;
        } else {
          neg[j] += e * e;
        }
      }
    }
  }

  /**
   * Keeps each column's chosen part, scaled: sign 2 takes |e| (the first column), 1 the
   * positive part, -1 the negated negative part, 0 nothing.
   */
  private static void apply(float[] a, int n, int k, int[] sign, double[] scale) {
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < k; j++) {
        double e = a[i * k + j];
        double kept = switch (sign[j]) {
          case 2 -> Math.abs(e);
          case 1 -> Math.max(e, 0);
          case -1 -> Math.max(-e, 0);
          default -> 0;
        };
        double val = kept * scale[j];
        a[i * k + j] = val < ZERO_BELOW ? 0f : (float) val;
      }
    }
  }

  /** Sets every exact zero to {@code value}, or to {@code |N(0,1)| · scale} when rnd is given. */
  private static void fillZeros(float[] a, float value, Random rnd, double scale) {
    for (int n = 0; n < a.length; n++) {
      if (a[n] == 0) {
        a[n] = rnd == null ? value : (float) Math.abs(rnd.nextGaussian() * scale);
      }
    }
  }
}
