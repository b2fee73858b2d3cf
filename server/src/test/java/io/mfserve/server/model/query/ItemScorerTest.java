package io.mfserve.server.model.query;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import io.mfserve.server.model.store.ScanIndex;
import io.mfserve.solver.FactorModel;
import java.util.List;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * The item scan's pruning and block order against scoring every item, on models of several
 * column blocks: keys, floors and block bounds must never drop a row that belongs in the top k.
 */
class ItemScorerTest {
  private static final int USERS = 6;
  private static final int ITEMS = 5 * FactorModel.ITEM_BLOCK + 321;

  /**
   * Random factors; item biases that grow with the position (the best items sit in the last
   * blocks, the order a plain scan meets them worst); some zero item vectors. With
   * {@code tied}, factors from {-1, 0, 1} and biases from {0, 1}: ties across blocks everywhere.
   */
  private static FactorModel model(long seed, int k, boolean tied, boolean biased) {
    Random rnd = new Random(seed);
    float[] u = new float[USERS * k];
    float[] v = new float[ITEMS * k];
    for (int n = 0; n < u.length; n++) {
      u[n] = tied ? rnd.nextInt(3) - 1 : (float) rnd.nextGaussian();
    }
    for (int i = 0; i < ITEMS; i++) {
      boolean zero = i % 97 == 5;
      for (int f = 0; f < k; f++) {
        v[i * k + f] = zero ? 0 : tied ? rnd.nextInt(3) - 1 : (float) rnd.nextGaussian();
      }
    }
    FactorModel.Biases b = null;
    if (biased) {
      float[] bu = new float[USERS];
      float[] bi = new float[ITEMS];
      for (int i = 0; i < ITEMS; i++) {
        bi[i] = tied ? rnd.nextInt(2) : (float) (3.0 * i / ITEMS + 0.1 * rnd.nextGaussian());
      }
      b = new FactorModel.Biases(3.5, bu, bi);
    }
    return new FactorModel(USERS, ITEMS, k, u, v, b, List.of());
  }

  /** The top k by exact score (the scanner's own formula), ties to the lower position. */
  private static int[] everyItem(ItemScorer.Query q, int[] excluded, int k) {
    float[] one = new float[1];
    int n = q.rows();
    float[] scores = new float[n];
    for (int i = 0; i < n; i++) {
      q.dotOne(i, one);
      scores[i] = q.score(i, one[0]);
    }
    java.util.Set<Integer> skip = new java.util.HashSet<>();
    for (int e : excluded) {
      skip.add(e);
    }
    return IntStream.range(0, n).filter(i -> !skip.contains(i)).boxed()
        .sorted((a, b) -> scores[a] != scores[b] ? Float.compare(scores[b], scores[a])
            : Integer.compare(a, b))
        .limit(k).mapToInt(Integer::intValue).toArray();
  }

  private static int[] scanned(ItemScorer.Query q, int[] excluded, int k) {
    ItemScorer.Scratch scratch = ItemScorer.Scratch.get();
    TopK top = scratch.heap(k);
    ItemScorer.scan(q, excluded, top, scratch);
    int[] positions = new int[top.size()];
    top.drainBestFirst(positions, new float[positions.length]);
    return positions;
  }

  private static int[] excluded(Random rnd) {
    // Sorted, distinct, in every block, including the very best items.
    return IntStream.range(0, ITEMS).filter(i -> i >= ITEMS - 3 || rnd.nextInt(40) == 0)
        .toArray();
  }

  @Test
  void scan_predictionsOverSeveralBlocks_equalScoringEveryItem() {
    Random rnd = new Random(3);
    for (int seed = 0; seed < 6; seed++) {
      boolean tied = seed % 2 == 1;
      FactorModel f = model(seed, 8, tied, seed % 3 != 2);
      ScanIndex index = ScanIndex.of(f);
      for (int u = 0; u < USERS; u++) {
        float[] vector = new float[f.numFactors()];
        f.userVector(u, vector);
        ItemScorer.Query q = new ItemScorer.Query(f, false, vector, ItemScorer.Kind.PREDICT,
            f.globalMean() + f.userBias(u), index);
        int[] excluded = u % 2 == 0 ? excluded(rnd) : new int[0];
        for (int k : new int[] {1, 10, 100, 2000}) {
          assertArrayEquals(everyItem(q, excluded, k), scanned(q, excluded, k),
              "seed " + seed + " user " + u + " k " + k);
        }
      }
    }
  }

