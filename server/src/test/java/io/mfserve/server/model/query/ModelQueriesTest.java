package io.mfserve.server.model.query;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mfserve.server.model.errors.InvalidRequestException;
import io.mfserve.server.model.errors.UnsupportedQueryException;
import io.mfserve.server.model.fit.FitExecutor;
import io.mfserve.server.model.fit.SolverRegistry;
import io.mfserve.server.model.ids.IdIndex;
import io.mfserve.server.model.ids.IdRefs;
import io.mfserve.server.model.store.MemoryBudget;
import io.mfserve.server.model.store.ModelMetadata;
import io.mfserve.server.model.store.ModelStore;
import io.mfserve.server.model.store.ScanIndex;
import io.mfserve.server.model.store.SeenItems;
import io.mfserve.server.model.store.ServedModel;
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
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.ServiceLoader;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Top-k, filters, paging, similarity and batches against brute force, on hand-made models. */
class ModelQueriesTest {
  private static final int USERS = 12;
  private static final int ITEMS = 50;
  private static final int K = 3;

  private FitExecutor executor;
  private MemoryBudget budget;
  private ModelStore store;
  private SolverRegistry registry;
  private ModelQueries queries;

  @BeforeEach
  void start() {
    executor = new FitExecutor(1, 1, 2);
    budget = new MemoryBudget(1L << 30);
    Map<String, SolverProvider> providers = new HashMap<>();
    for (SolverProvider p : ServiceLoader.load(SolverProvider.class)) {
      providers.put(p.name(), p);
    }
    registry = new SolverRegistry(providers);
    store = new ModelStore(new InMemoryRepository(registry), budget);
    ModelService service = new ModelService(registry, store, Clock.systemUTC());
    queries = new ModelQueries(service, registry, executor);
  }

  @AfterEach
  void stop() {
    executor.close();
  }

  /** Factors from {-1, 0, 1}: scores are small integers, so ties are everywhere. */
  private static FactorModel tiedModel(long seed, boolean biased) {
    Random rnd = new Random(seed);
    float[] u = new float[USERS * K];
    float[] v = new float[ITEMS * K];
    for (int n = 0; n < u.length; n++) {
      u[n] = rnd.nextInt(3) - 1;
    }
    for (int n = 0; n < v.length; n++) {
      v[n] = rnd.nextInt(3) - 1;
    }
    FactorModel.Biases b = null;
    if (biased) {
      float[] bu = new float[USERS];
      float[] bi = new float[ITEMS];
      for (int n = 0; n < ITEMS; n++) {
        bi[n] = rnd.nextInt(2);
      }
      b = new FactorModel.Biases(1.0, bu, bi);
    }
    return new FactorModel(USERS, ITEMS, K, u, v, b, List.of());
  }

