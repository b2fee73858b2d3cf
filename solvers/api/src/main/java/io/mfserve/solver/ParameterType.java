package io.mfserve.solver;

/** The type of a solver parameter, which decides how its text value is parsed. */
public enum ParameterType {
  /** A 32-bit integer, parsed with {@link Integer#parseInt(String)}. */
  INT,
  /** A finite double, parsed with {@link Double#parseDouble(String)}. */
  DOUBLE,
  /** {@code true} or {@code false}, case-insensitive. */
  BOOL,
  /** One of a fixed list of strings. */
  CHOICE,
  /**
   * Free text of bounded length (a URI, a column name, a list of settings), kept as given;
   * the solver checks what it means.
   */
  STRING
}
