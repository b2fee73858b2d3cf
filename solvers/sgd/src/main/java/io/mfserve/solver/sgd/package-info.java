/**
 * The {@code "sgd"} solver plugin: biased matrix factorisation (Funk 2006; Koren, Bell and
 * Volinsky 2009) trained by block-parallel stochastic gradient descent with LibMF's adaptive
 * per-row learning rates (Chin et al. 2015), on the observed entries of a ratings matrix
 * (squared loss) or on implicit feedback (BPR, Rendle et al. 2009), and optionally Koren's
 * SVD++ (2008) on ratings, trained user by user.
 * {@link io.mfserve.solver.sgd.SgdSolverProvider} is the entry point that
 * {@link java.util.ServiceLoader} finds; {@link io.mfserve.solver.sgd.SgdSolver} runs a fit from
 * package-private parts: the grid of entries, the per-row state, the update kernels, the epoch
 * scheduler and the validator. Depends on the solver SPI only.
 */
package io.mfserve.solver.sgd;
