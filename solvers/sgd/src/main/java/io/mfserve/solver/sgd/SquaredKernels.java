package io.mfserve.solver.sgd;

/**
 * Makes the squared-loss kernel of a fit: {@link SquaredKernel}, or its Vector API form
 * ({@code VectorSquaredKernel}) where the JVM was started with
 * {@code --add-modules=jdk.incubator.vector} (the opt-in flag that also speeds up ALS; README,
 * "Faster ALS and SGD"). The two compute the same updates up to float rounding: the vector
 * form sums a dot product in another order, so a model trained with the flag differs from one
 * trained without it in the last bits, and each is the same for a seed on every run.
 *
 * <p>The vector form needs each row's factors padded to whole vectors, so the choice is made
 * before the {@link FactorState} is allocated: {@link #width} gives the padded width, and
 * {@link #estimateBytes} counts it.
 */
abstract class SquaredKernels {
  /** The scalar form, on rows of exactly k factors. */
  static final SquaredKernels SCALAR = new SquaredKernels() {
    @Override
    int width(int k) {
      return k;
    }

    @Override
    Kernel create(boolean adaptive, BlockGrid grid, FactorState state, double lambda,
        double biasLambda) {
      return new SquaredKernel(adaptive, grid, state, lambda, biasLambda);
    }
  };

  /**
   * The system property that picks the form: {@code scalar} forces the scalar kernel on a JVM
   * that has the module (for A/B runs); anything else, or nothing, takes the vector form where
   * it loads.
   */
  static final String PROPERTY = "mfserve.sgd.kernels";

  private static final SquaredKernels VECTOR = load();
  private static final SquaredKernels PREFERRED =
      System.getProperty(PROPERTY, "").trim().equalsIgnoreCase("scalar") ? SCALAR : VECTOR;

  /**
   * Returns the Vector API form where the JVM has its module and {@value #PROPERTY} does not
   * say scalar, else {@link #SCALAR}.
   */
  static SquaredKernels preferred() {
    return PREFERRED;
  }

  /** Returns the Vector API form, or null where the JVM lacks its module. */
  static SquaredKernels vector() {
    return VECTOR == SCALAR ? null : VECTOR;
  }

  private static SquaredKernels load() {
    if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
      return SCALAR;
    }
    try {
      // Loaded by name: compiled apart from the rest of the module (solvers/sgd/pom.xml).
      return (SquaredKernels) Class.forName("io.mfserve.solver.sgd.VectorSquaredKernel$Form")
          .getDeclaredConstructor().newInstance();
    } catch (ReflectiveOperationException | LinkageError e) {
      return SCALAR;
    }
  }

  /** Returns the floats a row's k factors take in this form's {@link FactorState}. */
  abstract int width(int k);

  /** Returns the kernel; {@code state} must have been allocated with {@link #width}. */
  abstract Kernel create(boolean adaptive, BlockGrid grid, FactorState state, double lambda,
      double biasLambda);
}