  /** A random sparse set of seen entries, every user with at least one. */
  private static TrainingMatrix seen(long seed, double density) {
    Random rnd = new Random(seed);
    List<int[]> e = new ArrayList<>();
    for (int u = 0; u < USERS; u++) {
      for (int i = 0; i < ITEMS; i++) {
        if (i == u || rnd.nextDouble() < density) {
          e.add(new int[] {u, i});
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

  private ServedModel put(String id, FactorModel f, TrainingMatrix seen, AbsentEntries absent,
      String solver) {
    SolverProvider p = registry.get(solver);
    SolverConfig config = new SolverConfig(f.numFactors(), 1, absent,
        Parameters.resolve(p.parameters(), Map.of()));
    ModelMetadata meta = new ModelMetadata(id, solver, f.numFactors(), Map.of(), 1, absent,
        seen.nnz(), 0, 0, 0, 0, Instant.now(), "test", "fp", "fp-" + id, "");
    assertTrue(store.claim(id, "fp-" + id).owned());
    ServedModel m = new ServedModel(f, IdIndex.positions(f.numUsers()),
        IdIndex.positions(f.numItems()), SeenItems.of(seen), ScanIndex.of(f), meta, config,
        budget.reserve(0, "test"));
    store.complete(m);
    return m;
  }

  private static IdRefs ids(String field, long... ids) {
    return new IdRefs(ids, new String[0], field, field.replace("_ids", "_keys"));
  }

  private static IdRefs none(String field) {
    return ids(field);
  }

  private static IdRefs user(long u) {
    return new IdRefs(new long[] {u}, new String[0], "user_id", "user_key");
  }

  /** The expected top list, by sorting every candidate's predict() score. */
  private static int[] bruteForce(ServedModel m, int u, int k, int offset, boolean exclude,
      long[] allowed, long[] denied) {
    FactorModel f = m.factors();
    java.util.Set<Integer> deny = new java.util.HashSet<>();
    for (long d : denied) {
      deny.add((int) d);
    }
    java.util.Set<Integer> allow = new java.util.HashSet<>();
    for (long a : allowed) {
      allow.add((int) a);
    }
    return IntStream.range(0, f.numItems())
        .filter(i -> allow.isEmpty() || allow.contains(i))
        .filter(i -> !deny.contains(i))
        .filter(i -> !exclude || !m.seen().contains(u, i))
        .boxed()
        .sorted((a, b) -> {
          float sa = (float) f.predict(u, a);
          float sb = (float) f.predict(u, b);
          return sa != sb ? Float.compare(sb, sa) : Integer.compare(a, b);
        })
        .skip(offset).limit(k).mapToInt(Integer::intValue).toArray();
  }

  private static long[] randomSubset(Random rnd, double p) {
    return IntStream.range(0, ITEMS).filter(i -> rnd.nextDouble() < p).asLongStream().toArray();
  }

  @Test
  void recommend_randomTiedModels_equalBruteForceWithEveryFilter() {
    Random rnd = new Random(7);
    for (int model = 0; model < 4; model++) {
      ServedModel m = put("m" + model, tiedModel(model, model % 2 == 1), seen(model, 0.2),
          AbsentEntries.UNKNOWN, model % 2 == 1 ? "sgd" : "als");
      for (int u = 0; u < USERS; u++) {
        for (int k : new int[] {1, 3, 10, 60}) {
          boolean exclude = rnd.nextBoolean();
          int offset = rnd.nextInt(3) == 0 ? rnd.nextInt(8) : 0;
          long[] allowed = rnd.nextInt(3) == 0 ? randomSubset(rnd, 0.5) : new long[0];
          long[] denied = rnd.nextInt(3) == 0 ? randomSubset(rnd, 0.2) : new long[0];
          Ranked r = queries.recommend(new RecommendQuery(m.id(), user(u), null, k, offset,
              exclude, ids("allowed_item_ids", allowed), ids("denied_item_ids", denied)));
          int[] want = bruteForce(m, u, k, offset, exclude, allowed, denied);
          String what = "model " + model + " user " + u + " k " + k + " offset " + offset;
          assertArrayEquals(want, r.positions(), what);
          for (int n = 0; n < want.length; n++) {
            assertEquals((float) m.factors().predict(u, want[n]), r.scores()[n], what);
          }
        }
      }
    }
  }

  @Test
  void recommend_offset_pageTwoContinuesPageOne() {
    ServedModel m = put("m", tiedModel(11, false), seen(11, 0.1), AbsentEntries.UNKNOWN, "als");
    for (int u = 0; u < USERS; u++) {
      int[] all = queries.recommend(new RecommendQuery("m", user(u), null, 10, 0, null,
          none("allowed_item_ids"), none("denied_item_ids"))).positions();
      int[] page1 = queries.recommend(new RecommendQuery("m", user(u), null, 5, 0, null,
          none("allowed_item_ids"), none("denied_item_ids"))).positions();
      int[] page2 = queries.recommend(new RecommendQuery("m", user(u), null, 5, 5, null,
          none("allowed_item_ids"), none("denied_item_ids"))).positions();
      assertArrayEquals(all, IntStream.concat(IntStream.of(page1), IntStream.of(page2))
          .toArray());
    }
    assertEquals(0, queries.recommend(new RecommendQuery("m", user(0), null, 5, ITEMS, false,
        none("allowed_item_ids"), none("denied_item_ids"))).size());
  }

  @Test
  void recommend_kLargerThanTheCatalogue_returnsEveryCandidate() {
    put("m", tiedModel(12, false), seen(12, 0.3), AbsentEntries.UNKNOWN, "als");
    assertEquals(ITEMS, queries.recommend(new RecommendQuery("m", user(1), null, 1_000_000, 0,
        false, none("allowed_item_ids"), none("denied_item_ids"))).size());
    assertEquals(2, queries.recommend(new RecommendQuery("m", user(1), null, Integer.MAX_VALUE,
        0, false, ids("allowed_item_ids", 3, 4, 3), none("denied_item_ids"))).size());
    assertEquals(0, queries.recommend(new RecommendQuery("m", user(1), null, Integer.MAX_VALUE,
        Integer.MAX_VALUE, false, ids("allowed_item_ids", 3, 4), none("denied_item_ids")))
        .size());
  }

  @Test
  void excludeSeen_defaultsPerKindOfModel_andExplicitValuesWin() {
    ServedModel ratings = put("r", tiedModel(13, false), seen(13, 0.3), AbsentEntries.UNKNOWN,
        "als");
    ServedModel counts = put("c", tiedModel(13, false), seen(13, 0.3), AbsentEntries.ZERO,
        "nmf");
    ServedModel clicks = put("i", tiedModel(13, false), seen(13, 0.3), AbsentEntries.IMPLICIT,
        "als");
    float[] all = new float[USERS * ITEMS];
    ServedModel dense = put("d", tiedModel(13, false),
        TrainingMatrix.fromDense(USERS, ITEMS, all, AbsentEntries.UNKNOWN), AbsentEntries.UNKNOWN,
        "als");
    assertTrue(ModelQueries.excludeSeen(ratings, null));
    assertTrue(ModelQueries.excludeSeen(clicks, null));
    assertFalse(ModelQueries.excludeSeen(counts, null));
    assertFalse(ModelQueries.excludeSeen(dense, null), "a dense model has seen everything");
    assertFalse(ModelQueries.excludeSeen(ratings, false));
    assertTrue(ModelQueries.excludeSeen(counts, true));
    int seenCount = ratings.seen().count(2);
    assertEquals(ITEMS - seenCount, queries.recommend(new RecommendQuery("r", user(2), null,
        ITEMS, 0, null, none("allowed_item_ids"), none("denied_item_ids"))).size());
    assertEquals(ITEMS, queries.recommend(new RecommendQuery("c", user(2), null, ITEMS, 0,
        null, none("allowed_item_ids"), none("denied_item_ids"))).size());
    assertEquals(ITEMS - seenCount, queries.recommend(new RecommendQuery("c", user(2), null,
        ITEMS, 0, true, none("allowed_item_ids"), none("denied_item_ids"))).size());
  }

  @Test
  void similarItems_cosineAndDot_orderDifferentlyAndLeaveOutTheQuery() {
    // Item 0 points along x. Item 1 is long but 60° off; item 2 short but 10° off.
    float[] v = {
        1, 0,
        (float) (3 * Math.cos(Math.toRadians(60))), (float) (3 * Math.sin(Math.toRadians(60))),
        (float) (0.5 * Math.cos(Math.toRadians(10))), (float) (0.5 * Math.sin(Math.toRadians(10))),
        0, 1};
    FactorModel f = new FactorModel(2, 4, 2, new float[] {1, 0, 0, 1}, v, null, List.of());
    put("s", f, TrainingMatrix.fromCoordinates(2, 4, new int[] {0, 1}, new int[] {0, 1},
        new float[] {1, 1}, AbsentEntries.UNKNOWN), AbsentEntries.UNKNOWN, "als");
    Ranked cosine = queries.similarItems("s", ids("item_id", 0), 10, Similarity.COSINE);
    Ranked dot = queries.similarItems("s", ids("item_id", 0), 10, Similarity.DOT);
    assertArrayEquals(new int[] {2, 1, 3}, cosine.positions());
    assertArrayEquals(new int[] {1, 2, 3}, dot.positions());
    assertEquals((float) Math.cos(Math.toRadians(10)), cosine.scores()[0], 1e-6f);
    assertEquals(1.5f, dot.scores()[0], 1e-6f);
    Ranked users = queries.similarUsers("s", user(0), 5, Similarity.COSINE);
    assertArrayEquals(new int[] {1}, users.positions());
    assertEquals(0f, users.scores()[0]);
  }

  @Test
  void batch_equalsRecommendPerUser_inRequestOrder() {
    ServedModel m = put("m", tiedModel(14, true), seen(14, 0.2), AbsentEntries.UNKNOWN, "sgd");
    Random rnd = new Random(15);
    long[] users = new long[100];
    for (int j = 0; j < users.length; j++) {
      users[j] = rnd.nextInt(USERS);
    }
    IdRefs denied = ids("denied_item_ids", 3, 5, 8);
    ModelQueries.Batch batch = queries.prepareBatch("m", ids("user_ids", users), 7, null,
        none("allowed_item_ids"), denied);
    assertEquals(100, batch.size());
    Ranked[] got = new Ranked[100];
    System.arraycopy(batch.compute(0, 37), 0, got, 0, 37);
    System.arraycopy(batch.compute(37, 100), 0, got, 37, 63);
    for (int j = 0; j < users.length; j++) {
      Ranked one = queries.recommend(new RecommendQuery("m", user(users[j]), null, 7, 0, null,
          none("allowed_item_ids"), denied));
      assertArrayEquals(one.positions(), got[j].positions(), "user " + j);
      assertArrayEquals(one.scores(), got[j].scores(), "user " + j);
    }
    assertEquals(m.items(), batch.items());
  }

  @Test
  void predictRow_equalsPredictBitForBit() {
    ServedModel m = put("m", tiedModel(16, true), seen(16, 0.2), AbsentEntries.UNKNOWN, "sgd");
    ScoredRow row = queries.predictRow("m", user(5), null);
    for (int i = 0; i < ITEMS; i++) {
      assertEquals((float) m.factors().predict(5, i), row.scores()[i]);
    }
  }

  @Test
  void badQueries_nameTheField() {
    put("m", tiedModel(17, false), seen(17, 0.2), AbsentEntries.UNKNOWN, "als");
    // SGD cannot fold users into a BPR (implicit) model; ALS can, so it is not the example.
    put("i", tiedModel(17, false), seen(17, 0.2), AbsentEntries.IMPLICIT, "sgd");
    UserHistory dup = new UserHistory(ids("user_history.item_ids", 1, 2, 1),
        new float[] {1, 2, 3}, "user_history.values");
    assertEquals("user_history.item_ids[2]", field(() -> queries.foldIn("m", dup)));
    UserHistory unknown = new UserHistory(ids("user_history.item_ids", 1, 99),
        new float[] {1, 2}, "user_history.values");
    assertEquals("user_history.item_ids[1]", field(() -> queries.foldIn("m", unknown)));
    UserHistory nan = new UserHistory(ids("user_history.item_ids", 1, 2),
        new float[] {1, Float.NaN}, "user_history.values");
    assertEquals("user_history.values[1]", field(() -> queries.foldIn("m", nan)));
    UserHistory short1 = new UserHistory(ids("user_history.item_ids", 1, 2),
        new float[] {1}, "user_history.values");
    assertEquals("user_history.values", field(() -> queries.foldIn("m", short1)));
    assertEquals("allowed_item_ids[1]", field(() -> queries.recommend(new RecommendQuery("m",
        user(1), null, 3, 0, null, ids("allowed_item_ids", 1, -4), none("denied_item_ids")))));
    assertEquals("offset", field(() -> queries.recommend(new RecommendQuery("m", user(1), null,
        3, -1, null, none("allowed_item_ids"), none("denied_item_ids")))));
    assertEquals("user_ids[1]", field(() -> queries.prepareBatch("m", ids("user_ids", 1, 77),
        3, null, none("allowed_item_ids"), none("denied_item_ids"))));
    UserHistory ok = new UserHistory(ids("user_history.item_ids", 1, 2), new float[] {1, 2},
        "user_history.values");
    assertThrows(UnsupportedQueryException.class, () -> queries.foldIn("i", ok));
  }

  private static String field(Runnable r) {
    InvalidRequestException e = assertThrows(InvalidRequestException.class, r::run);
    return e.violations().get(0).field();
  }
}
