/**
 * The {@code als} solver plugin: explicit-feedback alternating least squares with
 * weighted-λ regularisation (Zhou, Wilkinson, Schreiber and Pan 2008). It alternates exact
 * least-squares solves for every user row and every item row, each a small k × k system
 * factored by Cholesky, spread over the pool the server lends the fit. It depends on the solver
 * SPI ({@link io.mfserve.solver}) only and is found by {@link java.util.ServiceLoader} through
 * {@link io.mfserve.solver.als.AlsSolverProvider}.
 */
package io.mfserve.solver.als;
