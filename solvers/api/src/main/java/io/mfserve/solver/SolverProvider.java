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
   * Solves for the factors of a user the model was not trained with, from that user's entries,
   * against the model's fixed item factors ("folding in"), with the method the solver trained
   * the model with. The model is not changed; no other user is affected.
   *
   * <p>The default is regularised least squares ({@link RidgeFoldIn}) with λ the model's
   * {@value ParameterSpec#REGULARIZATION} parameter (0 if the solver declares none), used for
   * the user bias too on a model with biases, each multiplied by the user's number of entries
   * (the per-entry penalty of weighted-λ ALS and of SGD's objective). It treats absent entries
   * as unknown and so refuses models trained with another meaning: a solver whose objective
   * differs (non-negativity, implicit feedback's confidence weights over every item, another
   * penalty) overrides this method.
   *
   * <p>Implementations are thread-safe (the server folds in users concurrently), allocate
   * O(k²) at most, and may rely on {@code items} being distinct positions in the model and
   * {@code values} finite, which the caller checks.
   *
   * @param model a model this solver trained, with {@code config}
   * @param config the configuration the model was trained with (resolved parameters)
   * @param items the user's items, positions in the model, distinct, at least one
   * @param values the user's value of each item, finite
   * @return the user's factors, and bias for a model with biases
   * @throws InvalidParameterException naming {@code "values"} if a value is one the model cannot
   *     take (e.g. negative for a non-negative model)
   * @throws UnsupportedOperationException if the solver cannot fold users into models trained
   *     with {@code config} (e.g. implicit feedback, until a solver provides it)
   */
  default FoldedUser foldInUser(FactorModel model, SolverConfig config, int[] items,
      float[] values) {
    if (config.absentEntries() != AbsentEntries.UNKNOWN) {
      throw new UnsupportedOperationException("solver '" + name() + "' cannot fold users into"
          + " a model trained with absent entries meaning " + config.absentEntries());
    }
    double lambda = config.parameters().has(ParameterSpec.REGULARIZATION)
        ? config.parameters().getDouble(ParameterSpec.REGULARIZATION) : 0;
    return RidgeFoldIn.solve(model, items, values, lambda, lambda, true);
  }

  /**
   * Splits a user's predicted score of one item over the user's entries, where the solver's
   * fold-in is linear in the entries' values: for regularised least squares,
   * θ = A⁻¹ Σ_j t_j x_j, so the score x_iᵀθ is Σ_j t_j x_iᵀ A⁻¹ x_j, each term one entry's
   * share (what Oryx's /because reports for ALS). The shares then sum, with
   * {@link ScoreContributions#base}, to the score of the factors {@link #foldInUser} solves from
   * the same entries.
   *
   * <p>The default returns null: the solver's fold-in does not decompose (an iterative or
   * constrained solve), and the caller explains by factor similarity instead. Same thread-safety
   * and argument guarantees as {@link #foldInUser}.
   *
   * @param model a model this solver trained, with {@code config}
   * @param config the configuration the model was trained with (resolved parameters)
   * @param items the user's items, positions in the model, distinct, at least one
   * @param values the user's value of each item, finite
   * @param item the item whose score is explained, a position in the model
   * @return each entry's share of the score, or null when the fold-in does not decompose
   */
  default ScoreContributions explainScore(FactorModel model, SolverConfig config, int[] items,
      float[] values, int item) {
    return null;
  }

  /**
   * Settles the defaults that depend on the data: for each parameter the client left unset
   * ({@link Parameters#isGiven}) whose best value scales with the data (the regularisation
   * of explicit ratings, say, from their noise level and the entries per row), returns a
   * config holding the value the solver's rule derives from {@code train}, via
   * {@link Parameters#withDerived}. The server calls it once per fit, on the training part
   * (validation entries held out), before {@link #create}, and stores and reports the
   * returned config, so a model's parameters show what was used. It must not change what the
   * client gave, must allocate no more than O(rows + cols) and must be deterministic.
   *
   * <p>The default returns {@code config} unchanged: every default is a constant.
   *
   * @param config the resolved config, the declared defaults in place of unset parameters
   * @param train the training matrix the fit will see
   * @return the config to fit with
   */
  default SolverConfig resolveForData(SolverConfig config, TrainingMatrix train) {
    return config;
  }

  /**
   * Returns whether a fit with these parameters reads its training data itself (through
   * {@link Solver#fitFromSource}) instead of from the matrix in the request, e.g. because a
   * parameter names a file. Such a request must carry no matrix. The default is false: the
   * solver trains on what it is sent.
   *
   * @param parameters the fit's resolved parameters
   */
  default boolean readsOwnInput(Parameters parameters) {
    return false;
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
