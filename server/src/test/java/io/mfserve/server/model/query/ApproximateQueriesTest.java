package io.mfserve.server.model.query;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mfserve.server.model.ann.AnnIndexes;
import io.mfserve.server.model.ann.AnnSettings;
import io.mfserve.server.model.ann.AnnTarget;
import io.mfserve.server.model.ann.Metric;
import io.mfserve.server.model.fit.FitExecutor;
import io.mfserve.server.model.fit.SolverRegistry;
import io.mfserve.server.model.ids.IdIndex;
import io.mfserve.server.model.ids.IdRefs;
import io.mfserve.server.model.store.IndexBuilder;
import io.mfserve.server.model.store.MemoryBudget;
import io.mfserve.server.model.store.ModelMetadata;
import io.mfserve.server.model.store.ModelStore;
import io.mfserve.server.model.store.Popularity;
import io.mfserve.server.model.store.ScanIndex;
import io.mfserve.server.model.store.SeenItems;
import io.mfserve.server.model.store.ServedModel;
import io.mfserve.server.model.store.ServerEvents;
import io.mfserve.server.repository.InMemoryRepository;
import io.mfserve.solver.AbsentEntries;
import io.mfserve.solver.FactorModel;
import io.mfserve.solver.Parameters;
import io.mfserve.solver.SolverConfig;
import io.mfserve.solver.SolverProvider;
import io.mfserve.solver.TrainingMatrix;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Recommend, SimilarItems and SimilarUsers through the approximate indexes: recall against
 * the exact scan on planted and random factors, exact scores, filters that still give k
 * items, the exact flag, memory accounting, and builds racing deletes and queries.
 */
class ApproximateQueriesTest {
  private static final int USERS = 300;
  private static final int ITEMS = 6000;
  private static final int K = 16;
  /** Recall@10 below this on the planted case fails the test (it measures about 1.0). */
  private static final double PLANTED_RECALL_FLOOR = 0.95;
  /** Recall@10 below this on random Gaussian factors, the hard case, fails the test. */
  private static final double RANDOM_RECALL_FLOOR = 0.85;

  private FitExecutor executor;
  private MemoryBudget budget;
  private ModelStore store;
  private SolverRegistry registry;
  private ModelQueries queries;
  private IndexBuilder indexes;

  @BeforeEach
  void start() {
    executor = new FitExecutor(1, 1, 2);
    budget = new MemoryBudget(1L << 30);
    Map<String, SolverProvider> providers = new HashMap<>();
    for (SolverProvider p : ServiceLoader.load(SolverProvider.class)) {
      providers.put(p.name(), p);
    }
    registry = new SolverRegistry(providers);
    open(new AnnSettings(1000, 16, 100, 100, Metric.DOT, 16));
  }

  /** A store (and the queries on it) whose models get indexes with {@code settings}. */
  private void open(AnnSettings settings) {
    indexes = new IndexBuilder(settings);
    store = new ModelStore(new InMemoryRepository(registry), budget, ServerEvents.NONE,
        indexes);
    ModelService service = new ModelService(registry, store, Clock.systemUTC());
    queries = new ModelQueries(service, registry, executor);
  }

  @AfterEach
  void stop() {
    indexes.close();
    executor.close();
  }

  /**
   * Items in 60 tight clusters around random centres, users near the centres, small biases:
   * a user's best items are its cluster's, the structure trained factors have.
   */
  private static FactorModel planted(long seed) {
    Random rnd = new Random(seed);
    int clusters = 60;
    float[][] centre = new float[clusters][K];
    for (float[] c : centre) {
      for (int f = 0; f < K; f++) {
        c[f] = (float) rnd.nextGaussian();
      }
    }
    float[] u = new float[USERS * K];
    float[] v = new float[ITEMS * K];
    for (int i = 0; i < ITEMS; i++) {
      float[] c = centre[rnd.nextInt(clusters)];
      for (int f = 0; f < K; f++) {
        v[i * K + f] = c[f] + 0.3f * (float) rnd.nextGaussian();
      }
    }
    for (int a = 0; a < USERS; a++) {
      float[] c = centre[rnd.nextInt(clusters)];
      for (int f = 0; f < K; f++) {
        u[a * K + f] = c[f] + 0.3f * (float) rnd.nextGaussian();
      }
    }
    return new FactorModel(USERS, ITEMS, K, u, v, biases(rnd, 0.2), List.of());
  }

