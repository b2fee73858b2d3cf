package io.mfserve.solver.als;

import io.mfserve.solver.TrainingMatrix;
import java.util.Arrays;

/**
 * Solves one row's normal equations with the other side fixed and stores its factors: what
 * explicit and implicit rows share (gathering a row's fixed-side vectors into a worker's
 * chunk, accumulating their Gram matrix, the Cholesky or NNLS solve). Rows are
 * independent, so many workers call {@link #solve} at once, each with its own scratch.
 */
abstract class RowSolver {
  final FitState state;
  final TrainingMatrix data;
  final AlsOptions options;
  final int k;
  final int w;

  RowSolver(FitState state) {
    this.state = state;
    this.data = state.data;
    this.options = state.options;
    this.k = state.k;
    this.w = state.w;
  }

  /**
   * Solves row {@code r} of one side and stores its factors (and bias).
   *
   * @param users true to solve a user row against the items, false for an item column
   * @return the row's share of the objective f (see {@link AlsSolver})
   */
  abstract double solve(boolean users, int r, RowScratch s);

  /** Clears the row's system and sums in {@code s}, before its chunks are accumulated. */
  final void beginRow(RowScratch s) {
    Arrays.fill(s.m, 0);
    Arrays.fill(s.b, 0);
    Arrays.fill(s.sums, 0);
    s.targetSum = 0;
    s.targetSquares = 0;
  }

  /**
   * Copies the fixed side's vectors of entries [chunk, chunk + cn) of a row into the worker's
   * chunk rows. Copying first and computing after lets the processor overlap the cache misses
   * of the scattered vectors, and gives the Gram kernel its same-index operands.
   */
  final void gather(boolean users, int chunk, int cn, RowScratch s, float[] fixed) {
    float[][] rows = s.rows;
    RowKernels kernels = s.kernels;
    // One loop per side, so that the loop body holds no branch on the side.
    if (users) {
      for (int q = 0; q < cn; q++) {
        kernels.copyRow(fixed, data.rowColumn(chunk + q) * k, rows[q], k);
      }
    } else {
      for (int q = 0; q < cn; q++) {
        kernels.copyRow(fixed, data.colRow(chunk + q) * k, rows[q], k);
      }
    }
  }

  /**
   * Adds the chunk's Gram matrix Σ weight·y yᵀ into the upper triangle of {@code s.m}
   * and Σ target·y into {@code s.b} (and, with biases, Σ y into {@code s.sums} and Σ target
   * into {@code b[k]}).
   */
  final void accumulate(RowScratch s, int cn) {
    float[][] rows = s.rows;
    RowKernels kernels = s.kernels;
    double[] b = s.b;
    double sum = 0;
    double squares = 0;
    for (int q = 0; q < cn; q++) {
      double t = s.targets[q];
      sum += t;
      squares += t * t;
    }
    s.targetSum += sum;
    s.targetSquares += squares;
    // Like the Gram, the vector sums run in float32 over one chunk and are then added in
    // double, so their rounding error grows with the chunk, not the row.
    float[] chunkSum = s.chunkSum;
    kernels.accumulateWithSum(rows, s.weights, s.targets, cn, k, s.acc, chunkSum);
    for (int f = 0; f < k; f++) {
      b[f] += chunkSum[f];
    }
    if (state.biases) {
      kernels.weightedSum(rows, s.ones, cn, k, chunkSum);
      double[] sums = s.sums;
      for (int f = 0; f < k; f++) {
        sums[f] += chunkSum[f];
      }
      for (int q = 0; q < cn; q++) {
        b[k] += s.targets[q];
      }
    }
    Gram.drainRows(s.acc, k, s.m, 0, w);
  }

  /**
   * Adds {@code reg} to the diagonal of the system in {@code s.m} / {@code s.b} (λ_b on the
   * bias's), solves it (Cholesky, with a ridge retry; or NNLS warm-started from the stored
   * row) and stores the result as float32.
   */
  final void solveSystem(RowScratch s, double reg, float[] solved, int base, float[] bias,
      int r) {
    double[] m = s.m;
    double[] x = s.x;
    for (int f = 0; f < w; f++) {
      m[f * w + f] += f < k ? reg : options.biasLambda();
      s.diag[f] = m[f * w + f];
    }
    System.arraycopy(m, 0, s.m2, 0, w * w);
    System.arraycopy(s.b, 0, s.b2, 0, w);
    if (options.nonnegative()) {
      for (int f = 0; f < k; f++) {
        x[f] = solved[base + f];
      }
      if (w > k) {
        x[k] = bias[r];
      }
      Nnls.solve(m, s.b, x, s.g, w, k);
    } else {
      if (s.kernels.factor(m, w, s.diag, s.rowsW) || factorWithRidge(s)) {
        s.kernels.solve(m, s.rowsW, s.b, x, w);
      } else {
        Arrays.fill(x, 0, w, 0);
      }
    }
    for (int f = 0; f < k; f++) {
      solved[base + f] = (float) x[f];
    }
    if (w > k) {
      bias[r] = (float) x[k];
    }
  }

  /**
   * Returns {@code constant} − 2 v·b + vᵀ M v for the system {@link #solveSystem} just solved
   * (M its regularised matrix, b its right-hand side, both as they were before the solve) and
   * v the row as stored in float32 (with its bias when there is one), left in {@code s.x}.
   * With Σ target² as the constant this is the row's Σ (target − v·y)² plus its
   * regularisation terms: the loss from the system alone, without a second pass over the
   * entries. The Gram is summed in float32 per chunk, so it is within about 1e-7 relative of
   * the entry-by-entry sum.
   */
  final double systemLoss(RowScratch s, double constant, float[] solved, int base,
      float[] bias, int r) {
    double[] v = s.x;
    for (int f = 0; f < k; f++) {
      v[f] = solved[base + f];
    }
    if (w > k) {
      v[k] = bias[r];
    }
    double linear = 0;
    for (int f = 0; f < w; f++) {
      linear += v[f] * s.b2[f];
    }
    return constant - 2 * linear + Gram.quadraticForm(s.m2, w, v);
  }

  /**
   * Retries the factorisation with a growing ridge on the diagonal; only a singular system
   * (λ = 0 and fewer independent entries than unknowns) gets here.
   */
  private boolean factorWithRidge(RowScratch s) {
    double trace = 0;
    for (int f = 0; f < w; f++) {
      trace += s.diag[f];
    }
    double mean = trace / w;
    if (!(mean > 0) || Double.isInfinite(mean)) {
      return false;
    }
    for (double ridge = 1e-10 * mean; ridge <= 1e-2 * mean; ridge *= 100) {
      System.arraycopy(s.m2, 0, s.m, 0, w * w);
      for (int f = 0; f < w; f++) {
        s.m[f * w + f] += ridge;
      }
      if (s.kernels.factor(s.m, w, s.diag, s.rowsW)) {
        return true;
      }
    }
    return false;
  }

  /** Returns ‖stored row‖² in double. */
  final double storedNorm2(float[] solved, int base) {
    double norm2 = 0;
    for (int f = 0; f < k; f++) {
      double v = solved[base + f];
      norm2 += v * v;
    }
    return norm2;
  }

  /** Returns the regularisation of a row with {@code count} entries: λ, or λ·n weighted. */
  final double regularization(int count) {
    return options.weightedLambda() ? options.lambda() * count : options.lambda();
  }
}
