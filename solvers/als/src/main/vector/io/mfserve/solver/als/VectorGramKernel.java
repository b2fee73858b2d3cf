package io.mfserve.solver.als;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Gram kernel as a register-blocked small SYRK in the JDK's Vector API: the accumulator is
 * cut into blocks of four rows × one or two vectors of columns, and each block's 4 or 8
 * partial sums stay in registers for a whole chunk of entries. Per entry a 4 × 2 block loads
 * two vectors of y and four scalars of it, and does eight vector multiply-adds; the scalar
 * form ({@link Gram#accumulateRows}) loads and stores its accumulator row on every pass, and
 * C2 leaves its triangle rows' short remainders scalar.
 *
 * <p>Blocks left of the diagonal are skipped whole, so the work is the upper triangle rounded
 * out to whole vectors. The sum over entries runs in entry order, so the result is
 * deterministic and, with unit weights, equal to the scalar form's to the bit; with other
 * weights it may differ in the last bit (w·y[c] is rounded here, w·y[x] there).
 *
 * <p>Compiled apart from the rest of the module (the incubating module's compile warning cannot
 * be silenced, and the rest compiles with {@code -Werror}) and loaded by name from
 * {@link GramKernel#preferred} when the JVM has {@code --add-modules=jdk.incubator.vector}.
 */
final class VectorGramKernel implements GramKernel {
  private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
  private static final int LANES = SPECIES.length();
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
    for (int x0 = 0; x0 < k; x0 += ROWS) {
      // The first vector of columns that holds an entry on or right of the block's diagonal.
      int c = x0 / LANES * LANES;
      for (; c + 2 * LANES <= width; c += 2 * LANES) {
        fourByTwo(rows, weights, n, x0, c, acc);
      }
      if (c < width) {
        fourByOne(rows, weights, n, x0, c, acc);
      }
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