  /** Independent Gaussian factors: no structure for a graph to exploit. */
  private static FactorModel random(long seed) {
    return random(seed, K);
  }

  /** Independent Gaussian factors, {@code k} of them. */
  private static FactorModel random(long seed, int k) {
    Random rnd = new Random(seed);
    float[] u = new float[USERS * k];
    float[] v = new float[ITEMS * k];
    for (int n = 0; n < u.length; n++) {
      u[n] = (float) rnd.nextGaussian();
    }
    for (int n = 0; n < v.length; n++) {
      v[n] = (float) rnd.nextGaussian();
    }
    return new FactorModel(USERS, ITEMS, k, u, v, biases(rnd, 0.5), List.of());
  }

  private static FactorModel.Biases biases(Random rnd, double scale) {
    float[] bu = new float[USERS];
    float[] bi = new float[ITEMS];
    for (int n = 0; n < USERS; n++) {
      bu[n] = (float) (scale * rnd.nextGaussian());
    }
    for (int n = 0; n < ITEMS; n++) {
      bi[n] = (float) (scale * rnd.nextGaussian());
    }
    return new FactorModel.Biases(3.5, bu, bi);
  }

  /** Each user has about {@code density} of the items. */
  private static TrainingMatrix seen(long seed, double density) {
    Random rnd = new Random(seed);
    List<int[]> e = new ArrayList<>();
    for (int a = 0; a < USERS; a++) {
      for (int i = 0; i < ITEMS; i++) {
        if (i == a || rnd.nextDouble() < density) {
          e.add(new int[] {a, i});
        }
      }
    }
    int[] r = new int[e.size()];
    int[] c = new int[e.size()];
    float[] v = new float[e.size()];
    for (int n = 0; n < r.length; n++) {
      r[n] = e.get(n)[0];
      c[n] = e.get(n)[1];
      v[n] = 1 + n % 5;
    }
    return TrainingMatrix.fromCoordinates(USERS, ITEMS, r, c, v, AbsentEntries.UNKNOWN);
  }

  /** Serves a model and waits for its indexes (the builder's background thread). */
  private ServedModel put(String id, FactorModel f, TrainingMatrix seen) {
    ServedModel m = serve(id, f, seen);
    awaitIndexes(m);
    return m;
  }

  private ServedModel serve(String id, FactorModel f, TrainingMatrix seen) {
    SolverProvider p = registry.get("als");
    SolverConfig config = new SolverConfig(f.numFactors(), 1, AbsentEntries.UNKNOWN,
        Parameters.resolve(p.parameters(), Map.of()));
    ModelMetadata meta = new ModelMetadata(id, "als", f.numFactors(), Map.of(), 1,
        AbsentEntries.UNKNOWN, seen.nnz(), 0, 0, 0, 0, Instant.now(), "test", "fp", "fp-" + id,
        "");
    assertTrue(store.claim(id, "fp-" + id).owned());
    SeenItems s = SeenItems.of(seen);
    ScanIndex scan = ScanIndex.of(f);
    ServedModel m = new ServedModel(f, IdIndex.positions(f.numUsers()),
        IdIndex.positions(f.numItems()), s, scan, meta, config,
        budget.reserve(f.memoryBytes() + s.memoryBytes() + scan.memoryBytes(), "test"));
    return store.complete(m);
  }

