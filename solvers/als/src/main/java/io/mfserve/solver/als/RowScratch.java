package io.mfserve.solver.als;

/**
 * One worker's buffers for solving rows, allocated once per fit so that the row loop allocates
 * nothing. Not thread-safe: each worker of {@link BlockRunner} owns one.
 */
final class RowScratch {
  /** The float32 Gram matrix of the current chunk, k × k row-major (upper triangle used). */
  final float[] a;
  /** The row's system, w × w row-major (upper triangle), in double. */
  final double[] m;
  /** A copy of {@link #m} before factorisation, for the ridge retry. */
  final double[] m2;
  final double[] b;
  final double[] x;
  final double[] g;
  final double[] dir;
  final double[] diag;
  final double[] sums;
  /** q·k for every q: the packed chunk's vector offsets, fixed for the fit. */
  final int[] offsets;
  /** Scratch offsets for the Gram of a whole side, which reads the factor array in place. */
  final int[] gramOffsets;
  final float[] weights;
  final float[] targets;
  final float[] packed;

  RowScratch(int k, int w) {
    int chunk = AlsSolver.chunkEntries(k);
    offsets = new int[chunk];
    for (int q = 0; q < chunk; q++) {
      offsets[q] = q * k;
    }
    gramOffsets = new int[chunk];
    weights = new float[chunk];
    targets = new float[chunk];
    packed = new float[chunk * k];
    a = new float[k * k];
    m = new double[w * w];
    m2 = new double[w * w];
    b = new double[w];
    x = new double[w];
    g = new double[w];
    dir = new double[w];
    diag = new double[w];
    sums = new double[w];
  }

  /** Returns how many entries one packed chunk holds. */
  int chunkSize() {
    return offsets.length;
  }
}
