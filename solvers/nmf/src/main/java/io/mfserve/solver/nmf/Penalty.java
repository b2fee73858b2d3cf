package io.mfserve.solver.nmf;

/**
 * The regularisation terms of the objective, as absolute coefficients on each side:
 *
 * <pre>  l1W · Σ W + ½ l2W · ‖W‖² + l1H · Σ H + ½ l2H · ‖H‖²</pre>
 *
 * (W, H ≥ 0, so Σ W is the L1 norm). Built from the solver's parameters with scikit-learn's
 * (≥ 1.2) scaling: {@code alpha_w} is multiplied by the number of columns and {@code alpha_h}
 * by the number of rows, so the same values penalise as much as {@code NMF(alpha_W=…,
 * alpha_H=…, l1_ratio=…)} does there; the older {@code regularization} λ adds ½ λ ‖·‖² to both
 * sides, unscaled.
 *
 * @param l1W the L1 coefficient on W
 * @param l2W the L2 coefficient on W
 * @param l1H the L1 coefficient on H
 * @param l2H the L2 coefficient on H
 */
record Penalty(double l1W, double l2W, double l1H, double l2H) {
  /** No penalty at all. */
  static final Penalty NONE = new Penalty(0, 0, 0, 0);

  /**
   * Combines the parameters into coefficients.
   *
   * @param lambda {@code regularization}: ½ λ (‖W‖² + ‖H‖²), unscaled
   * @param alphaW {@code alpha_w}
   * @param alphaH {@code alpha_h}
   * @param l1Ratio {@code l1_ratio}: the L1 share of the alphas, in [0, 1]
   * @param rows rows of X (scikit-learn's n_samples)
   * @param cols columns of X (scikit-learn's n_features)
   */
  static Penalty of(double lambda, double alphaW, double alphaH, double l1Ratio, int rows,
      int cols) {
    return new Penalty(alphaW * l1Ratio * cols, lambda + alphaW * (1 - l1Ratio) * cols,
        alphaH * l1Ratio * rows, lambda + alphaH * (1 - l1Ratio) * rows);
  }

  /** Returns the penalty's value given Σ W, ‖W‖², Σ H and ‖H‖². */
  double value(double sumW, double normSqW, double sumH, double normSqH) {
    return l1W * sumW + 0.5 * l2W * normSqW + l1H * sumH + 0.5 * l2H * normSqH;
  }
}
