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
  /**
   * A copy of {@link #m} before factorisation, regularised: for the ridge retry, and for the
   * row's loss as a quadratic form ({@link RowSolver#systemLoss}).
   */
  final double[] m2;
  final double[] b;
  /** A copy of {@link #b} before the solve overwrites it, for the row's loss. */
  final double[] b2;
  /** Σ target and Σ target² over the row's entries, for the row's loss. */
  double targetSum;
  double targetSquares;
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
   * The chunk's fixed-side vectors, one array per entry of the kernel's width (k floats, then
   * zeros), so that the Gram kernel's inner loop reads separate arrays at the same index (see
   * {@link Gram#accumulateRows}).
   */
  final float[][] rows;

  /** The kernels that fill {@link #acc} from {@link #rows}; they decide their widths. */
  final RowKernels kernels;
  /** A float32 weighted sum of the chunk's rows (the right-hand side's part, Σ y). */
  final float[] chunkSum;
  /** The solved row's own factors, of the kernels' width (zeros past k), for the loss. */
  final float[] own;
  /** Unit coefficients, for Σ y over a chunk. */
  final float[] ones;
  /**
   * Whether a chunk row has room past its k factors for w + 1 − k more columns, and the
   * accumulator for as many more rows: then an explicit row's whole system (bias column, right-
   * hand side, Σ target²) comes out of one Gram pass ({@link ExplicitRows}).
   */
  final boolean systemInGram;

  /** Buffers for rank k and system width w (k, or k + 1 with biases), for the fit's kernel. */
  RowScratch(int k, int w) {
    this(k, w, RowKernels.preferred());
  }

  RowScratch(int k, int w, RowKernels kernels) {
    this.kernels = kernels;
    int chunk = AlsSolver.chunkEntries(k);
    weights = new float[chunk];
    targets = new float[chunk];
    rows = new float[chunk][kernels.width(k)];
    acc = new float[kernels.accumulatorRows(k)][kernels.width(k)];
    chunkSum = new float[kernels.width(k)];
    own = new float[kernels.width(k)];
    ones = new float[chunk];
    java.util.Arrays.fill(ones, 1f);
    systemInGram = kernels.width(k) >= w + 1 && kernels.accumulatorRows(k) >= w + 1;
    m = new double[w * w];
    m2 = new double[w * w];
    rowsW = kernels.systemRows(w);
    b = new double[w];
    b2 = new double[w];
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
