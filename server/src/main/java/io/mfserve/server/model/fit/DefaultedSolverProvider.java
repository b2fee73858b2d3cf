package io.mfserve.server.model.fit;

import io.mfserve.solver.AbsentEntries;
import io.mfserve.solver.FactorModel;
import io.mfserve.solver.FoldedUser;
import io.mfserve.solver.ParameterSpec;
import io.mfserve.solver.Parameters;
import io.mfserve.solver.ScoreContributions;
import io.mfserve.solver.Solver;
import io.mfserve.solver.SolverConfig;
import io.mfserve.solver.SolverProvider;
import io.mfserve.solver.TrainingMatrix;
import java.util.List;
import java.util.Set;

/**
 * A solver with the operator's launch-time defaults ({@link SolverDefaults}): it declares the
 * same parameters with other defaults and passes every other call to the plugin. It overrides
 * every method of {@link SolverProvider}, defaults included, so that a plugin's own
 * implementation of one is never replaced by the interface's (a test checks this).
 */
final class DefaultedSolverProvider implements SolverProvider {
  private final SolverProvider delegate;
  private final List<ParameterSpec> parameters;
  private final Set<String> operatorSet;

  /**
   * Wraps {@code delegate}.
   *
   * @param parameters its declared parameters, some with the operator's defaults
   * @param operatorSet the names of those
   */
  DefaultedSolverProvider(SolverProvider delegate, List<ParameterSpec> parameters,
      Set<String> operatorSet) {
    this.delegate = delegate;
    this.parameters = parameters;
    this.operatorSet = Set.copyOf(operatorSet);
  }

  SolverProvider delegate() {
    return delegate;
  }

  @Override
  public String name() {
    return delegate.name();
  }

  @Override
  public String description() {
    return delegate.description();
  }

  @Override
  public List<ParameterSpec> parameters() {
    return parameters;
  }

  @Override
  public Set<AbsentEntries> supportedAbsentEntries() {
    return delegate.supportedAbsentEntries();
  }

  @Override
  public AbsentEntries defaultAbsentEntries() {
    return delegate.defaultAbsentEntries();
  }

  @Override
  public long estimateWorkingBytes(int rows, int cols, long nnz, SolverConfig config) {
    return delegate.estimateWorkingBytes(rows, cols, nnz, config);
  }

  @Override
  public FoldedUser foldInUser(FactorModel model, SolverConfig config, int[] items,
      float[] values) {
    return delegate.foldInUser(model, config, items, values);
  }

  @Override
  public ScoreContributions explainScore(FactorModel model, SolverConfig config, int[] items,
      float[] values, int item) {
    return delegate.explainScore(model, config, items, values, item);
  }

  /**
   * Lets the plugin derive its data-dependent defaults, except for the parameters the operator
   * set: a value chosen at launch is a decision, and a rule for unset values must not undo it.
   */
  @Override
  public SolverConfig resolveForData(SolverConfig config, TrainingMatrix train) {
    SolverConfig derived = delegate.resolveForData(config, train);
    Parameters p = derived.parameters();
    boolean changed = false;
    for (ParameterSpec spec : parameters) {
      String name = spec.name();
      if (operatorSet.contains(name) && !p.isGiven(name)
          && !spec.defaultText().equals(p.asText().get(name))) {
        p = p.withDerived(name, spec.defaultValue());
        changed = true;
      }
    }
    return changed ? new SolverConfig(derived.numFactors(), derived.seed(),
        derived.absentEntries(), p) : derived;
  }

  @Override
  public boolean readsOwnInput(Parameters parameters) {
    return delegate.readsOwnInput(parameters);
  }

  @Override
  public Solver create(SolverConfig config) {
    return delegate.create(config);
  }

  @Override
  public String toString() {
    return delegate + " with launch-time defaults";
  }
}
