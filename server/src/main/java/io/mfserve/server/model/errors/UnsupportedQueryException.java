package io.mfserve.server.model.errors;

/**
 * The model cannot answer this kind of query (e.g. its solver cannot fold in users trained
 * with implicit feedback): UNIMPLEMENTED.
 */
public final class UnsupportedQueryException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Creates the exception with a sentence for the client. */
  public UnsupportedQueryException(String message) {
    super(message);
  }
}
