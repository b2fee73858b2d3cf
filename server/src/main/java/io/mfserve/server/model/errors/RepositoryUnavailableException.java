package io.mfserve.server.model.errors;

/**
 * The model repository could not be read or written (a full disk, an unreachable object
 * store): UNAVAILABLE, which clients may retry. A fit whose snapshot could not be written is
 * not kept, so no replica serves a model that a restart would lose.
 */
public final class RepositoryUnavailableException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Creates the exception with a sentence for the client and the cause for the log. */
  public RepositoryUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
