package io.mfserve.solver.nmf;

import java.util.List;
import java.util.Locale;

/** The data term of the objective, as the {@code loss} parameter names it. */
enum Loss {
  /** ½ ‖X − W Hᵀ‖²: Gaussian noise; ratings, TF-IDF, dense measurements. */
  FROBENIUS,
  /**
   * The generalised Kullback–Leibler divergence {@code Σ x log(x / y) − x + y}, y = W Hᵀ:
   * Poisson noise; word counts and other count data.
   */
  KL;

  /** The parameter's values, in the order shown to clients; the first is the default. */
  static final List<String> NAMES = List.of("frobenius", "kl");

  /** Returns the value as the parameter spells it. */
  String parameterValue() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** Parses a value already checked against {@link #NAMES}. */
  static Loss of(String value) {
    return valueOf(value.toUpperCase(Locale.ROOT));
  }
}
