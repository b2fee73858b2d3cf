/**
 * The {@code als} solver plugin: alternating least squares for explicit ratings (weighted-λ
 * regularisation after Zhou, Wilkinson, Schreiber and Pan 2008, optional user and item biases)
 * and for implicit feedback (Hu, Koren and Volinsky 2008, with a conjugate-gradient inner solver
 * after Takács, Pilászy and Tikk 2011, or exact Cholesky), with optional non-negative factors
 * and early stopping. Each sweep ({@link io.mfserve.solver.als.AlsFit}) solves every user row
 * and then every item row ({@link io.mfserve.solver.als.ExplicitRows},
 * {@link io.mfserve.solver.als.ImplicitRows}) on the pool the server lends the fit
 * ({@link io.mfserve.solver.als.BlockRunner}); the per-row kernels
 * ({@link io.mfserve.solver.als.Gram},
 * {@link io.mfserve.solver.als.Cholesky}, {@link io.mfserve.solver.als.Nnls}) allocate nothing.
 * It depends on the solver SPI ({@link io.mfserve.solver}) only and is found by
 * {@link java.util.ServiceLoader} through {@link io.mfserve.solver.als.AlsSolverProvider}.
 */
package io.mfserve.solver.als;
