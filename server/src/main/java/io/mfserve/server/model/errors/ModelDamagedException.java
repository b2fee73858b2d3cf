package io.mfserve.server.model.errors;

/**
 * The model's snapshot in the repository failed its checks (checksum, truncation, format), so
 * it is not served: DATA_LOSS. ListModels reports it among the damaged models.
 */
public final class ModelDamagedException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Creates the exception with a sentence for the client. */
  public ModelDamagedException(String message) {
    super(message);
  }
}
