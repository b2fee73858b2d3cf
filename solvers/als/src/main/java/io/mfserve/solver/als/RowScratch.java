package io.mfserve.solver.als;

/**
 * One worker's buffers for solving rows, allocated once per fit so that the row loop allocates
 * nothing. Not thread-safe: each worker of {@link BlockRunner} owns one.
 */
final class RowScratch {
  /** The float32 Gram matrix of the current chunk, one array per row (upper triangle used). */
  final float[][] acc;
  /** The row's system, w × w row-major (upper triangle), in double. */
  final double[] m;
  /** The system's rows in separate arrays, for the row-wise Cholesky factorisation. */
  final double[][] rowsW;
  /** A copy of {@link #m} before factorisation, for the ridge retry. */
  final double[] m2;
  final double[] b;
  final double[] x;
  final double[] g;
  final double[] dir;
  final double[] diag;
  final double[] sums;
  /** Per entry of the chunk: the Gram weight (explicit 1, implicit c − 1). */
  final float[] weights;
  /** Per entry of the chunk: the target (explicit r − μ − b_j, implicit c·p). */
  final float[] targets;
  /**
   * The chunk's fixed-side vectors, one array of k floats per entry, so that the Gram kernel's
   * inner loop reads separate arrays at the same index (see {@link Gram#accumulateRows}).
   */
  final float[][] rows;

  RowScratch(int k, int w) {
    int chunk = AlsSolver.chunkEntries(k);
    weights = new float[chunk];
    targets = new float[chunk];
    rows = new float[chunk][k];
    acc = new float[k][k];
    m = new double[w * w];
    m2 = new double[w * w];
    rowsW = new double[w][w];
    b = new double[w];
    x = new double[w];
    g = new double[w];
    dir = new double[w];
    diag = new double[w];
    sums = new double[w];
  }

  /** Returns how many entries one packed chunk holds. */
  int chunkSize() {
    return weights.length;
  }
}
