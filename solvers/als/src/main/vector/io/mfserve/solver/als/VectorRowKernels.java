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
 * <p>The Cholesky factorisation is the scalar one's right-looking form on one array per row,
 * but four pivots at a time: the four pivot rows are factored among themselves, then each pair
 * of trailing rows takes one rank-4 update, so each load of a pivot row's vector serves two
 * rows and each load and store of a trailing row four multiply-adds. The scalar form's C2 loops
 * fall back to scalar code for most of a short triangle row; these run whole vectors from the
 * aligned column at or left of the diagonal (the few entries left of it are never read). It
 * measured 1.3–1.5× the scalar form's speed at w = 64 to 129 and slower at w = 11 (0.47
 * against 0.38 µs); below {@link Cholesky#ROWS_MIN_WIDTH} it hands over to the scalar form,
 * which factors in place there.
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
    int x0 = 0;
    while (x0 < k) {
      // The first vector of columns that holds an entry on or right of the block's diagonal.
      int c = x0 / LANES * LANES;
      if (c + LANES == width && x0 + 2 * ROWS <= k) {
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

  @Override
  public boolean factor(double[] m, int w, double[] diag, double[][] rows) {
    if (w < Cholesky.ROWS_MIN_WIDTH) {
      return Cholesky.factor(m, w, diag, rows);
    }
    Cholesky.toRows(m, w, rows);
    if (!factorRows(rows, w, diag)) {
      return false;
    }
    Cholesky.fromRows(rows, w, m);
    return true;
  }

  private static boolean factorRows(double[][] m, int w, double[] diag) {
    int j = 0;
    for (; j + 4 <= w; j += 4) {
      double[] r0 = m[j];
      double[] r1 = m[j + 1];
      double[] r2 = m[j + 2];
      double[] r3 = m[j + 3];
      // The panel: the four pivot rows, factored among themselves.
      if (!Cholesky.pivotRow(r0, w, j, diag)) {
        return false;
      }
      subtractScaled(r1, r0, r0[j + 1], j + 1, w);
      subtractScaled(r2, r0, r0[j + 2], j + 2, w);
      subtractScaled(r3, r0, r0[j + 3], j + 3, w);
      if (!Cholesky.pivotRow(r1, w, j + 1, diag)) {
        return false;
      }
      subtractScaled(r2, r1, r1[j + 2], j + 2, w);
      subtractScaled(r3, r1, r1[j + 3], j + 3, w);
      if (!Cholesky.pivotRow(r2, w, j + 2, diag)) {
        return false;
      }
      subtractScaled(r3, r2, r2[j + 3], j + 3, w);
      if (!Cholesky.pivotRow(r3, w, j + 3, diag)) {
        return false;
      }
      int i = j + 4;
      for (; i + 2 <= w; i += 2) {
        rankFourUpdate(m, r0, r1, r2, r3, i, w);
      }
      if (i < w) {
        double[] ri = m[i];
        subtractScaled(ri, r0, r0[i], i, w);
        subtractScaled(ri, r1, r1[i], i, w);
        subtractScaled(ri, r2, r2[i], i, w);
        subtractScaled(ri, r3, r3[i], i, w);
      }
    }
    for (; j < w; j++) {
      double[] rj = m[j];
      if (!Cholesky.pivotRow(rj, w, j, diag)) {
        return false;
      }
      for (int i = j + 1; i < w; i++) {
        subtractScaled(m[i], rj, rj[i], i, w);
      }
    }
    return true;
  }

  /**
   * Rows i and i + 1 (columns ≥ i, and a few left of it) minus the rank-4 update of pivot rows
   * r0..r3: r_i[c] −= Σ_t r_t[i]·r_t[c].
   */
  private static void rankFourUpdate(double[][] m, double[] r0, double[] r1, double[] r2,
      double[] r3, int i, int w) {
    double[] ri = m[i];
    double[] rn = m[i + 1];
    DoubleVector f0 = DoubleVector.broadcast(DOUBLES, -r0[i]);
    DoubleVector f1 = DoubleVector.broadcast(DOUBLES, -r1[i]);
    DoubleVector f2 = DoubleVector.broadcast(DOUBLES, -r2[i]);
    DoubleVector f3 = DoubleVector.broadcast(DOUBLES, -r3[i]);
    DoubleVector e0 = DoubleVector.broadcast(DOUBLES, -r0[i + 1]);
    DoubleVector e1 = DoubleVector.broadcast(DOUBLES, -r1[i + 1]);
    DoubleVector e2 = DoubleVector.broadcast(DOUBLES, -r2[i + 1]);
    DoubleVector e3 = DoubleVector.broadcast(DOUBLES, -r3[i + 1]);
    int c = i & -DOUBLE_LANES;
    for (; c + DOUBLE_LANES <= w; c += DOUBLE_LANES) {
      DoubleVector p0 = DoubleVector.fromArray(DOUBLES, r0, c);
      DoubleVector p1 = DoubleVector.fromArray(DOUBLES, r1, c);
      DoubleVector p2 = DoubleVector.fromArray(DOUBLES, r2, c);
      DoubleVector p3 = DoubleVector.fromArray(DOUBLES, r3, c);
      p0.fma(f0, DoubleVector.fromArray(DOUBLES, ri, c)).add(p1.mul(f1))
          .add(p2.fma(f2, p3.mul(f3))).intoArray(ri, c);
      p0.fma(e0, DoubleVector.fromArray(DOUBLES, rn, c)).add(p1.mul(e1))
          .add(p2.fma(e2, p3.mul(e3))).intoArray(rn, c);
    }
    // The columns past the last whole vector.
    for (int t = 0; t < 2; t++) {
      double[] row = t == 0 ? ri : rn;
      int at = i + t;
      double g0 = -r0[at];
      double g1 = -r1[at];
      double g2 = -r2[at];
      double g3 = -r3[at];
      for (int x = Math.max(c, at); x < w; x++) {
        row[x] = Math.fma(g3, r3[x], Math.fma(g2, r2[x], Math.fma(g1, r1[x],
            Math.fma(g0, r0[x], row[x]))));
      }
    }
  }

  /** row[c] −= f·pivot[c] for c ≥ from (and a few columns left of it, never read). */
  private static void subtractScaled(double[] row, double[] pivot, double f, int from, int w) {
    DoubleVector nf = DoubleVector.broadcast(DOUBLES, -f);
    int c = from & -DOUBLE_LANES;
    for (; c + DOUBLE_LANES <= w; c += DOUBLE_LANES) {
      DoubleVector.fromArray(DOUBLES, pivot, c).fma(nf, DoubleVector.fromArray(DOUBLES, row, c))
          .intoArray(row, c);
    }
    for (c = Math.max(c, from); c < w; c++) {
      row[c] = Math.fma(-f, pivot[c], row[c]);
    }
  }

  @Override
  public void solve(double[] m, double[][] rows, double[] b, double[] x, int w) {
    if (w < Cholesky.ROWS_MIN_WIDTH) {
      Cholesky.solve(m, b, x, w);
      return;
    }
    // Rᵀz = b by row updates: b[c] −= z_j·R[j][c] for c > j (never left of j: those are final).
    for (int j = 0; j < w; j++) {
      double[] rj = rows[j];
      double z = b[j] / rj[j];
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
      x[j] = (s - sum.reduceLanes(VectorOperators.ADD) - tail) / rj[j];
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
}
