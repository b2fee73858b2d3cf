package io.mfserve.server.model.fit;

import io.mfserve.server.model.tune.TuneTrial;
import io.mfserve.solver.IterationProgress;

/** Hears about each completed iteration of one fit, for live progress. */
@FunctionalInterface
public interface FitListener {
  /**
   * Called on the fit's thread after each iteration; must be quick and must not throw.
   *
   * @param modelId the model being trained
   * @param maxIterations the iteration limit, or 0 when the solver has none
   * @param progress the iteration just completed
   */
  void onIteration(String modelId, int maxIterations, IterationProgress progress);

  /**
   * Called on the fit's thread after each trial of a tuned fit, before the final fit's
   * iterations; must be quick and must not throw. The default ignores it.
   *
   * @param modelId the model being trained
   * @param trial the trial just finished
   */
  default void onTrial(String modelId, TuneTrial trial) {}
}
