package io.mfserve.solver.als;

import java.util.Arrays;

/**
 * Implicit-feedback rows (Hu, Koren and Volinsky 2008): each row's normal equations
 * (YᵀY + Σ_{i observed} (c_ui − 1) y_i y_iᵀ + λ_u I) x_u = Σ_i c_ui p_ui y_i, with YᵀY formed
 * once per half-sweep by {@link #updateGram}. Solved by a few conjugate-gradient steps
 * warm-started from the row's previous factors (Takács, Pilászy and Tikk 2011), or exactly by
 * Cholesky (or NNLS for non-negative factors).
 */
final class ImplicitRows extends RowSolver {
  /** Rows per partial sum of YᵀY; fixed, so that the sums do not depend on threads. */
  static final int GRAM_ROWS = 2048;

  /**
   * c − 1 per entry, in row and in column order, for the log confidence; null for the linear
   * one, α|r|, which costs one multiply per entry where a table costs two floats of memory per
   * entry and a stream of them per half-sweep (see {@link #weight}).
   */
  private final float[] rowConfidence;
  private final float[] colConfidence;
  private final double alpha;
  /** UᵀU and VᵀV, upper triangles in double. */
  private final double[] userGram;
  private final double[] itemGram;
  private final double[] gramParts;

  ImplicitRows(FitState state) {
    super(state);
    alpha = options.alpha();
    rowConfidence = options.logConfidence() ? confidences(true) : null;
    colConfidence = options.logConfidence() ? confidences(false) : null;
    userGram = new double[k * k];
    itemGram = new double[k * k];
    gramParts = new double[Math.max(gramBlockCount(data.rows()), gramBlockCount(data.cols()))
        * k * k];
  }

  /** Returns the number of partial sums of YᵀY for {@code n} rows. */
  static int gramBlockCount(int n) {
    return (int) (((long) n + GRAM_ROWS - 1) / GRAM_ROWS);
  }

  /** The log confidence's c − 1 = α·log(1 + |r|/ε) per entry, in row or column order. */
  private float[] confidences(boolean rows) {
    float[] c = new float[data.nnz()];
    double epsilon = options.epsilon();
    for (int p = 0; p < c.length; p++) {
      double r = Math.abs(rows ? data.rowValue(p) : data.colValue(p));
      c[p] = (float) (alpha * Math.log1p(r / epsilon));
    }
    return c;
  }

  /**
   * Returns c − 1, the Gram weight, of entry p (in {@code table}'s order, row or column) with
   * value {@code value}: from the log confidence's table, or α|r| for the linear one (no table).
   */
  private float weight(float[] table, int p, float value) {
    return table != null ? table[p] : (float) (alpha * Math.abs(value));
  }

  /**
   * Recomputes UᵀU ({@code users}) or VᵀV from the current factors, in parallel over fixed
   * blocks of rows summed in block order.
   */
  void updateGram(boolean users, BlockRunner runner, int completed) {
    float[] factors = users ? state.userFactors : state.itemFactors;
    int n = users ? data.rows() : data.cols();
    double[] out = users ? userGram : itemGram;
    int kk = k * k;
    int blocks = gramBlockCount(n);
    Arrays.fill(gramParts, 0, blocks * kk, 0);
    runner.run(blocks, (s, b) -> {
      int from = b * GRAM_ROWS;
      int to = Math.min(n, from + GRAM_ROWS);
      int chunkSize = s.chunkSize();
      for (int chunk = from; chunk < to; chunk += chunkSize) {
        int cn = Math.min(chunkSize, to - chunk);
        for (int q = 0; q < cn; q++) {
          System.arraycopy(factors, (chunk + q) * k, s.rows[q], 0, k);
          s.weights[q] = 1f;
        }
        s.kernels.accumulate(s.rows, s.weights, cn, k, s.acc);
        Gram.drainRows(s.acc, k, gramParts, b * kk, k);
      }
      return 0;
    }, null, completed);
    Arrays.fill(out, 0);
    for (int b = 0; b < blocks; b++) {
      for (int e = 0; e < kk; e++) {
        out[e] += gramParts[b * kk + e];
      }
    }
  }

  /**
   * Returns Σ over all pairs of (x_u·y_i)² = ⟨UᵀU, VᵀV⟩, from the two Gram matrices as last
   * updated.
   */
  double allPairs() {
    double total = 0;
    for (int x = 0; x < k; x++) {
      total += userGram[x * k + x] * itemGram[x * k + x];
      for (int c = x + 1; c < k; c++) {
        total += 2 * userGram[x * k + c] * itemGram[x * k + c];
      }
    }
    return total;
  }

