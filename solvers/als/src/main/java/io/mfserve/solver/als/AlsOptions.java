package io.mfserve.solver.als;

/**
 * The resolved options of one ALS fit; {@link AlsSolverProvider} documents each.
 *
 * @param maxIterations sweeps to run at most, at least 1
 * @param lambda λ, at least 0
 * @param weightedLambda whether λ is scaled by each row's number of observed entries
 * @param implicit implicit feedback (Hu, Koren and Volinsky 2008) instead of explicit ratings
 * @param biases fit a global mean and user and item biases (explicit feedback only)
 * @param biasLambda λ_b, the penalty on each squared bias (not scaled by counts), at least 0
 * @param alpha the confidence scale α (implicit only), at least 0
 * @param logConfidence c = 1 + α·log(1 + r/ε) instead of c = 1 + α·r (implicit only)
 * @param epsilon ε of the log confidence, above 0
 * @param cholesky solve each implicit row exactly by Cholesky instead of by conjugate gradient
 * @param cgSteps conjugate-gradient steps per row and sweep, at least 1
 * @param nonnegative constrain the factors (not the biases) to be non-negative
 * @param earlyStoppingRounds stop when the validation metric has not improved for this many
 *     sweeps; 0 turns early stopping off
 */
record AlsOptions(int maxIterations, double lambda, boolean weightedLambda, boolean implicit,
    boolean biases, double biasLambda, double alpha, boolean logConfidence, double epsilon,
    boolean cholesky, int cgSteps, boolean nonnegative, int earlyStoppingRounds) {
  /** Checks the ranges the provider's parameter specs already enforce, for direct callers. */
  AlsOptions {
    if (maxIterations < 1 || !(lambda >= 0) || Double.isInfinite(lambda) || !(biasLambda >= 0)
        || Double.isInfinite(biasLambda) || !(alpha >= 0)
        || Double.isInfinite(alpha) || !(epsilon > 0) || Double.isInfinite(epsilon)
        || cgSteps < 1 || earlyStoppingRounds < 0) {
      throw new IllegalArgumentException("bad ALS options: iterations=" + maxIterations + ", λ="
          + lambda + ", α=" + alpha + ", ε=" + epsilon + ", cg_steps=" + cgSteps
          + ", early_stopping_rounds=" + earlyStoppingRounds);
    }
  }
}
