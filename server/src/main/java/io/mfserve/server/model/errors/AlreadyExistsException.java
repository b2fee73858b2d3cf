package io.mfserve.server.model.errors;

/** A model id is taken by a different request: ALREADY_EXISTS. */
public final class AlreadyExistsException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Creates the exception with a sentence for the client. */
  public AlreadyExistsException(String message) {
    super(message);
  }
}