  /**
   * Packs entries [chunk, chunk + cn): the fixed vectors, weight c − 1 and target c·p.
   */
  private void pack(boolean users, int chunk, int cn, RowScratch s, float[] fixed,
      float[] confidence) {
    gather(users, chunk, cn, s, fixed);
    for (int q = 0; q < cn; q++) {
      int p = chunk + q;
      float value = users ? data.rowValue(p) : data.colValue(p);
      float c1 = weight(confidence, p, value);
      s.weights[q] = c1;
      s.targets[q] = value > 0 ? 1f + c1 : 0f;
    }
  }

  /**
   * {@inheritDoc}
   *
   * @return λ_r‖x‖², plus, on the item side, Σ over the column's observed entries of
   *     c(p − s)² − s² (s the score), the all-pairs part Σ s² being added per sweep as
   *     {@link #allPairs()}
   */
  @Override
  double solve(boolean users, int r, RowScratch s) {
    float[] solved = users ? state.userFactors : state.itemFactors;
    float[] fixed = users ? state.itemFactors : state.userFactors;
    float[] confidence = users ? rowConfidence : colConfidence;
    double[] gram = users ? itemGram : userGram;
    int base = r * k;
    int from = users ? data.rowStart(r) : data.colStart(r);
    int to = users ? data.rowEnd(r) : data.colEnd(r);
    if (from == to) {
      // Every entry is absent (p = 0, c = 1), so x = 0 minimises the row's terms.
      Arrays.fill(solved, base, base + k, 0f);
      return 0;
    }
    int count = to - from;
    int chunkSize = s.chunkSize();
    double reg = regularization(count);
    if (options.cholesky() || options.nonnegative()) {
      beginRow(s);
      for (int chunk = from; chunk < to; chunk += chunkSize) {
        int cn = Math.min(chunkSize, to - chunk);
        pack(users, chunk, cn, s, fixed, confidence);
        accumulate(s, cn);
      }
      for (int e = 0; e < k * k; e++) {
        s.m[e] += gram[e];
      }
      solveSystem(s, reg, solved, base, null, r);
      if (!users) {
        // The column's terms from its system: with t ∈ {0, 1} and target (1 + c')·t,
        // Σ (1 + c')(t − s)² − s² = Σ target − 2 x·b + xᵀ(Σ c' y yᵀ)x, and the system's
        // matrix is that Gram plus YᵀY plus the regularisation, whose λ‖x‖² is the term's too.
        return systemLoss(s, s.targetSum, solved, base, null, r)
            - Gram.quadraticForm(gram, k, s.x);
      }
      return reg * storedNorm2(solved, base);
    }
    conjugateGradient(users, s, from, to, reg, solved, fixed, confidence, gram, base);
    double term = reg * storedNorm2(solved, base);
    if (!users) {
      float[] itemFactors = state.itemFactors;
      if (count <= chunkSize) {
        // The chunk still holds the whole column (gathered by the solve above).
        System.arraycopy(itemFactors, base, s.own, 0, k);
        for (int q = 0; q < count; q++) {
          double score = s.kernels.dot(s.rows[q], s.own, k);
          double c1 = s.weights[q];
          double e = (s.targets[q] > 0 ? 1 : 0) - score;
          term += (1.0 + c1) * e * e - score * score;
        }
      } else {
        float[] userFactors = state.userFactors;
        System.arraycopy(itemFactors, base, s.own, 0, k);
        float[] user = s.rows[0];
        for (int p = from; p < to; p++) {
          s.kernels.copyRow(userFactors, data.colRow(p) * k, user, k);
          double score = s.kernels.dot(user, s.own, k);
          float value = data.colValue(p);
          double e = (value > 0 ? 1 : 0) - score;
          term += (1.0 + weight(confidence, p, value)) * e * e - score * score;
        }
      }
    }
    return term;
  }

