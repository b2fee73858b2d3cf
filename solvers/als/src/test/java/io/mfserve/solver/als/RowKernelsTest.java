package io.mfserve.solver.als;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mfserve.solver.AbsentEntries;
import io.mfserve.solver.TrainingMatrix;
import io.mfserve.solver.testing.TestFitContext;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The tuned Gram kernel and row solves against the straightforward ones, on random inputs. */
class RowKernelsTest {
  // The ranks, and around the vector kernels' blocks: 5 and 12 (eight and twelve rows
  // over one vector, padded), 10, 13 (eight, then eight padded), 22 and 24 (a last band of
  // eight rows, padded or not).
  private static final int[] RANKS = {1, 3, 5, 8, 10, 12, 13, 17, 22, 24, 64, 128};

  static java.util.stream.Stream<Arguments> ranksAndCounts() {
    java.util.stream.Stream.Builder<Arguments> b = java.util.stream.Stream.builder();
    for (RowKernels kernel : RowKernels.available()) {
      for (int k : RANKS) {
        for (int n : new int[] {0, 1, 3, 4, 7, 3001}) {
          b.add(Arguments.of(k, n, kernel));
        }
      }
    }
    return b.build();
  }

  /** n random rows (at least one) of the kernel's width: k values in [−1, 1), then zeros. */
  private static float[][] randomRows(Random rnd, int n, int k, RowKernels kernel) {
    float[][] rows = new float[Math.max(n, 1)][kernel.width(k)];
    for (float[] row : rows) {
      for (int f = 0; f < k; f++) {
        row[f] = (float) (2 * rnd.nextDouble() - 1);
      }
    }
    return rows;
  }

  /** max(n, 1) Gram weights in [0.5, 2). */
  private static float[] randomWeights(Random rnd, int n) {
    float[] weights = new float[Math.max(n, 1)];
    for (int q = 0; q < weights.length; q++) {
      weights[q] = (float) (0.5 + 1.5 * rnd.nextDouble());
    }
    return weights;
  }

  /** max(n, 1) coefficients of a weighted sum, normal with standard deviation 3. */
  private static float[] randomCoefficients(Random rnd, int n) {
    float[] coefficients = new float[Math.max(n, 1)];
    for (int q = 0; q < coefficients.length; q++) {
      coefficients[q] = (float) (3 * rnd.nextGaussian());
    }
    return coefficients;
  }

  /** A row of the kernel's width full of NaN, so that what a kernel fails to write shows. */
  private static float[] dirtyRow(int k, RowKernels kernel) {
    float[] row = new float[kernel.width(k)];
    java.util.Arrays.fill(row, Float.NaN);
    return row;
  }

  /** An accumulator of the kernel's shape full of NaN, so that what it fails to write shows. */
  private static float[][] dirtyAccumulator(int k, RowKernels kernel) {
    float[][] acc = new float[kernel.accumulatorRows(k)][kernel.width(k)];
    for (float[] row : acc) {
      java.util.Arrays.fill(row, Float.NaN);
    }
    return acc;
  }

  @Test
  void vectorKernel_runsUnderTheTestJvmFlags() {
    // surefire starts the tests with --add-modules=jdk.incubator.vector (solvers/als/pom.xml):
    // without this check a missing flag would leave the vector kernel silently untested.
    assertEquals(List.of("scalar", "vector"),
        RowKernels.available().stream().map(RowKernels::name).toList());
    assertEquals("vector", RowKernels.preferred().name());
    assertEquals(RowKernels.preferred(), new RowScratch(8, 9).kernels);
  }

  @ParameterizedTest(name = "k={0} n={1} {2}")
  @MethodSource("ranksAndCounts")
  void accumulate_randomRows_equalsRankOneUpdatesInDouble(int k, int n, RowKernels kernel) {
    Random rnd = new Random(31L * k + n);
    float[][] rows = randomRows(rnd, n, k, kernel);
    float[] weights = randomWeights(rnd, n);
    float[][] acc = dirtyAccumulator(k, kernel);
    double[] m = new double[k * k];

    kernel.accumulate(rows, weights, n, k, acc);
    Gram.drainRows(acc, k, m, 0, k);

    double[] ref = ReferenceKernels.gram(rows, weights, n, k);
    double[] scale = ReferenceKernels.absGram(rows, weights, n, k);
    for (int x = 0; x < k; x++) {
      for (int c = x; c < k; c++) {
        // A float32 sum of n terms: rounding error within a few ulps of the sum of |terms|.
        double tol = 1e-6 * (1 + Math.sqrt(n)) * scale[x * k + c] + 1e-30;
        assertEquals(ref[x * k + c], m[x * k + c], tol, "G[" + x + "][" + c + "]");
      }
      for (int c = 0; c < x; c++) {
        assertEquals(0.0, m[x * k + c], "lower triangle untouched at " + x + "," + c);
      }
    }
  }

