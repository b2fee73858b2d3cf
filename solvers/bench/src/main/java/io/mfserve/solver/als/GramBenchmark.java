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
 * solver uses ({@link Gram#accumulateUpper}: packed float32, four entries × two accumulator
 * rows) against the forms it replaced: one entry at a time in double on the lower triangle
 * (the first ALS), and four entries × one row in float. Each call covers {@code n} entries; the
 * score is nanoseconds per call, so GFLOP/s = k(k+1)·n / score.
 *
 * <p>Run: {@code java -cp "$(cat target/classpath.txt):target/classes" org.openjdk.jmh.Main
 * GramBenchmark} (see solvers/bench/README.md).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
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
  }

  /** The solver's kernel, including the gather of the row's vectors into the packed buffer. */
  @Benchmark
  public float packedFloat4x2() {
    pack();
    Arrays.fill(a, 0f);
    Gram.accumulateUpper(packed, k, offsets, weights, n, a);
    return a[k + 1];
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