  /**
   * Takes {@code cg_steps} conjugate-gradient steps on the row's implicit normal equations
   * from its stored factors, applying A·v = YᵀY v + λ_r v + Σ (c − 1)(y·v) y without forming
   * A (Takács, Pilászy and Tikk 2011), and stores the result. A row that fits one chunk is
   * gathered once for all steps.
   */
  private void conjugateGradient(boolean users, RowScratch s, int from, int to, double reg,
      float[] solved, float[] fixed, float[] confidence, double[] gram, int base) {
    double[] x = s.x;
    double[] res = s.b;
    double[] dir = s.dir;
    double[] ad = s.g;
    int chunkSize = s.chunkSize();
    boolean single = to - from <= chunkSize;
    if (single) {
      pack(users, from, to - from, s, fixed, confidence);
    }
    for (int f = 0; f < k; f++) {
      x[f] = solved[base + f];
    }
    // res = b − A x = Σ c p y − YᵀY x − λ x − Σ (c − 1)(y·x) y.
    Gram.symmetricTimes(gram, x, res, k);
    for (int f = 0; f < k; f++) {
      res[f] = -res[f] - reg * x[f];
    }
    for (int chunk = from; chunk < to; chunk += chunkSize) {
      int cn = Math.min(chunkSize, to - chunk);
      if (!single) {
        pack(users, chunk, cn, s, fixed, confidence);
      }
      confidenceTimes(s, cn, x, res, true);
    }
    double rsOld = 0;
    for (int f = 0; f < k; f++) {
      dir[f] = res[f];
      rsOld += res[f] * res[f];
    }
    for (int step = 0; step < options.cgSteps() && rsOld > 1e-20; step++) {
      Gram.symmetricTimes(gram, dir, ad, k);
      for (int f = 0; f < k; f++) {
        ad[f] += reg * dir[f];
      }
      for (int chunk = from; chunk < to; chunk += chunkSize) {
        int cn = Math.min(chunkSize, to - chunk);
        if (!single) {
          pack(users, chunk, cn, s, fixed, confidence);
        }
        confidenceTimes(s, cn, dir, ad, false);
      }
      double dad = 0;
      for (int f = 0; f < k; f++) {
        dad += dir[f] * ad[f];
      }
      if (!(dad > 0)) {
        break;
      }
      double stepSize = rsOld / dad;
      double rsNew = 0;
      for (int f = 0; f < k; f++) {
        x[f] += stepSize * dir[f];
        res[f] -= stepSize * ad[f];
        rsNew += res[f] * res[f];
      }
      double beta = rsNew / rsOld;
      for (int f = 0; f < k; f++) {
        dir[f] = res[f] + beta * dir[f];
      }
      rsOld = rsNew;
    }
    for (int f = 0; f < k; f++) {
      solved[base + f] = (float) x[f];
    }
  }

  /**
   * Over the chunk, adds Σ_q coef_q y_q to {@code out}, where coef_q = (c_q − 1)(v·y_q)
   * (the observed part of A·v), or, with {@code residual}, coef_q = c_q p_q − (c_q − 1)(v·y_q)
   * (the observed part of b − A·v). Four entries at a time, so that the four dot products run
   * side by side and each element of {@code out} is loaded and stored once per four entries.
   */
  private void confidenceTimes(RowScratch s, int cn, double[] v, double[] out,
      boolean residual) {
    float[][] rows = s.rows;
    float[] weights = s.weights;
    float[] targets = s.targets;
    double sign = residual ? -1 : 1;
    int q = 0;
    for (; q + 4 <= cn; q += 4) {
      float[] y0 = rows[q];
      float[] y1 = rows[q + 1];
      float[] y2 = rows[q + 2];
      float[] y3 = rows[q + 3];
      double d0 = 0;
      double d1 = 0;
      double d2 = 0;
      double d3 = 0;
      for (int f = 0; f < k; f++) {
        double vf = v[f];
        d0 += vf * y0[f];
        d1 += vf * y1[f];
        d2 += vf * y2[f];
        d3 += vf * y3[f];
      }
      double c0 = sign * weights[q] * d0 + (residual ? targets[q] : 0);
      double c1 = sign * weights[q + 1] * d1 + (residual ? targets[q + 1] : 0);
      double c2 = sign * weights[q + 2] * d2 + (residual ? targets[q + 2] : 0);
      double c3 = sign * weights[q + 3] * d3 + (residual ? targets[q + 3] : 0);
      for (int f = 0; f < k; f++) {
        out[f] += c0 * y0[f] + c1 * y1[f] + c2 * y2[f] + c3 * y3[f];
      }
    }
    for (; q < cn; q++) {
      float[] y = rows[q];
      double d = 0;
      for (int f = 0; f < k; f++) {
        d += v[f] * y[f];
      }
      double c = sign * weights[q] * d + (residual ? targets[q] : 0);
      for (int f = 0; f < k; f++) {
        out[f] += c * y[f];
      }
    }
  }
}
