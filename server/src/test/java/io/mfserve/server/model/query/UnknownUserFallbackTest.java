package io.mfserve.server.model.query;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.mfserve.server.model.errors.InvalidRequestException;
import io.mfserve.server.model.errors.PreconditionFailedException;
import io.mfserve.server.model.fit.FitExecutor;
import io.mfserve.server.model.fit.SolverRegistry;
import io.mfserve.server.model.ids.IdIndex;
import io.mfserve.server.model.ids.IdRefs;
import io.mfserve.server.model.store.MemoryBudget;
import io.mfserve.server.model.store.ModelMetadata;
import io.mfserve.server.model.store.ModelStore;
import io.mfserve.server.model.store.Popularity;
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
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Recommend for a user the model has never seen: popular items, by count or shrunk mean. */
class UnknownUserFallbackTest {
  private FitExecutor executor;
  private ModelStore store;
  private SolverRegistry registry;
  private ModelQueries queries;
  private MemoryBudget budget;

  @BeforeEach
  void start() {
    executor = new FitExecutor(1, 1, 1);
    budget = new MemoryBudget(1L << 30);
    Map<String, SolverProvider> providers = new HashMap<>();
    for (SolverProvider p : ServiceLoader.load(SolverProvider.class)) {
      providers.put(p.name(), p);
    }
    registry = new SolverRegistry(providers);
    store = new ModelStore(new InMemoryRepository(registry), budget);
    queries = new ModelQueries(new ModelService(registry, store, Clock.systemUTC()), registry,
        executor);
  }

  @AfterEach
  void stop() {
    executor.close();
  }

  /**
   * Five items, entries chosen so that count and shrunk mean disagree: item 0 has many middling
   * ratings, item 1 a single 5, item 2 many high ones, item 3 none, item 4 as many as item 0
   * (a count tie, broken by the lower position).
   */
  private ServedModel put(String id, boolean values) {
    int[][] entries = {
        {0, 0, 3}, {1, 0, 3}, {2, 0, 3}, {3, 0, 3}, {4, 0, 3}, {5, 0, 3},
        {0, 1, 5},
        {1, 2, 5}, {2, 2, 5}, {3, 2, 4}, {4, 2, 5},
        {0, 4, 2}, {1, 4, 2}, {2, 4, 2}, {3, 4, 2}, {4, 4, 2}, {5, 4, 2}};
    int[] r = new int[entries.length];
    int[] c = new int[entries.length];
    float[] v = new float[entries.length];
    for (int n = 0; n < entries.length; n++) {
      r[n] = entries[n][0];
      c[n] = entries[n][1];
      v[n] = entries[n][2];
    }
    TrainingMatrix t = TrainingMatrix.fromCoordinates(6, 5, r, c, v, AbsentEntries.UNKNOWN);
    FactorModel f = new FactorModel(6, 5, 2, new float[12], new float[10], null, List.of());
    SeenItems seen = SeenItems.of(t);
    Popularity pop = values ? Popularity.of(t) : Popularity.of(seen, 5);
    SolverProvider p = registry.get("als");
    ModelMetadata meta = new ModelMetadata(id, "als", 2, Map.of(), 1, AbsentEntries.UNKNOWN,
        t.nnz(), 0, t.mean(), 0, 0, Instant.now(), "test", "fp", "fp-" + id, "");
    store.claim(id, "fp-" + id);
    return store.complete(new ServedModel(f, IdIndex.positions(6), IdIndex.positions(5), seen,
        ScanIndex.of(f), pop, meta, new SolverConfig(2, 1, AbsentEntries.UNKNOWN,
        Parameters.resolve(p.parameters(), Map.of())), budget.reserve(0, "t")));
  }

  private Ranked ask(String model, long user, int k, int offset, UnknownUserFallback how,
      long[] allowed, long[] denied) {
    return queries.recommend(new RecommendQuery(model, new IdRefs(new long[] {user},
        new String[0], "user_id", "user_key"), null, k, offset, null,
        new IdRefs(allowed, new String[0], "allowed_item_ids", "allowed_item_keys"),
        new IdRefs(denied, new String[0], "denied_item_ids", "denied_item_keys"), false, how));
  }

  @Test
  void unknownUser_popular_ordersByCountTiesToTheLowerItem() {
    put("m", true);
    Ranked r = ask("m", 99, 10, 0, UnknownUserFallback.POPULAR, new long[0], new long[0]);
    assertArrayEquals(new int[] {0, 4, 2, 1, 3}, r.positions());
    assertArrayEquals(new float[] {6, 6, 4, 1, 0}, r.scores());
    assertEquals("popular", r.fallback());
  }

