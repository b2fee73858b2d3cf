package io.mfserve.solver.sgd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mfserve.solver.AbsentEntries;
import io.mfserve.solver.TrainingMatrix;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Both forms of the squared-loss kernel, the arranged AdaGrad kernel of {@link SquaredKernel}
 * and the Vector API kernel ({@code VectorSquaredKernel}), against the step-by-step
 * {@link ReferenceSquaredKernel} on random inputs: the same math, so the same factors, biases
 * and accumulators up to float rounding, for ranks from 1 to 128 and for users with no entry,
 * one entry and thousands. The tests run with {@code --add-modules=jdk.incubator.vector}
 * (solvers/sgd/pom.xml), so the vector form is always checked.
 */
class SquaredKernelTest {
  private static final int USERS = 40;
  private static final int ITEMS = 3500;
  /** User 2's entries: thousands, one user row updated again and again. */
  private static final int HEAVY = 3000;

  /** Random ratings: user 0 has none, user 1 one, user 2 {@value #HEAVY}, the rest about 25. */
  private static TrainingMatrix ratings(long seed) {
    SplittableRandom rnd = new SplittableRandom(seed);
    int nnz = 1 + HEAVY + (USERS - 3) * 25;
    int[] r = new int[nnz];
    int[] c = new int[nnz];
    float[] v = new float[nnz];
    int n = 0;
    r[n] = 1;
    c[n] = rnd.nextInt(ITEMS);
    v[n++] = 1 + rnd.nextInt(5);
    int[] items = BlockGrid.permutation(ITEMS, rnd);
    for (int x = 0; x < HEAVY; x++) {
      r[n] = 2;
      c[n] = items[x];
      v[n++] = 1 + rnd.nextInt(5);
    }
    for (int u = 3; u < USERS; u++) {
      int[] some = BlockGrid.permutation(ITEMS, rnd);
      for (int x = 0; x < 25; x++) {
        r[n] = u;
        c[n] = some[x];
        v[n++] = 1 + rnd.nextInt(5);
      }
    }
    return TrainingMatrix.fromCoordinates(USERS, ITEMS, r, c, v, AbsentEntries.UNKNOWN);
  }

  /** The two forms: "scalar" and "vector". */
  static SquaredKernels form(String name) {
    if (name.equals("scalar")) {
      return SquaredKernels.SCALAR;
    }
    SquaredKernels vector = SquaredKernels.vector();
    assertNotNull(vector, "the tests run with --add-modules=jdk.incubator.vector");
    return vector;
  }

  /** Every rank for each form. */
  static Stream<Arguments> formsAndRanks() {
    return Stream.of("scalar", "vector").flatMap(form -> IntStream.of(1, 3, 8, 17, 64, 128)
        .mapToObj(k -> Arguments.of(form, k)));
  }

  @ParameterizedTest
  @MethodSource("formsAndRanks")
  void adaGrad_equalsStepByStepReference(String formName, int k) {
    SquaredKernels form = form(formName);
    TrainingMatrix data = ratings(k);
    SplittableRandom rnd = new SplittableRandom(31 + k);
    double mu = data.mean();
    BlockGrid grid = BlockGrid.blocked(data, 3, rnd, mu, 1.1, true);
    FactorState state = new FactorState(USERS, ITEMS, k, form.width(k), 0.3,
        grid.rowCounts(data), grid.colCounts(data), rnd, false);
    // Accumulators and biases away from their fresh values, so every term of the step counts.
    randomiseAccumulators(state.users, state, rnd);
    randomiseAccumulators(state.items, state, rnd);
    float[] users = state.users.clone();
    float[] items = state.items.clone();
    float lambda = 0.05f;
    float biasLambda = 0.02f;
    Kernel kernel = form.create(true, grid, state, lambda, biasLambda);
    for (int epoch = 0; epoch < 3; epoch++) {
      float eta = 0.1f / (1 + epoch);
      kernel.setLearningRate(eta);
      for (int block = 0; block < grid.nb * grid.nb; block++) {
        int from = grid.blockStart[block];
        int to = grid.blockStart[block + 1];
        double fast = kernel.run(from, to, from, to, 0, ITEMS, 0);
        double reference = ReferenceSquaredKernel.runAdaGrad(grid.entryRow, grid.entryCol,
            grid.entryVal, users, items, k, state.stride, state.biasAt, eta, lambda, biasLambda,
            from, to);
        assertEquals(reference, fast, 1e-5 * Math.max(1, reference),
            formName + ", k=" + k + " sse");
      }
    }
    assertClose(users, state.users, formName + " users, k=" + k);
    assertClose(items, state.items, formName + " items, k=" + k);
    // The user without entries is untouched, bit for bit.
    int empty = grid.rowLabel[0] * state.stride;
    for (int f = 0; f < state.stride; f++) {
      assertEquals(users[empty + f], state.users[empty + f]);
    }
    assertPaddingZero(state);
  }

