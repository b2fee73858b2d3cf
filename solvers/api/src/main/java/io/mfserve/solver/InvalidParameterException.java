package io.mfserve.solver;

import java.util.Objects;

/**
 * A parameter value a client supplied is unknown, unparsable, or out of range. The message is
 * safe to send back to the client as it is; {@link #parameter()} names the parameter.
 */
public final class InvalidParameterException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  private final String parameter;

  /**
   * Creates the exception.
   *
   * @param parameter the parameter's name, as the client spelled it
   * @param message what is wrong and what would be accepted
   */
  public InvalidParameterException(String parameter, String message) {
    super(message);
    this.parameter = Objects.requireNonNull(parameter, "parameter");
  }

  /** Returns the name of the offending parameter. */
  public String parameter() {
    return parameter;
  }
}