  @ParameterizedTest(name = "k={0} n={1} {2}")
  @MethodSource("ranksAndCounts")
  void weightedSum_randomRows_equalsScalarToTheBitAndDoubleWithinRounding(int k, int n,
      RowKernels kernel) {
    Random rnd = new Random(11L * k + n);
    float[][] rows = randomRows(rnd, n, k, kernel);
    float[] coefficients = randomCoefficients(rnd, n);
    float[] out = dirtyRow(k, kernel);
    kernel.weightedSum(rows, coefficients, n, k, out);
    float[] scalar = new float[k];
    RowKernels.SCALAR.weightedSum(rows, coefficients, n, k, scalar);
    for (int f = 0; f < k; f++) {
      double expected = 0;
      double scale = 0;
      for (int q = 0; q < n; q++) {
        expected += (double) coefficients[q] * rows[q][f];
        scale += Math.abs((double) coefficients[q] * rows[q][f]);
      }
      assertEquals(scalar[f], out[f], 0f, "same bits as the scalar form at " + f);
      assertEquals(expected, out[f], 1e-6 * (1 + Math.sqrt(n)) * scale + 1e-30, "sum " + f);
    }
  }

  @ParameterizedTest(name = "k={0} n={1} {2}")
  @MethodSource("ranksAndCounts")
  void accumulateWithSum_randomRows_equalsTheTwoKernelsToTheBit(int k, int n,
      RowKernels kernel) {
    Random rnd = new Random(13L * k + n);
    float[][] rows = randomRows(rnd, n, k, kernel);
    float[] weights = randomWeights(rnd, n);
    float[] coefficients = randomCoefficients(rnd, n);
    float[][] fused = dirtyAccumulator(k, kernel);
    float[] fusedSum = dirtyRow(k, kernel);
    float[][] separate = dirtyAccumulator(k, kernel);
    float[] separateSum = new float[kernel.width(k)];

    kernel.accumulateWithSum(rows, weights, coefficients, n, k, fused, fusedSum);
    kernel.accumulate(rows, weights, n, k, separate);
    kernel.weightedSum(rows, coefficients, n, k, separateSum);

    for (int x = 0; x < k; x++) {
      for (int c = x; c < k; c++) {
        assertEquals(separate[x][c], fused[x][c], 0f, "G[" + x + "][" + c + "]");
      }
    }
    for (int f = 0; f < k; f++) {
      assertEquals(separateSum[f], fusedSum[f], 0f, "sum " + f);
    }
  }

  @ParameterizedTest(name = "k={0} n={1} {2}")
  @MethodSource("ranksAndCounts")
  void copyRow_anyRowOfAFlatArray_copiesKFloatsAndLeavesThePaddingZero(int k, int n,
      RowKernels kernel) {
    // Rows of a flat factor array, the last ones where a whole vector would run past its end.
    int count = Math.max(n, 1) % 7 + 2;
    float[] flat = new float[count * k];
    Random rnd = new Random(19L * k + n);
    for (int e = 0; e < flat.length; e++) {
      flat[e] = (float) rnd.nextGaussian() + 10;
    }
    for (int r = 0; r < count; r++) {
      float[] row = new float[kernel.width(k)];
      kernel.copyRow(flat, r * k, row, k);
      for (int f = 0; f < row.length; f++) {
        assertEquals(f < k ? flat[r * k + f] : 0f, row[f], 0f, "row " + r + " float " + f);
      }
    }
  }

  @ParameterizedTest(name = "k={0} n={1} {2}")
  @MethodSource("ranksAndCounts")
  void dot_randomRows_equalsDoubleWithinFloatRounding(int k, int n, RowKernels kernel) {
    Random rnd = new Random(13L * k + n);
    float[][] rows = randomRows(rnd, 2, k, kernel);
    double expected = 0;
    double scale = 0;
    for (int f = 0; f < k; f++) {
      expected += (double) rows[0][f] * rows[1][f];
      scale += Math.abs((double) rows[0][f] * rows[1][f]);
    }
    assertEquals(expected, kernel.dot(rows[0], rows[1], k), 1e-6 * scale + 1e-30);
  }

