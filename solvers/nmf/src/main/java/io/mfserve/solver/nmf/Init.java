package io.mfserve.solver.nmf;

import io.mfserve.solver.AbsentEntries;
import java.util.List;
import java.util.Locale;

/** How W and H start, as the {@code init} parameter names it. */
enum Init {
  /**
   * {@link #NNDSVDA} when every entry counts (dense, or absent entries are zeros) and the rank is
   * at most {@link #AUTO_MAX_SVD_RANK}; {@link #RANDOM} otherwise, in particular for ratings
   * whose absent entries are unknown (an SVD would read them as zeros).
   */
  AUTO,
  /** {@code sqrt(mean(X)/k) · |N(0,1)|}, seeded: scikit-learn's {@code 'random'}. */
  RANDOM,
  /** Nonnegative double SVD (Boutsidis and Gallopoulos 2008); small entries are exact zeros. */
  NNDSVD,
  /** NNDSVD with its zeros filled with the mean of X (better for HALS and MU alike). */
  NNDSVDA,
  /** NNDSVD with its zeros set to small seeded random values, {@code mean · |N(0,1)| / 100}. */
  NNDSVDAR;

  /**
   * Above this rank AUTO starts at random: the SVD's cost grows with (k + 10)² per row and its
   * small Jacobi eigenproblems with (k + 10)³, more than a better start saves.
   */
  static final int AUTO_MAX_SVD_RANK = 256;

  /** The parameter's values, in the order shown to clients; the first is the default. */
  static final List<String> NAMES = List.of("auto", "random", "nndsvd", "nndsvda", "nndsvdar");

  /** Returns the value as the parameter spells it. */
  String parameterValue() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** Parses a value already checked against {@link #NAMES}. */
  static Init of(String value) {
    return valueOf(value.toUpperCase(Locale.ROOT));
  }

  /** Returns the start AUTO stands for; other values are themselves. */
  Init resolve(boolean dense, AbsentEntries absent, int k) {
    if (this != AUTO) {
      return this;
    }
    boolean everyEntryCounts = dense || absent == AbsentEntries.ZERO;
    return everyEntryCounts && k <= AUTO_MAX_SVD_RANK ? NNDSVDA : RANDOM;
  }

  /** Returns whether this start needs a truncated SVD of X. */
  boolean needsSvd() {
    return this == NNDSVD || this == NNDSVDA || this == NNDSVDAR;
  }
}
