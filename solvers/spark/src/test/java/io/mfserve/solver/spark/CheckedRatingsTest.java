package io.mfserve.solver.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.ml.recommendation.ALS;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.junit.jupiter.api.Test;

/** ALS's input made and summed up in one pass, without starting Spark. */
class CheckedRatingsTest {
  private static List<ALS.Rating<Object>> drain(Iterator<ALS.Rating<Object>> it) {
    List<ALS.Rating<Object>> out = new ArrayList<>();
    while (it.hasNext()) {
      out.add(it.next());
    }
    return out;
  }

  @Test
  void partition_ratingsAsRead_andItsSummaryPublishedOnceAtTheEnd() {
    CheckedRatings.Summaries summaries = new CheckedRatings.Summaries();
    List<Row> rows = List.of(RowFactory.create(7L, 3L, 4.5f), RowFactory.create(0L, 2147483647L,
        1.0f), RowFactory.create(7, 1, 2.0));
    Iterator<ALS.Rating<Object>> it = new CheckedRatings(summaries, true).call(5,
        rows.iterator());
    assertTrue(summaries.isZero(), "nothing before the partition is read to its end");
    List<ALS.Rating<Object>> got = drain(it);
    assertFalse(it.hasNext());
    assertEquals(3, got.size());
    assertEquals(7, got.get(0).user());
    assertEquals(3, got.get(0).item());
    assertEquals(4.5f, got.get(0).rating());
    assertEquals(Integer.MAX_VALUE, got.get(1).item());
    List<long[]> published = summaries.value();
    assertEquals(1, published.size());
    long[] s = published.get(0);
    assertEquals(5, s[0]);
    assertEquals(3, s[1]);
    assertEquals(7.5, Double.longBitsToDouble(s[2]));
    assertArrayEquals(new long[] {7L << 32 | 3, Integer.MAX_VALUE, 7L << 32 | 1},
        java.util.Arrays.copyOfRange(s, CheckedRatings.HEADER, s.length));
  }

  @Test
  void withoutPairs_theSummaryIsItsHeaderOnly() {
    CheckedRatings.Summaries summaries = new CheckedRatings.Summaries();
    drain(new CheckedRatings(summaries, false).call(0, List.of(RowFactory.create(1L, 1L, 3f),
        RowFactory.create(2L, 1L, 5f)).iterator()));
    long[] s = summaries.value().get(0);
    assertEquals(CheckedRatings.HEADER, s.length);
    assertEquals(2, s[1]);
    assertEquals(8.0, Double.longBitsToDouble(s[2]));
  }

  @Test
  void missingValueOrIdOutsideAlsRange_stopsWithTheMarkedCheck() {
    Object[][] bad = {{null, 1L, 1f}, {1L, null, 1f}, {1L, 1L, null}, {-1L, 1L, 1f},
        {1L, 1L + Integer.MAX_VALUE, 1f}};
    String[] marks = {SparkAlsProvider.USER_COL, SparkAlsProvider.ITEM_COL,
        SparkAlsProvider.RATING_COL, CheckedRatings.OUT_OF_RANGE, CheckedRatings.OUT_OF_RANGE};
    for (int b = 0; b < bad.length; b++) {
      CheckedRatings.Summaries summaries = new CheckedRatings.Summaries();
      Iterator<ALS.Rating<Object>> it = new CheckedRatings(summaries, true).call(0,
          List.of(RowFactory.create(2L, 2L, 2f), RowFactory.create(bad[b])).iterator());
      it.next();
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, it::next);
      assertEquals(CheckedRatings.CHECK + marks[b], e.getMessage());
      assertTrue(summaries.isZero(), "a failed partition publishes nothing");
    }
  }

  @Test
  void summaries_retriedPartitionKeptOnce_missingPartitionIsAnError() {
    CheckedRatings.Summaries summaries = new CheckedRatings.Summaries();
    summaries.add(new long[] {1, 2, 0, 9});
    summaries.add(new long[] {0, 1, 0});
    summaries.add(new long[] {1, 2, 0, 9});
    long[][] parts = summaries.byPartition(2);
    assertEquals(0, parts[0][0]);
    assertEquals(9, parts[1][3]);
    assertThrows(IllegalStateException.class, () -> summaries.byPartition(3));
  }

  @Test
  void summaries_onTheDriver_eachIsClaimedFirst_andOneOverTheBudgetIsDropped() {
    CheckedRatings.Summaries driver = new CheckedRatings.Summaries();
    long[] claimed = {0};
    RuntimeException full = new RuntimeException("budget");
    driver.onDriver(bytes -> {
      if (claimed[0] + bytes > 100) {
        throw full;
      }
      claimed[0] += bytes;
    });
    // What an executor's copy sends back: it claims nothing itself.
    CheckedRatings.Summaries executor = driver.copy();
    executor.add(new long[] {0, 1, 0, 5, 6, 7, 8, 9}); // 64 bytes
    executor.add(new long[] {1, 1, 0, 5, 6, 7, 8, 9}); // 64 more: over 100
    assertNull(executor.failure());
    driver.merge(executor);
    assertEquals(64, claimed[0]);
    assertSame(full, driver.failure());
    assertEquals(1, driver.value().size());
  }
}
