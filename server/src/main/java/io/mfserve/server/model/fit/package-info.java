/**
 * Fit orchestration: {@link io.mfserve.server.model.fit.FitOrchestrator} checks a request,
 * reserves its memory, runs the solver found in the
 * {@link io.mfserve.server.model.fit.SolverRegistry} on the
 * {@link io.mfserve.server.model.fit.FitExecutor} (one {@code FitJob} per fit), and stores the
 * model it returns. Reads of the stored models live in {@code model.query}.
 */
package io.mfserve.server.model.fit;
