package io.mfserve.server;

import io.mfserve.server.model.ann.AnnSettings;
import io.mfserve.server.model.fit.FitCommand;
import io.mfserve.server.model.fit.FitExecutor;
import io.mfserve.server.model.fit.FitOrchestrator;
import io.mfserve.server.model.fit.SolverRegistry;
import io.mfserve.server.model.ids.IdRefs;
import io.mfserve.server.model.ids.UnknownIdPolicy;
import io.mfserve.server.model.matrix.MatrixAccumulator;
import io.mfserve.server.model.matrix.MatrixStore;
import io.mfserve.server.model.matrix.MatrixUploads;
import io.mfserve.server.model.matrix.SparseChunk;
import io.mfserve.server.model.query.ModelQueries;
import io.mfserve.server.model.query.ModelService;
import io.mfserve.server.model.query.RecommendQuery;
import io.mfserve.server.model.query.Similarity;
import io.mfserve.server.model.query.Topics;
import io.mfserve.server.model.query.UserHistory;
import io.mfserve.server.model.store.IndexBuilder;
import io.mfserve.server.model.store.Limits;
import io.mfserve.server.model.store.MemoryBudget;
import io.mfserve.server.model.store.ModelStore;
import io.mfserve.server.model.store.ServedModel;
import io.mfserve.server.repository.InMemoryRepository;
import io.mfserve.solver.FactorModel;
import io.mfserve.solver.SolverProvider;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Warms the JIT before health turns SERVING, as TensorFlow Serving's SavedModel warm-up and
 * Triton's {@code model_warmup} do: a short fit of every registered solver on a small synthetic
 * matrix, then a few hundred queries of each kind against the model it made (predict,
 * recommend for a known and a folded-in user, recommend batch, similar items and users, predict
 * row, fold-in, factors, topics; and once more through approximate indexes built for the
 * first model), so that the first real Fit or query runs compiled code
 * instead of paying for the interpreter and the compiler.
 *
 * <p>It runs through the application layer ({@link FitOrchestrator}, {@link ModelService},
 * {@link ModelQueries}) — the same classes, so the same compiled methods, as real calls — but
 * on a <em>sandbox</em> of its own: a private in-memory repository, model store, matrix store
 * and memory budget, thrown away afterwards. Nothing it makes is listed, written to the
 * server's model repository, or counted in the server's memory budget. It shares only the
 * solver registry and the {@link FitExecutor} (its pools are what real fits run on).
 *
 * <p>Each solver fits three times: on the matrix, on its transpose, and on the matrix again.
 * One fit is not enough. C2 compiles the per-row kernels during the first fit with loop
 * predicates speculated from that fit's profile, and a later fit (a new set of arrays, other
 * row lengths) fails them: an uncommon trap, a deoptimisation and a recompile, seen with
 * {@code -XX:+LogCompilation} as {@code profile_predicate} traps in ALS's {@code explicitRow},
 * {@code solveSystem} and {@code Cholesky.solve} at the start of each of the next two fits.
 * After a few such traps C2 compiles the method without them; the second and third warm-up
 * fits take those traps so that the first real fit does not (ALS on ML-100K u1.base: the first
 * fit after start went from about 2× the fifth to within 1.2× of it).
 *
 * <p>Sizes were chosen by measurement (see {@code solvers/bench/warmup/run_bench.sh}): large
 * enough that C2 compiles the solvers' per-row kernels (thousands of rows per sweep, a dozen
 * sweeps), small enough that the whole warm-up costs about two seconds on two cores. A solver
 * whose warm-up fails (a plugin that wants parameters, say) is logged and skipped; the server
 * still turns SERVING. Not thread-safe; run once, from {@link MfServer#start()}.
 */
public final class Warmup {
  private static final Logger LOG = Logger.getLogger(Warmup.class.getName());

  /** Users (rows) of the synthetic matrix. */
  static final int USERS = 600;
  /** Items (columns) of the synthetic matrix. */
  static final int ITEMS = 900;
  /** Fewest entries of a user. */
  static final int MIN_PER_USER = 1;
  /** Most entries of a user (ML-100K's heaviest user has 737). */
  static final int MAX_PER_USER = 400;
  /**
   * Items in the long tail, rated once or a few times each (real catalogues have many): fewer
   * entries than the rank make the Gram matrices of those columns rank-deficient.
   */
  static final int TAIL_ITEMS = 300;
  /** Chance that an entry goes to a tail item (about 2.5 entries per tail item). */
  static final double TAIL_SHARE = 0.013;
  /** Queries of each kind per model. */
  static final int QUERIES = 300;
  /** The ef of the warm-up's approximate queries (see {@link #approximate}). */
  static final int WARMUP_EF = 100;
  /** A warm-up fit that takes longer than this is cancelled (a slow plugin, a tiny machine). */
  static final Duration FIT_LIMIT = Duration.ofSeconds(30);

  /** How long the JIT must be idle before the warm-up counts as done. */
  static final Duration COMPILER_QUIET = Duration.ofMillis(300);
  /** The longest wait for the JIT to go idle after the warm-up's work. */
  static final Duration COMPILER_WAIT = Duration.ofSeconds(2);

  private final SolverRegistry solvers;
  private final FitExecutor executor;
  private final Clock clock;

  /** What the warm-up did: solvers warmed, queries run, failures, seconds. */
  public record Report(List<String> warmed, List<String> failed, int queries, double seconds) { }

  /** A warm-up over the server's solvers, fitting on its executor. */
  public Warmup(SolverRegistry solvers, FitExecutor executor, Clock clock) {
    this.solvers = solvers;
    this.executor = executor;
    this.clock = clock;
  }

  /** Runs the warm-up; never throws for a solver's failure (it is logged and reported). */
  public Report run() {
    long start = System.nanoTime();
    // The sandbox: nothing below reaches the server's store, repository or budget.
    MemoryBudget budget = new MemoryBudget(1L << 30);
    ModelStore store = new ModelStore(new InMemoryRepository(solvers), budget);
    MatrixStore matrices = new MatrixStore(Duration.ofMinutes(5), clock);
    FitOrchestrator fits = new FitOrchestrator(solvers, store, matrices, executor, clock);
    MatrixUploads uploads = new MatrixUploads(budget, Limits.defaults(), matrices);
    ModelService service = new ModelService(solvers, store, clock);
    ModelQueries queries = new ModelQueries(service, solvers, executor);
    List<String> warmed = new ArrayList<>();
    List<String> failed = new ArrayList<>();
    int ran = 0;
    // The same entries twice, as given and transposed: a second shape whose fit recompiles
    // what the first one's profile specialised too narrowly (see the class comment).
    String given = uploads.store(syntheticMatrix(uploads, false));
    String transposed = uploads.store(syntheticMatrix(uploads, true));
    String[] matrixIds = {given, transposed, given};
    try {
      for (SolverProvider p : solvers.all()) {
        try {
          for (int shape = 0; shape < matrixIds.length; shape++) {
            ServedModel m = fit(fits, p, matrixIds[shape], "warmup-" + p.name() + "-" + shape);
            try {
              if (shape == 0) {
                ran += query(service, queries, m);
                if (warmed.isEmpty()) {
                  ran += approximate(service, queries, m);
                }
              }
            } finally {
              service.deleteModel(m.id());
            }
          }
          warmed.add(p.name());
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          failed.add(p.name());
          break;
        } catch (ExecutionException | TimeoutException | RuntimeException e) {
          Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
          LOG.log(Level.WARNING, "warm-up of solver " + p.name() + " failed (the server serves"
              + " it all the same, only its first fit runs cold): " + cause);
          failed.add(p.name());
        }
      }
    } finally {
      matrices.delete(given);
      matrices.delete(transposed);
    }
    if (budget.usedBytes() != 0) {
      LOG.warning("warm-up sandbox still holds " + budget.usedBytes() + " bytes (a leak)");
    }
    long worked = System.nanoTime();
    awaitCompilerQuiet();
    long end = System.nanoTime();
    double seconds = (end - start) / 1e9;
    Report r = new Report(List.copyOf(warmed), List.copyOf(failed), ran, seconds);
    LOG.info(String.format(Locale.ROOT, "warm-up: solvers %s fitted on a synthetic %d × %d"
        + " matrix, its transpose and it again, and %d queries run in %.2f s, then %.2f s for"
        + " the JIT's queue to drain%s",
        warmed, USERS, ITEMS + TAIL_ITEMS, ran, (worked - start) / 1e9, (end - worked) / 1e9,
        failed.isEmpty() ? "" : "; failed: " + failed));
    return r;
  }

  /**
   * Fits solver {@code p} with its defaults on a stored matrix, cancelled after
   * {@link #FIT_LIMIT}. A failed fit leaves no model behind (the service's guarantee).
   */
  private static ServedModel fit(FitOrchestrator fits, SolverProvider p, String matrixId,
      String modelId) throws InterruptedException, ExecutionException, TimeoutException {
    long deadline = System.nanoTime() + FIT_LIMIT.toNanos();
    return fits.fit(new FitCommand(p.name(), null, null, matrixId, modelId, Map.of(),
        Set.of(), null, null, 0, "warmup", ""), () -> System.nanoTime() > deadline)
        .get(FIT_LIMIT.toSeconds() + 5, TimeUnit.SECONDS);
  }

  /**
   * Builds the first model's approximate indexes (every side, whatever the server's
   * {@code --ann-min-rows}: a few tens of milliseconds at this size) and runs the queries again,
   * so that the graph search and its exact rescoring are compiled too. With a small ef: the
   * code compiled is the same, and the default ef (600) would walk nearly every node of these
   * small graphs on each of the warm-up's queries, lengthening the warm-up for nothing.
   */
  private int approximate(ModelService service, ModelQueries queries, ServedModel m) {
    AnnSettings d = AnnSettings.defaults();
    AnnSettings settings = new AnnSettings(2, d.maxConn(), d.beamWidth(), WARMUP_EF,
        d.innerProduct(), d.recallSamples(), d.buildThreads(), 0);
    try (IndexBuilder indexes = new IndexBuilder(settings)) {
      indexes.buildNow(m);
    }
    return query(service, queries, m);
  }

  /**
   * Waits until the JIT compiler has been idle for {@link #COMPILER_QUIET} (its total compile
   * time stops moving), at most {@link #COMPILER_WAIT}. The compiler threads share the cores
   * with the warm-up's fits, so on a small machine C2 is still working through the methods the
   * warm-up made hot when the last warm-up query returns; without this wait the first real fit
   * would run part of its sweeps in C1 code while C2 catches up.
   */
  private static void awaitCompilerQuiet() {
    java.lang.management.CompilationMXBean jit =
        java.lang.management.ManagementFactory.getCompilationMXBean();
    if (jit == null || !jit.isCompilationTimeMonitoringSupported()) {
      return;
    }
    long deadline = System.nanoTime() + COMPILER_WAIT.toNanos();
    long last = jit.getTotalCompilationTime();
    long quietSince = System.nanoTime();
    try {
      while (System.nanoTime() < deadline) {
        Thread.sleep(20);
        long now = jit.getTotalCompilationTime();
        if (now != last) {
          last = now;
          quietSince = System.nanoTime();
        } else if (System.nanoTime() - quietSince >= COMPILER_QUIET.toNanos()) {
          return;
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * A rank-4 non-negative matrix of ratings in [1, 5] plus noise, shaped like real ratings
   * (ML-100K): row lengths log-uniform in [{@link #MIN_PER_USER}, {@link #MAX_PER_USER}] and
   * item popularity skewed (a few items in many rows, most in few), sent through the
   * accumulator as an upload would be. The shape matters, not only the size: C2 compiles from
   * the profile it saw, and a warm-up whose rows were all short left range-check predicates
   * that ML-100K's long rows broke (a deoptimisation and a recompile in the first real fit).
   */
  private static io.mfserve.server.model.matrix.PreparedMatrix syntheticMatrix(
      MatrixUploads uploads, boolean transposed) {
    SplittableRandom rnd = new SplittableRandom(16);
    int rank = 4;
    float[] u = new float[USERS * rank];
    float[] v = new float[(ITEMS + TAIL_ITEMS) * rank];
    for (int n = 0; n < u.length; n++) {
      u[n] = (float) rnd.nextDouble(0.2, 1.1);
    }
    for (int n = 0; n < v.length; n++) {
      v[n] = (float) rnd.nextDouble(0.2, 1.1);
    }
    int[] lengths = new int[USERS];
    int nnz = 0;
    double logMin = Math.log(MIN_PER_USER);
    double logMax = Math.log(MAX_PER_USER);
    for (int r = 0; r < USERS; r++) {
      lengths[r] = (int) Math.exp(rnd.nextDouble(logMin, logMax));
      nnz += lengths[r];
    }
    long[] rows = new long[nnz];
    long[] cols = new long[nnz];
    float[] values = new float[nnz];
    int[] mark = new int[ITEMS + TAIL_ITEMS];
    int n = 0;
    for (int r = 0; r < USERS; r++) {
      for (int j = 0; j < lengths[r]; j++) {
        int c;
        do {
          double x = rnd.nextDouble();
          c = rnd.nextDouble() < TAIL_SHARE ? ITEMS + rnd.nextInt(TAIL_ITEMS)
              : (int) (ITEMS * x * x); // popularity falls off as 1/sqrt(position)
        } while (mark[c] == r + 1);
        mark[c] = r + 1;
        double dot = 0;
        for (int f = 0; f < rank; f++) {
          dot += u[r * rank + f] * v[c * rank + f];
        }
        rows[n] = 1 + r;
        cols[n] = 1 + c;
        values[n++] = (float) Math.max(1, Math.min(5, Math.rint(dot + rnd.nextGaussian() * 0.3)));
      }
    }
    try (MatrixAccumulator acc = uploads.newMatrix("warmup")) {
      int chunk = 16384;
      for (int from = 0; from < nnz; from += chunk) {
        int to = Math.min(nnz, from + chunk);
        long[] r = java.util.Arrays.copyOfRange(rows, from, to);
        long[] c = java.util.Arrays.copyOfRange(cols, from, to);
        acc.appendSparse(new SparseChunk(transposed ? c : r, null, transposed ? r : c, null,
            java.util.Arrays.copyOfRange(values, from, to)));
      }
      return acc.finish();
    }
  }

  /** Runs {@link #QUERIES} queries of each kind on {@code m}; returns how many succeeded. */
  private static int query(ModelService service, ModelQueries q, ServedModel m) {
    int ran = 0;
    for (int n = 0; n < QUERIES; n++) {
      ran += queryRound(service, q, m, n);
    }
    return ran;
  }

  /** One query of each kind (a batch and the topics every tenth round). */
  private static int queryRound(ModelService service, ModelQueries q, ServedModel m, int n) {
    String id = m.id();
    String[] noKeys = new String[0];
    IdRefs noItems = new IdRefs(new long[0], noKeys, "allowed_item_ids", "allowed_item_keys");
    long[] pairUsers = new long[16];
    long[] pairItems = new long[16];
    int ran = 0;
    {
      long user = 1 + (n * 37L) % USERS;
      long item = 1 + (n * 11L) % (ITEMS / 4); // popular items: every one is in the matrix
      IdRefs u = one(user, "user");
      IdRefs i = one(item, "item");
      for (int p = 0; p < pairUsers.length; p++) {
        pairUsers[p] = 1 + (n + p * 13L) % USERS;
        pairItems[p] = 1 + (n + p * 5L) % (ITEMS / 4);
      }
      // A history: items the synthetic users rate, as a new user would send them.
      long[] hist = {item, 1 + (item + 7) % (ITEMS / 4), 1 + (item + 14) % (ITEMS / 4),
          1 + (item + 21) % (ITEMS / 4)};
      UserHistory history = new UserHistory(new IdRefs(hist, noKeys, "history.item_ids",
          "history.item_keys"), new float[] {4, 3, 5, 2}, "history.values");
      ran += attempt(() -> service.predict(id, new IdRefs(pairUsers, noKeys, "user_ids",
          "user_keys"), new IdRefs(pairItems, noKeys, "item_ids", "item_keys"),
          UnknownIdPolicy.GLOBAL_MEAN));
      ran += attempt(() -> q.recommend(new RecommendQuery(id, u, null, 10, 0, null, noItems,
          noItems)));
      ran += attempt(() -> q.recommend(new RecommendQuery(id, null, history, 10, 0, null,
          noItems, noItems)));
      ran += attempt(() -> q.similarItems(id, i, 10, n % 2 == 0 ? Similarity.COSINE
          : Similarity.DOT));
      ran += attempt(() -> q.similarUsers(id, u, 10, Similarity.COSINE));
      ran += attempt(() -> q.predictRow(id, u, null));
      ran += attempt(() -> q.foldIn(id, history));
      ran += attempt(() -> {
        FactorModel f = m.factors();
        int from = (int) ((n * 64L) % f.numUsers());
        f.copyUserFactors(from, Math.min(f.numUsers(), from + 64));
        int at = (int) ((n * 64L) % f.numItems());
        return f.copyItemFactors(at, Math.min(f.numItems(), at + 64));
      });
      if (n % 10 == 0) {
        ran += attempt(() -> q.prepareBatch(id, new IdRefs(pairUsers, noKeys, "user_ids",
            "user_keys"), 10, null, noItems, noItems).compute(0, pairUsers.length));
        ran += attempt(() -> Topics.of(m, 10, List.of()));
      }
    }
    return ran;
  }

  private static IdRefs one(long id, String side) {
    return new IdRefs(new long[] {id}, new String[0], side + "_id", side + "_key");
  }

  /** Runs one query; a kind the model does not support (fold-in, say) is skipped quietly. */
  private static int attempt(java.util.function.Supplier<?> query) {
    try {
      query.get();
      return 1;
    } catch (RuntimeException e) {
      LOG.log(Level.FINE, "warm-up query skipped", e);
      return 0;
    }
  }
}
