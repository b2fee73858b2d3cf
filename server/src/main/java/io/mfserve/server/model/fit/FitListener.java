package io.mfserve.server.model.fit;

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
}
