package io.mfserve.solver.sgd;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link SquaredKernel}'s updates in the JDK's Vector API, on rows whose factors are padded
 * with zeros to whole vectors of four floats ({@link FactorState}'s width).
 *
 * <p>An update is serial work on one user row: the next entry of the run usually has the same
 * user and needs this entry's p_u. So its speed is the length of that chain (dot product,
 * error, step, new p_u), and the scalar kernel's chain is long: at k = 10, ten loads of each
 * row, thirty multiply-adds in two chains, then ten more steps per side. Here a row is three
 * vectors at k = 10: the dot product is three multiply-adds in two chains and one reduction;
 * g_p = e·q − λp and g_q = e·p − λq are formed as vectors, their squares summed into the
 * accumulators with a reduction each that the next entry's dot product does not wait on, and
 * each step is one multiply-add per vector. That is LibMF's arrangement (its SSE kernel) and
 * the step-by-step form of the math ({@code ReferenceSquaredKernel} in the tests);
 * {@link SquaredKernel} derives ‖g‖² from p·q, ‖p‖² and ‖q‖² instead, which costs three
 * reductions before the step.
 *
 * <p>Four lanes at every k: wider vectors waste lanes at small k (ten factors in two of eight
 * lanes, or one of sixteen), and their reductions take longer. Measured on synthetic data of
 * synth-10M's shape on one thread (AMD EPYC, AVX-512), seconds an epoch:
 * <pre>
 *   k      4 lanes   8 lanes   16 lanes   scalar ({@link SquaredKernel})
 *   10     0.18      0.21      0.45       0.25
 *   64     0.41      0.38                 0.89
 *   128    0.78      0.69
 * </pre>
 * (4 lanes with the two chains of {@link #dot}; 8 and 16 lanes with one chain, 16 lanes also
 * with {@link SquaredKernel}'s three reductions. 8 lanes would gain a tenth at k = 64 and 128;
 * one species keeps one loop.) The padding is zero and stays zero: its lanes of p, q and g are
 * all 0.
 *
 * <p>Compiled apart from the rest of the module (the incubating module's compile warning
 * cannot be silenced, and the rest compiles with {@code -Werror}) and loaded by name from
 * {@link SquaredKernels#preferred} when the JVM has {@code --add-modules=jdk.incubator.vector}.
 */
final class VectorSquaredKernel extends Kernel {
  private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_128;
  private static final int LANES = SPECIES.length();

  /** Padded width: k rounded up to whole vectors. */
  private final int width;

  private VectorSquaredKernel(boolean adaptive, BlockGrid grid, FactorState state,
      double lambda, double biasLambda) {
    super(adaptive, grid, state, lambda, biasLambda);
    this.width = state.width;
    if (width % LANES != 0) {
      throw new IllegalArgumentException("rows of width " + width + " are not whole vectors");
    }
  }

  /** The factory {@link SquaredKernels} loads by name. */
  static final class Form extends SquaredKernels {
    @Override
    int width(int k) {
      return (k + LANES - 1) / LANES * LANES;
    }

    @Override
    Kernel create(boolean adaptive, BlockGrid grid, FactorState state, double lambda,
        double biasLambda) {
      return new VectorSquaredKernel(adaptive, grid, state, lambda, biasLambda);
    }
  }

  @Override
  double run(int from, int to, int blockFrom, int blockTo, int colFrom, int colTo,
      long rngSeed) {
    return adaptive ? runAdaGrad(from, to) : runFixed(from, to);
  }

  /** One AdaGrad pass over entries [from, to): {@link SquaredKernel}'s math, step by step. */
  private double runAdaGrad(int from, int to) {
    final int w = this.width;
    final int s = this.stride;
    final int bo = this.biasAt;
    final float[] users = this.users;
    final float[] items = this.items;
    final int[] entryRow = this.entryRow;
    final int[] entryCol = this.entryCol;
    final float[] entryVal = this.entryVal;
    final float eta = rate;
    final float lambda = this.lambda;
    final float biasLambda = this.biasLambda;
    final float invK = 1f / k;
    double sse = 0;
    for (int n = from; n < to; n++) {
      final int a = entryRow[n] * s;
      final int b = entryCol[n] * s;
      final float bu = users[a + bo];
      final float bi = items[b + bo];
      final float e = entryVal[n] - (bu + bi + dot(users, a, items, b, w));
      sse += (double) e * e;
      final float stepP = eta / (float) Math.sqrt(users[a + bo + 1]);
      final float stepQ = eta / (float) Math.sqrt(items[b + bo + 1]);
      final FloatVector stepPs = FloatVector.broadcast(SPECIES, stepP);
      final FloatVector stepQs = FloatVector.broadcast(SPECIES, stepQ);
      FloatVector sumP = FloatVector.zero(SPECIES);
      FloatVector sumQ = sumP;
      for (int f = 0; f < w; f += LANES) {
        FloatVector p = FloatVector.fromArray(SPECIES, users, a + f);
        FloatVector q = FloatVector.fromArray(SPECIES, items, b + f);
        // g_p = e q − λ p and g_q = e p − λ q, the ascent directions of the class Javadoc.
        FloatVector gp = q.mul(e).sub(p.mul(lambda));
        FloatVector gq = p.mul(e).sub(q.mul(lambda));
        sumP = gp.fma(gp, sumP);
        sumQ = gq.fma(gq, sumQ);
        gp.fma(stepPs, p).intoArray(users, a + f);
        gq.fma(stepQs, q).intoArray(items, b + f);
      }
      users[a + bo + 1] += sumP.reduceLanes(VectorOperators.ADD) * invK;
      items[b + bo + 1] += sumQ.reduceLanes(VectorOperators.ADD) * invK;
      FactorState.adaGradBiasStep(users, a + bo, e - biasLambda * bu, eta);
      FactorState.adaGradBiasStep(items, b + bo, e - biasLambda * bi, eta);
    }
    return sse;
  }

  /** One fixed-step pass: p ← (1 − γλ) p + γ e q and q likewise, from the old p and q. */
  private double runFixed(int from, int to) {
    final int w = this.width;
    final int s = this.stride;
    final int bo = this.biasAt;
    final float[] users = this.users;
    final float[] items = this.items;
    final int[] entryRow = this.entryRow;
    final int[] entryCol = this.entryCol;
    final float[] entryVal = this.entryVal;
    final float step = rate;
    final float shrink = 1 - step * lambda;
    final float biasShrink = 1 - step * biasLambda;
    double sse = 0;
    for (int n = from; n < to; n++) {
      final int a = entryRow[n] * s;
      final int b = entryCol[n] * s;
      final float e = entryVal[n]
          - (users[a + bo] + items[b + bo] + dot(users, a, items, b, w));
      sse += (double) e * e;
      final float g = step * e;
      users[a + bo] = biasShrink * users[a + bo] + g;
      items[b + bo] = biasShrink * items[b + bo] + g;
      for (int f = 0; f < w; f += LANES) {
        FloatVector p = FloatVector.fromArray(SPECIES, users, a + f);
        FloatVector q = FloatVector.fromArray(SPECIES, items, b + f);
        p.mul(shrink).add(q.mul(g)).intoArray(users, a + f);
        q.mul(shrink).add(p.mul(g)).intoArray(items, b + f);
      }
    }
    return sse;
  }

  /**
   * Returns x[a..a+w)·y[b..b+w) for w a positive multiple of {@link #LANES}, in two chains of
   * multiply-adds (alternate vectors), so that each waits on half as many as one chain would:
   * the dot product starts every update's critical path. Measured at k = 10 on synth-10M, one
   * thread: 0.18 against 0.21 s an epoch with one chain.
   */
  private static float dot(float[] x, int a, float[] y, int b, int w) {
    FloatVector even = FloatVector.fromArray(SPECIES, x, a)
        .mul(FloatVector.fromArray(SPECIES, y, b));
    FloatVector odd = FloatVector.zero(SPECIES);
    int f = LANES;
    for (; f + LANES < w; f += 2 * LANES) {
      odd = FloatVector.fromArray(SPECIES, x, a + f)
          .fma(FloatVector.fromArray(SPECIES, y, b + f), odd);
      even = FloatVector.fromArray(SPECIES, x, a + f + LANES)
          .fma(FloatVector.fromArray(SPECIES, y, b + f + LANES), even);
    }
    if (f < w) {
      odd = FloatVector.fromArray(SPECIES, x, a + f)
          .fma(FloatVector.fromArray(SPECIES, y, b + f), odd);
    }
    return even.add(odd).reduceLanes(VectorOperators.ADD);
  }
}
