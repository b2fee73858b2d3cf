package io.mfserve.server.model.ids;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class IdIndexTest {
  private static IdIndex build(long... ids) {
    IdIndex.LongBuilder b = IdIndex.longBuilder();
    for (long id : ids) {
      b.intern(id);
    }
    return b.build();
  }

  @Test
  void build_contiguousIdsInAnyOrder_chooseTheCompactRange() {
    Random rnd = new Random(3);
    int n = 10_000;
    long[] ids = new long[n];
    for (int i = 0; i < n; i++) {
      ids[i] = 1 + i;
    }
    for (int i = n - 1; i > 0; i--) {
      int j = rnd.nextInt(i + 1);
      long t = ids[i];
      ids[i] = ids[j];
      ids[j] = t;
    }
    IdIndex index = build(ids);
    assertInstanceOf(IdIndex.Range.class, index);
    assertEquals(8L * n, index.memoryBytes(), "4 bytes by offset and 4 by position per id");
    for (int p = 0; p < n; p++) {
      assertEquals(ids[p], index.idAt(p));
      assertEquals(p, index.indexOf(ids[p]));
    }
    assertEquals(-1, index.indexOf(0));
    assertEquals(-1, index.indexOf(n + 1));
    assertEquals(-1, index.indexOf(Long.MIN_VALUE));
    assertEquals(-1, index.indexOf(Long.MAX_VALUE));
    assertEquals(IdForm.INT64, index.form());
  }

  /** Checks that {@code sorted} numbers {@code firstSeen}'s distinct ids in ascending order. */
  private static void assertSortedFrom(long[] firstSeen, IdIndex.Sorted sorted) {
    long[] ascending = firstSeen.clone();
    java.util.Arrays.sort(ascending);
    IdIndex index = sorted.index();
    assertEquals(firstSeen.length, index.size());
    for (int p = 0; p < ascending.length; p++) {
      assertEquals(ascending[p], index.idAt(p));
      assertEquals(p, index.indexOf(ascending[p]));
    }
    int[] positions = new int[firstSeen.length];
    for (int p = 0; p < positions.length; p++) {
      positions[p] = p;
    }
    sorted.renumber(positions);
    for (int p = 0; p < positions.length; p++) {
      assertEquals(firstSeen[p], index.idAt(positions[p]), "first-seen position " + p);
    }
  }

  @Test
  void buildSorted_idsOfEveryShape_ascendingPositionsAndTheirMoves() {
    Random rnd = new Random(9);
    long[] contiguous = new long[5000];
    long[] scattered = new long[5000];
    for (int i = 0; i < contiguous.length; i++) {
      contiguous[i] = 1 + i;
      scattered[i] = rnd.nextLong();
    }
    for (int i = contiguous.length - 1; i > 0; i--) {
      int j = rnd.nextInt(i + 1);
      long t = contiguous[i];
      contiguous[i] = contiguous[j];
      contiguous[j] = t;
    }
    // Small ids first (the direct table), then one that moves them to the hash table.
    long[] moving = {5, 3, 900, Long.MIN_VALUE, 4, -1, 3_000_000};
    for (long[] ids : new long[][] {contiguous, scattered, moving}) {
      IdIndex.LongBuilder b = IdIndex.longBuilder();
      for (long id : ids) {
        b.intern(id);
      }
      assertSortedFrom(ids, b.buildSorted());
    }
    assertInstanceOf(IdIndex.Range.class, build(contiguous));
  }

  @Test
  void buildSorted_idsAlreadyAscending_nothingMoves() {
    IdIndex.LongBuilder b = IdIndex.longBuilder();
    for (long id : new long[] {-3, 1, 2, 10, 1L << 40}) {
      b.intern(id);
    }
    IdIndex.Sorted sorted = b.buildSorted();
    assertEquals(null, sorted.moved());
    assertEquals(1L << 40, sorted.index().idAt(4));
  }

  @Test
  void buildSorted_stringKeys_ascendingByCompareTo() {
    IdIndex.StringBuilder b = IdIndex.stringBuilder();
    String[] keys = {"user-9", "user-10", "Zed", "alpha", "", "user-9"};
    for (String k : keys) {
      b.intern(k);
    }
    IdIndex.Sorted sorted = b.buildSorted();
    IdIndex index = sorted.index();
    assertEquals(5, index.size());
    String[] want = {"", "Zed", "alpha", "user-10", "user-9"};
    for (int p = 0; p < want.length; p++) {
      assertEquals(want[p], index.keyAt(p));
      assertEquals(p, index.indexOf(want[p]));
    }
    int[] positions = {0, 1, 2, 3, 4};
    sorted.renumber(positions);
    assertEquals("user-9", index.keyAt(positions[0]));
    assertEquals("user-10", index.keyAt(positions[1]));
    assertEquals("alpha", index.keyAt(positions[3]));
  }

  @Test
  void build_rangeWithGaps_isStillCompactWhenSmaller() {
    // Every third id of a range, offset far from zero and negative.
    long[] ids = new long[3000];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = -5_000_000_000L + 3L * i;
    }
    IdIndex index = build(ids);
    assertInstanceOf(IdIndex.Range.class, index);
    assertEquals(-1, index.indexOf(-5_000_000_000L + 1));
    assertEquals(2999, index.indexOf(-5_000_000_000L + 3 * 2999L));
  }

  @Test
  void build_scatteredIds_keepTheHashTable() {
    Random rnd = new Random(4);
    long[] ids = new long[1000];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = rnd.nextLong();
    }
    IdIndex index = build(ids);
    assertInstanceOf(IdIndex.Longs.class, index);
    for (int p = 0; p < ids.length; p++) {
      assertEquals(p, index.indexOf(ids[p]));
    }
    IdIndex extremes = build(Long.MIN_VALUE, Long.MAX_VALUE, 0);
    assertEquals(1, extremes.indexOf(Long.MAX_VALUE));
    assertEquals(0, extremes.indexOf(Long.MIN_VALUE));
    assertTrue(extremes.memoryBytes() > 0);
  }

  @Test
  void intern_smallIdsThenOneOutside_keepEveryPositionAcrossTheMoveToTheHashTable() {
    // Small non-negative ids fill the direct table; a negative id, then one past its largest
    // span, each move the builder to the hash table. Positions must not change at any point.
    Random rnd = new Random(5);
    for (long outsider : new long[] {-7, IdIndex.LongBuilder.DIRECT_MAX_SPAN, Long.MIN_VALUE,
        3_000_000}) {
      IdIndex.LongBuilder b = IdIndex.longBuilder();
      java.util.Map<Long, Integer> expected = new java.util.HashMap<>();
      java.util.List<Long> order = new java.util.ArrayList<>();
      for (int n = 0; n < 5000; n++) {
        long id = n == 2500 ? outsider : rnd.nextInt(900_000);
        int p = b.intern(id);
        Integer known = expected.putIfAbsent(id, expected.size());
        if (known == null) {
          order.add(id);
        }
        assertEquals(expected.get(id), p, "id " + id + " at step " + n);
        assertEquals(expected.size(), b.size());
      }
      IdIndex index = b.build();
      assertInstanceOf(IdIndex.Longs.class, index, "ids spread over 900,000 and " + outsider);
      for (int p = 0; p < order.size(); p++) {
        assertEquals(order.get(p), index.idAt(p));
        assertEquals(p, index.indexOf(order.get(p)));
      }
      assertEquals(-1, index.indexOf(900_001));
    }
  }

  @Test
  void intern_largeIdsEarlyAmongManySmallOnes_growTheDirectTableAndBuildTheRange() {
    // 200,000 ids 1..n in random order: the table grows to n as they come; the build is the
    // compact Range, and every id keeps its first-seen position.
    int n = 200_000;
    long[] ids = new long[n];
    for (int i = 0; i < n; i++) {
      ids[i] = n - i;
    }
    Random rnd = new Random(6);
    for (int i = n - 1; i > 0; i--) {
      int j = rnd.nextInt(i + 1);
      long t = ids[i];
      ids[i] = ids[j];
      ids[j] = t;
    }
    IdIndex.LongBuilder b = IdIndex.longBuilder();
    for (int i = 0; i < n; i++) {
      assertEquals(i, b.intern(ids[i]));
      assertEquals(i, b.intern(ids[i]), "a second intern finds it");
    }
    assertTrue(b.memoryBytes() >= (long) n * Integer.BYTES, "the table is in the estimate");
    IdIndex index = b.build();
    assertInstanceOf(IdIndex.Range.class, index);
    for (int p = 0; p < n; p++) {
      assertEquals(p, index.indexOf(ids[p]));
    }
  }

  @Test
  void longIntHashMap_againstHashMap_randomIds() {
    LongIntHashMap m = new LongIntHashMap(4);
    java.util.HashMap<Long, Integer> ref = new java.util.HashMap<>();
    Random rnd = new Random(1);
    for (int n = 0; n < 20000; n++) {
      long k = n % 5 == 0 ? Long.MIN_VALUE + rnd.nextInt(3) : rnd.nextLong() % 5000;
      m.put(k, n);
      ref.put(k, n);
    }
    for (var e : ref.entrySet()) {
      assertEquals((int) e.getValue(), m.get(e.getKey()));
    }
    assertEquals(-1, m.get(123456789L));
  }
}
