package io.mfserve.server.model.errors;

/** The request would exceed the memory budget or a size limit: RESOURCE_EXHAUSTED. */
public final class ResourceExhaustedException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Creates the exception with a sentence naming the limit and what was asked. */
  public ResourceExhaustedException(String message) {
    super(message);
  }
}