  @Test
  void unknownUser_topRated_ordersByShrunkMean() {
    put("m", true);
    Ranked r = ask("m", 99, 5, 0, UnknownUserFallback.TOP_RATED, new long[0], new long[0]);
    double mu = 54.0 / 17; // every value's mean
    double[] mean = new double[5];
    double[][] sumCount = {{18, 6}, {5, 1}, {19, 4}, {0, 0}, {12, 6}};
    for (int i = 0; i < 5; i++) {
      mean[i] = (sumCount[i][0] + 10 * mu) / (sumCount[i][1] + 10);
    }
    // item 2 (four high) > item 1 (one 5) > item 3 (none: the prior, 3.18) > item 0 (six 3s)
    // > item 4 (six 2s)
    assertArrayEquals(new int[] {2, 1, 3, 0, 4}, r.positions());
    for (int n = 0; n < 5; n++) {
      assertEquals((float) mean[r.positions()[n]], r.scores()[n]);
    }
    assertEquals("top_rated", r.fallback());
  }

  @Test
  void unknownUser_filtersAndOffset_apply() {
    put("m", true);
    Ranked page = ask("m", 99, 2, 1, UnknownUserFallback.POPULAR, new long[0], new long[] {4});
    assertArrayEquals(new int[] {2, 1}, page.positions());
    Ranked allowed = ask("m", 99, 10, 0, UnknownUserFallback.POPULAR, new long[] {3, 1, 2},
        new long[] {2});
    assertArrayEquals(new int[] {1, 3}, allowed.positions());
  }

  @Test
  void unknownUser_error_andNoValues_areRefused() {
    put("m", true);
    assertThrows(InvalidRequestException.class, () -> ask("m", 99, 3, 0,
        UnknownUserFallback.ERROR, new long[0], new long[0]));
    put("counts-only", false);
    assertThrows(PreconditionFailedException.class, () -> ask("counts-only", 99, 3, 0,
        UnknownUserFallback.TOP_RATED, new long[0], new long[0]));
    Ranked r = ask("counts-only", 99, 2, 0, UnknownUserFallback.POPULAR, new long[0],
        new long[0]);
    assertArrayEquals(new int[] {0, 4}, r.positions());
  }

  @Test
  void knownUser_isNotAFallback() {
    put("m", true);
    Ranked r = ask("m", 1, 3, 0, UnknownUserFallback.POPULAR, new long[0], new long[0]);
    assertEquals("", r.fallback());
  }

  @Test
  void batch_unknownUsers_getRecommendsFallback_knownOnesTheirOwn() {
    put("m", true);
    IdRefs users = new IdRefs(new long[] {1, 99, 3, 98}, new String[0], "user_ids",
        "user_keys");
    ModelQueries.Batch b = queries.prepareBatch("m", users, 3, null, null,
        new IdRefs(new long[] {4}, new String[0], "denied_item_ids", "denied_item_keys"), false,
        UnknownUserFallback.TOP_RATED);
    Ranked[] out = b.compute(0, 4);
    Ranked single = ask("m", 99, 3, 0, UnknownUserFallback.TOP_RATED, new long[0],
        new long[] {4});
    for (int j : new int[] {1, 3}) {
      assertArrayEquals(single.positions(), out[j].positions());
      assertArrayEquals(single.scores(), out[j].scores());
      assertEquals("top_rated", out[j].fallback());
    }
    Ranked known = ask("m", 3, 3, 0, UnknownUserFallback.POPULAR, new long[0], new long[] {4});
    assertArrayEquals(known.positions(), out[2].positions());
    assertEquals("", out[0].fallback());
    assertEquals("", out[2].fallback());
  }

  @Test
  void batch_errorFallback_namesTheUnknownUser_andTopRatedNeedsValues() {
    put("m", true);
    IdRefs users = new IdRefs(new long[] {1, 99}, new String[0], "user_ids", "user_keys");
    InvalidRequestException e = assertThrows(InvalidRequestException.class,
        () -> queries.prepareBatch("m", users, 3, null, null, null, false,
            UnknownUserFallback.ERROR));
    assertEquals("user_ids[1]", e.violations().get(0).field());
    put("counts-only", false);
    assertThrows(PreconditionFailedException.class, () -> queries.prepareBatch("counts-only",
        users, 3, null, null, null, false, UnknownUserFallback.TOP_RATED));
    // Every user known: no fallback is computed, so the missing values do not matter.
    IdRefs known = new IdRefs(new long[] {1, 2}, new String[0], "user_ids", "user_keys");
    assertEquals(2, queries.prepareBatch("counts-only", known, 3, null, null, null, false,
        UnknownUserFallback.TOP_RATED).compute(0, 2).length);
  }
}
