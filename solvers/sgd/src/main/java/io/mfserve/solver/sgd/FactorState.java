package io.mfserve.solver.sgd;

import io.mfserve.solver.FactorModel;
import io.mfserve.solver.WarmStart;
import java.util.BitSet;
import java.util.SplittableRandom;

/**
 * The parameters being trained, one side (users or items) per array, in the relabelled order
 * of a {@link BlockGrid} and in the standardised units of {@link SgdSolver}.
 *
 * <p>Each row keeps everything one update touches next to each other, so that an update reads
 * one or two cache lines per side instead of four scattered ones:
 * <pre>
 *   [ f_0 … f_{k−1} | bias | G (factor gradients) | G_b (bias gradients) ]   stride k + 3
 * </pre>
 * G and G_b are the AdaGrad accumulators of {@link Kernel}; they start at 1, as in LibMF, so the
 * first step is the learning rate itself rather than a division by a tiny number.
 *
 * <p>For SVD++ ({@link SvdppKernel}) two more arrays hold the implicit term: per item the factor
 * y_j with its AdaGrad accumulator ({@code [ y_0 … y_{k−1} | G_y ]}, stride k + 1, starting at
 * zero factors), and per user the sum z_u = |N(u)|^−½ Σ_{j∈N(u)} y_j (stride k), which the
 * kernel recomputes whenever it visits the user and {@link SvdppKernel#prepareScoring} for all
 * users. With them a user's effective factor is p_u + z_u: {@link #score} and {@link #extract}
 * use it.
 *
 * <p>Not thread-safe by itself: the block schedule guarantees that no two threads touch one
 * row at once (Hogwild accepts the races on purpose).
 */
final class FactorState {
  /** Offset of the bias within a row. */
  final int biasAt;
  /** Offset of the factor-gradient accumulator within a row. */
  final int gradAt;
  /** Offset of the bias-gradient accumulator within a row. */
  final int biasGradAt;
  /** Floats per row. */
  final int stride;
  final int k;
  final float[] users;
  final float[] items;
  /** Floats per item in {@link #implicitItems}: y_j and its accumulator. */
  final int implicitStride;
  /** SVD++'s y_j per item, stride k + 1, or null for the biased model. */
  final float[] implicitItems;
  /** SVD++'s z_u per user, stride k, or null for the biased model. */
  final float[] implicitUsers;

  /**
   * Allocates the state and draws the initial factors from N(0, initStd²), users first, in
   * relabelled order; rows without entries keep zero factors (they get no gradient, so random
   * factors would only add noise to their predictions). With {@code implicitTerm} the SVD++
   * arrays are added, all zero (accumulators 1): the draws, and so the factors, are the same
   * as without.
   */
  FactorState(int rows, int cols, int k, double initStd, int[] rowCounts, int[] colCounts,
      SplittableRandom rnd, boolean implicitTerm) {
    this.k = k;
    this.biasAt = k;
    this.gradAt = k + 1;
    this.biasGradAt = k + 2;
    this.stride = k + 3;
    this.implicitStride = k + 1;
    this.users = new float[Math.multiplyExact(rows, stride)];
    this.items = new float[Math.multiplyExact(cols, stride)];
    init(users, rows, rowCounts, initStd, rnd);
    init(items, cols, colCounts, initStd, rnd);
    if (implicitTerm) {
      implicitItems = new float[Math.multiplyExact(cols, implicitStride)];
      for (int at = k; at < implicitItems.length; at += implicitStride) {
        implicitItems[at] = 1f;
      }
      implicitUsers = new float[Math.multiplyExact(rows, k)];
    } else {
      implicitItems = null;
      implicitUsers = null;
    }
  }

  private void init(float[] a, int n, int[] counts, double initStd, SplittableRandom rnd) {
    for (int r = 0, at = 0; r < n; r++, at += stride) {
      for (int f = 0; f < k; f++) {
        // Drawn even for empty rows so that the stream, and thus every other row, does not
        // depend on which rows are empty.
        float v = (float) (rnd.nextGaussian() * initStd);
        a[at + f] = counts[r] > 0 ? v : 0f;
      }
      a[at + gradAt] = 1f;
      a[at + biasGradAt] = 1f;
    }
  }

  /**
   * Overwrites the rows a warm start knows with its values in standardised units
   * ({@code factorScale}·f, {@code biasScale}·b), at their relabelled positions; the other rows
   * keep their cold draws, and every AdaGrad accumulator stays at its fresh 1 (the earlier fit's
   * are not part of a model). A known row keeps its values even when it has no entries now:
   * they are the earlier model's knowledge of it, and it gets no gradient to spoil them. Biases
   * are taken only where the warm start has them, user biases only when {@code userBiases}
   * (BPR keeps b_u at 0). For SVD++ the warm user factors become p_u with every y_j at its cold
   * 0, so z_u = 0 and p_u + z_u, the earlier model's user factor, predicts as before.
   *
   * @param rowLabel original row → relabelled row (the grid's)
   * @param colLabel original column → relabelled column
   */
  void warmStart(WarmStart warm, int[] rowLabel, int[] colLabel, double factorScale,
      double biasScale, boolean userBiases) {
    FactorModel.Biases biases = warm.biases();
    copyKnown(users, warm.userFactors(), warm.knownUsers(), rowLabel, factorScale,
        biases != null && userBiases ? biases.user() : null, biasScale);
    copyKnown(items, warm.itemFactors(), warm.knownItems(), colLabel, factorScale,
        biases != null ? biases.item() : null, biasScale);
  }