  @ParameterizedTest(name = "k={0} n={1} {2}")
  @MethodSource("ranksAndCounts")
  void accumulate_unitWeights_equalsScalarKernelToTheBit(int k, int n, RowKernels kernel) {
    // With unit weights both kernels sum the same exact products in entry order, so explicit
    // ALS gives the same model whichever kernel the JVM can run.
    Random rnd = new Random(7L * k + n);
    float[][] rows = randomRows(rnd, n, k, kernel);
    float[] weights = new float[rows.length];
    java.util.Arrays.fill(weights, 1f);
    float[][] acc = dirtyAccumulator(k, kernel);
    kernel.accumulate(rows, weights, n, k, acc);
    // The same chunk twice: the second call overwrites, it does not add.
    kernel.accumulate(rows, weights, n, k, acc);
    float[][] scalarRows = new float[rows.length][];
    for (int q = 0; q < rows.length; q++) {
      scalarRows[q] = java.util.Arrays.copyOf(rows[q], k);
    }
    float[][] expected = dirtyAccumulator(k, RowKernels.SCALAR);
    RowKernels.SCALAR.accumulate(scalarRows, weights, n, k, expected);
    for (int x = 0; x < k; x++) {
      for (int c = x; c < k; c++) {
        assertEquals(expected[x][c], acc[x][c], 0f, "G[" + x + "][" + c + "]");
      }
    }
  }

  /**
   * Asserts the stored row equals the reference solve within 1e-4 of its largest entry, and
   * returns that entry's magnitude.
   */
  private static double assertRowEquals(double[] expected, float[] actual, int k) {
    double norm = 0;
    for (double e : expected) {
      norm = Math.max(norm, Math.abs(e));
    }
    for (int x = 0; x < k; x++) {
      assertEquals(expected[x], actual[x], 1e-4 * (1 + norm), "x[" + x + "]");
    }
    return norm;
  }

  /** One user who rated items 0..n−1 of n + 5, ratings in 1..5. */
  private static TrainingMatrix oneUser(Random rnd, int n, AbsentEntries absent) {
    return oneLine(rnd, n, absent, false);
  }

  /** One item rated by users 0..n−1 of n + 5, ratings in 1..5. */
  private static TrainingMatrix oneItem(Random rnd, int n) {
    return oneLine(rnd, n, AbsentEntries.UNKNOWN, true);
  }

  /** One row (or, with {@code column}, one column) holding n ratings in 1..5 at 0..n−1. */
  private static TrainingMatrix oneLine(Random rnd, int n, AbsentEntries absent,
      boolean column) {
    int[] along = new int[n];
    int[] line = new int[n];
    float[] v = new float[n];
    for (int q = 0; q < n; q++) {
      along[q] = q;
      v[q] = 1 + rnd.nextInt(5);
    }
    return column ? TrainingMatrix.fromCoordinates(n + 5, 1, along, line, v, absent)
        : TrainingMatrix.fromCoordinates(1, n + 5, line, along, v, absent);
  }

  private static AlsOptions options(double lambda, boolean biases, boolean implicit) {
    return new AlsOptions(1, lambda, false, implicit, biases, 2.0, 1.5, false, 1.0, true, 3,
        false, 0);
  }

  @ParameterizedTest(name = "k={0} n={1} {2}")
  @MethodSource("ranksAndCounts")
  void explicitRow_randomItems_equalsDenseReferenceSolve(int k, int n, RowKernels kernel) {
    Random rnd = new Random(17L * k + n);
    for (boolean biases : new boolean[] {false, true}) {
      TrainingMatrix data = oneUser(rnd, n, AbsentEntries.UNKNOWN);
      FitState state = new FitState(data, options(0.7, biases, false), k);
      for (int x = 0; x < state.itemFactors.length; x++) {
        state.itemFactors[x] = (float) rnd.nextGaussian();
      }
      if (biases) {
        for (int i = 0; i < data.cols(); i++) {
          state.itemBias[i] = (float) (0.3 * rnd.nextGaussian());
        }
      }
      new ExplicitRows(state).solve(true, 0, new RowScratch(k, state.w, kernel));

      int w = state.w;
      double[] a = new double[w * w];
      double[] b = new double[w];
      for (int p = 0; p < n; p++) {
        int i = data.rowColumn(p);
        double t = data.rowValue(p) - state.mu - (biases ? state.itemBias[i] : 0);
        for (int x = 0; x < w; x++) {
          double yx = x < k ? state.itemFactors[i * k + x] : 1;
          b[x] += t * yx;
          for (int c = 0; c < w; c++) {
            a[x * w + c] += yx * (c < k ? state.itemFactors[i * k + c] : 1);
          }
        }
      }
      double[] expected = new double[w];
      if (n > 0) {
        for (int x = 0; x < w; x++) {
          a[x * w + x] += x < k ? 0.7 : 2.0;
        }
        expected = ReferenceKernels.solve(a, b, w);
      }
      double norm = assertRowEquals(expected, state.userFactors, k);
      if (biases) {
        assertEquals(expected[k], state.userBias[0], 1e-4 * (1 + norm), "bias");
      }
    }
  }

