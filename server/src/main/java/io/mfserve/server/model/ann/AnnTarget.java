package io.mfserve.server.model.ann;

import java.util.Arrays;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

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

  /** Returns every label, comma-separated, in declaration order (for messages and help). */
  public static String labels() {
    return Arrays.stream(values()).map(AnnTarget::label).collect(Collectors.joining(","));
  }

  /**
   * Returns the targets a comma-separated list of labels names ({@code --ann-indexes}); case and
   * '-' for '_' do not matter, and {@code all} names every target.
   *
   * @throws IllegalArgumentException naming the unknown label and the known ones (an empty
   *     list is refused by {@link AnnSettings}, which names the flag)
   */
  public static Set<AnnTarget> parseList(String list) {
    Set<AnnTarget> out = EnumSet.noneOf(AnnTarget.class);
    for (String part : list.split(",", -1)) {
      String l = part.trim().toLowerCase(Locale.ROOT).replace('-', '_');
      if (l.isEmpty()) {
        continue;
      }
      if (l.equals("all")) {
        out.addAll(EnumSet.allOf(AnnTarget.class));
        continue;
      }
      out.add(Arrays.stream(values()).filter(t -> t.label.equals(l)).findFirst()
          .orElseThrow(() -> new IllegalArgumentException("--ann-indexes: unknown index '"
              + part.trim() + "', expected a comma-separated list of " + labels()
              + " (or all)")));
    }
    return out;
  }
}
