package io.mfserve.solver.als;

import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The Gram accumulation Σ y yᵀ over one row's entries, the hot loop of ALS, in the form the
 * solver uses ({@link Gram#accumulateRows}: float32 rows, four entries × one accumulator row)
 * against the forms it replaced: the packed four entries × two rows of the previous release,
 * one entry at a time in double on the lower triangle (the first ALS), and four entries × one
 * row in float on the packed buffer; and, as {@code vectorKernels}, the Vector API form the
 * solver runs where the JVM has {@code --add-modules=jdk.incubator.vector}
 * ({@link RowKernels}). Each call covers {@code n} entries; the score is nanoseconds per call,
 * so GFLOP/s = k(k+1)·n / score.
 *
 * <p>Run: {@code java -cp "$(cat target/classpath.txt):target/classes" org.openjdk.jmh.Main
 * GramBenchmark} (see solvers/bench/README.md).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
// The Vector API module, so that vectorKernels runs the solver's vector form (the other
// methods do not use it).
@Fork(value = 1, jvmArgsAppend = "--add-modules=jdk.incubator.vector")
public class GramBenchmark {
  /** The rank. */
  @Param({"10", "64"})
  public int k;
  /** Entries per row: a typical user (45) and a typical item (450) of the synthetic 10M set. */
  @Param({"45", "450"})
  public int n;

  private float[] factors;
  private int[] items;
  private float[] packed;
  private int[] offsets;
  private float[] weights;
  private float[] a;
  private double[] ad;
  private float[][] rows;
  private float[][] acc;
  private RowKernels vector;
  private float[][] vectorRows;
  private float[][] vectorAcc;

  /** Draws 20,000 item vectors and the row's random items. */
  @Setup
  public void setUp() {
    Random rnd = new Random(1);
    factors = new float[20_000 * k];
    for (int x = 0; x < factors.length; x++) {
      factors[x] = (float) rnd.nextGaussian();
    }
    items = new int[n];
    for (int q = 0; q < n; q++) {
      items[q] = rnd.nextInt(20_000);
    }
    Arrays.sort(items);
    packed = new float[n * k];
    offsets = new int[n];
    weights = new float[n];
    for (int q = 0; q < n; q++) {
      offsets[q] = q * k;
      weights[q] = 1f;
    }
    a = new float[k * k];
    ad = new double[k * k];
    rows = new float[n][k];
    acc = new float[k][k];
    vector = RowKernels.preferred();
    vectorRows = new float[n][vector.width(k)];
    vectorAcc = new float[vector.accumulatorRows(k)][vector.width(k)];
  }

  /**
   * The solver's kernel ({@link Gram#accumulateRows}: one float array per gathered vector and
   * per accumulator row, four entries × one row), including the gather and the drain into
   * double.
   */
  @Benchmark
  public double rowsFloat4x1() {
    for (int q = 0; q < n; q++) {
      System.arraycopy(factors, items[q] * k, rows[q], 0, k);
    }
    Gram.accumulateRows(rows, weights, n, k, acc);
    Gram.drainRows(acc, k, ad, 0, k);
    return ad[k + 1];
  }

  /**
   * The solver's kernels where the JVM has the Vector API ({@link RowKernels#preferred}: the
   * register-blocked SYRK), with its gather and the same drain into double.
   */
  @Benchmark
  public double vectorKernels() {
    for (int q = 0; q < n; q++) {
      vector.copyRow(factors, items[q] * k, vectorRows[q], k);
    }
    vector.accumulate(vectorRows, weights, n, k, vectorAcc);
    Gram.drainRows(vectorAcc, k, ad, 0, k);
    return ad[k + 1];
  }

  /** The previous solver kernel (packed float, four entries × two rows), with the gather. */
  @Benchmark
  public float packedFloat4x2() {
    pack();
    Arrays.fill(a, 0f);
    accumulateUpperPrevious(packed, k, offsets, weights, n, a);
    return a[k + 1];
  }

  private static void accumulateUpperPrevious(float[] factors, int k, int[] offsets,
      float[] weights, int n, float[] a) {
    int q = 0;
    for (; q + 4 <= n; q += 4) {
      int o0 = offsets[q];
      int o1 = offsets[q + 1];
      int o2 = offsets[q + 2];
      int o3 = offsets[q + 3];
      float w0 = weights[q];
      float w1 = weights[q + 1];
      float w2 = weights[q + 2];
      float w3 = weights[q + 3];
      int x = 0;
      // Two accumulator rows at a time: each loaded y_q[c] feeds eight multiply-adds.
      for (; x + 2 <= k; x += 2) {
        float p0 = factors[o0 + x];
        float p1 = factors[o1 + x];
        float p2 = factors[o2 + x];
        float p3 = factors[o3 + x];
        float a0 = w0 * p0;
        float a1 = w1 * p1;
        float a2 = w2 * p2;
        float a3 = w3 * p3;
        float b0 = w0 * factors[o0 + x + 1];
        float b1 = w1 * factors[o1 + x + 1];
        float b2 = w2 * factors[o2 + x + 1];
        float b3 = w3 * factors[o3 + x + 1];
        int row = x * k;
        int next = row + k;
        a[row + x] = Math.fma(a3, p3, Math.fma(a2, p2, Math.fma(a1, p1,
            Math.fma(a0, p0, a[row + x]))));
        for (int c = x + 1; c < k; c++) {
          float y0 = factors[o0 + c];
          float y1 = factors[o1 + c];
          float y2 = factors[o2 + c];
          float y3 = factors[o3 + c];
          a[row + c] = Math.fma(a3, y3, Math.fma(a2, y2, Math.fma(a1, y1,
              Math.fma(a0, y0, a[row + c]))));
          a[next + c] = Math.fma(b3, y3, Math.fma(b2, y2, Math.fma(b1, y1,
              Math.fma(b0, y0, a[next + c]))));
        }
      }
      for (; x < k; x++) {
        float a0 = w0 * factors[o0 + x];
        float a1 = w1 * factors[o1 + x];
        float a2 = w2 * factors[o2 + x];
        float a3 = w3 * factors[o3 + x];
        int row = x * k;
        for (int c = x; c < k; c++) {
          a[row + c] = Math.fma(a3, factors[o3 + c], Math.fma(a2, factors[o2 + c],
              Math.fma(a1, factors[o1 + c], Math.fma(a0, factors[o0 + c], a[row + c]))));
        }
      }
    }
    for (; q < n; q++) {
      int o0 = offsets[q];
      float w0 = weights[q];
      for (int x = 0; x < k; x++) {
        float a0 = w0 * factors[o0 + x];
        int row = x * k;
        for (int c = x; c < k; c++) {
          a[row + c] = Math.fma(a0, factors[o0 + c], a[row + c]);
        }
      }
    }
  }

  /** Four entries, one accumulator row at a time (float, packed). */
  @Benchmark
  public float packedFloat4x1() {
    pack();
    Arrays.fill(a, 0f);
    int q = 0;
    for (; q + 4 <= n; q += 4) {
      int o0 = q * k;
      int o1 = o0 + k;
      int o2 = o1 + k;
      int o3 = o2 + k;
      for (int x = 0; x < k; x++) {
        float a0 = packed[o0 + x];
        float a1 = packed[o1 + x];
        float a2 = packed[o2 + x];
        float a3 = packed[o3 + x];
        int row = x * k;
        for (int c = x; c < k; c++) {
          a[row + c] = Math.fma(a3, packed[o3 + c], Math.fma(a2, packed[o2 + c],
              Math.fma(a1, packed[o1 + c], Math.fma(a0, packed[o0 + c], a[row + c]))));
        }
      }
    }
    for (; q < n; q++) {
      int o0 = q * k;
      for (int x = 0; x < k; x++) {
        float a0 = packed[o0 + x];
        int row = x * k;
        for (int c = x; c < k; c++) {
          a[row + c] = Math.fma(a0, packed[o0 + c], a[row + c]);
        }
      }
    }
    return a[k + 1];
  }

  /** The first ALS's loop: one entry at a time, double, lower triangle, unpacked. */
  @Benchmark
  public double unpackedDouble1x1() {
    Arrays.fill(ad, 0);
    for (int q = 0; q < n; q++) {
      int jb = items[q] * k;
      for (int x = 0; x < k; x++) {
        double fx = factors[jb + x];
        int xr = x * k;
        for (int y = 0; y <= x; y++) {
          ad[xr + y] += fx * factors[jb + y];
        }
      }
    }
    return ad[k + 1];
  }

  private void pack() {
    for (int q = 0; q < n; q++) {
      int o = items[q] * k;
      int d = q * k;
      for (int f = 0; f < k; f++) {
        packed[d + f] = factors[o + f];
      }
    }
  }
}
