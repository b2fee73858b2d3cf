package io.mfserve.solver.als;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link RowKernels} in the JDK's Vector API.
 *
 * <p>The Gram matrix is a register-blocked small SYRK: the accumulator is cut into blocks of
 * four rows × one or two vectors of columns (eight rows × one where a single vector of columns
 * is left), and each block's partial sums stay in registers for a whole chunk of entries. Per
 * entry a 4 × 2 block loads two vectors of y and four scalars of it, and does eight vector
 * multiply-adds; the scalar form ({@link Gram#accumulateRows}) loads and stores its
 * accumulator row on every pass, and C2 leaves its triangle rows' short remainders scalar.
 *
 * <p>Blocks left of the diagonal are skipped whole, so the work is the upper triangle rounded
 * out to whole vectors. The sum over entries runs in entry order, so the result is
 * deterministic and, with unit weights, equal to the scalar form's to the bit; with other
 * weights it may differ in the last bit (w·y[c] is rounded here, w·y[x] there).
 *
 * <p>The Cholesky factorisation is left-looking, on one array per row padded to whole vectors
 * ({@link #systemRows}): each pair of rows takes its whole update from the finished rows above
 * at once, summed in registers, and is stored once (see {@link #factorRows}); the solve then
 * reads R from those rows. The scalar form's C2 loops fall back to scalar code for most of a
 * short triangle row; these run whole vectors from the aligned column at or left of the
 * diagonal (the few entries left of it are never read). Against the right-looking vector
 * form it replaced (four pivots at a time, a rank-4 update of every trailing pair of rows),
 * factor and solve took 0.78–0.84 of the time at w = 16 to 129 (6.6 against 8.2 µs at 64),
 * and whole sweeps of synth-10M 0.96 at rank 64, 0.90 at rank 64 implicit, 0.78 at rank 128
 * (AlsAb, 2026-12-07); CholeskyBenchmark: 6.2 µs at k = 64 against the scalar rows' 10.3.
 * Below {@link Cholesky#ROWS_MIN_WIDTH} it hands over to the scalar form, which factors in
 * place there.
 *
 * <p>Compiled apart from the rest of the module (the incubating module's compile warning cannot
 * be silenced, and the rest compiles with {@code -Werror}) and loaded by name from
 * {@link RowKernels#preferred} when the JVM has {@code --add-modules=jdk.incubator.vector}.
 */
final class VectorRowKernels implements RowKernels {
  private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
  private static final int LANES = SPECIES.length();
  private static final VectorSpecies<Double> DOUBLES = DoubleVector.SPECIES_PREFERRED;
  private static final int DOUBLE_LANES = DOUBLES.length();
  /** TAIL[n]: the first n lanes, for a row's last, partial vector. */
  private static final VectorMask<Float>[] TAIL = tailMasks();
  /** Accumulator rows per block. */
  private static final int ROWS = 4;

  @Override
  public int width(int k) {
    return (k + LANES - 1) / LANES * LANES;
  }

  @Override
  public int accumulatorRows(int k) {
    return (k + ROWS - 1) / ROWS * ROWS;
  }

  @Override
  public String name() {
    return "vector";
  }

  @Override
  public String toString() {
    return name() + " (" + LANES + " floats)";
  }

  @Override
  public void accumulate(float[][] rows, float[] weights, int n, int k, float[][] acc) {
    int width = width(k);
    if (width == LANES && k > 2 * ROWS && k <= 3 * ROWS) {
      // Ranks 9 to 12 (and explicit rank 10 or 11 with the bias and target lanes): the whole
      // Gram in one pass over the chunk instead of two (rows 0–7, then 8–11).
      twelveByOne(rows, weights, n, acc);
      return;
    }
    int x0 = 0;
    while (x0 < k) {
      // The first vector of columns that holds an entry on or right of the block's diagonal.
      int c = x0 / LANES * LANES;
      if (c + LANES == width && x0 + 2 * ROWS <= accumulatorRows(k)) {
        // One vector of columns left (rank ≤ 16, or the last band of a larger one): eight
        // rows per pass over the chunk instead of four halve the passes.
        eightByOne(rows, weights, n, x0, c, acc);
        x0 += 2 * ROWS;
        continue;
      }
      for (; c + 2 * LANES <= width; c += 2 * LANES) {
        fourByTwo(rows, weights, n, x0, c, acc);
      }
      if (c < width) {
        fourByOne(rows, weights, n, x0, c, acc);
      }
      x0 += ROWS;
    }
  }

  /**
   * {@inheritDoc}
   *
   * <p>Where a row is one vector (rank 5 to 16), the sum rides along the pass that forms the
   * first eight or twelve accumulator rows: the chunk's rows are loaded once for both, and at
   * rank 9 to 12 the Gram takes one pass instead of two (rows 0–7, then 8–11).
   */
  @Override
  public void accumulateWithSum(float[][] rows, float[] weights, float[] coefficients, int n,
      int k, float[][] acc, float[] out) {
    if (width(k) != LANES || k <= ROWS) {
      RowKernels.super.accumulateWithSum(rows, weights, coefficients, n, k, acc, out);
      return;
    }
    if (k > 2 * ROWS && k <= 3 * ROWS) {
      twelveByOneWithSum(rows, weights, coefficients, n, acc, out);
      return;
    }
    eightByOneWithSum(rows, weights, coefficients, n, acc, out);
    if (k > 2 * ROWS) {
      eightByOne(rows, weights, n, 2 * ROWS, 0, acc);
    }
  }

  @Override
  public void weightedSum(float[][] rows, float[] coefficients, int n, int k, float[] out) {
    int width = width(k);
    for (int c = 0; c < width; c += LANES) {
      FloatVector sum = FloatVector.zero(SPECIES);
      for (int q = 0; q < n; q++) {
        sum = FloatVector.fromArray(SPECIES, rows[q], c)
            .fma(FloatVector.broadcast(SPECIES, coefficients[q]), sum);
      }
      sum.intoArray(out, c);
    }
  }

  @Override
  public void copyRow(float[] from, int offset, float[] to, int k) {
    if (k < LANES && offset <= from.length - LANES) {
      // The common case at small ranks (one vector per row), first and without a loop.
      FloatVector.zero(SPECIES).blend(FloatVector.fromArray(SPECIES, from, offset), TAIL[k])
          .intoArray(to, 0);
      return;
    }
    int c = 0;
    // Whole vectors while they end inside the row (past it they would copy the next row's
    // values into the padding, which must stay zero).
    for (; c + LANES <= k; c += LANES) {
      FloatVector.fromArray(SPECIES, from, offset + c).intoArray(to, c);
    }
    if (c < k) {
      if (offset + c + LANES <= from.length) {
        // One whole vector, with the lanes past the row (the next row's values) zeroed.
        FloatVector.zero(SPECIES).blend(FloatVector.fromArray(SPECIES, from, offset + c),
            TAIL[k - c]).intoArray(to, c);
      } else {
        for (; c < k; c++) {
          to[c] = from[offset + c];
        }
      }
    }
  }

  @SuppressWarnings("unchecked")
  private static VectorMask<Float>[] tailMasks() {
    VectorMask<Float>[] masks = new VectorMask[LANES];
    for (int n = 0; n < LANES; n++) {
      masks[n] = SPECIES.indexInRange(0, n);
    }
    return masks;
  }

  @Override
  public double dot(float[] left, float[] right, int k) {
    int width = width(k);
    FloatVector sum = FloatVector.fromArray(SPECIES, left, 0)
        .mul(FloatVector.fromArray(SPECIES, right, 0));
    for (int c = LANES; c < width; c += LANES) {
      sum = FloatVector.fromArray(SPECIES, left, c)
          .fma(FloatVector.fromArray(SPECIES, right, c), sum);
    }
    return sum.reduceLanes(VectorOperators.ADD);
  }

  /** One more row than w: R's rows, then the reciprocals of its diagonal, for the solve. */
  @Override
  public double[][] systemRows(int w) {
    return new double[w + 1][paddedWidth(w)];
  }

  /** w rounded up to whole vectors of doubles. */
  private static int paddedWidth(int w) {
    return (w + DOUBLE_LANES - 1) / DOUBLE_LANES * DOUBLE_LANES;
  }

  /**
   * {@inheritDoc}
   *
   * <p>From width {@link Cholesky#ROWS_MIN_WIDTH} on, R is left in {@code rows} only (from
   * {@link #systemRows}, which {@link #solve} reads) and {@code m} keeps A.
   */
  @Override
  public boolean factor(double[] m, int w, double[] diag, double[][] rows) {
    if (w < Cholesky.ROWS_MIN_WIDTH) {
      return Cholesky.factor(m, w, diag, rows);
    }
    int padded = paddedWidth(w);
    if (rows.length <= w || rows[0].length < padded) {
      throw new IllegalArgumentException(rows.length + " rows of " + rows[0].length
          + " doubles for width " + w + ": allocate them with systemRows");
    }
    for (int i = 0; i < w; i++) {
      double[] row = rows[i];
      // The lanes a whole vector covers left of the diagonal and past w are read and written
      // but mean nothing; zeroing them keeps the previous system's values out of the sums.
      java.util.Arrays.fill(row, i & -DOUBLE_LANES, i, 0);
      System.arraycopy(m, i * w + i, row, i, w - i);
      java.util.Arrays.fill(row, w, padded, 0);
    }
    return factorRows(rows, w, diag);
  }

  /**
   * The left-looking form, two rows at a time: rows i and i + 1 take the whole update from
   * the finished rows above them at once, r[c] −= Σ_{t &lt; i} R[t][i]·R[t][c], each vector of
   * columns summed in registers over t (two partial sums, over even and odd t, so that two
   * chains of multiply-adds run side by side) and stored once; each pivot row's vector loaded
   * serves both rows. Then row i is pivoted, row i + 1 takes row i's term, and is pivoted.
   * Compared with updating every trailing row after each pivot (the scalar form), each row is
   * loaded and stored once per vector instead of once per pivot.
   */
  private static boolean factorRows(double[][] m, int w, double[] diag) {
    // 1 / R[i][i], kept in the extra row so that the solve multiplies instead of dividing: a
    // division per unknown on each substitution's chain of dependent steps took 0.74–0.89 of
    // the solve's time out (w = 16 to 128).
    double[] reciprocals = m[w];
    int i = 0;
    for (; i + 2 <= w; i += 2) {
      double[] ri = m[i];
      double[] rn = m[i + 1];
      int end = ri.length;
      int c = i & -DOUBLE_LANES;
      for (; c + 2 * DOUBLE_LANES <= end; c += 2 * DOUBLE_LANES) {
        updatePairTwoVectors(m, ri, rn, i, c);
      }
      if (c < end) {
        updatePairOneVector(m, ri, rn, i, c);
      }
      reciprocals[i] = Cholesky.pivotRow(ri, w, i, diag);
      if (reciprocals[i] == 0) {
        return false;
      }
      double f = ri[i + 1];
      for (int x = i + 1; x < w; x++) {
        rn[x] = Math.fma(-f, ri[x], rn[x]);
      }
      reciprocals[i + 1] = Cholesky.pivotRow(rn, w, i + 1, diag);
      if (reciprocals[i + 1] == 0) {
        return false;
      }
    }
    if (i < w) {
      // The last row of an odd width.
      double[] ri = m[i];
      for (int c = i & -DOUBLE_LANES; c < ri.length; c += DOUBLE_LANES) {
        updateOneVector(m, ri, i, c);
      }
      reciprocals[i] = Cholesky.pivotRow(ri, w, i, diag);
      return reciprocals[i] != 0;
    }
    return true;
  }

  /** Rows i and i + 1, columns c..c+2·LANES−1, minus the terms of rows 0..i−1. */
  private static void updatePairTwoVectors(double[][] m, double[] ri, double[] rn, int i,
      int c) {
    int c1 = c + DOUBLE_LANES;
    DoubleVector i0 = DoubleVector.fromArray(DOUBLES, ri, c);
    DoubleVector i1 = DoubleVector.fromArray(DOUBLES, ri, c1);
    DoubleVector n0 = DoubleVector.fromArray(DOUBLES, rn, c);
    DoubleVector n1 = DoubleVector.fromArray(DOUBLES, rn, c1);
    DoubleVector oddI0 = DoubleVector.zero(DOUBLES);
    DoubleVector oddI1 = oddI0;
    DoubleVector oddN0 = oddI0;
    DoubleVector oddN1 = oddI0;
    int t = 0;
    for (; t + 2 <= i; t += 2) {
      double[] even = m[t];
      double[] odd = m[t + 1];
      DoubleVector e0 = DoubleVector.fromArray(DOUBLES, even, c);
      DoubleVector e1 = DoubleVector.fromArray(DOUBLES, even, c1);
      DoubleVector o0 = DoubleVector.fromArray(DOUBLES, odd, c);
      DoubleVector o1 = DoubleVector.fromArray(DOUBLES, odd, c1);
      DoubleVector ei = DoubleVector.broadcast(DOUBLES, -even[i]);
      DoubleVector en = DoubleVector.broadcast(DOUBLES, -even[i + 1]);
      DoubleVector oi = DoubleVector.broadcast(DOUBLES, -odd[i]);
      DoubleVector on = DoubleVector.broadcast(DOUBLES, -odd[i + 1]);
      i0 = e0.fma(ei, i0);
      i1 = e1.fma(ei, i1);
      n0 = e0.fma(en, n0);
      n1 = e1.fma(en, n1);
      oddI0 = o0.fma(oi, oddI0);
      oddI1 = o1.fma(oi, oddI1);
      oddN0 = o0.fma(on, oddN0);
      oddN1 = o1.fma(on, oddN1);
    }
    if (t < i) {
      double[] even = m[t];
      DoubleVector e0 = DoubleVector.fromArray(DOUBLES, even, c);
      DoubleVector e1 = DoubleVector.fromArray(DOUBLES, even, c1);
      DoubleVector ei = DoubleVector.broadcast(DOUBLES, -even[i]);
      DoubleVector en = DoubleVector.broadcast(DOUBLES, -even[i + 1]);
      i0 = e0.fma(ei, i0);
      i1 = e1.fma(ei, i1);
      n0 = e0.fma(en, n0);
      n1 = e1.fma(en, n1);
    }
    i0.add(oddI0).intoArray(ri, c);
    i1.add(oddI1).intoArray(ri, c1);
    n0.add(oddN0).intoArray(rn, c);
    n1.add(oddN1).intoArray(rn, c1);
  }

  /**
   * As {@link #updatePairTwoVectors}, for one vector of columns: written out apart for the
   * reason the Gram's blocks are (below), its sums held in registers only as separate locals.
   */
  private static void updatePairOneVector(double[][] m, double[] ri, double[] rn, int i,
      int c) {
    DoubleVector i0 = DoubleVector.fromArray(DOUBLES, ri, c);
    DoubleVector n0 = DoubleVector.fromArray(DOUBLES, rn, c);
    DoubleVector oddI0 = DoubleVector.zero(DOUBLES);
    DoubleVector oddN0 = oddI0;
    int t = 0;
    for (; t + 2 <= i; t += 2) {
      double[] even = m[t];
      double[] odd = m[t + 1];
      DoubleVector e0 = DoubleVector.fromArray(DOUBLES, even, c);
      DoubleVector o0 = DoubleVector.fromArray(DOUBLES, odd, c);
      i0 = e0.fma(DoubleVector.broadcast(DOUBLES, -even[i]), i0);
      n0 = e0.fma(DoubleVector.broadcast(DOUBLES, -even[i + 1]), n0);
      oddI0 = o0.fma(DoubleVector.broadcast(DOUBLES, -odd[i]), oddI0);
      oddN0 = o0.fma(DoubleVector.broadcast(DOUBLES, -odd[i + 1]), oddN0);
    }
    if (t < i) {
      double[] even = m[t];
      DoubleVector e0 = DoubleVector.fromArray(DOUBLES, even, c);
      i0 = e0.fma(DoubleVector.broadcast(DOUBLES, -even[i]), i0);
      n0 = e0.fma(DoubleVector.broadcast(DOUBLES, -even[i + 1]), n0);
    }
    i0.add(oddI0).intoArray(ri, c);
    n0.add(oddN0).intoArray(rn, c);
  }

  /** Row i alone, columns c..c+LANES−1, minus the terms of rows 0..i−1. */
  private static void updateOneVector(double[][] m, double[] ri, int i, int c) {
    DoubleVector sum = DoubleVector.fromArray(DOUBLES, ri, c);
    DoubleVector odd = DoubleVector.zero(DOUBLES);
    int t = 0;
    for (; t + 2 <= i; t += 2) {
      sum = DoubleVector.fromArray(DOUBLES, m[t], c)
          .fma(DoubleVector.broadcast(DOUBLES, -m[t][i]), sum);
      odd = DoubleVector.fromArray(DOUBLES, m[t + 1], c)
          .fma(DoubleVector.broadcast(DOUBLES, -m[t + 1][i]), odd);
    }
    if (t < i) {
      sum = DoubleVector.fromArray(DOUBLES, m[t], c)
          .fma(DoubleVector.broadcast(DOUBLES, -m[t][i]), sum);
    }
    sum.add(odd).intoArray(ri, c);
  }

  @Override
  public void solve(double[] m, double[][] rows, double[] b, double[] x, int w) {
    if (w < Cholesky.ROWS_MIN_WIDTH) {
      Cholesky.solve(m, b, x, w);
      return;
    }
    double[] reciprocals = rows[w];
    // Rᵀz = b by row updates: b[c] −= z_j·R[j][c] for c > j (never left of j: those are final).
    // The columns up to the next aligned one in scalar code, so that each b[j] is read back
    // from a scalar store (a vector store there would have to be forwarded to a narrower load).
    for (int j = 0; j < w; j++) {
      double[] rj = rows[j];
      double z = b[j] * reciprocals[j];
      b[j] = z;
      int c = j + 1;
      for (; c < w && (c & (DOUBLE_LANES - 1)) != 0; c++) {
        b[c] = Math.fma(-z, rj[c], b[c]);
      }
      DoubleVector nz = DoubleVector.broadcast(DOUBLES, -z);
      for (; c + DOUBLE_LANES <= w; c += DOUBLE_LANES) {
        DoubleVector.fromArray(DOUBLES, rj, c).fma(nz, DoubleVector.fromArray(DOUBLES, b, c))
            .intoArray(b, c);
      }
      for (; c < w; c++) {
        b[c] = Math.fma(-z, rj[c], b[c]);
      }
    }
    // R x = z by dot products over the solved part.
    for (int j = w - 1; j >= 0; j--) {
      double[] rj = rows[j];
      double s = b[j];
      int c = j + 1;
      for (; c < w && (c & (DOUBLE_LANES - 1)) != 0; c++) {
        s -= rj[c] * x[c];
      }
      DoubleVector sum = DoubleVector.zero(DOUBLES);
      for (; c + DOUBLE_LANES <= w; c += DOUBLE_LANES) {
        sum = DoubleVector.fromArray(DOUBLES, rj, c).fma(DoubleVector.fromArray(DOUBLES, x, c),
            sum);
      }
      double tail = 0;
      for (; c < w; c++) {
        tail += rj[c] * x[c];
      }
      x[j] = (s - sum.reduceLanes(VectorOperators.ADD) - tail) * reciprocals[j];
    }
  }

  /** Rows x0..x0+3, columns c..c+2·LANES−1. */
  private static void fourByTwo(float[][] rows, float[] weights, int n, int x0, int c,
      float[][] acc) {
    FloatVector a00 = FloatVector.zero(SPECIES);
    FloatVector a01 = a00;
    FloatVector a10 = a00;
    FloatVector a11 = a00;
    FloatVector a20 = a00;
    FloatVector a21 = a00;
    FloatVector a30 = a00;
    FloatVector a31 = a00;
    for (int q = 0; q < n; q++) {
      float[] y = rows[q];
      FloatVector w = FloatVector.broadcast(SPECIES, weights[q]);
      FloatVector b0 = FloatVector.fromArray(SPECIES, y, c).mul(w);
      FloatVector b1 = FloatVector.fromArray(SPECIES, y, c + LANES).mul(w);
      FloatVector s0 = FloatVector.broadcast(SPECIES, y[x0]);
      FloatVector s1 = FloatVector.broadcast(SPECIES, y[x0 + 1]);
      FloatVector s2 = FloatVector.broadcast(SPECIES, y[x0 + 2]);
      FloatVector s3 = FloatVector.broadcast(SPECIES, y[x0 + 3]);
      a00 = s0.fma(b0, a00);
      a01 = s0.fma(b1, a01);
      a10 = s1.fma(b0, a10);
      a11 = s1.fma(b1, a11);
      a20 = s2.fma(b0, a20);
      a21 = s2.fma(b1, a21);
      a30 = s3.fma(b0, a30);
      a31 = s3.fma(b1, a31);
    }
    a00.intoArray(acc[x0], c);
    a01.intoArray(acc[x0], c + LANES);
    a10.intoArray(acc[x0 + 1], c);
    a11.intoArray(acc[x0 + 1], c + LANES);
    a20.intoArray(acc[x0 + 2], c);
    a21.intoArray(acc[x0 + 2], c + LANES);
    a30.intoArray(acc[x0 + 3], c);
    a31.intoArray(acc[x0 + 3], c + LANES);
  }

  // The blocks below are written out per shape: the Vector API keeps a block's partial sums in
  // registers only as separate local variables (an array of vectors would live in memory).

  /** Rows x0..x0+7, columns c..c+LANES−1. */
  private static void eightByOne(float[][] rows, float[] weights, int n, int x0, int c,
      float[][] acc) {
    FloatVector a0 = FloatVector.zero(SPECIES);
    FloatVector a1 = a0;
    FloatVector a2 = a0;
    FloatVector a3 = a0;
    FloatVector a4 = a0;
    FloatVector a5 = a0;
    FloatVector a6 = a0;
    FloatVector a7 = a0;
    for (int q = 0; q < n; q++) {
      float[] y = rows[q];
      FloatVector b = FloatVector.fromArray(SPECIES, y, c).mul(weights[q]);
      a0 = FloatVector.broadcast(SPECIES, y[x0]).fma(b, a0);
      a1 = FloatVector.broadcast(SPECIES, y[x0 + 1]).fma(b, a1);
      a2 = FloatVector.broadcast(SPECIES, y[x0 + 2]).fma(b, a2);
      a3 = FloatVector.broadcast(SPECIES, y[x0 + 3]).fma(b, a3);
      a4 = FloatVector.broadcast(SPECIES, y[x0 + 4]).fma(b, a4);
      a5 = FloatVector.broadcast(SPECIES, y[x0 + 5]).fma(b, a5);
      a6 = FloatVector.broadcast(SPECIES, y[x0 + 6]).fma(b, a6);
      a7 = FloatVector.broadcast(SPECIES, y[x0 + 7]).fma(b, a7);
    }
    a0.intoArray(acc[x0], c);
    a1.intoArray(acc[x0 + 1], c);
    a2.intoArray(acc[x0 + 2], c);
    a3.intoArray(acc[x0 + 3], c);
    a4.intoArray(acc[x0 + 4], c);
    a5.intoArray(acc[x0 + 5], c);
    a6.intoArray(acc[x0 + 6], c);
    a7.intoArray(acc[x0 + 7], c);
  }

  /**
   * Rows 0..7 of a one-vector accumulator (ranks 5 to 16), and Σ coefficients[q]·rows[q] into
   * {@code out} by the same multiply-adds in the same order as {@link #weightedSum}: the
   * chunk's rows are loaded once for both. A twin of {@link #eightByOne} rather than one
   * method with an optional sum: a vector that is updated on one branch only is boxed on the
   * heap every pass (C2 scalar-replaces vectors only along straight paths; a flag for the sum
   * made implicit sweeps 1.5× slower).
   */
  private static void eightByOneWithSum(float[][] rows, float[] weights, float[] coefficients,
      int n, float[][] acc, float[] out) {
    FloatVector a0 = FloatVector.zero(SPECIES);
    FloatVector a1 = a0;
    FloatVector a2 = a0;
    FloatVector a3 = a0;
    FloatVector a4 = a0;
    FloatVector a5 = a0;
    FloatVector a6 = a0;
    FloatVector a7 = a0;
    FloatVector sum = a0;
    for (int q = 0; q < n; q++) {
      float[] y = rows[q];
      FloatVector v = FloatVector.fromArray(SPECIES, y, 0);
      sum = v.fma(FloatVector.broadcast(SPECIES, coefficients[q]), sum);
      FloatVector b = v.mul(weights[q]);
      a0 = FloatVector.broadcast(SPECIES, y[0]).fma(b, a0);
      a1 = FloatVector.broadcast(SPECIES, y[1]).fma(b, a1);
      a2 = FloatVector.broadcast(SPECIES, y[2]).fma(b, a2);
      a3 = FloatVector.broadcast(SPECIES, y[3]).fma(b, a3);
      a4 = FloatVector.broadcast(SPECIES, y[4]).fma(b, a4);
      a5 = FloatVector.broadcast(SPECIES, y[5]).fma(b, a5);
      a6 = FloatVector.broadcast(SPECIES, y[6]).fma(b, a6);
      a7 = FloatVector.broadcast(SPECIES, y[7]).fma(b, a7);
    }
    a0.intoArray(acc[0], 0);
    a1.intoArray(acc[1], 0);
    a2.intoArray(acc[2], 0);
    a3.intoArray(acc[3], 0);
    a4.intoArray(acc[4], 0);
    a5.intoArray(acc[5], 0);
    a6.intoArray(acc[6], 0);
    a7.intoArray(acc[7], 0);
    sum.intoArray(out, 0);
  }

  /** Rows x0..x0+3, columns c..c+LANES−1. */
  private static void fourByOne(float[][] rows, float[] weights, int n, int x0, int c,
      float[][] acc) {
    FloatVector a0 = FloatVector.zero(SPECIES);
    FloatVector a1 = a0;
    FloatVector a2 = a0;
    FloatVector a3 = a0;
    for (int q = 0; q < n; q++) {
      float[] y = rows[q];
      FloatVector b = FloatVector.fromArray(SPECIES, y, c).mul(weights[q]);
      a0 = FloatVector.broadcast(SPECIES, y[x0]).fma(b, a0);
      a1 = FloatVector.broadcast(SPECIES, y[x0 + 1]).fma(b, a1);
      a2 = FloatVector.broadcast(SPECIES, y[x0 + 2]).fma(b, a2);
      a3 = FloatVector.broadcast(SPECIES, y[x0 + 3]).fma(b, a3);
    }
    a0.intoArray(acc[x0], c);
    a1.intoArray(acc[x0 + 1], c);
    a2.intoArray(acc[x0 + 2], c);
    a3.intoArray(acc[x0 + 3], c);
  }

  /** Rows 0..11 of a one-vector accumulator: the whole Gram of ranks 9 to 12. */
  private static void twelveByOne(float[][] rows, float[] weights, int n, float[][] acc) {
    FloatVector a0 = FloatVector.zero(SPECIES);
    FloatVector a1 = a0;
    FloatVector a2 = a0;
    FloatVector a3 = a0;
    FloatVector a4 = a0;
    FloatVector a5 = a0;
    FloatVector a6 = a0;
    FloatVector a7 = a0;
    FloatVector a8 = a0;
    FloatVector a9 = a0;
    FloatVector a10 = a0;
    FloatVector a11 = a0;
    for (int q = 0; q < n; q++) {
      float[] y = rows[q];
      FloatVector b = FloatVector.fromArray(SPECIES, y, 0).mul(weights[q]);
      a0 = FloatVector.broadcast(SPECIES, y[0]).fma(b, a0);
      a1 = FloatVector.broadcast(SPECIES, y[1]).fma(b, a1);
      a2 = FloatVector.broadcast(SPECIES, y[2]).fma(b, a2);
      a3 = FloatVector.broadcast(SPECIES, y[3]).fma(b, a3);
      a4 = FloatVector.broadcast(SPECIES, y[4]).fma(b, a4);
      a5 = FloatVector.broadcast(SPECIES, y[5]).fma(b, a5);
      a6 = FloatVector.broadcast(SPECIES, y[6]).fma(b, a6);
      a7 = FloatVector.broadcast(SPECIES, y[7]).fma(b, a7);
      a8 = FloatVector.broadcast(SPECIES, y[8]).fma(b, a8);
      a9 = FloatVector.broadcast(SPECIES, y[9]).fma(b, a9);
      a10 = FloatVector.broadcast(SPECIES, y[10]).fma(b, a10);
      a11 = FloatVector.broadcast(SPECIES, y[11]).fma(b, a11);
    }
    a0.intoArray(acc[0], 0);
    a1.intoArray(acc[1], 0);
    a2.intoArray(acc[2], 0);
    a3.intoArray(acc[3], 0);
    a4.intoArray(acc[4], 0);
    a5.intoArray(acc[5], 0);
    a6.intoArray(acc[6], 0);
    a7.intoArray(acc[7], 0);
    a8.intoArray(acc[8], 0);
    a9.intoArray(acc[9], 0);
    a10.intoArray(acc[10], 0);
    a11.intoArray(acc[11], 0);
  }
  /** {@link #twelveByOne} with the sum of {@link #eightByOneWithSum}. */
  private static void twelveByOneWithSum(float[][] rows, float[] weights, float[] coefficients,
      int n, float[][] acc, float[] out) {
    FloatVector a0 = FloatVector.zero(SPECIES);
    FloatVector a1 = a0;
    FloatVector a2 = a0;
    FloatVector a3 = a0;
    FloatVector a4 = a0;
    FloatVector a5 = a0;
    FloatVector a6 = a0;
    FloatVector a7 = a0;
    FloatVector a8 = a0;
    FloatVector a9 = a0;
    FloatVector a10 = a0;
    FloatVector a11 = a0;
    FloatVector sum = a0;
    for (int q = 0; q < n; q++) {
      float[] y = rows[q];
      FloatVector v = FloatVector.fromArray(SPECIES, y, 0);
      sum = v.fma(FloatVector.broadcast(SPECIES, coefficients[q]), sum);
      FloatVector b = v.mul(weights[q]);
      a0 = FloatVector.broadcast(SPECIES, y[0]).fma(b, a0);
      a1 = FloatVector.broadcast(SPECIES, y[1]).fma(b, a1);
      a2 = FloatVector.broadcast(SPECIES, y[2]).fma(b, a2);
      a3 = FloatVector.broadcast(SPECIES, y[3]).fma(b, a3);
      a4 = FloatVector.broadcast(SPECIES, y[4]).fma(b, a4);
      a5 = FloatVector.broadcast(SPECIES, y[5]).fma(b, a5);
      a6 = FloatVector.broadcast(SPECIES, y[6]).fma(b, a6);
      a7 = FloatVector.broadcast(SPECIES, y[7]).fma(b, a7);
      a8 = FloatVector.broadcast(SPECIES, y[8]).fma(b, a8);
      a9 = FloatVector.broadcast(SPECIES, y[9]).fma(b, a9);
      a10 = FloatVector.broadcast(SPECIES, y[10]).fma(b, a10);
      a11 = FloatVector.broadcast(SPECIES, y[11]).fma(b, a11);
    }
    a0.intoArray(acc[0], 0);
    a1.intoArray(acc[1], 0);
    a2.intoArray(acc[2], 0);
    a3.intoArray(acc[3], 0);
    a4.intoArray(acc[4], 0);
    a5.intoArray(acc[5], 0);
    a6.intoArray(acc[6], 0);
    a7.intoArray(acc[7], 0);
    a8.intoArray(acc[8], 0);
    a9.intoArray(acc[9], 0);
    a10.intoArray(acc[10], 0);
    a11.intoArray(acc[11], 0);
    sum.intoArray(out, 0);
  }
}