  @ParameterizedTest(name = "k={0} n={1} {2}")
  @MethodSource("ranksAndCounts")
  void explicitColumn_randomUsers_returnsTheColumnsObjective(int k, int n, RowKernels kernel) {
    // The item side returns its column's squared errors and penalty from the column's system
    // (Σ t² − 2 v·b + vᵀMv); with room in the kernels' padding that system, Σ t² included,
    // comes out of one Gram pass (ExplicitRows): either way it must be the objective.
    Random rnd = new Random(29L * k + n);
    for (boolean biases : new boolean[] {false, true}) {
      TrainingMatrix data = oneItem(rnd, n);
      FitState state = new FitState(data, options(0.7, biases, false), k);
      for (int x = 0; x < state.userFactors.length; x++) {
        state.userFactors[x] = (float) (0.5 * rnd.nextGaussian());
      }
      if (biases) {
        for (int u = 0; u < data.rows(); u++) {
          state.userBias[u] = (float) (0.3 * rnd.nextGaussian());
        }
      }
      double term = new ExplicitRows(state).solve(false, 0, new RowScratch(k, state.w, kernel));

      double expected = 0;
      double squares = 0;
      for (int p = 0; p < n; p++) {
        int u = data.colRow(p);
        double e = data.colValue(p) - state.predict(u, 0);
        expected += e * e;
        double t = data.colValue(p) - state.mu - (biases ? state.userBias[u] : 0);
        squares += t * t;
      }
      double norm2 = 0;
      for (int f = 0; f < k; f++) {
        norm2 += (double) state.itemFactors[f] * state.itemFactors[f];
      }
      expected += 0.7 * norm2 + (biases ? 2.0 * state.itemBias[0] * state.itemBias[0] : 0);
      // Float32 sums per chunk: within a few float roundings of Σ t², the largest term.
      assertEquals(expected, term, 1e-5 * (1 + squares), "biases=" + biases);
    }
  }

  @ParameterizedTest(name = "k={0} n={1} {2}")
  @MethodSource("ranksAndCounts")
  void implicitCholeskyRow_randomItems_equalsDenseReferenceSolve(int k, int n,
      RowKernels kernel) {
    Random rnd = new Random(23L * k + n);
    TrainingMatrix data = oneUser(rnd, n, AbsentEntries.IMPLICIT);
    FitState state = new FitState(data, options(0.7, false, true), k);
    for (int x = 0; x < state.itemFactors.length; x++) {
      state.itemFactors[x] = (float) (0.3 * rnd.nextGaussian());
    }
    ImplicitRows rows = new ImplicitRows(state);
    try (TestFitContext context = new TestFitContext(2)) {
      BlockRunner runner = new BlockRunner(context, 2, k, k);
      rows.updateGram(false, runner, 0);
      rows.solve(true, 0, new RowScratch(k, k, kernel));
    }

    // A = VᵀV + Σ (c − 1) y yᵀ + λI, b = Σ c·p·y with c = 1 + α r, p = 1 (all r > 0).
    double[] a = new double[k * k];
    double[] b = new double[k];
    for (int i = 0; i < data.cols(); i++) {
      for (int x = 0; x < k; x++) {
        for (int c = 0; c < k; c++) {
          a[x * k + c] += (double) state.itemFactors[i * k + x] * state.itemFactors[i * k + c];
        }
      }
    }
    for (int p = 0; p < n; p++) {
      int i = data.rowColumn(p);
      double c1 = (float) (1.5 * data.rowValue(p));
      for (int x = 0; x < k; x++) {
        double yx = state.itemFactors[i * k + x];
        b[x] += (1 + c1) * yx;
        for (int c = 0; c < k; c++) {
          a[x * k + c] += c1 * yx * state.itemFactors[i * k + c];
        }
      }
    }
    double[] expected = new double[k];
    if (n > 0) {
      for (int x = 0; x < k; x++) {
        a[x * k + x] += 0.7;
      }
      expected = ReferenceKernels.solve(a, b, k);
    }
    double norm = assertRowEquals(expected, state.userFactors, k);
    assertTrue(n > 0 || norm == 0);
  }
}
