package io.mfserve.server.model.query;

/** What Recommend answers for a user the model has never seen who brings no history. */
public enum UnknownUserFallback {
  /** The items with the most training entries; the score is the count. */
  POPULAR("popular"),
  /** The items of largest shrunk mean value; the score is that mean. */
  TOP_RATED("top_rated"),
  /** INVALID_ARGUMENT naming the unknown user. */
  ERROR("");

  private final String label;

  UnknownUserFallback(String label) {
    this.label = label;
  }

  /** Returns the name a response reports the fallback by. */
  public String label() {
    return label;
  }
}