  private static void awaitIndexes(ServedModel m) {
    long deadline = System.nanoTime() + 120_000_000_000L;
    while (System.nanoTime() < deadline) {
      boolean done = !m.ann().statuses().isEmpty();
      for (AnnIndexes.Status s : m.ann().statuses()) {
        done &= s.state() == AnnIndexes.State.READY;
        assertFalse(s.state() == AnnIndexes.State.FAILED, s.detail());
      }
      if (done) {
        return;
      }
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        throw new AssertionError(e);
      }
    }
    throw new AssertionError("indexes not ready: " + m.ann().statuses());
  }

  private static IdRefs ids(String field, long... ids) {
    return new IdRefs(ids, new String[0], field, field.replace("_ids", "_keys"));
  }

  private static IdRefs user(long u) {
    return new IdRefs(new long[] {u}, new String[0], "user_id", "user_key");
  }

  private Ranked recommend(String model, int u, int k, int offset, boolean exclude,
      long[] allowed, long[] denied, boolean exact) {
    return queries.recommend(new RecommendQuery(model, user(u), null, k, offset, exclude,
        ids("allowed_item_ids", allowed), ids("denied_item_ids", denied), exact));
  }

  /** Recall@10 of every user's approximate top 10 against the exact one. */
  private double recall(ServedModel m, boolean exclude) {
    long found = 0;
    long asked = 0;
    for (int u = 0; u < USERS; u++) {
      Ranked exact = recommend(m.id(), u, 10, 0, exclude, new long[0], new long[0], true);
      Ranked approx = recommend(m.id(), u, 10, 0, exclude, new long[0], new long[0], false);
      assertEquals(exact.size(), approx.size());
      Set<Integer> truth = new HashSet<>();
      for (int p : exact.positions()) {
        truth.add(p);
      }
      for (int p : approx.positions()) {
        found += truth.contains(p) ? 1 : 0;
      }
      asked += exact.size();
    }
    return (double) found / asked;
  }

  @Test
  void recommend_plantedClusters_recallAtTenAboveTheFloor() {
    ServedModel m = put("planted", planted(1), seen(1, 0.01));
    assertNotNull(m.ann().get(AnnTarget.RECOMMEND));
    double r = recall(m, false);
    assertTrue(r >= PLANTED_RECALL_FLOOR, "recall@10 " + r);
    double withSeen = recall(m, true);
    assertTrue(withSeen >= PLANTED_RECALL_FLOOR, "recall@10 with exclude_seen " + withSeen);
  }

  /**
   * The defaults (M, beam, ef) on the hardest case the issue names: 64 random Gaussian factors
   * with item biases, 6,000 of them (easier than 200,000: at 200,000 items the same settings
   * measured 0.955, README, Approximate top-k). Fails if a change of the defaults or of the
   * search drops recall@10 below 0.95.
   */
  @Test
  void recommend_random64Factors_defaultSettings_recallAtTenAtLeast095() {
    indexes.close();
    open(AnnSettings.defaults().withMinRows(1000));
    ServedModel m = put("random64", random(5, 64), seen(5, 0.01));
    assertNotNull(m.ann().get(AnnTarget.RECOMMEND));
    double r = recall(m, false);
    assertTrue(r >= 0.95, "recall@10 " + r);
    double withSeen = recall(m, true);
    assertTrue(withSeen >= 0.95, "recall@10 with exclude_seen " + withSeen);
  }

  /**
   * The calibration after a build: at the default target (0.95) each index searches with the
   * smallest beam of the ladder that keeps recall@10 at the target, so a structured model gets
   * a far narrower beam than random factors, and both keep the target on every user, not only
   * on the sampled ones; without a target the beam is --ann-ef-search.
   */
  @Test
  void calibration_smallestBeamThatKeepsTheTarget() {
    indexes.close();
    open(AnnSettings.defaults().withMinRows(1000));
    ServedModel easy = put("planted-calibrated", planted(3), seen(3, 0.01));
    ServedModel hard = put("random-calibrated", random(6, 64), seen(6, 0.01));
    AnnIndexes.Status e = easy.ann().status(AnnTarget.RECOMMEND);
    AnnIndexes.Status h = hard.ann().status(AnnTarget.RECOMMEND);
    assertTrue(e.efSearch() < h.efSearch(), e + " against " + h);
    assertTrue(h.efSearch() <= AnnSettings.DEFAULT_EF_SEARCH, h.toString());
    for (ServedModel m : List.of(easy, hard)) {
      AnnIndexes.Status s = m.ann().status(AnnTarget.RECOMMEND);
      assertTrue(s.sampledRecall() >= 0.95, s.toString());
      double r = recall(m, false);
      assertTrue(r >= 0.95, m.id() + ": recall@10 " + r + " at ef " + s.efSearch());
      AnnIndexes.Status similar = m.ann().status(AnnTarget.SIMILAR_ITEMS);
      assertTrue(similar.sampledRecall() >= 0.95, similar.toString());
    }

    indexes.close();
    open(new AnnSettings(1000, 16, 100, 250, Metric.DOT, 50, 1, 0));
    ServedModel fixed = put("planted-fixed", planted(3), seen(3, 0.01));
    assertEquals(250, fixed.ann().status(AnnTarget.RECOMMEND).efSearch());
  }

  /**
   * An index whose widest allowed beam misses the recall target is not used: its state is
   * skipped with the measured recall and what to change, its memory goes back, and queries
   * scan exactly. The other item index still counts the shared item rows.
   */
  @Test
  void calibration_belowTheTargetAtTheCap_skipsTheIndex_andQueriesScanExactly() {
    indexes.close();
    open(new AnnSettings(1000, 16, 100, 10, Metric.DOT, 50, 1, 0.99));
    long before = budget.usedBytes();
    ServedModel m = serve("random-capped", random(9, 64), seen(9, 0.01));
    long deadline = System.nanoTime() + 120_000_000_000L;
    while (System.nanoTime() < deadline && m.ann().statuses().stream()
        .anyMatch(s -> s.state() != AnnIndexes.State.SKIPPED
            && s.state() != AnnIndexes.State.READY)) {
      Thread.onSpinWait();
    }
    AnnIndexes.Status s = m.ann().status(AnnTarget.RECOMMEND);
    assertEquals(AnnIndexes.State.SKIPPED, s.state(), s.toString());
    assertTrue(s.detail().contains("--ann-recall-target"), s.detail());
    assertTrue(s.sampledRecall() < 0.99, s.toString());
    assertEquals(0, s.memoryBytes());
    assertNull(m.ann().get(AnnTarget.RECOMMEND));
    Ranked r = recommend(m.id(), 0, 10, 0, false, new long[0], new long[0], false);
    Ranked e = recommend(m.id(), 0, 10, 0, false, new long[0], new long[0], true);
    assertArrayEquals(e.positions(), r.positions());
    long indexBytes = 0;
    for (AnnIndexes.Status x : m.ann().statuses()) {
      if (x.state() == AnnIndexes.State.READY) {
        // An index kept after a skipped one counts the item rows it shares.
        assertTrue(x.memoryBytes() > 0, x.toString());
      }
      indexBytes += x.memoryBytes();
    }
    assertEquals(before + m.memoryBytes(), budget.usedBytes());
    store.delete("random-capped");
    assertEquals(before, budget.usedBytes());
    assertTrue(indexBytes >= 0);
  }

  @Test
  void calibrationLadder_endsAtTheCap() {
    assertArrayEquals(new int[] {10, 15, 20, 25}, IndexBuilder.ladder(25));
    int[] full = IndexBuilder.ladder(AnnSettings.DEFAULT_EF_SEARCH);
    assertEquals(AnnSettings.DEFAULT_EF_SEARCH, full[full.length - 1]);
    assertEquals(10, full[0]);
    assertArrayEquals(new int[] {5}, IndexBuilder.ladder(5));
  }

  @Test
  void ef_growsWithKPlusOffset_withinItsBounds() {
    assertEquals(400, ApproximateTopK.ef(400, 1));
    assertEquals(400, ApproximateTopK.ef(400, 10));
    assertEquals(2000, ApproximateTopK.ef(400, 50));
    assertEquals(ApproximateTopK.MAX_EF, ApproximateTopK.ef(400, 1000));
    assertEquals(30, ApproximateTopK.ef(1, 30));
  }

  @Test
  void recommend_randomFactors_recallAtTenAboveTheFloor() {
    ServedModel m = put("random", random(2), seen(2, 0.01));
    double r = recall(m, false);
    assertTrue(r >= RANDOM_RECALL_FLOOR, "recall@10 " + r);
    AnnIndexes.Status s = m.ann().status(AnnTarget.RECOMMEND);
    assertTrue(s.sampledRecall() >= RANDOM_RECALL_FLOOR, "sampled recall " + s.sampledRecall());
  }

  @Test
  void recommend_approximateScores_areTheExactScoresOfTheItemsReturned() {
    ServedModel m = put("scores", random(3), seen(3, 0.02));
    FactorModel f = m.factors();
    for (int u = 0; u < USERS; u += 7) {
      Ranked r = recommend(m.id(), u, 25, 0, true, new long[0], new long[0], false);
      assertEquals(25, r.size());
      for (int n = 0; n < r.size(); n++) {
        assertEquals((float) f.predict(u, r.positions()[n]), r.scores()[n]);
        if (n > 0) {
          assertTrue(r.scores()[n - 1] >= r.scores()[n]);
        }
      }
    }
  }

  @Test
  void recommend_exact_isBitIdenticalToTheScanOfAModelWithoutIndex() {
    FactorModel f = random(4);
    TrainingMatrix seen = seen(4, 0.05);
    ServedModel indexed = put("indexed", f, seen);
    ModelStore plain = new ModelStore(new InMemoryRepository(registry), budget);
    ModelQueries plainQueries = new ModelQueries(
        new ModelService(registry, plain, Clock.systemUTC()), registry, executor);
    SolverProvider p = registry.get("als");
    ModelMetadata meta = new ModelMetadata("plain", "als", K, Map.of(), 1,
        AbsentEntries.UNKNOWN, seen.nnz(), 0, 0, 0, 0, Instant.now(), "test", "fp", "fp-p", "");
    assertTrue(plain.claim("plain", "fp-p").owned());
    plain.complete(new ServedModel(f, IdIndex.positions(USERS), IdIndex.positions(ITEMS),
        SeenItems.of(seen), ScanIndex.of(f), meta, new SolverConfig(K, 1,
        AbsentEntries.UNKNOWN, Parameters.resolve(p.parameters(), Map.of())),
        budget.reserve(0, "test")));
    Random rnd = new Random(4);
    for (int u = 0; u < USERS; u += 5) {
      long[] denied = rnd.longs(30, 0, ITEMS).toArray();
      Ranked a = recommend(indexed.id(), u, 10, 3, true, new long[0], denied, true);
      Ranked b = plainQueries.recommend(new RecommendQuery("plain", user(u), null, 10, 3, true,
          ids("allowed_item_ids"), ids("denied_item_ids", denied)));
      assertArrayEquals(b.positions(), a.positions());
      assertArrayEquals(b.scores(), a.scores());
      Ranked sa = queries.similarItems(indexed.id(), ids("item_id", u), 10, Similarity.COSINE,
          true);
      Ranked sb = plainQueries.similarItems("plain", ids("item_id", u), 10, Similarity.COSINE);
      assertArrayEquals(sb.positions(), sa.positions());
      assertArrayEquals(sb.scores(), sa.scores());
    }
  }

  @Test
  void recommend_filtersOnTheApproximatePath_giveExactlyKQualifiedItems() {
    ServedModel m = put("filters", random(5), seen(5, 0.3));
    FactorModel f = m.factors();
    Random rnd = new Random(5);
    // allowed: none, half the items (searched with a filter), 3% (scored directly), and a
    // list of which the user has seen nearly all (the search comes back short: a scan).
    double[] allowShares = {0, 0.5, 0.03};
    for (int u = 0; u < USERS; u += 3) {
      for (double share : allowShares) {
        long[] allowed = share == 0 ? new long[0]
            : rnd.longs(ITEMS, 0, ITEMS).filter(x -> rnd.nextDouble() < share).distinct()
                .toArray();
        long[] denied = rnd.longs(ITEMS / 5, 0, ITEMS).toArray();
        int k = 1 + rnd.nextInt(40);
        int offset = rnd.nextInt(3) == 0 ? rnd.nextInt(20) : 0;
        Ranked r = recommend(m.id(), u, k, offset, true, allowed, denied, false);
        Ranked e = recommend(m.id(), u, k, offset, true, allowed, denied, true);
        assertEquals(e.size(), r.size(), "user " + u + " share " + share);
        Set<Long> allow = new HashSet<>();
        for (long a : allowed) {
          allow.add(a);
        }
        Set<Long> deny = new HashSet<>();
        for (long d : denied) {
          deny.add(d);
        }
        Set<Integer> distinct = new HashSet<>();
        for (int n = 0; n < r.size(); n++) {
          int i = r.positions()[n];
          assertTrue(distinct.add(i));
          assertFalse(m.seen().contains(u, i), "seen item " + i);
          assertFalse(deny.contains((long) i), "denied item " + i);
          assertTrue(allow.isEmpty() || allow.contains((long) i), "not allowed " + i);
          assertEquals((float) f.predict(u, i), r.scores()[n]);
        }
      }
      // Allowed items the user has mostly seen: only a handful qualify, all of them returned.
      int[] mine = m.seen().items(u);
      long[] allowed = new long[Math.min(mine.length, 400) + 5];
      for (int n = 0; n < allowed.length - 5; n++) {
        allowed[n] = mine[n];
      }
      int user = u;
      long[] fresh = java.util.stream.IntStream.range(0, ITEMS)
          .filter(i -> !m.seen().contains(user, i)).limit(5).asLongStream().toArray();
      System.arraycopy(fresh, 0, allowed, allowed.length - 5, 5);
      Ranked r = recommend(m.id(), u, 10, 0, true, allowed, new long[0], false);
      assertEquals(5, r.size());
    }
  }

  @Test
  void similar_cosineIndexes_leaveOutTheQueryAndScoreExactly() {
    ServedModel m = put("similar", planted(6), seen(6, 0.01));
    assertNotNull(m.ann().get(AnnTarget.SIMILAR_ITEMS));
    assertNull(m.ann().get(AnnTarget.SIMILAR_USERS)); // 300 users: below the 1000 threshold
    long found = 0;
    for (int i = 0; i < ITEMS; i += 97) {
      Ranked a = queries.similarItems(m.id(), ids("item_id", i), 10, Similarity.COSINE);
      Ranked e = queries.similarItems(m.id(), ids("item_id", i), 10, Similarity.COSINE, true);
      assertEquals(10, a.size());
      Set<Integer> truth = new HashSet<>();
      for (int p : e.positions()) {
        truth.add(p);
      }
      for (int n = 0; n < a.size(); n++) {
        assertTrue(a.positions()[n] != i);
        found += truth.contains(a.positions()[n]) ? 1 : 0;
        int at = indexOf(e.positions(), a.positions()[n]);
        if (at >= 0) {
          assertEquals(e.scores()[at], a.scores()[n]);
        }
      }
    }
    double recall = found / (10.0 * ((ITEMS + 96) / 97));
    assertTrue(recall >= PLANTED_RECALL_FLOOR, "similar items recall@10 " + recall);
  }

  /**
   * --ann-indexes: a model large enough gets only the indexes named; the others are not built
   * (no status, no memory) and their queries scan exactly, with the exact scan's answer.
   */
  @Test
  void targets_onlyTheNamedIndexesAreBuilt_theOthersScanExactly() {
    indexes.close();
    open(AnnSettings.defaults().withMinRows(200)
        .withTargets(java.util.EnumSet.of(AnnTarget.RECOMMEND, AnnTarget.SIMILAR_USERS)));
    ServedModel m = put("only-recommend", planted(9), seen(9, 0.01));
    assertNotNull(m.ann().get(AnnTarget.RECOMMEND));
    assertNotNull(m.ann().get(AnnTarget.SIMILAR_USERS)); // 300 users, over the 200 threshold
    assertNull(m.ann().status(AnnTarget.SIMILAR_ITEMS));
    assertEquals(2, m.ann().statuses().size());
    for (int i = 0; i < ITEMS; i += 601) {
      Ranked a = queries.similarItems(m.id(), ids("item_id", i), 10, Similarity.COSINE);
      Ranked e = queries.similarItems(m.id(), ids("item_id", i), 10, Similarity.COSINE, true);
      assertArrayEquals(e.positions(), a.positions());
      assertArrayEquals(e.scores(), a.scores());
    }
  }

  private static int indexOf(int[] a, int v) {
    for (int n = 0; n < a.length; n++) {
      if (a[n] == v) {
        return n;
      }
    }
    return -1;
  }

  @Test
  void memory_indexBytesAreInTheModelAndTheBudget_andGoBackOnDelete() {
    long before = budget.usedBytes();
    FactorModel f = random(7);
    TrainingMatrix seen = seen(7, 0.01);
    // What serve() reserves for the model itself, computed apart: reading m.memoryBytes()
    // right after serving races the builder, which may already hold an index's estimate.
    long base = f.memoryBytes() + SeenItems.of(seen).memoryBytes()
        + ScanIndex.of(f).memoryBytes() + Popularity.estimateBytes(f.numItems(), false);
    ServedModel m = serve("memory", f, seen);
    awaitIndexes(m);
    long indexBytes = 0;
    for (AnnIndexes.Status s : m.ann().statuses()) {
      assertTrue(s.memoryBytes() > 0, s.toString());
      indexBytes += s.memoryBytes();
    }
    assertEquals(base + indexBytes, m.memoryBytes());
    assertEquals(before + m.memoryBytes(), budget.usedBytes());
    // At least the row-major copy of the item factors and biases, and a graph per index.
    assertTrue(indexBytes > (long) ITEMS * (K + 1) * Float.BYTES, "index bytes " + indexBytes);
    store.delete("memory");
    assertEquals(before, budget.usedBytes());
    assertNull(m.ann().get(AnnTarget.RECOMMEND));
  }

  @Test
  void build_overTheBudget_isSkippedAndQueriesStayExact() {
    // Room for the model (about 0.6 MiB), not for an index of its 6,000 items (about 2.5 MiB).
    budget = new MemoryBudget(3L << 19);
    IndexBuilder tight = new IndexBuilder(new AnnSettings(1000, 16, 100, 100, Metric.DOT, 0));
    store = new ModelStore(new InMemoryRepository(registry), budget, ServerEvents.NONE, tight);
    queries = new ModelQueries(new ModelService(registry, store, Clock.systemUTC()), registry,
        executor);
    try {
      FactorModel f = random(8);
      ServedModel m = serve("tight", f, seen(8, 0.001));
      long deadline = System.nanoTime() + 60_000_000_000L;
      while (System.nanoTime() < deadline && m.ann().statuses().stream()
          .anyMatch(s -> s.state() != AnnIndexes.State.SKIPPED
              && s.state() != AnnIndexes.State.READY)) {
        Thread.onSpinWait();
      }
      assertEquals(AnnIndexes.State.SKIPPED, m.ann().status(AnnTarget.RECOMMEND).state());
      assertTrue(m.ann().status(AnnTarget.RECOMMEND).detail().contains("budget"));
      assertNull(m.ann().get(AnnTarget.RECOMMEND));
      Ranked r = recommend(m.id(), 0, 10, 0, false, new long[0], new long[0], false);
      Ranked e = recommend(m.id(), 0, 10, 0, false, new long[0], new long[0], true);
      assertArrayEquals(e.positions(), r.positions());
      assertEquals(budget.usedBytes(), m.memoryBytes());
    } finally {
      tight.close();
    }
  }

  @Test
  void build_racingDeleteAndQueries_leavesNoBytesAndAnswersThroughout() throws Exception {
    for (int round = 0; round < 6; round++) {
      long before = budget.usedBytes();
      String id = "race" + round;
      ServedModel m = serve(id, random(20 + round), seen(9, 0.01));
      AtomicReference<Throwable> failure = new AtomicReference<>();
      Thread reader = new Thread(() -> {
        try {
          for (int q = 0; q < 200; q++) {
            Ranked r = recommend(id, q % USERS, 10, 0, true, new long[0], new long[0], false);
            assertEquals(10, r.size());
          }
        } catch (io.mfserve.server.model.errors.NotFoundException e) {
          // deleted: what a request after a delete gets
        } catch (Throwable t) {
          failure.set(t);
        }
      });
      reader.start();
      // Delete at different moments of the build: queued, building, ready.
      Thread.sleep(round * 15L);
      store.delete(id);
      reader.join();
      assertNull(failure.get());
      // The builder works in order on one thread: once a later model's indexes are ready, the
      // deleted model's build has finished or been abandoned. Then nothing of it is held.
      ServedModel marker = serve("marker" + round, planted(round), seen(1, 0.001));
      awaitIndexes(marker);
      store.delete("marker" + round);
      assertEquals(before, budget.usedBytes(), "round " + round);
      assertNull(m.ann().get(AnnTarget.RECOMMEND));
    }
  }
}
