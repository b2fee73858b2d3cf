package io.mfserve.solver;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Objects;
import java.util.Set;

/**
 * The external ids of one side of a model (its users or its items), in position order, as a
 * solver that read its own training data found them: position p of the model's factors belongs
 * to id {@code longAt(p)} (int64 ids) or {@code stringAt(p)} (string keys). The server turns
 * them into the model's id index, exactly as it does for the ids of a matrix sent to it, so
 * that queries name users and items by these ids.
 *
 * <p>Ids are distinct; one form (int64 or strings) per side. The arrays are owned by this object
 * (the factories take ownership, no copy: a side may have millions of ids) and never change, so
 * instances are thread-safe.
 */
public final class ExternalIds {
  private final long[] longs;
  private final String[] strings;

  private ExternalIds(long[] longs, String[] strings) {
    this.longs = longs;
    this.strings = strings;
  }

  /**
   * Int64 ids, {@code ids[p]} being the id of position p. Takes ownership of the array.
   *
   * @throws IllegalArgumentException if an id occurs twice
   */
  public static ExternalIds ofLongs(long[] ids) {
    long[] sorted = ids.clone();
    Arrays.sort(sorted);
    for (int n = 1; n < sorted.length; n++) {
      if (sorted[n] == sorted[n - 1]) {
        throw new IllegalArgumentException("id " + sorted[n] + " occurs twice");
      }
    }
    return new ExternalIds(ids, null);
  }

  /**
   * String keys, {@code keys[p]} being the key of position p. Takes ownership of the array.
   *
   * @throws IllegalArgumentException if a key is null or occurs twice
   */
  public static ExternalIds ofStrings(String[] keys) {
    Set<String> seen = new HashSet<>(keys.length * 2);
    for (String k : keys) {
      Objects.requireNonNull(k, "a key is null");
      if (!seen.add(k)) {
        throw new IllegalArgumentException("key '" + k + "' occurs twice");
      }
    }
    return new ExternalIds(null, keys);
  }

  /** Returns whether the ids are string keys (else int64 ids). */
  public boolean isStrings() {
    return strings != null;
  }

  /** Returns the number of ids, the side's number of positions. */
  public int size() {
    return strings != null ? strings.length : longs.length;
  }

  /**
   * Returns the int64 id of position {@code p}.
   *
   * @throws IllegalStateException if the ids are string keys
   */
  public long longAt(int p) {
    if (longs == null) {
      throw new IllegalStateException("these ids are string keys");
    }
    return longs[p];
  }

  /**
   * Returns the string key of position {@code p}.
   *
   * @throws IllegalStateException if the ids are int64
   */
  public String stringAt(int p) {
    if (strings == null) {
      throw new IllegalStateException("these ids are int64 ids");
    }
    return strings[p];
  }
}