  @Test
  void scan_cosineAndDotOverSeveralBlocks_equalScoringEveryItem() {
    Random rnd = new Random(5);
    for (int seed = 0; seed < 4; seed++) {
      FactorModel f = model(seed, 16, seed % 2 == 1, false);
      ScanIndex index = ScanIndex.of(f);
      for (int query = 0; query < 4; query++) {
        int self = rnd.nextInt(ITEMS);
        float[] vector = new float[f.numFactors()];
        f.itemVector(self, vector);
        for (ItemScorer.Kind kind : new ItemScorer.Kind[] {ItemScorer.Kind.COSINE,
            ItemScorer.Kind.DOT}) {
          ItemScorer.Query q = new ItemScorer.Query(f, false, vector, kind, 0, index);
          for (int k : new int[] {1, 10, 300}) {
            assertArrayEquals(everyItem(q, new int[] {self}, k),
                scanned(q, new int[] {self}, k),
                "seed " + seed + " item " + self + " " + kind + " k " + k);
          }
        }
      }
    }
  }

  /** Two-factor item vectors, 4 blocks, from a function of the position. */
  private static FactorModel handMade(java.util.function.IntFunction<float[]> item,
      float[] itemBiases) {
    int n = 4 * FactorModel.ITEM_BLOCK;
    float[] v = new float[n * 2];
    for (int i = 0; i < n; i++) {
      float[] x = item.apply(i);
      v[2 * i] = x[0];
      v[2 * i + 1] = x[1];
    }
    FactorModel.Biases b = itemBiases == null ? null
        : new FactorModel.Biases(0, new float[1], itemBiases);
    return new FactorModel(1, n, 2, new float[] {1, 0}, v, b, List.of());
  }

  private static int[] top(FactorModel f, ItemScorer.Kind kind, int k) {
    ItemScorer.Query q = new ItemScorer.Query(f, false, new float[] {1, 0}, kind,
        f.globalMean() + f.userBias(0), ScanIndex.of(f));
    return scanned(q, new int[0], k);
  }

  @Test
  void scan_blocksVisitedOutOfOrder_tiesStillGoToTheLowerPosition() {
    // Blocks 0 and 2 score alike (five items at 1, the rest at 0), but block 2 also holds one
    // long vector pointing away from the query, so its bound is higher and it is visited
    // first: its ties at 1 set the threshold, and block 0's must still displace them.
    int block = FactorModel.ITEM_BLOCK;
    FactorModel f = handMade(i -> {
      int j = i % block;
      int b = i / block;
      if ((b == 0 || b == 2) && j < 5) {
        return new float[] {1, 0};
      }
      if (b == 2 && j == 100) {
        return new float[] {-5, 0};
      }
      return new float[] {0, 0.1f};
    }, null);
    assertArrayEquals(new int[] {0, 1, 2, 3, 4}, top(f, ItemScorer.Kind.DOT, 5));
    assertArrayEquals(new int[] {0, 1, 2, 3, 4}, top(f, ItemScorer.Kind.PREDICT, 5));
  }

  @Test
  void scan_highBiasBlockWithShortVectors_isNotSkipped() {
    // Block 3's vectors are tiny but its biases are 10: its bound comes from the bias, and
    // the blocks of long vectors (scores at most 1) are the ones the scan may stop before.
    int block = FactorModel.ITEM_BLOCK;
    float[] biases = new float[4 * block];
    Random rnd = new Random(1);
    for (int i = 3 * block; i < 4 * block; i++) {
      biases[i] = 10 + rnd.nextInt(4);
    }
    FactorModel f = handMade(i -> i >= 3 * block ? new float[] {0.001f * (i % 7), 0}
        : new float[] {rnd.nextFloat(), rnd.nextFloat()}, biases);
    ItemScorer.Query q = new ItemScorer.Query(f, false, new float[] {1, 0},
        ItemScorer.Kind.PREDICT, 0, ScanIndex.of(f));
    for (int k : new int[] {1, 7, 40}) {
      assertArrayEquals(everyItem(q, new int[0], k), scanned(q, new int[0], k), "k " + k);
    }
  }

  @Test
  void scan_zeroQuery_keepsTheLowestPositions() {
    FactorModel f = model(9, 8, false, false);
    ItemScorer.Query q = new ItemScorer.Query(f, false, new float[8], ItemScorer.Kind.COSINE, 0,
        ScanIndex.of(f));
    assertArrayEquals(new int[] {0, 2, 3}, scanned(q, new int[] {1}, 3));
  }
}
