package io.mfserve.server.model.ids;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * Maps one side's external ids (int64 ids or string keys) to dense positions 0..n-1 and back.
 * Builders number ids in first-seen order ({@code build}) or in ascending order ({@code
 * buildSorted}, what a matrix uses, so that a model does not depend on the order its entries
 * came in). Built once, then immutable and safe for concurrent reads.
 */
public abstract sealed class IdIndex permits IdIndex.Int64, IdIndex.Strings {

  /** Returns the number of distinct ids. */
  public abstract int size();

  /** Returns how ids are written. */
  public abstract IdForm form();

  /** Returns the position of int64 id {@code id}, or -1 if unknown (or the form is STRING). */
  public abstract int indexOf(long id);

  /** Returns the position of {@code key}, or -1 if unknown (or the form is INT64). */
  public abstract int indexOf(String key);

  /** Returns the int64 id at {@code position} (form INT64). */
  public abstract long idAt(int position);

  /** Returns the key at {@code position} (form STRING). */
  public abstract String keyAt(int position);

  /** Returns the bytes this index holds. */
  public abstract long memoryBytes();

  /** Returns whether this is the identity index of a dense side (id n is position n). */
  public boolean isPositions() {
    return this instanceof Positions;
  }

  /** Returns the id at {@code position} as text, whatever the form, for messages. */
  public String describe(int position) {
    return form() == IdForm.INT64 ? Long.toString(idAt(position)) : "'" + keyAt(position) + "'";
  }

  /**
   * An index whose positions follow ascending id (or key) order, and where each first-seen
   * position went.
   *
   * @param index the index
   * @param moved the new position of each first-seen position, or null when the ids came in
   *     ascending order already (nothing moved)
   */
  public record Sorted(IdIndex index, int[] moved) {
    /** Rewrites first-seen positions in {@code positions} to the index's own. */
    public void renumber(int[] positions) {
      if (moved == null) {
        return;
      }
      for (int n = 0; n < positions.length; n++) {
        positions[n] = moved[positions[n]];
      }
    }
  }

  /** The identity index of a dense side: id n is position n. */
  public static IdIndex positions(int n) {
    return new Positions(n);
  }

  /** A builder interning int64 ids. */
  public static LongBuilder longBuilder() {
    return new LongBuilder();
  }

  /** A builder interning string keys. */
  public static StringBuilder stringBuilder() {
    return new StringBuilder();
  }

  /** The int64 forms: what they share, never keys. */
  abstract static sealed class Int64 extends IdIndex permits Positions, Longs, Range {
    @Override
    public final IdForm form() {
      return IdForm.INT64;
    }

    @Override
    public final int indexOf(String key) {
      return -1;
    }

    @Override
    public final String keyAt(int position) {
      throw new IllegalStateException("this side has int64 ids");
    }
  }

  /** Ids 0..n-1 mapping to themselves. */
  static final class Positions extends Int64 {
    private final int n;

    Positions(int n) {
      this.n = n;
    }

    @Override
    public int size() {
      return n;
    }

    @Override
    public int indexOf(long id) {
      return id >= 0 && id < n ? (int) id : -1;
    }

    @Override
    public long idAt(int position) {
      return position;
    }

    @Override
    public long memoryBytes() {
      return 0;
    }
  }

  /** Arbitrary int64 ids, in a primitive open-addressing hash table. */
  static final class Longs extends Int64 {
    private final long[] ids;
    private final LongIntHashMap positions;

    Longs(long[] ids, LongIntHashMap positions) {
      this.ids = ids;
      this.positions = positions;
    }

    @Override
    public int size() {
      return ids.length;
    }

    @Override
    public int indexOf(long id) {
      return positions.get(id);
    }

    @Override
    public long idAt(int position) {
      return ids[position];
    }

    @Override
    public long memoryBytes() {
      return ids.length * 8L + positions.memoryBytes();
    }
  }

  /**
   * int64 ids that fill most of a range [min, min + span): positions by offset from min in one
   * int array (-1 for a gap), and each position's offset in another. 4 bytes per id plus 4 per
   * gap, against 8 plus the hash table's 24 to 48 of {@link Longs}: at 64 factors (256 bytes per
   * row) that is the difference between ids costing 3 % and 20 % of a model.
   */
  static final class Range extends Int64 {
    private final long min;
    private final int[] positionByOffset;
    private final int[] offsetByPosition;

    Range(long min, int[] positionByOffset, int[] offsetByPosition) {
      this.min = min;
      this.positionByOffset = positionByOffset;
      this.offsetByPosition = offsetByPosition;
    }

