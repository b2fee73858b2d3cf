package io.mfserve.server.model.ann;

/** What an index answers. */
public enum AnnTarget {
  /** Recommend: the items of largest predicted score (inner product with the item bias). */
  RECOMMEND("recommend"),
  /** SimilarItems with cosine similarity. */
  SIMILAR_ITEMS("similar_items"),
  /** SimilarUsers with cosine similarity. */
  SIMILAR_USERS("similar_users");

  private final String label;

  AnnTarget(String label) {
    this.label = label;
  }

  /** Returns the name shown in ModelInfo and logs. */
  public String label() {
    return label;
  }
}
