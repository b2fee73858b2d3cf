package io.mfserve.server.model.errors;

/** A model or uploaded matrix of that id does not exist (any more): NOT_FOUND. */
public final class NotFoundException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String resourceType;
  private final String resourceName;

  /**
   * Creates the exception.
   *
   * @param resourceType "model" or "matrix"
   * @param resourceName the id asked for
   * @param message a sentence for the client
   */
  public NotFoundException(String resourceType, String resourceName, String message) {
    super(message);
    this.resourceType = resourceType;
    this.resourceName = resourceName;
  }

  /** Returns "model" or "matrix". */
  public String resourceType() {
    return resourceType;
  }

  /** Returns the id asked for. */
  public String resourceName() {
    return resourceName;
  }
}