  private void copyKnown(float[] a, float[] factors, BitSet known, int[] label,
      double factorScale, float[] bias, double biasScale) {
    for (int r = known.nextSetBit(0); r >= 0; r = known.nextSetBit(r + 1)) {
      int at = label[r] * stride;
      for (int f = 0; f < k; f++) {
        a[at + f] = (float) (factorScale * factors[r * k + f]);
      }
      if (bias != null) {
        a[at + biasAt] = (float) (biasScale * bias[r]);
      }
    }
  }

  /**
   * One AdaGrad step of the bias of the row whose bias is at {@code biasAt} (its accumulator two
   * floats on, as laid out above): the step uses the accumulator as it was, then adds g².
   *
   * @param gradient the bias's ascent direction, e.g. e − λ_b·b for the squared loss
   */
  static void adaGradBiasStep(float[] rows, int biasAt, float gradient, float eta) {
    rows[biasAt] += eta / (float) Math.sqrt(rows[biasAt + 2]) * gradient;
    rows[biasAt + 2] += gradient * gradient;
  }

  /** Returns the bytes of a state for this shape, with or without SVD++'s arrays. */
  static long estimateBytes(long rows, long cols, int k, boolean implicitTerm) {
    return ((rows + cols) * (k + 3L) + (implicitTerm ? cols * (k + 1L) + rows * k : 0))
        * Float.BYTES;
  }

  /**
   * Returns a copy of the trained arrays (users, items and y_j; z_u derives from y), for early
   * stopping's best epoch.
   */
  float[][] snapshot(float[][] into) {
    if (into == null) {
      into = implicitItems == null
          ? new float[][] {new float[users.length], new float[items.length]}
          : new float[][] {new float[users.length], new float[items.length],
              new float[implicitItems.length]};
    }
    System.arraycopy(users, 0, into[0], 0, users.length);
    System.arraycopy(items, 0, into[1], 0, items.length);
    if (implicitItems != null) {
      System.arraycopy(implicitItems, 0, into[2], 0, implicitItems.length);
    }
    return into;
  }

  /**
   * Restores a {@link #snapshot}; for SVD++ the z_u are stale until
   * {@link SvdppKernel#prepareScoring} recomputes them.
   */
  void restore(float[][] from) {
    System.arraycopy(from[0], 0, users, 0, users.length);
    System.arraycopy(from[1], 0, items, 0, items.length);
    if (implicitItems != null) {
      System.arraycopy(from[2], 0, implicitItems, 0, implicitItems.length);
    }
  }

  /**
   * Returns b + b' + p·q (SVD++: b + b' + (p + z)·q) for relabelled user u and item i, in
   * standardised units.
   */
  float score(int u, int i) {
    int a = u * stride;
    int b = i * stride;
    float dot = implicitUsers == null ? SquaredKernel.dot(users, a, items, b, k)
        : SvdppKernel.dot(users, a, implicitUsers, u * k, items, b, k);
    return users[a + biasAt] + items[b + biasAt] + dot;
  }

  /** Returns Σ_r counts[r]·‖f_r‖² over one side. */
  double weightedFactorNorm(boolean userSide, int[] counts) {
    return weightedNorm(userSide ? users : items, stride, counts);
  }

  /** Returns Σ_r counts[r]·‖a[r·rowStride .. r·rowStride + k)‖². */
  private double weightedNorm(float[] a, int rowStride, int[] counts) {
    double s = 0;
    for (int r = 0, at = 0; r < counts.length; r++, at += rowStride) {
      double row = 0;
      for (int f = 0; f < k; f++) {
        row += (double) a[at + f] * a[at + f];
      }
      s += counts[r] * row;
    }
    return s;
  }

  /** Returns Σ_r counts[r]·b_r² over one side. */
  double weightedBiasNorm(boolean userSide, int[] counts) {
    float[] a = userSide ? users : items;
    double s = 0;
    for (int r = 0, at = biasAt; r < counts.length; r++, at += stride) {
      s += counts[r] * (double) a[at] * a[at];
    }
    return s;
  }

  /** Returns Σ_j counts[j]·‖y_j‖² over the items (SVD++ only). */
  double weightedImplicitNorm(int[] counts) {
    return weightedNorm(implicitItems, implicitStride, counts);
  }

  /** Returns whether every factor and bias is finite (accumulators may overflow harmlessly). */
  boolean allFinite() {
    return finite(users, stride, k + 1) && finite(items, stride, k + 1)
        && (implicitItems == null || finite(implicitItems, implicitStride, k));
  }

  /** Returns whether the first {@code width} floats of every row of {@code a} are finite. */
  private static boolean finite(float[] a, int rowStride, int width) {
    for (int at = 0; at < a.length; at += rowStride) {
      for (int f = 0; f < width; f++) {
        if (!Float.isFinite(a[at + f])) {
          return false;
        }
      }
    }
    return true;
  }

  /**
   * Writes one side out in the original order and units: {@code factors[r]} =
   * {@code factorScale}·f of relabelled row {@code relabel[r]}, {@code biases[r]} =
   * {@code biasScale}·bias. For SVD++ a user's f is p_u + z_u (z_u must be current), so that
   * the exported dot product is SVD++'s prediction.
   */
  void extract(boolean userSide, int[] relabel, double factorScale, double biasScale,
      float[] factors, float[] biases) {
    float[] a = userSide ? users : items;
    float[] z = userSide ? implicitUsers : null;
    for (int r = 0; r < relabel.length; r++) {
      int at = relabel[r] * stride;
      int zt = relabel[r] * k;
      for (int f = 0; f < k; f++) {
        factors[r * k + f] = (float) (factorScale * (z == null ? a[at + f]
            : a[at + f] + z[zt + f]));
      }
      biases[r] = (float) (biasScale * a[at + biasAt]);
    }
  }
}
