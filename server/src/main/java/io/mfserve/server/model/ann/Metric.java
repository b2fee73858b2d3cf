package io.mfserve.server.model.ann;

import java.util.Locale;

/**
 * How an index measures the similarity of two rows while it builds its graph; a query is
 * always ranked by its own exact measure (inner product, or cosine).
 */
public enum Metric {
  /**
   * The inner product of the rows (item bias included), as Lucene's maximum-inner-product
   * graphs do: the graph links an item to those with the largest inner product with it.
   */
  DOT,
  /**
   * The inner product after the reduction of Bachrach et al., "Speeding up the Xbox recommender
   * system using a Euclidean transformation for inner-product spaces" (RecSys 2014): each row x
   * gains the coordinate {@code sqrt(M² − ‖x‖²)}, M the largest row norm, so that every row has
   * norm M and the largest inner product with a query {@code [q, 0]} is the nearest row by
   * angle. The graph is built on those angles; a query's ranking is unchanged.
   */
  DOT_BACHRACH,
  /** The cosine of the factors (no bias): for similar items and similar users. */
  COSINE;

  /** Returns the lower-case name used in flags and ModelInfo. */
  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }

  /**
   * Returns the metric a label names, for {@code --ann-mip}: dot or dot_bachrach.
   *
   * @throws IllegalArgumentException for any other text
   */
  public static Metric ofInnerProduct(String label) {
    String l = label.trim().toLowerCase(Locale.ROOT).replace('-', '_');
    if (l.equals("dot")) {
      return DOT;
    }
    if (l.equals("dot_bachrach") || l.equals("bachrach")) {
      return DOT_BACHRACH;
    }
    throw new IllegalArgumentException("expected dot or bachrach, got '" + label + "'");
  }
}
