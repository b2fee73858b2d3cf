package io.mfserve.client.eval;

import io.grpc.Status;
import io.mfserve.client.MfClient;
import io.mfserve.client.MfServeException;
import io.mfserve.proto.v1.FitRequest;
import io.mfserve.proto.v1.ModelInfo;
import io.mfserve.proto.v1.PredictRequest;
import io.mfserve.proto.v1.RecommendBatchRequest;
import io.mfserve.proto.v1.RecommendBatchResponse;
import io.mfserve.proto.v1.RecommendRequest;
import io.mfserve.proto.v1.RecommendResponse;
import io.mfserve.proto.v1.ScoredItem;
import io.mfserve.proto.v1.UnknownIdPolicy;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Evaluates fit settings on a running server: for each fold, uploads the training part once
 * ({@code UploadMatrix}), fits every setting of the grid on it by {@code matrix_id}, scores
 * each model on the fold's test part, deletes the model (unless kept), and deletes the upload
 * when the fold is done — also when anything fails. This is Surprise's {@code cross_validate}
 * and {@code GridSearchCV} with the training on the server.
 *
 * <p><b>Error metrics</b> ({@link ErrorMetrics}) score every test pair with one {@code Predict}
 * under {@code UNKNOWN_ID_POLICY_BASELINE}, so a pair whose user or item is absent from the
 * training part scores the training mean plus the known side's bias (models with biases; the
 * mean otherwise), as Surprise's baseline predicts it and as the baseline row does; a server
 * that does not know that policy is asked again under {@code UNKNOWN_ID_POLICY_GLOBAL_MEAN}.
 * {@link FoldInfo} counts those cold pairs.
 *
 * <p><b>Ranking metrics</b> ({@link RankingMetrics}) take each test user's relevant test items
 * (all, or those at least {@link EvalOptions#relevantThreshold()}) and the user's top-k from
 * the model with {@code exclude_seen} on, so the user's training items are never candidates.
 * Users absent from the training part cannot be recommended to and are left out (counted in
 * {@link FoldInfo}); relevant items absent from the training part stay in the relevant set
 * (the model cannot rank them, and that is part of its score). Recommendations come from
 * {@code RecommendBatch} in batches of {@value #BATCH_USERS} users; a server answering {@code
 * UNIMPLEMENTED} is asked per user instead, with up to {@link EvalOptions#concurrency()}
 * asynchronous {@code Recommend} calls in flight.
 *
 * <p><b>The baseline</b> ({@link Baselines}) is fitted on each fold's training part on the
 * client and scored on its test part before any setting: the bias baseline for the error
 * metrics, popularity for the ranking metrics. {@link EvalReport#baseline()} holds it, apart
 * from the ranked settings.
 *
 * <p>Fits run one at a time, so fit seconds are not inflated by each other. With a grid, a
 * setting whose fit is rejected ({@code INVALID_ARGUMENT}, {@code FAILED_PRECONDITION}, {@code
 * OUT_OF_RANGE}, e.g. a diverging learning rate) is recorded as failed and skipped on later
 * folds, and the search goes on; if every setting fails, or there is no grid, the first such
 * failure is thrown. Any other failure (the server gone, memory exhausted) ends the run.
 *
 * <p>One evaluator runs one evaluation at a time; it is not thread-safe.
 */
public final class Evaluator {
  /** Users per RecommendBatch call: keeps each call's stream well inside its deadline. */
  static final int BATCH_USERS = 1000;
  /** The setting name under which the baseline's result is reported. */
  public static final String BASELINE = "baseline";

  /** Hears what an evaluation does, for progress output. Methods run on the caller's thread. */
  public interface Listener {
    /**
     * A fold's training part was uploaded.
     *
     * @param fold what the fold holds
     * @param matrixId the upload's id
     */
    default void foldUploaded(FoldInfo fold, String matrixId) {}

    /**
     * A setting was fitted and scored on a fold (or failed).
     *
     * @param fold the fold
     * @param setting the setting, with its index in the grid's order
     * @param settings how many settings there are
     * @param result the scores, or the failure
     */
    default void scored(FoldInfo fold, SettingResult setting, int settings, FoldResult result) {}

    /**
     * The baseline ({@link Baselines}) was fitted and scored on a fold, before any setting.
     *
     * @param fold the fold
     * @param result its scores ({@link Metric#FIT_SECONDS} is the client's fitting time)
     */
    default void baselineScored(FoldInfo fold, FoldResult result) {}
  }

  private final MfClient client;
  private final EvalOptions options;
  private boolean batchUnavailable;
  private boolean baselinePolicyUnavailable;

  /**
   * An evaluator.
   *
   * @param client the server to fit and score on
   * @param options what to fit and measure
   */
  public Evaluator(MfClient client, EvalOptions options) {
    this.client = Objects.requireNonNull(client, "client");
    this.options = Objects.requireNonNull(options, "options");
  }

  /**
   * Runs the evaluation.
   *
   * @param data the entries the folds index
   * @param folds the folds, each tested once per setting
   * @param grid the settings; {@link Grid#none()} for the base fit alone
   * @param listener hears progress; may be null
   * @return every setting's results, best first
   * @throws MfServeException when the server fails the run (see the class comment)
   * @throws IllegalArgumentException if there are no folds or a fold is empty
   */
  public EvalReport run(Interactions data, List<Fold> folds, Grid grid, Listener listener) {
    if (folds.isEmpty()) {
      throw new IllegalArgumentException("no folds to evaluate");
    }
    Listener l = listener != null ? listener : new Listener() {};
    List<Map<String, String>> settings = grid.settings();
    List<List<FoldResult>> results = new ArrayList<>();
    settings.forEach(s -> results.add(new ArrayList<>()));
    MfServeException[] failures = new MfServeException[settings.size()];
    List<FoldInfo> infos = new ArrayList<>();
    List<FoldResult> baseline = new ArrayList<>();
    for (Fold fold : folds) {
      if (fold.train().length == 0 || fold.test().length == 0) {
        throw new IllegalArgumentException("fold " + fold.number() + " has "
            + fold.train().length + " training and " + fold.test().length + " test entries; "
            + "both parts need entries");
      }
      FoldData fd = new FoldData(data, fold, options);
      infos.add(fd.info);
      FoldResult b = scoreBaseline(fd);
      baseline.add(b);
      l.baselineScored(fd.info, b);
      String matrixId = client.uploadMatrix(data.toMatrix(fold.train())).getMatrixId();
      try {
        l.foldUploaded(fd.info, matrixId);
        for (int s = 0; s < settings.size(); s++) {
          FoldResult r;
          if (failures[s] != null) {
            r = new FoldResult(fold.number(), "", Map.of(),
                "skipped: " + describe(failures[s]));
          } else {
            try {
              r = fitAndScore(fd, matrixId, settings.get(s));
            } catch (MfServeException e) {
              if (grid.isEmpty() || !isSettingFailure(e)) {
                throw e;
              }
              failures[s] = e;
              r = new FoldResult(fold.number(), "", Map.of(), describe(e));
            }
          }
          results.get(s).add(r);
          l.scored(fd.info, new SettingResult(s, settings.get(s), results.get(s)),
              settings.size(), r);
        }
      } finally {
        deleteQuietly(() -> client.deleteMatrix(matrixId));
      }
    }
    if (Arrays.stream(failures).allMatch(Objects::nonNull)) {
      throw failures[0];
    }
    List<SettingResult> ranked = new ArrayList<>();
    for (int s = 0; s < settings.size(); s++) {
      ranked.add(new SettingResult(s, settings.get(s), results.get(s)));
    }
    Metric primary = options.primary();
    Comparator<Double> direction = primary.lowerIsBetter() ? Comparator.naturalOrder()
        : Comparator.reverseOrder();
    // Failed settings (NaN) last; List.sort is stable, so ties keep the grid's order.
    ranked.sort(Comparator.comparing((SettingResult r) -> Double.isNaN(r.mean(primary)))
        .thenComparing(r -> Double.isNaN(r.mean(primary)) ? 0.0 : r.mean(primary), direction));
    return new EvalReport(infos, options.metrics(), primary, options.k(), ranked,
        new SettingResult(-1, Map.of(BASELINE, baselineName(options)), baseline));
  }

  /**
   * What the baseline row measures under these options: {@code biases} for the error metrics,
   * {@code popularity} for the ranking metrics, both names when both are measured.
   *
   * @param options the evaluation's options
   * @return e.g. {@code biases}
   */
  public static String baselineName(EvalOptions options) {
    if (options.errorMetrics() && options.rankingMetrics()) {
      return "biases+popularity";
    }
    return options.errorMetrics() ? "biases" : "popularity";
  }

  /** Fits and scores the baselines of {@link Baselines} on one fold, on the client. */
  private FoldResult scoreBaseline(FoldData fd) {
    long start = System.nanoTime();
    Interactions data = fd.data;
    int[] train = fd.fold.train();
    Map<Metric, Double> values = new EnumMap<>(Metric.class);
    Baselines.BiasModel biases = null;
    int[] order = null;
    if (options.errorMetrics()) {
      biases = Baselines.fitBiases(data, train);
    }
    if (options.rankingMetrics()) {
      order = Baselines.popularity(data, train, options.relevantThreshold());
    }
    values.put(Metric.FIT_SECONDS, (System.nanoTime() - start) / 1e9);
    if (biases != null) {
      ErrorMetrics m = new ErrorMetrics();
      for (int e : fd.fold.test()) {
        m.add(biases.predict(data.user(e), data.item(e)), data.value(e));
      }
      values.put(Metric.RMSE, m.rmse());
      values.put(Metric.MAE, m.mae());
    }
    if (order != null) {
      int[][] seen = seenItems(data, train, fd.rankedUsers);
      RankingMetrics m = new RankingMetrics(options.k());
      for (int u = 0; u < fd.rankedUsers.length; u++) {
        m.add(Baselines.topUnseen(order, seen[u], options.k()), fd.relevant[fd.rankedUsers[u]]);
      }
      values.put(Metric.PRECISION, m.precision());
      values.put(Metric.RECALL, m.recall());
      values.put(Metric.MAP, m.map());
      values.put(Metric.NDCG, m.ndcg());
    }
    return new FoldResult(fd.fold.number(), "", values, null);
  }

  /** Per listed user, the sorted training items. */
  private static int[][] seenItems(Interactions data, int[] train, int[] users) {
    int[] slot = new int[data.numUsers()];
    Arrays.fill(slot, -1);
    for (int u = 0; u < users.length; u++) {
      slot[users[u]] = u;
    }
    int[] counts = new int[users.length];
    for (int e : train) {
      int s = slot[data.user(e)];
      if (s >= 0) {
        counts[s]++;
      }
    }
    int[][] out = new int[users.length][];
    for (int u = 0; u < users.length; u++) {
      out[u] = new int[counts[u]];
    }
    Arrays.fill(counts, 0);
    for (int e : train) {
      int s = slot[data.user(e)];
      if (s >= 0) {
        out[s][counts[s]++] = data.item(e);
      }
    }
    for (int[] items : out) {
      Arrays.sort(items);
    }
    return out;
  }

  private FoldResult fitAndScore(FoldData fd, String matrixId, Map<String, String> setting) {
    FitRequest.Builder request = options.fit().toBuilder().setMatrixId(matrixId);
    Grid.apply(setting, request);
    ModelInfo model = client.fit(request.build());
    String modelId = model.getModelId();
    try {
      Map<Metric, Double> values = new EnumMap<>(Metric.class);
      values.put(Metric.FIT_SECONDS, model.getFitSeconds());
      if (options.errorMetrics()) {
        ErrorMetrics errors = scoreErrors(fd, modelId);
        values.put(Metric.RMSE, errors.rmse());
        values.put(Metric.MAE, errors.mae());
      }
      if (options.rankingMetrics()) {
        RankingMetrics ranking = scoreRanking(fd, modelId);
        values.put(Metric.PRECISION, ranking.precision());
        values.put(Metric.RECALL, ranking.recall());
        values.put(Metric.MAP, ranking.map());
        values.put(Metric.NDCG, ranking.ndcg());
      }
      return new FoldResult(fd.fold.number(), modelId, values, null, TuneChoice.of(model));
    } finally {
      if (!options.keepModels()) {
        deleteQuietly(() -> client.deleteModel(modelId));
      }
    }
  }

  private ErrorMetrics scoreErrors(FoldData fd, String modelId) {
    PredictRequest.Builder b = fd.predict.toBuilder().setModelId(modelId);
    if (baselinePolicyUnavailable) {
      b.setUnknownIds(UnknownIdPolicy.UNKNOWN_ID_POLICY_GLOBAL_MEAN);
    }
    List<Float> scores;
    try {
      scores = client.predict(b.build()).getScoresList();
    } catch (MfServeException e) {
      if (e.code() != Status.Code.INVALID_ARGUMENT || baselinePolicyUnavailable
          || !e.description().contains("unknown_ids")) {
        throw e;
      }
      // A server older than UNKNOWN_ID_POLICY_BASELINE: the global mean for cold pairs.
      baselinePolicyUnavailable = true;
      return scoreErrors(fd, modelId);
    }
    int[] test = fd.fold.test();
    if (scores.size() != test.length) {
      throw new MfServeException(Status.INTERNAL.withDescription("Predict returned "
          + scores.size() + " scores for " + test.length + " pairs"), List.of());
    }
    ErrorMetrics m = new ErrorMetrics();
    for (int i = 0; i < test.length; i++) {
      m.add(scores.get(i), fd.data.value(test[i]));
    }
    return m;
  }

  private RankingMetrics scoreRanking(FoldData fd, String modelId) {
    int[] users = fd.rankedUsers;
    int[][] ranked = null;
    if (!batchUnavailable) {
      try {
        ranked = recommendBatched(fd.data, modelId, users);
      } catch (MfServeException e) {
        if (e.code() != Status.Code.UNIMPLEMENTED) {
          throw e;
        }
        // An older server: ask per user from now on.
        batchUnavailable = true;
      }
    }
    if (ranked == null) {
      ranked = recommendEach(fd.data, modelId, users);
    }
    RankingMetrics m = new RankingMetrics(options.k());
    for (int u = 0; u < users.length; u++) {
      m.add(ranked[u], fd.relevant[users[u]]);
    }
    return m;
  }

  private int[][] recommendBatched(Interactions data, String modelId, int[] users) {
    int[][] out = new int[users.length][];
    for (int from = 0; from < users.length; from += BATCH_USERS) {
      int to = Math.min(users.length, from + BATCH_USERS);
      RecommendBatchRequest.Builder b = RecommendBatchRequest.newBuilder().setModelId(modelId)
          .setK(options.k()).setExcludeSeen(true);
      for (int u = from; u < to; u++) {
        if (data.userKeys()) {
          b.addUserKeys(data.userKey(users[u]));
        } else {
          b.addUserIds(data.userId(users[u]));
        }
      }
      List<RecommendBatchResponse> responses = client.recommendBatch(b.build());
      if (responses.size() != to - from) {
        throw new MfServeException(Status.INTERNAL.withDescription("RecommendBatch answered "
            + responses.size() + " users of " + (to - from)), List.of());
      }
      for (int u = from; u < to; u++) {
        out[u] = items(data, responses.get(u - from).getItemsList());
      }
    }
    return out;
  }

  private int[][] recommendEach(Interactions data, String modelId, int[] users) {
    int[][] out = new int[users.length][];
    Semaphore inFlight = new Semaphore(options.concurrency());
    AtomicReference<Throwable> failure = new AtomicReference<>();
    List<CompletableFuture<RecommendResponse>> calls = new ArrayList<>(users.length);
    try {
      for (int u = 0; u < users.length && failure.get() == null; u++) {
        inFlight.acquire();
        RecommendRequest.Builder b = RecommendRequest.newBuilder().setModelId(modelId)
            .setK(options.k()).setExcludeSeen(true);
        if (data.userKeys()) {
          b.setUserKey(data.userKey(users[u]));
        } else {
          b.setUserId(data.userId(users[u]));
        }
        int slot = u;
        calls.add(client.recommendAsync(b.build()).whenComplete((response, error) -> {
          if (error != null) {
            failure.compareAndSet(null, error);
          } else {
            out[slot] = items(data, response.getItemsList());
          }
          inFlight.release();
        }));
      }
      CompletableFuture.allOf(calls.toArray(new CompletableFuture<?>[0])).join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      calls.forEach(c -> c.cancel(false));
      throw new MfServeException(Status.CANCELLED.withDescription("interrupted while "
          + "recommending").withCause(e), List.of());
    } catch (CompletionException e) {
      failure.compareAndSet(null, e.getCause());
    }
    if (failure.get() != null) {
      throw MfServeException.fromThrowable(failure.get());
    }
    return out;
  }

  /** The data's indices of recommended items; -1 for an item the data does not hold. */
  private static int[] items(Interactions data, List<ScoredItem> items) {
    int[] out = new int[items.size()];
    for (int i = 0; i < out.length; i++) {
      ScoredItem it = items.get(i);
      out[i] = data.itemKeys() ? data.itemIndex(it.getItemKey()) : data.itemIndex(it.getItemId());
    }
    return out;
  }

  private static boolean isSettingFailure(MfServeException e) {
    return switch (e.code()) {
      case INVALID_ARGUMENT, FAILED_PRECONDITION, OUT_OF_RANGE -> true;
      default -> false;
    };
  }

  private static String describe(MfServeException e) {
    return e.code() + ": " + e.description();
  }

  /**
   * Clean-up must not hide the run's own result or error: the server frees unused uploads
   * after their TTL, and a model left behind is visible in {@code ListModels}.
   */
  private static void deleteQuietly(Runnable delete) {
    try {
      delete.run();
    } catch (MfServeException e) {
      // Best effort, see above.
    }
  }

  /** What one fold needs for scoring, computed once and shared by every setting. */
  private static final class FoldData {
    final Interactions data;
    final Fold fold;
    final FoldInfo info;
    /** Every test pair, without a model id, for the error metrics. */
    final PredictRequest predict;
    /** Per user index: relevant test items, sorted; for the ranking metrics. */
    final int[][] relevant;
    /** Users scored by the ranking metrics: with relevant test items and in training. */
    final int[] rankedUsers;

    FoldData(Interactions data, Fold fold, EvalOptions options) {
      this.data = data;
      this.fold = fold;
      boolean[] trainUser = new boolean[data.numUsers()];
      boolean[] trainItem = new boolean[data.numItems()];
      for (int e : fold.train()) {
        trainUser[data.user(e)] = true;
        trainItem[data.item(e)] = true;
      }
      long cold = 0;
      for (int e : fold.test()) {
        if (!trainUser[data.user(e)] || !trainItem[data.item(e)]) {
          cold++;
        }
      }
      this.predict = options.errorMetrics() ? predictRequest(data, fold.test())
          : PredictRequest.getDefaultInstance();
      long testUsers = 0;
      long coldUsers = 0;
      if (options.rankingMetrics()) {
        relevant = relevantItems(data, fold.test(), options.relevantThreshold());
        int[] ranked = new int[data.numUsers()];
        int n = 0;
        for (int u = 0; u < relevant.length; u++) {
          if (relevant[u].length > 0) {
            testUsers++;
            if (trainUser[u]) {
              ranked[n++] = u;
            } else {
              coldUsers++;
            }
          }
        }
        rankedUsers = Arrays.copyOf(ranked, n);
      } else {
        relevant = new int[0][];
        rankedUsers = new int[0];
      }
      this.info = new FoldInfo(fold.number(), fold.train().length, fold.test().length, cold,
          testUsers, coldUsers);
    }

    private static PredictRequest predictRequest(Interactions data, int[] test) {
      PredictRequest.Builder b = PredictRequest.newBuilder()
          .setUnknownIds(UnknownIdPolicy.UNKNOWN_ID_POLICY_BASELINE);
      for (int e : test) {
        int u = data.user(e);
        int i = data.item(e);
        if (data.userKeys()) {
          b.addUserKeys(data.userKey(u));
        } else {
          b.addUserIds(data.userId(u));
        }
        if (data.itemKeys()) {
          b.addItemKeys(data.itemKey(i));
        } else {
          b.addItemIds(data.itemId(i));
        }
      }
      return b.build();
    }

    private static int[][] relevantItems(Interactions data, int[] test, Float threshold) {
      int[] counts = new int[data.numUsers()];
      for (int e : test) {
        if (threshold == null || data.value(e) >= threshold) {
          counts[data.user(e)]++;
        }
      }
      int[][] out = new int[data.numUsers()][];
      for (int u = 0; u < out.length; u++) {
        out[u] = new int[counts[u]];
      }
      int[] fill = new int[data.numUsers()];
      for (int e : test) {
        if (threshold == null || data.value(e) >= threshold) {
          int u = data.user(e);
          out[u][fill[u]++] = data.item(e);
        }
      }
      for (int u = 0; u < out.length; u++) {
        int[] items = out[u];
        Arrays.sort(items);
        out[u] = Arrays.stream(items).distinct().toArray();
      }
      return out;
    }
  }
}
