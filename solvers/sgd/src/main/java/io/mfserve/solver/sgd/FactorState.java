package io.mfserve.solver.sgd;

import io.mfserve.solver.FactorModel;
import io.mfserve.solver.WarmStart;
import java.util.BitSet;
import java.util.SplittableRandom;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.function.IntConsumer;
import java.util.stream.IntStream;

/**
 * The parameters being trained, one side (users or items) per array, in the relabelled order
 * of a {@link BlockGrid} and in the standardised units of {@link SgdSolver}.
 *
 * <p>Each row keeps everything one update touches next to each other, so that an update reads
 * one or two cache lines per side instead of four scattered ones:
 * <pre>
 *   [ f_0 … f_{k−1} | 0 … 0 | bias | G (factor gradients) | G_b (bias gradients) ]
 *     └────────── width ──────────┘                                         stride width + 3
 * </pre>
 * The width is k for the scalar kernels; the Vector API kernel ({@link SquaredKernels}) rounds
 * it up to whole vectors, so that a row's factors load and store as whole vectors. The padding
 * stays zero: a zero factor of p and of q gets a zero gradient, and no kernel reads it into a
 * prediction other than as 0·0.
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
  /** Floats a row's factors take, k and its zero padding: the offset of the bias. */
  final int width;
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
  FactorState(int rows, int cols, int k, int width, double initStd, int[] rowCounts,
      int[] colCounts, SplittableRandom rnd, boolean implicitTerm) {
    if (width < k) {
      throw new IllegalArgumentException("width " + width + " below k " + k);
    }
    this.k = k;
    this.width = width;
    this.biasAt = width;
    this.gradAt = width + 1;
    this.biasGradAt = width + 2;
    this.stride = width + 3;
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
  static long estimateBytes(long rows, long cols, int k, int width, boolean implicitTerm) {
    return ((rows + cols) * (width + 3L) + (implicitTerm ? cols * (k + 1L) + rows * k : 0))
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

  /**
   * What the objective needs of the parameters after an epoch, from one pass over them:
   * Σ_r counts[r]·‖f_r‖² and Σ_r counts[r]·b_r² per side, Σ_j counts[j]·‖y_j‖² (SVD++, else 0),
   * and whether every factor, bias and y_j is finite (the accumulators may overflow harmlessly;
   * rows without entries count too, as BPR may update items that have none).
   */
  record Norms(double userFactors, double itemFactors, double userBiases, double itemBiases,
      double implicit, boolean finite) { }

  /**
   * Rows per part of {@link #norms}. Fixed, so that the parts, and the order their sums are
   * added in, and thus the bits of the objective, do not depend on the number of threads.
   */
  static final int NORM_ROWS = 4096;

  /**
   * Measures the {@link Norms}. With a pool and more than one thread the parts run on the
   * pool: on two threads this pass, which reads every parameter once an epoch, would otherwise
   * leave one of them idle (it took about a tenth of a two-thread epoch on synth-10M, k = 10,
   * as three separate single-threaded passes).
   *
   * @param pool the fit's pool, or null to run on the calling thread
   */
  Norms norms(int[] rowCounts, int[] colCounts, ForkJoinPool pool) {
    int userParts = parts(rowCounts.length);
    int itemParts = parts(colCounts.length);
    int implicitParts = implicitItems == null ? 0 : itemParts;
    int all = userParts + itemParts + implicitParts;
    double[] norm = new double[all];
    double[] bias = new double[all];
    boolean[] finite = new boolean[all];
    IntConsumer part = x -> {
      if (x < userParts) {
        measure(users, stride, true, rowCounts, x, x, norm, bias, finite);
      } else if (x < userParts + itemParts) {
        measure(items, stride, true, colCounts, x - userParts, x, norm, bias, finite);
      } else {
        measure(implicitItems, implicitStride, false, colCounts, x - userParts - itemParts, x,
            norm, bias, finite);
      }
    };
    if (pool == null) {
      for (int x = 0; x < all; x++) {
        part.accept(x);
      }
    } else {
      pool.invoke(ForkJoinTask.adapt(() -> IntStream.range(0, all).parallel().forEach(part)));
    }
    double[] sums = new double[5];
    boolean allFinite = true;
    for (int x = 0; x < all; x++) {
      int side = x < userParts ? 0 : x < userParts + itemParts ? 1 : 2;
      sums[side] += norm[x];
      sums[3 + Math.min(side, 1)] += bias[x];
      allFinite &= finite[x];
    }
    return new Norms(sums[0], sums[1], sums[3], sums[4], sums[2], allFinite);
  }

  private static int parts(int rows) {
    return (rows + NORM_ROWS - 1) / NORM_ROWS;
  }

  /**
   * Part {@code x} of one side: Σ counts·‖row[0..k)‖² into {@code norm[slot]}, Σ counts·bias²
   * into {@code bias[slot]} (when the rows have a bias, at {@link #biasAt}), finiteness into
   * {@code finite[slot]}.
   */
  private void measure(float[] a, int rowStride, boolean withBias, int[] counts, int x,
      int slot, double[] norm, double[] bias, boolean[] finite) {
    int from = x * NORM_ROWS;
    int to = Math.min(counts.length, from + NORM_ROWS);
    double n = 0;
    double b = 0;
    boolean ok = true;
    for (int r = from, at = from * rowStride; r < to; r++, at += rowStride) {
      // Two sums per row, so that the additions of one row do not all wait on each other.
      double s0 = 0;
      double s1 = 0;
      int f = 0;
      for (; f + 1 < k; f += 2) {
        s0 += (double) a[at + f] * a[at + f];
        s1 += (double) a[at + f + 1] * a[at + f + 1];
      }
      if (f < k) {
        s0 += (double) a[at + f] * a[at + f];
      }
      double row = s0 + s1;
      // A square of a float is finite in double unless the float was not: one test per row.
      double b2 = withBias ? (double) a[at + biasAt] * a[at + biasAt] : 0;
      ok &= Double.isFinite(row + b2);
      n += counts[r] * row;
      b += counts[r] * b2;
    }
    norm[slot] = n;
    bias[slot] = b;
    finite[slot] = ok;
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
