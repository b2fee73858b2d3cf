package io.mfserve.server.model.query;

/** How SimilarItems and SimilarUsers compare two factor vectors. */
public enum Similarity {
  /** The cosine of the angle between them: the direction, whatever the length. */
  COSINE,
  /** Their dot product: favours long (popular, confident) vectors. */
  DOT
}