    @Override
    public int size() {
      return offsetByPosition.length;
    }

    @Override
    public int indexOf(long id) {
      // Written so that no subtraction can overflow for ids far outside the range.
      if (id < min || id - min >= positionByOffset.length) {
        return -1;
      }
      return positionByOffset[(int) (id - min)];
    }

    @Override
    public long idAt(int position) {
      return min + offsetByPosition[position];
    }

    @Override
    public long memoryBytes() {
      return (positionByOffset.length + (long) offsetByPosition.length) * Integer.BYTES;
    }
  }

  /** String keys. */
  static final class Strings extends IdIndex {
    private final String[] keys;
    private final Map<String, Integer> positions;
    private final long bytes;

    Strings(String[] keys, Map<String, Integer> positions, long bytes) {
      this.keys = keys;
      this.positions = positions;
      this.bytes = bytes;
    }

    @Override
    public int size() {
      return keys.length;
    }

    @Override
    public IdForm form() {
      return IdForm.STRING;
    }

    @Override
    public int indexOf(long id) {
      return -1;
    }

    @Override
    public int indexOf(String key) {
      Integer p = positions.get(key);
      return p == null ? -1 : p;
    }

    @Override
    public long idAt(int position) {
      throw new IllegalStateException("this side has string keys");
    }

    @Override
    public String keyAt(int position) {
      return keys[position];
    }

    @Override
    public long memoryBytes() {
      return bytes;
    }
  }

  /**
   * Interns int64 ids in first-seen order. Not thread-safe.
   *
   * <p>While every id seen is small and non-negative (below {@link #DIRECT_MIN_SPAN}, or 16
   * times the ids seen so far, up to {@link #DIRECT_MAX_SPAN}), positions live in a table
   * indexed by the id itself: one load per entry, where the hash table costs a hash and a
   * probe into an array that outgrows the caches (interning took 40 % of the server's CPU
   * during an upload of synth-10M's 9M entries: 200,000 users and 20,000 items, ids 1..n as
   * most databases number them). The first id outside that moves every id into the hash
   * table, which serves from then on.
   */
  public static final class LongBuilder {
    /** Ids below this always fit the direct table (4 MB of positions at most). */
    static final int DIRECT_MIN_SPAN = 1 << 20;
    /** No id at or above this goes into the direct table, however many ids there are. */
    static final int DIRECT_MAX_SPAN = 1 << 26;
    private long[] ids = new long[16];
    private int size;
    /** position + 1 by id (0: not seen), or null once the ids moved to {@link #positions}. */
    private int[] direct = new int[1024];
    private LongIntHashMap positions;

    private LongBuilder() { }

    /** Returns the position of {@code id}, adding it if new. */
    public int intern(long id) {
      int[] table = direct;
      if (table != null && id >= 0 && id < table.length) {
        int p = table[(int) id] - 1;
        if (p >= 0) {
          return p;
        }
        table[(int) id] = size + 1;
        return append(id);
      }
      return internSlow(id);
    }

    private int internSlow(long id) {
      if (direct != null) {
        long span = Math.min(DIRECT_MAX_SPAN, Math.max(DIRECT_MIN_SPAN, 16L * (size + 1)));
        if (id >= 0 && id < span) {
          int length = direct.length;
          while (length <= id) {
            length *= 2;
          }
          direct = Arrays.copyOf(direct, (int) Math.min(length, span));
          direct[(int) id] = size + 1;
          return append(id);
        }
        positions = hashTable(ids, size);
        direct = null;
      }
      int p = positions.get(id);
      if (p >= 0) {
        return p;
      }
      positions.put(id, size);
      return append(id);
    }

    /** A hash table of ids[0..n) to their positions. */
    private static LongIntHashMap hashTable(long[] ids, int n) {
      LongIntHashMap table = new LongIntHashMap(Math.max(16, n));
      for (int p = 0; p < n; p++) {
        table.put(ids[p], p);
      }
      return table;
    }

    private int append(long id) {
      if (size == ids.length) {
        ids = Arrays.copyOf(ids, size * 2);
      }
      ids[size] = id;
      return size++;
    }

    /** Returns the number of distinct ids so far. */
    public int size() {
      return size;
    }

    /** Returns an estimate of the bytes held, for budget accounting while building. */
    public long memoryBytes() {
      return ids.length * 8L + (direct != null ? direct.length * (long) Integer.BYTES
          : positions.memoryBytes());
    }

