package io.mfserve.client.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Error and ranking metrics on tiny cases computed by hand. */
class MetricsTest {
  private static final double EPS = 1e-12;
  /** 1 / log2(3), the discount of rank 2. */
  private static final double D2 = Math.log(2) / Math.log(3);

  @Test
  void errorMetrics_threePairs_matchHandComputedRmseAndMae() {
    // Errors -1, 0, +2: squares 1, 0, 4; absolutes 1, 0, 2.
    ErrorMetrics m = new ErrorMetrics().add(3, 4).add(2, 2).add(5, 3);

    assertEquals(3, m.count());
    assertEquals(Math.sqrt(5.0 / 3), m.rmse(), EPS);
    assertEquals(1.0, m.mae(), EPS);
  }

  @Test
  void errorMetrics_empty_areNaN() {
    ErrorMetrics m = new ErrorMetrics();

    assertTrue(Double.isNaN(m.rmse()));
    assertTrue(Double.isNaN(m.mae()));
  }

  @Test
  void ranking_fewerRelevantThanK_dividesByRelevantCount() {
    // k = 3, relevant {1, 3}: hits at ranks 1 and 3.
    RankingMetrics m = new RankingMetrics(3).add(new int[] {1, 2, 3}, new int[] {1, 3});

    assertEquals(1.0, m.precision(), EPS); // 2 hits / min(3, 2)
    assertEquals(1.0, m.recall(), EPS); // 2 / 2
    assertEquals((1.0 / 1 + 2.0 / 3) / 2, m.map(), EPS);
    assertEquals((1 + 0.5) / (1 + D2), m.ndcg(), EPS); // DCG ranks 1, 3; IDCG ranks 1, 2
  }

  @Test
  void ranking_noHits_allZero() {
    RankingMetrics m = new RankingMetrics(3).add(new int[] {4, 5, 6}, new int[] {7});

    assertEquals(1, m.users());
    assertEquals(0.0, m.precision(), EPS);
    assertEquals(0.0, m.recall(), EPS);
    assertEquals(0.0, m.map(), EPS);
    assertEquals(0.0, m.ndcg(), EPS);
  }

  @Test
  void ranking_moreRelevantThanKAndShortList_countsMissingRanksAsMisses() {
    // k = 3, four relevant items, one recommendation (a hit at rank 1).
    RankingMetrics m = new RankingMetrics(3).add(new int[] {5}, new int[] {5, 8, 9, 10});

    assertEquals(1.0 / 3, m.precision(), EPS); // 1 / min(3, 4)
    assertEquals(1.0 / 4, m.recall(), EPS);
    assertEquals(1.0 / 3, m.map(), EPS); // (1/1) / min(3, 4)
    assertEquals(1 / (1 + D2 + 0.5), m.ndcg(), EPS);
  }

  @Test
  void ranking_onlyFirstKCount() {
    // The hit at rank 3 is beyond k = 2.
    RankingMetrics m = new RankingMetrics(2).add(new int[] {1, 2, 3}, new int[] {3});

    assertEquals(0.0, m.precision(), EPS);
    assertEquals(0.0, m.ndcg(), EPS);
  }

  @Test
  void ranking_threeUsers_precisionPooledOthersAveraged() {
    RankingMetrics m = new RankingMetrics(3)
        .add(new int[] {1, 2, 3}, new int[] {1, 3})
        .add(new int[] {4, 5, 6}, new int[] {7})
        .add(new int[] {5}, new int[] {5, 8, 9, 10});

    assertEquals(3, m.users());
    assertEquals((2.0 + 0 + 1) / (2 + 1 + 3), m.precision(), EPS);
    assertEquals((1.0 + 0 + 0.25) / 3, m.recall(), EPS);
    assertEquals((5.0 / 6 + 0 + 1.0 / 3) / 3, m.map(), EPS);
    assertEquals((1.5 / (1 + D2) + 0 + 1 / (1 + D2 + 0.5)) / 3, m.ndcg(), EPS);
  }

  @Test
  void ranking_userWithoutRelevantItems_isNotCounted() {
    RankingMetrics m = new RankingMetrics(10).add(new int[] {1, 2}, new int[0]);

    assertEquals(0, m.users());
    assertTrue(Double.isNaN(m.ndcg()));
  }

  @Test
  void ranking_unknownItemsAsMinusOne_neverHit() {
    RankingMetrics m = new RankingMetrics(2).add(new int[] {-1, 0}, new int[] {0});

    assertEquals(D2, m.ndcg(), EPS); // hit at rank 2 only
  }

  @Test
  void ranking_kBelowOne_isRejected() {
    assertThrows(IllegalArgumentException.class, () -> new RankingMetrics(0));
  }
}
