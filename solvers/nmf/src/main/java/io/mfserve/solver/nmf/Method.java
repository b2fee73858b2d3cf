package io.mfserve.solver.nmf;

import java.util.List;
import java.util.Locale;

/** The update rule, as the {@code method} parameter names it. */
enum Method {
  /** HALS for the Frobenius loss, MU for Kullback–Leibler: the only rule each supports here. */
  AUTO,
  /** Hierarchical alternating least squares (Cichocki and Phan 2009): one column at a time. */
  HALS,
  /** Multiplicative updates (Lee and Seung 2001). */
  MU;

  /** The parameter's values, in the order shown to clients; the first is the default. */
  static final List<String> NAMES = List.of("auto", "hals", "mu");

  /** Returns the value as the parameter spells it. */
  String parameterValue() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** Parses a value already checked against {@link #NAMES}. */
  static Method of(String value) {
    return valueOf(value.toUpperCase(Locale.ROOT));
  }

  /** Returns the rule {@code AUTO} stands for under {@code loss}; other values are themselves. */
  Method resolve(Loss loss) {
    if (this != AUTO) {
      return this;
    }
    return loss == Loss.KL ? MU : HALS;
  }
}
