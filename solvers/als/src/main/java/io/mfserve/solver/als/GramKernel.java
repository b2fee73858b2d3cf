package io.mfserve.solver.als;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Computes one chunk's Gram matrix Σ_q w[q]·y_q y_qᵀ (upper triangle) into a float32
 * accumulator: the hot loop of ALS. Two forms exist: {@link #SCALAR}, loops that C2 compiles to
 * SIMD on its own ({@link Gram#accumulateRows}), and {@code VectorGramKernel}, a
 * register-blocked small SYRK written with the JDK's incubating Vector API, 3–4× faster at
 * ranks 10 to 128 on this project's machine ({@code GramBenchmark}). The vector form needs the
 * JVM flag {@code --add-modules=jdk.incubator.vector} (in {@code deploy/jvm-flags}); without it
 * the scalar form runs, with the same results to float rounding.
 *
 * <p>The kernel decides the scratch layout: each gathered row and each accumulator row holds
 * {@link #width} floats (k, padded with zeros to whole vectors), and the accumulator has
 * {@link #accumulatorRows} rows. Instances are stateless and thread-safe.
 */
interface GramKernel {
  /** The form C2 vectorises by itself; always available. */
  GramKernel SCALAR = new GramKernel() {
    @Override
    public int width(int k) {
      return k;
    }

    @Override
    public int accumulatorRows(int k) {
      return k;
    }

    @Override
    public void accumulate(float[][] rows, float[] weights, int n, int k, float[][] acc) {
      Gram.accumulateRows(rows, weights, n, k, acc);
    }

    @Override
    public String name() {
      return "scalar";
    }

    @Override
    public String toString() {
      return name();
    }
  };

  /**
   * The system property that picks a kernel by {@link #name} ({@code scalar} or
   * {@code vector}), for A/B benchmarks; by default the fastest available one runs.
   */
  String PROPERTY = "mfserve.als.gram";

  /** Floats per gathered row and per accumulator row at rank k (≥ k; the rest stay zero). */
  int width(int k);

  /** Rows of the accumulator at rank k (≥ k). */
  int accumulatorRows(int k);

  /**
   * Overwrites the upper triangle (column ≥ row) of the first k rows of {@code acc} with
   * Σ_{q &lt; n} weights[q]·rows[q] rows[q]ᵀ; entries below the diagonal and past column k may
   * be overwritten too and mean nothing. Rows of {@code rows} hold {@link #width} floats, the
   * ones past k zero.
   */
  void accumulate(float[][] rows, float[] weights, int n, int k, float[][] acc);

  /** A short name for logs and benchmarks: {@code scalar} or {@code vector}. */
  String name();

  /** The kernel fits use: {@link #PROPERTY}'s choice, else the fastest available. */
  static GramKernel preferred() {
    return Preferred.KERNEL;
  }

  /** Every kernel this JVM can run, the scalar one first. */
  static List<GramKernel> available() {
    List<GramKernel> all = new ArrayList<>();
    all.add(SCALAR);
    GramKernel vector = Preferred.vector();
    if (vector != null) {
      all.add(vector);
    }
    return all;
  }

  /** Holds the choice, made once per JVM. */
  final class Preferred {
    static final GramKernel KERNEL = choose();

    private Preferred() {
    }

    private static GramKernel choose() {
      String wanted = System.getProperty(PROPERTY, "").trim().toLowerCase(Locale.ROOT);
      if (wanted.equals(SCALAR.name())) {
        return SCALAR;
      }
      GramKernel vector = vector();
      return vector != null ? vector : SCALAR;
    }

    /**
     * The Vector API kernel, or null when the JVM was started without
     * {@code --add-modules=jdk.incubator.vector} or its vectors are too short to pay off.
     * Loaded by name: it is compiled apart from the rest of the module (solvers/als/pom.xml).
     */
    static GramKernel vector() {
      if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
        return null;
      }
      try {
        Object kernel = Class.forName("io.mfserve.solver.als.VectorGramKernel")
            .getDeclaredConstructor().newInstance();
        GramKernel gram = (GramKernel) kernel;
        // Below four floats per vector the blocked form has nothing to gain.
        return gram.width(1) >= 4 ? gram : null;
      } catch (ReflectiveOperationException | LinkageError e) {
        return null;
      }
    }
  }
}
