package io.mfserve.solver;

import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * A named solver plugin: the extension point through which mfserve finds the algorithms it can
 * train with.
 *
 * <h2>Registering one</h2>
 * Implement this interface in a public class with a public no-argument constructor that never
 * throws, and list the class's binary name in a file
 * {@code META-INF/services/io.mfserve.solver.SolverProvider} inside the jar. Put the jar on the
 * server's classpath or in its {@code --plugins-dir}: the server finds it with
 * {@link java.util.ServiceLoader}. Two providers with one name stop the server at start-up.
 *
 * <h2>Contract</h2>
 * <ul>
 *   <li>{@link #name()} is stable and lower-case ({@code [a-z][a-z0-9_-]*}); it is stored with
 *       every model and never changes once released.
 *   <li>{@link #parameters()} declares every parameter the solver reads, including the common
 *       ones it honours ({@link ParameterSpec#MAX_ITERATIONS},
 *       {@link ParameterSpec#REGULARIZATION}, {@link ParameterSpec#LEARNING_RATE}); a request
 *       naming anything else is refused before the solver sees it.
 *   <li>Implementations are stateless and thread-safe: the server calls {@link #create} from
 *       many threads at once. Each {@link Solver} it returns serves one fit.
 * </ul>
 */
public interface SolverProvider {
  /** Returns the stable name clients pass to select this solver, e.g. {@code "als"}. */
  String name();

  /** Returns a sentence or two on what the solver does and which paper it follows. */
  String description();

  /** Returns the declared parameters, in the order to show them. */
  List<ParameterSpec> parameters();

  /** Returns the meanings of absent entries the solver can train with. */
  default Set<AbsentEntries> supportedAbsentEntries() {
    return EnumSet.of(AbsentEntries.UNKNOWN);
  }

  /** Returns what absent entries mean when a request does not say. */
  default AbsentEntries defaultAbsentEntries() {
    return AbsentEntries.UNKNOWN;
  }

  /**
   * Returns the bytes the solver allocates while fitting, beyond the training matrix and the
   * returned model, so the server can refuse a fit that would not fit in its memory budget
   * before it starts. The default assumes a few rank-sized buffers per thread.
   */
  default long estimateWorkingBytes(int rows, int cols, long nnz, SolverConfig config) {
    long k = config.numFactors();
    return 64L * (k * k + 4 * k) * Double.BYTES;
  }

  /**
   * Returns a solver for one fit.
   *
   * @param config the rank, seed, meaning of absent entries, and parameters, already checked
   *     against {@link #parameters()}
   * @throws InvalidParameterException if parameters are individually valid but do not work
   *     together; the message names the parameter
   */
  Solver create(SolverConfig config);
}
