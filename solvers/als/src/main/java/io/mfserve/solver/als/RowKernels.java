package io.mfserve.solver.als;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The hot loops of solving one ALS row, in one of two forms: {@link #SCALAR}, loops that C2
 * compiles to SIMD on its own ({@link Gram}, {@link Cholesky}), and {@code VectorRowKernels},
 * the same operations written with the JDK's incubating Vector API: a register-blocked small
 * SYRK for the Gram matrix (2.2–2.7× the scalar loops' speed with the gather and the drain, at
 * ranks 10 to 128 on this project's machine, {@code GramBenchmark}; up to rank 16 with the
 * right-hand side's sum in the same pass) and, from width 16, a left-looking Cholesky
 * factorisation that updates two rows at a time (below it both forms use
 * {@link Cholesky}'s square-root-free form). The vector form needs
 * the JVM flag {@code --add-modules=jdk.incubator.vector} (opt-in: README, "Faster ALS and SGD");
 * without it the scalar form runs, with the same results to floating-point rounding.
 *
 * <p>The kernels decide the scratch layout: each gathered row and each accumulator row holds
 * {@link #width} floats (k, padded with zeros to whole vectors), and the accumulator has
 * {@link #accumulatorRows} rows. Instances are stateless and thread-safe.
 */
interface RowKernels {
  /** The form C2 vectorises by itself; always available. */
  RowKernels SCALAR = new RowKernels() {
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
    public void weightedSum(float[][] rows, float[] coefficients, int n, int k, float[] out) {
      Gram.weightedSum(rows, coefficients, n, k, out);
    }

    @Override
    public double dot(float[] left, float[] right, int k) {
      return Gram.dot(left, 0, right, 0, k);
    }

    @Override
    public void copyRow(float[] from, int offset, float[] to, int k) {
      // A plain loop: System.arraycopy's call overhead dominates a copy of k ≈ 10 floats.
      for (int f = 0; f < k; f++) {
        to[f] = from[offset + f];
      }
    }

    @Override
    public boolean factor(double[] m, int w, double[] diag, double[][] rows) {
      return Cholesky.factor(m, w, diag, rows);
    }

    @Override
    public void solve(double[] m, double[][] rows, double[] b, double[] x, int w) {
      Cholesky.solve(m, b, x, w);
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
   * The system property that picks the kernels by {@link #name} ({@code scalar} or
   * {@code vector}), for A/B benchmarks; by default the fastest available ones run.
   */
  String PROPERTY = "mfserve.als.kernels";

  /** Floats per gathered row and per accumulator row at rank k (≥ k; the rest stay zero). */
  int width(int k);

  /** Rows of the accumulator at rank k (≥ k). */
  int accumulatorRows(int k);

  /**
   * Overwrites the upper triangle (column ≥ row) of the first k rows of {@code acc} with
   * Σ_{q &lt; n} weights[q]·rows[q] rows[q]ᵀ in float32, summed in entry order; entries below
   * the diagonal and past column k may be overwritten too and mean nothing. Rows of
   * {@code rows} hold {@link #width} floats, the ones past k zero.
   */
  void accumulate(float[][] rows, float[] weights, int n, int k, float[][] acc);

  /**
   * Overwrites {@code out[0..k)} with Σ_{q &lt; n} coefficients[q]·rows[q] in float32, each
   * element summed in entry order by multiply-adds (so both forms give the same bits).
   */
  void weightedSum(float[][] rows, float[] coefficients, int n, int k, float[] out);

  /**
   * Does {@link #accumulate}{@code (rows, weights, n, k, acc)} and
   * {@link #weightedSum}{@code (rows, coefficients, n, k, out)} with the same results to the
   * bit: one pass over the chunk where a form can (the rows are read once for both), else the
   * two.
   */
  default void accumulateWithSum(float[][] rows, float[] weights, float[] coefficients, int n,
      int k, float[][] acc, float[] out) {
    weightedSum(rows, coefficients, n, k, out);
    accumulate(rows, weights, n, k, acc);
  }

  /**
   * Copies {@code from[offset..offset+k)} into {@code to[0..k)} (a row of {@link #width}
   * floats whose entries past k stay zero): gathering one fixed-side vector.
   */
  void copyRow(float[] from, int offset, float[] to, int k);

  /**
   * Returns left·right over the first k floats of two rows of {@link #width} floats (zeros
   * past k): the loss's scores. The scalar form sums the products in double; the vector form
   * in float32 lanes, then across them (within a few float32 roundings of it).
   */
  double dot(float[] left, float[] right, int k);

  /**
   * Cholesky-factors the symmetric w × w system held (upper triangle) in {@code m}: as
   * {@link Cholesky#factor(double[], int, double[], double[][])}, false where it is not
   * positive definite to working precision. On success the factors are where {@link #solve}
   * reads them: Uᵀ D⁻¹ U in {@code m} below width {@link Cholesky#ROWS_MIN_WIDTH} (both forms)
   * and, in the scalar form, from there on too (also left in {@code rows}); RᵀR in
   * {@code rows} from that width on in the vector form, which leaves A in {@code m}.
   *
   * @param rows scratch from {@link #systemRows}{@code (w)}
   */
  boolean factor(double[] m, int w, double[] diag, double[][] rows);

  /** Scratch rows for {@link #factor} at width w: w arrays of at least w doubles. */
  default double[][] systemRows(int w) {
    return new double[w][w];
  }

  /**
   * Solves A x = b with A's factors from {@link #factor} of this form; {@code b} is
   * overwritten.
   */
  void solve(double[] m, double[][] rows, double[] b, double[] x, int w);

  /** A short name for logs and benchmarks: {@code scalar} or {@code vector}. */
  String name();

  /** The kernels fits use: {@link #PROPERTY}'s choice, else the fastest available. */
  static RowKernels preferred() {
    return Preferred.KERNELS;
  }

  /** Every form this JVM can run, the scalar one first. */
  static List<RowKernels> available() {
    List<RowKernels> all = new ArrayList<>();
    all.add(SCALAR);
    RowKernels vector = Preferred.vector();
    if (vector != null) {
      all.add(vector);
    }
    return all;
  }

  /** Holds the choice, made once per JVM. */
  final class Preferred {
    static final RowKernels KERNELS = choose();

    private Preferred() {
    }

    private static RowKernels choose() {
      String wanted = System.getProperty(PROPERTY, "").trim().toLowerCase(Locale.ROOT);
      if (wanted.equals(SCALAR.name())) {
        return SCALAR;
      }
      RowKernels vector = vector();
      return vector != null ? vector : SCALAR;
    }

    /**
     * The Vector API form, or null when the JVM was started without
     * {@code --add-modules=jdk.incubator.vector} or its vectors are too short to pay off.
     * Loaded by name: it is compiled apart from the rest of the module (solvers/als/pom.xml).
     */
    static RowKernels vector() {
      if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
        return null;
      }
      try {
        Object kernels = Class.forName("io.mfserve.solver.als.VectorRowKernels")
            .getDeclaredConstructor().newInstance();
        RowKernels vector = (RowKernels) kernels;
        // Below four floats per vector the blocked form has nothing to gain.
        return vector.width(1) >= 4 ? vector : null;
      } catch (ReflectiveOperationException | LinkageError e) {
        return null;
      }
    }
  }
}