    /**
     * Returns the finished index: a compact {@link Range} when the ids fill enough of the range
     * they span that it takes less memory than the hash table (ids 1..n, or nearly so, as user
     * and item ids of most databases are), else the hash table.
     */
    public IdIndex build() {
      return build(Arrays.copyOf(ids, size), positions);
    }

    /**
     * Returns the finished index with positions in ascending id order, and where each
     * first-seen position went (a sort of the distinct ids; nothing moves when they came in
     * ascending order).
     */
    public Sorted buildSorted() {
      long[] exact = Arrays.copyOf(ids, size);
      boolean ascending = true;
      for (int p = 1; p < size && ascending; p++) {
        ascending = exact[p - 1] < exact[p];
      }
      if (ascending) {
        return new Sorted(build(exact, positions), null);
      }
      long[] sorted = exact.clone();
      Arrays.sort(sorted);
      IdIndex index = build(sorted, null);
      int[] moved = new int[size];
      for (int p = 0; p < size; p++) {
        moved[p] = index.indexOf(exact[p]);
      }
      return new Sorted(index, moved);
    }

    /**
     * The index of {@code exact} (the distinct ids, position p holding exact[p]);
     * {@code table}, when not null, already maps them to those positions.
     */
    private IdIndex build(long[] exact, LongIntHashMap table) {
      if (size > 0) {
        long min = Long.MAX_VALUE;
        long max = Long.MIN_VALUE;
        for (long id : exact) {
          min = Math.min(min, id);
          max = Math.max(max, id);
        }
        // max - min can overflow a long only for ids far apart, which a Range cannot hold.
        boolean fits = max - min >= 0 && max - min < Integer.MAX_VALUE - 8;
        if (fits && (max - min + 1 + size) * Integer.BYTES < hashBytesOf(exact, table)) {
          int[] byOffset = new int[(int) (max - min + 1)];
          Arrays.fill(byOffset, -1);
          int[] offsets = new int[size];
          for (int p = 0; p < size; p++) {
            int offset = (int) (exact[p] - min);
            byOffset[offset] = p;
            offsets[p] = offset;
          }
          return new Range(min, byOffset, offsets);
        }
      }
      return new Longs(exact, table != null ? table : hashTable(exact, size));
    }

    /** The bytes of {@link Longs} for these ids (its hash table as the builder's would be). */
    private long hashBytesOf(long[] exact, LongIntHashMap table) {
      if (table != null) {
        return exact.length * 8L + table.memoryBytes();
      }
      return exact.length * 8L + LongIntHashMap.capacityFor(exact.length) * 12L;
    }
  }

  /** Interns string keys in first-seen order. Not thread-safe. */
  public static final class StringBuilder {
    private final java.util.ArrayList<String> keys = new java.util.ArrayList<>();
    private final Map<String, Integer> positions = new HashMap<>();
    private long bytes;

    private StringBuilder() { }

    /** Returns the position of {@code key}, adding it if new. */
    public int intern(String key) {
      Integer p = positions.get(key);
      if (p != null) {
        return p;
      }
      int n = keys.size();
      keys.add(key);
      positions.put(key, n);
      // String object + array, HashMap node, boxed Integer, list slot.
      bytes += 40 + 2L * key.length() + 48 + 16 + 8;
      return n;
    }

    /** Returns the number of distinct keys so far. */
    public int size() {
      return keys.size();
    }

    /** Returns an estimate of the bytes held, for budget accounting while building. */
    public long memoryBytes() {
      return bytes;
    }

    /** Returns the finished index. */
    public IdIndex build() {
      return new Strings(keys.toArray(new String[0]), positions, bytes);
    }

    /**
     * Returns the finished index with positions in ascending key order ({@link String#compareTo}),
     * and where each first-seen position went.
     */
    public Sorted buildSorted() {
      String[] exact = keys.toArray(new String[0]);
      boolean ascending = true;
      for (int p = 1; p < exact.length && ascending; p++) {
        ascending = exact[p - 1].compareTo(exact[p]) < 0;
      }
      if (ascending) {
        return new Sorted(build(), null);
      }
      String[] sorted = exact.clone();
      Arrays.sort(sorted);
      Map<String, Integer> sortedPositions = new HashMap<>(2 * sorted.length);
      for (int p = 0; p < sorted.length; p++) {
        sortedPositions.put(sorted[p], p);
      }
      int[] moved = new int[exact.length];
      for (int p = 0; p < exact.length; p++) {
        moved[p] = sortedPositions.get(exact[p]);
      }
      return new Sorted(new Strings(sorted, sortedPositions, bytes), moved);
    }
  }
}
