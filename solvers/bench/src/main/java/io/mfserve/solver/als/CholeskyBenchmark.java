package io.mfserve.solver.als;

import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.factory.LinearSolverFactory_DDRM;
import org.ejml.interfaces.linsol.LinearSolverDense;
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
 * One k × k symmetric positive-definite solve (factor + forward/back substitution), as ALS
 * does per row: the hand-written {@link Cholesky} against EJML 0.46.1's Cholesky solver
 * ({@code LinearSolverFactory_DDRM.chol}, reused across calls so that it allocates nothing),
 * and, as {@code vectorKernels}, the form the solver runs where the JVM has
 * {@code --add-modules=jdk.incubator.vector} ({@link RowKernels#preferred}). Each copies the
 * system in first, since each overwrites it.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
// The Vector API module, so that vectorKernels runs the solver's vector form.
@Fork(value = 1, jvmArgsAppend = "--add-modules=jdk.incubator.vector")
public class CholeskyBenchmark {
  /** The rank. */
  @Param({"10", "64", "128"})
  public int k;

  private double[] system;
  private double[] rhs;
  private double[] m;
  private double[] b;
  private double[] x;
  private double[] diag;
  private double[][] rows;
  private RowKernels kernels;
  private double[][] kernelRows;
  private DMatrixRMaj ejmlA;
  private DMatrixRMaj ejmlB;
  private DMatrixRMaj ejmlX;
  private LinearSolverDense<DMatrixRMaj> ejml;

  /** Builds a random Gram matrix plus a ridge, as in a weighted-λ ALS row. */
  @Setup
  public void setUp() {
    Random rnd = new Random(2);
    int n = 3 * k;
    double[] y = new double[n * k];
    for (int q = 0; q < y.length; q++) {
      y[q] = rnd.nextGaussian();
    }
    system = new double[k * k];
    for (int q = 0; q < n; q++) {
      for (int r = 0; r < k; r++) {
        for (int c = 0; c < k; c++) {
          system[r * k + c] += y[q * k + r] * y[q * k + c];
        }
      }
    }
    for (int r = 0; r < k; r++) {
      system[r * k + r] += 0.1 * n;
    }
    rhs = new double[k];
    for (int r = 0; r < k; r++) {
      rhs[r] = rnd.nextGaussian();
    }
    m = new double[k * k];
    b = new double[k];
    x = new double[k];
    diag = new double[k];
    rows = new double[k][k];
    kernels = RowKernels.preferred();
    kernelRows = kernels.systemRows(k);
    for (int r = 0; r < k; r++) {
      diag[r] = system[r * k + r];
    }
    ejmlA = new DMatrixRMaj(k, k);
    ejmlB = new DMatrixRMaj(k, 1);
    ejmlX = new DMatrixRMaj(k, 1);
    ejml = LinearSolverFactory_DDRM.chol(k);
  }

  /** The solver's own Cholesky. */
  @Benchmark
  public double handWritten() {
    System.arraycopy(system, 0, m, 0, k * k);
    System.arraycopy(rhs, 0, b, 0, k);
    if (!Cholesky.factor(m, k, diag)) {
      throw new IllegalStateException("not positive definite");
    }
    Cholesky.solve(m, b, x, k);
    return x[0];
  }

  /** The scalar Cholesky on one array per row ({@link RowKernels#SCALAR}). */
  @Benchmark
  public double handWrittenRows() {
    return solveWith(RowKernels.SCALAR, rows);
  }

  /** The kernels the solver runs ({@link RowKernels#preferred}), as a row solve calls them. */
  @Benchmark
  public double vectorKernels() {
    return solveWith(kernels, kernelRows);
  }

  private double solveWith(RowKernels form, double[][] scratch) {
    System.arraycopy(system, 0, m, 0, k * k);
    System.arraycopy(rhs, 0, b, 0, k);
    if (!form.factor(m, k, diag, scratch)) {
      throw new IllegalStateException("not positive definite");
    }
    form.solve(m, scratch, b, x, k);
    return x[0];
  }

  /** EJML's Cholesky linear solver. */
  @Benchmark
  public double ejml() {
    System.arraycopy(system, 0, ejmlA.data, 0, k * k);
    System.arraycopy(rhs, 0, ejmlB.data, 0, k);
    if (!ejml.setA(ejmlA)) {
      throw new IllegalStateException("not positive definite");
    }
    ejml.solve(ejmlB, ejmlX);
    return ejmlX.data[0];
  }
}