  @ParameterizedTest
  @MethodSource("formsAndRanks")
  void fixedSchedule_equalsStepByStep(String formName, int k) {
    SquaredKernels form = form(formName);
    TrainingMatrix data = ratings(100 + k);
    SplittableRandom rnd = new SplittableRandom(7);
    BlockGrid grid = BlockGrid.blocked(data, 2, rnd, data.mean(), 1, true);
    FactorState a = new FactorState(USERS, ITEMS, k, form.width(k), 0.3, grid.rowCounts(data),
        grid.colCounts(data), new SplittableRandom(3), false);
    FactorState b = new FactorState(USERS, ITEMS, k, form.width(k), 0.3, grid.rowCounts(data),
        grid.colCounts(data), new SplittableRandom(3), false);
    Kernel fixed = form.create(false, grid, a, 0.05, 0.02);
    fixed.setLearningRate(0.01);
    fixed.run(0, grid.nnz(), 0, grid.nnz(), 0, ITEMS, 0);
    // The fixed step by hand: (1 − γλ) p + γ e q, biases (1 − γλ_b) b + γ e.
    float step = 0.01f;
    float shrink = 1 - step * 0.05f;
    float biasShrink = 1 - step * 0.02f;
    for (int n = 0; n < grid.nnz(); n++) {
      int u = grid.entryRow[n] * b.stride;
      int i = grid.entryCol[n] * b.stride;
      float e = grid.entryVal[n] - b.score(grid.entryRow[n], grid.entryCol[n]);
      float g = step * e;
      b.users[u + b.biasAt] = biasShrink * b.users[u + b.biasAt] + g;
      b.items[i + b.biasAt] = biasShrink * b.items[i + b.biasAt] + g;
      for (int f = 0; f < k; f++) {
        float p = b.users[u + f];
        float q = b.items[i + f];
        b.users[u + f] = shrink * p + g * q;
        b.items[i + f] = shrink * q + g * p;
      }
    }
    if (form == SquaredKernels.SCALAR) {
      // The same float operations in the same order: the same bits.
      assertArrayEquals(b.users, a.users);
      assertArrayEquals(b.items, a.items);
    } else {
      // The vector form sums the dot product in another order.
      assertClose(b.users, a.users, "users, k=" + k);
      assertClose(b.items, a.items, "items, k=" + k);
    }
    assertPaddingZero(a);
  }

  /** The factors' padding up to the state's width is still zero. */
  private static void assertPaddingZero(FactorState state) {
    for (float[] rows : new float[][] {state.users, state.items}) {
      for (int at = 0; at < rows.length; at += state.stride) {
        for (int f = state.k; f < state.width; f++) {
          assertEquals(0f, rows[at + f], "padding at " + at + "+" + f);
        }
      }
    }
  }

  private static void randomiseAccumulators(float[] rows, FactorState state, SplittableRandom rnd) {
    for (int at = 0; at < rows.length; at += state.stride) {
      rows[at + state.biasAt] = (float) rnd.nextGaussian() * 0.2f;
      rows[at + state.gradAt] = 1 + 4 * (float) rnd.nextDouble();
      rows[at + state.biasGradAt] = 1 + 4 * (float) rnd.nextDouble();
    }
  }

  /** Relative error within float tolerance, measured against the row's largest value. */
  private static void assertClose(float[] expected, float[] actual, String what) {
    assertEquals(expected.length, actual.length);
    double worst = 0;
    for (int x = 0; x < expected.length; x++) {
      double err = Math.abs(expected[x] - actual[x]) / Math.max(1e-2, Math.abs(expected[x]));
      worst = Math.max(worst, err);
    }
    assertTrue(worst < 1e-4, what + ": worst relative error " + worst);
  }
}
