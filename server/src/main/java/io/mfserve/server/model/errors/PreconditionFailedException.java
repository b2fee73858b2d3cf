package io.mfserve.server.model.errors;

/**
 * The request is well formed but the state it expects does not hold: an alias moved by someone
 * else first (compare-and-set), or a model that an alias still points at: FAILED_PRECONDITION.
 */
public final class PreconditionFailedException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Creates the exception with a sentence for the client. */
  public PreconditionFailedException(String message) {
    super(message);
  }
}
