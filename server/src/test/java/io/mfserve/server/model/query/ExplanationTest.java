package io.mfserve.server.model.query;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import io.mfserve.server.repository.InMemoryRepository;
import io.mfserve.solver.AbsentEntries;
import io.mfserve.solver.FactorModel;
import io.mfserve.solver.Parameters;
import io.mfserve.solver.SolverConfig;
import io.mfserve.solver.SolverProvider;
import io.mfserve.solver.TrainingMatrix;
import io.mfserve.solver.testing.TestFitContext;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.ServiceLoader;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Explain: for ALS, the shares of the user's entries sum to the score of the user solved again
 * from them (what Recommend scores for that history); for other solvers, factor cosines.
 */
class ExplanationTest {
  private static final int USERS = 40;
  private static final int ITEMS = 30;
  private static final int K = 4;
  private FitExecutor executor;
  private ModelStore store;
  private SolverRegistry registry;
  private ModelQueries queries;
  private MemoryBudget budget;
  private TrainingMatrix data;

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
    // Ratings 1..5 of a planted rank-2 structure, about half the pairs.
    Random rnd = new Random(3);
    List<int[]> rc = new ArrayList<>();
    List<Float> vals = new ArrayList<>();
    for (int u = 0; u < USERS; u++) {
      for (int i = 0; i < ITEMS; i++) {
        if (rnd.nextDouble() < 0.5) {
          rc.add(new int[] {u, i});
          double x = 3 + 1.5 * Math.sin(u + 0.7 * i) + 0.3 * rnd.nextGaussian();
          vals.add((float) Math.max(1, Math.min(5, Math.rint(x))));
        }
      }
    }
    int n = rc.size();
    int[] r = new int[n];
    int[] c = new int[n];
    float[] v = new float[n];
    for (int j = 0; j < n; j++) {
      r[j] = rc.get(j)[0];
      c[j] = rc.get(j)[1];
      v[j] = vals.get(j);
    }
    data = TrainingMatrix.fromCoordinates(USERS, ITEMS, r, c, v, AbsentEntries.UNKNOWN);
  }

  @AfterEach
  void stop() {
    executor.close();
  }

  /** Fits {@code solver} on the data and serves it as {@code id}, with or without values. */
  private void put(String id, String solver, Map<String, String> params, boolean values) {
    SolverProvider p = registry.get(solver);
    SolverConfig config = new SolverConfig(K, 1, AbsentEntries.UNKNOWN,
        Parameters.resolve(p.parameters(), params));
    FactorModel f;
    try (TestFitContext context = new TestFitContext(1)) {
      f = p.create(config).fit(data, context);
    }
    SeenItems seen = SeenItems.of(data);
    if (!values) {
      int[] ptr = new int[USERS + 1];
      int[] cols = new int[(int) seen.entries()];
      seen.copyOffsets(0, ptr);
      seen.copyEntries(0, cols);
      seen = SeenItems.of(ptr, cols, USERS, ITEMS);
    }
    ModelMetadata meta = new ModelMetadata(id, solver, K, Map.of(), 1, AbsentEntries.UNKNOWN,
        data.nnz(), 0, data.mean(), 0, 0, Instant.now(), "test", "fp", "fp-" + id, "");
    store.claim(id, "fp-" + id);
    store.complete(new io.mfserve.server.model.store.ServedModel(f, IdIndex.positions(USERS),
        IdIndex.positions(ITEMS), seen, ScanIndex.of(f), Popularity.of(data), meta, config,
        budget.reserve(0, "t")));
  }

  private static IdRefs user(long u) {
    return new IdRefs(new long[] {u}, new String[0], "user_id", "user_key");
  }

  private static IdRefs item(long i) {
    return new IdRefs(new long[] {i}, new String[0], "item_id", "item_key");
  }

  /** The score Recommend gives item i for a new user with user u's training entries. */
  private float foldedScore(String model, int u, int i) {
    int n = data.rowLength(u);
    long[] items = new long[n];
    float[] values = new float[n];
    for (int q = data.rowStart(u), j = 0; q < data.rowEnd(u); q++, j++) {
      items[j] = data.rowColumn(q);
      values[j] = data.rowValue(q);
    }
    UserHistory h = new UserHistory(new IdRefs(items, new String[0], "user_history.item_ids",
        "user_history.item_keys"), values, "user_history.values");
    Ranked r = queries.recommend(new RecommendQuery(model, null, h, 1, 0, false,
        new IdRefs(new long[] {i}, new String[0], "allowed_item_ids", "allowed_item_keys"),
        null, true));
    return r.scores()[0];
  }

  @Test
  void als_sharesSumToTheRefoldedScore_withBiases() {
    put("als", "als", Map.of("biases", "true", "regularization", "0.05",
        "max_iterations", "20"), true);
    for (int u : new int[] {0, 11, 39}) {
      for (int i : new int[] {0, 7, 29}) {
        Explanation e = queries.explain("als", user(u), item(i), 1000);
        assertEquals(Explanation.Method.LEAST_SQUARES, e.method());
        assertEquals(data.rowLength(u), e.entries());
        assertEquals(e.entries(), e.contributions().length, "k above the history: all of it");
        double sum = e.base();
        for (double c : e.contributions()) {
          sum += c;
        }
        assertEquals(e.explainedScore(), sum, 1e-9);
        assertEquals(foldedScore("als", u, i), e.explainedScore(), 1e-4,
            "user " + u + ", item " + i);
        // Near convergence the refolded user is the trained one.
        assertEquals(e.score(), e.explainedScore(), 0.05, "user " + u + ", item " + i);
      }
    }
  }

  @Test
  void als_noBiases_sharesSumToTheRefoldedScore_largestFirst() {
    put("plain", "als", Map.of("biases", "false", "regularization", "0.1",
        "weighted_lambda", "false", "max_iterations", "20"), true);
    Explanation e = queries.explain("plain", user(5), item(3), 1000);
    assertEquals(0, e.base());
    assertEquals(foldedScore("plain", 5, 3), e.explainedScore(), 1e-4);
    double[] c = e.contributions();
    for (int j = 1; j < c.length; j++) {
      assertTrue(c[j - 1] >= c[j], "largest first at " + j);
    }
    // Each returned value is the user's own value of that item.
    for (int j = 0; j < c.length; j++) {
      int q = java.util.Arrays.binarySearch(colsOf(5), e.positions()[j]);
      assertEquals(data.rowValue(data.rowStart(5) + q), e.values()[j]);
    }
    Explanation top3 = queries.explain("plain", user(5), item(3), 3);
    assertArrayEquals(java.util.Arrays.copyOf(e.positions(), 3), top3.positions());
    assertEquals(e.explainedScore(), top3.explainedScore(), 1e-12, "all entries are weighed");
  }

  private int[] colsOf(int u) {
    int[] out = new int[data.rowLength(u)];
    for (int q = data.rowStart(u), j = 0; q < data.rowEnd(u); q++, j++) {
      out[j] = data.rowColumn(q);
    }
    return out;
  }

  @Test
  void otherSolver_ranksHistoryByFactorCosine() {
    put("sgd", "sgd", Map.of("max_iterations", "5"), true);
    Explanation e = queries.explain("sgd", user(2), item(4), 5);
    assertEquals(Explanation.Method.SIMILARITY, e.method());
    assertTrue(Double.isNaN(e.explainedScore()));
    FactorModel f = store.peek("sgd").factors();
    double best = -2;
    for (int i : colsOf(2)) {
      best = Math.max(best, cosine(f, 4, i));
    }
    assertEquals(best, e.contributions()[0], 1e-9);
    for (int j = 0; j < e.positions().length; j++) {
      assertEquals(cosine(f, 4, e.positions()[j]), e.contributions()[j], 1e-9);
    }
  }

  private static double cosine(FactorModel f, int a, int b) {
    float[] x = new float[K];
    float[] y = new float[K];
    f.itemVector(a, x);
    f.itemVector(b, y);
    double d = 0;
    double xx = 0;
    double yy = 0;
    for (int c = 0; c < K; c++) {
      d += (double) x[c] * y[c];
      xx += (double) x[c] * x[c];
      yy += (double) y[c] * y[c];
    }
    return d / Math.sqrt(xx * yy);
  }

  @Test
  void unknownIds_andMissingValues_areRefused() {
    put("als", "als", Map.of("max_iterations", "3"), true);
    InvalidRequestException u = assertThrows(InvalidRequestException.class,
        () -> queries.explain("als", user(999), item(1), 3));
    assertEquals("user_id", u.violations().get(0).field());
    InvalidRequestException i = assertThrows(InvalidRequestException.class,
        () -> queries.explain("als", user(1), item(999), 3));
    assertEquals("item_id", i.violations().get(0).field());
    assertThrows(InvalidRequestException.class, () -> queries.explain("als", user(1), null, 3));
    put("old", "als", Map.of("max_iterations", "3"), false);
    PreconditionFailedException p = assertThrows(PreconditionFailedException.class,
        () -> queries.explain("old", user(1), item(1), 3));
    assertTrue(p.getMessage().contains("version 3"), p.getMessage());
  }
}
