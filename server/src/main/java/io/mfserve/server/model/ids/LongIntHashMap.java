package io.mfserve.server.model.ids;

import java.util.Arrays;

/**
 * A primitive long → int open-addressing hash map (linear probing), so that indexing millions
 * of int64 ids costs 12 bytes each instead of a boxed HashMap's ~80. Values are non-negative;
 * {@link #get} returns -1 for a missing key. Not thread-safe while written; safe for concurrent
 * reads once no longer written.
 */
final class LongIntHashMap {
  private static final long EMPTY = Long.MIN_VALUE;

  private long[] keys;
  private int[] values;
  private int size;
  private boolean hasEmptyKey;
  private int emptyKeyValue;

  LongIntHashMap(int expected) {
    int cap = capacityFor(expected);
    keys = new long[cap];
    Arrays.fill(keys, EMPTY);
    values = new int[cap];
  }

  /** The table length a map made for {@code expected} keys starts with. */
  static int capacityFor(int expected) {
    return Integer.highestOneBit(Math.max(4, expected * 2 - 1)) << 1;
  }

  int get(long key) {
    if (key == EMPTY) {
      return hasEmptyKey ? emptyKeyValue : -1;
    }
    int mask = keys.length - 1;
    for (int i = mix(key) & mask; ; i = (i + 1) & mask) {
      long k = keys[i];
      if (k == key) {
        return values[i];
      }
      if (k == EMPTY) {
        return -1;
      }
    }
  }

  void put(long key, int value) {
    if (key == EMPTY) {
      hasEmptyKey = true;
      emptyKeyValue = value;
      return;
    }
    if ((size + 1) * 2 > keys.length) {
      grow();
    }
    insert(key, value);
  }

  private void insert(long key, int value) {
    int mask = keys.length - 1;
    for (int i = mix(key) & mask; ; i = (i + 1) & mask) {
      if (keys[i] == EMPTY) {
        keys[i] = key;
        values[i] = value;
        size++;
        return;
      }
      if (keys[i] == key) {
        values[i] = value;
        return;
      }
    }
  }

  private void grow() {
    long[] oldKeys = keys;
    int[] oldValues = values;
    keys = new long[oldKeys.length * 2];
    Arrays.fill(keys, EMPTY);
    values = new int[oldValues.length * 2];
    size = 0;
    for (int i = 0; i < oldKeys.length; i++) {
      if (oldKeys[i] != EMPTY) {
        insert(oldKeys[i], oldValues[i]);
      }
    }
  }

  long memoryBytes() {
    return keys.length * 12L;
  }

  private static int mix(long key) {
    long h = key * 0x9E3779B97F4A7C15L;
    return (int) (h ^ (h >>> 32));
  }
}
