/**
 * The {@code "sgd"} solver plugin: biased matrix factorisation (Funk 2006; Koren, Bell and
 * Volinsky 2009) trained by stochastic gradient descent over the observed entries of a ratings
 * matrix. {@link io.mfserve.solver.sgd.SgdSolverProvider} is the entry point that
 * {@link java.util.ServiceLoader} finds; {@link io.mfserve.solver.sgd.SgdSolver} holds the
 * update rule. Depends on the solver SPI only.
 */
package io.mfserve.solver.sgd;
