package io.mfserve.server.model.errors;

/** The model exists but is still training: FAILED_PRECONDITION. */
public final class NotReadyException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Creates the exception with a sentence for the client. */
  public NotReadyException(String message) {
    super(message);
  }
}
