/**
 * Fit orchestration: {@link io.mfserve.server.model.fit.ModelService} checks a request, reserves
 * its memory, runs the solver found in the {@link io.mfserve.server.model.fit.SolverRegistry}
 * on the {@link io.mfserve.server.model.fit.FitExecutor}, and stores the model it returns.
 */
package io.mfserve.server.model.fit;
