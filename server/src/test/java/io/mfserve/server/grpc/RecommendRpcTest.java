package io.mfserve.server.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mfserve.proto.v1.FitRequest;
import io.mfserve.proto.v1.FoldInRequest;
import io.mfserve.proto.v1.FoldInResponse;
import io.mfserve.proto.v1.Matrix;
import io.mfserve.proto.v1.MatrixFactorizationGrpc.MatrixFactorizationBlockingStub;
import io.mfserve.proto.v1.ModelInfo;
import io.mfserve.proto.v1.PredictRequest;
import io.mfserve.proto.v1.PredictRowRequest;
import io.mfserve.proto.v1.PredictRowResponse;
import io.mfserve.proto.v1.RecommendBatchRequest;
import io.mfserve.proto.v1.RecommendBatchResponse;
import io.mfserve.proto.v1.RecommendRequest;
import io.mfserve.proto.v1.RecommendResponse;
import io.mfserve.proto.v1.ScoredItem;
import io.mfserve.proto.v1.SimilarItemsRequest;
import io.mfserve.proto.v1.SimilarUsersRequest;
import io.mfserve.proto.v1.Similarity;
import io.mfserve.proto.v1.SparseMatrix;
import io.mfserve.proto.v1.UserHistory;
import io.mfserve.server.model.store.Popularity;
import io.mfserve.server.testing.AssembledFactors;
import io.mfserve.server.testing.InProcessMfServer;
import io.mfserve.server.testing.Requests;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Recommend, RecommendBatch, SimilarItems/Users, PredictRow and FoldIn over gRPC. */
class RecommendRpcTest {
  @RegisterExtension
  final InProcessMfServer server = new InProcessMfServer();

  private MatrixFactorizationBlockingStub stub;
  private Matrix matrix;

  private AssembledFactors fit(String solver, int k, String... params) {
    stub = server.start();
    matrix = Requests.sparseRatings(60, 40, 0.3, 5);
    FitRequest.Builder req = Requests.fit(solver, k, matrix).setModelId("m");
    for (int n = 0; n < params.length; n += 2) {
      req.putParams(params[n], params[n + 1]);
    }
    stub.fit(req.build());
    return AssembledFactors.read(stub, "m");
  }

  /** The items each user has in {@link #matrix}, by id. */
  private Set<Long> seen(long user) {
    Set<Long> s = new HashSet<>();
    SparseMatrix m = matrix.getSparse();
    for (int n = 0; n < m.getValuesCount(); n++) {
      if (m.getRowIds(n) == user) {
        s.add(m.getColIds(n));
      }
    }
    return s;
  }

  /** Item ids best first by brute force over the reassembled factors. */
  private static List<Long> bruteForce(AssembledFactors f, int u, Set<Long> skip, int k) {
    return IntStream.range(0, f.items.size()).boxed()
        .filter(i -> !skip.contains(f.itemIds.get(i)))
        .sorted((a, b) -> {
          float sa = (float) f.reconstruct(u, a);
          float sb = (float) f.reconstruct(u, b);
          return sa != sb ? Float.compare(sb, sa) : Integer.compare(a, b);
        })
        .limit(k).map(f.itemIds::get).toList();
  }

  private static List<Long> ids(List<ScoredItem> items) {
    return items.stream().map(ScoredItem::getItemId).toList();
  }

  @Test
  void recommend_defaultsFiltersAndPaging_matchBruteForce() {
    AssembledFactors f = fit("als", 3);
    for (int u : new int[] {0, 7, 59}) {
      long user = f.userIds.get(u);
      // Default: seen items left out (a ratings model).
      RecommendResponse r = stub.recommend(RecommendRequest.newBuilder().setModelId("m")
          .setUserId(user).setK(8).build());
      assertEquals(bruteForce(f, u, seen(user), 8), ids(r.getItemsList()), "user " + u);
      for (int n = 0; n < 8; n++) {
        assertEquals((float) f.reconstruct(u, f.itemIds.indexOf(r.getItems(n).getItemId())),
            r.getItems(n).getScore());
      }
      // Denied items and a second page.
      Set<Long> skip = new HashSet<>(seen(user));
      List<Long> top = bruteForce(f, u, skip, 3);
      skip.addAll(top);
      RecommendResponse page2 = stub.recommend(RecommendRequest.newBuilder().setModelId("m")
          .setUserId(user).setK(4).setOffset(2).addAllDeniedItemIds(top.subList(0, 1))
          .build());
      List<Long> want = bruteForce(f, u, new HashSet<>(seen(user)) {
        {
          add(top.get(0));
        }
      }, 6).subList(2, 6);
      assertEquals(want, ids(page2.getItemsList()));
      // Allowed items, seen ones included when asked.
      List<Long> allowed = List.of(f.itemIds.get(1), f.itemIds.get(3), f.itemIds.get(5));
      RecommendResponse only = stub.recommend(RecommendRequest.newBuilder().setModelId("m")
          .setUserId(user).setK(10).setExcludeSeen(false).addAllAllowedItemIds(allowed)
          .build());
      assertEquals(new HashSet<>(allowed), new HashSet<>(ids(only.getItemsList())));
    }
  }

  @Test
  void recommendBatch_orderAndContent_equalRecommendPerUser() {
    AssembledFactors f = fit("sgd", 3);
    Random rnd = new Random(1);
    RecommendBatchRequest.Builder req = RecommendBatchRequest.newBuilder().setModelId("m")
        .setK(5).addDeniedItemIds(f.itemIds.get(2));
    // More users than one window of the streamer, some repeated.
    for (int j = 0; j < RecommendBatchStreamer.WINDOW + 44; j++) {
      req.addUserIds(f.userIds.get(rnd.nextInt(f.userIds.size())));
    }
    Iterator<RecommendBatchResponse> it = stub.recommendBatch(req.build());
    int j = 0;
    while (it.hasNext()) {
      RecommendBatchResponse r = it.next();
      long user = req.getUserIds(j);
      assertEquals(user, r.getUserId(), "message " + j);
      RecommendResponse one = stub.recommend(RecommendRequest.newBuilder().setModelId("m")
          .setUserId(user).setK(5).addDeniedItemIds(f.itemIds.get(2)).build());
      assertEquals(one.getItemsList(), r.getItemsList(), "message " + j);
      j++;
    }
    assertEquals(req.getUserIdsCount(), j);
  }

  @Test
  void recommendBatch_unknownUsers_getTheFallbackLikeRecommend() {
    AssembledFactors f = fit("als", 3);
    long known = f.userIds.get(4);
    RecommendBatchRequest.Builder req = RecommendBatchRequest.newBuilder().setModelId("m")
        .setK(4).addUserIds(known).addUserIds(987_654_321L);
    List<RecommendBatchResponse> out = new ArrayList<>();
    stub.recommendBatch(req.build()).forEachRemaining(out::add);
    RecommendResponse unknown = stub.recommend(RecommendRequest.newBuilder().setModelId("m")
        .setUserId(987_654_321L).setK(4).build());
    assertEquals("popular", out.get(1).getFallback());
    assertEquals(unknown.getItemsList(), out.get(1).getItemsList());
    assertEquals("", out.get(0).getFallback());
    io.grpc.StatusRuntimeException e = org.junit.jupiter.api.Assertions.assertThrows(
        io.grpc.StatusRuntimeException.class, () -> stub.recommendBatch(req.setUnknownUser(
            io.mfserve.proto.v1.UnknownUserFallback.UNKNOWN_USER_FALLBACK_ERROR).build())
            .forEachRemaining(r -> { }));
    assertEquals(io.grpc.Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
    assertTrue(e.getStatus().getDescription().contains("user_ids[1]"),
        e.getStatus().getDescription());
  }

  @Test
  void explain_als_sharesSumToTheRefoldedScore_overGrpc() {
    AssembledFactors f = fit("als", 3, "biases", "true");
    long user = f.userIds.get(9);
    long item = f.itemIds.get(0);
    io.mfserve.proto.v1.ExplainResponse e = stub.explain(io.mfserve.proto.v1.ExplainRequest
        .newBuilder().setModelId("m").setUserId(user).setItemId(item).setK(1000).build());
    assertEquals("least_squares", e.getMethod());
    assertEquals(seen(user).size(), e.getHistoryEntries());
    assertEquals(seen(user).size(), e.getContributionsCount());
    double sum = e.getBase();
    for (io.mfserve.proto.v1.Contribution c : e.getContributionsList()) {
      assertTrue(seen(user).contains(c.getItemId()));
      sum += c.getContribution();
    }
    assertEquals(e.getExplainedScore(), sum, 1e-9);
    assertEquals((float) f.reconstruct(9, 0), e.getScore(), 1e-5);
    // The same entries folded in as a new user score the item at explained_score.
    UserHistory.Builder h = UserHistory.newBuilder();
    SparseMatrix m = matrix.getSparse();
    for (int n = 0; n < m.getValuesCount(); n++) {
      if (m.getRowIds(n) == user) {
        h.addItemIds(m.getColIds(n)).addValues(m.getValues(n));
      }
    }
    RecommendResponse folded = stub.recommend(RecommendRequest.newBuilder().setModelId("m")
        .setUserHistory(h).setK(1).addAllowedItemIds(item).setExcludeSeen(false).build());
    assertEquals(folded.getItems(0).getScore(), e.getExplainedScore(), 1e-4);
    io.grpc.StatusRuntimeException unknown = org.junit.jupiter.api.Assertions.assertThrows(
        io.grpc.StatusRuntimeException.class, () -> stub.explain(io.mfserve.proto.v1
            .ExplainRequest.newBuilder().setModelId("m").setUserId(user).setItemId(-5).build()));
    assertEquals(io.grpc.Status.Code.INVALID_ARGUMENT, unknown.getStatus().getCode());
  }

  @Test
  void similar_cosineAndDot_matchBruteForceAndLeaveOutTheQuery() {
    AssembledFactors f = fit("als", 3);
    for (Similarity s
        : new Similarity[] {Similarity.SIMILARITY_COSINE, Similarity.SIMILARITY_DOT}) {
      List<ScoredItem> got = stub.similarItems(SimilarItemsRequest.newBuilder().setModelId("m")
          .setItemId(f.itemIds.get(4)).setK(5).setSimilarity(s).build()).getItemsList();
      List<Double> want = IntStream.range(0, f.items.size()).filter(i -> i != 4)
          .mapToObj(i -> sim(f.items, 4, i, s)).sorted((a, b) -> Double.compare(b, a))
          .limit(5).toList();
      // Compared by score: a rank-3 model of rank-2 data has cosines equal to many digits.
      for (int n = 0; n < 5; n++) {
        long item = got.get(n).getItemId();
        assertNotEquals(f.itemIds.get(4), item);
        assertEquals(want.get(n), got.get(n).getScore(), 1e-5, s + " rank " + n);
        assertEquals(sim(f.items, 4, f.itemIds.indexOf(item), s), got.get(n).getScore(), 1e-5);
      }
    }
    List<Long> users = stub.similarUsers(SimilarUsersRequest.newBuilder().setModelId("m")
        .setUserId(f.userIds.get(0)).setK(100).build()).getUsersList().stream()
        .map(u -> u.getUserId()).toList();
    assertEquals(f.userIds.size() - 1, users.size());
    assertFalse(users.contains(f.userIds.get(0)));
  }

  private static double sim(List<float[]> rows, int a, int b, Similarity s) {
    double dot = 0;
    double na = 0;
    double nb = 0;
    for (int x = 0; x < rows.get(a).length; x++) {
      dot += rows.get(a)[x] * rows.get(b)[x];
      na += rows.get(a)[x] * rows.get(a)[x];
      nb += rows.get(b)[x] * rows.get(b)[x];
    }
    return s == Similarity.SIMILARITY_DOT ? dot : dot / Math.sqrt(na * nb);
  }

  @Test
  void predictRow_knownUser_equalsPredictForEveryItem() {
    AssembledFactors f = fit("sgd", 3);
    PredictRowResponse row = stub.predictRow(PredictRowRequest.newBuilder().setModelId("m")
        .setUserId(f.userIds.get(9)).build());
    assertEquals(f.itemIds, row.getItemIdsList());
    PredictRequest.Builder pairs = PredictRequest.newBuilder().setModelId("m");
    for (long item : f.itemIds) {
      pairs.addUserIds(f.userIds.get(9)).addItemIds(item);
    }
    assertEquals(stub.predict(pairs.build()).getScoresList(), row.getScoresList());
  }

  /** User u's training entries as a history. */
  private UserHistory history(long user) {
    UserHistory.Builder h = UserHistory.newBuilder();
    SparseMatrix m = matrix.getSparse();
    for (int n = 0; n < m.getValuesCount(); n++) {
      if (m.getRowIds(n) == user) {
        h.addItemIds(m.getColIds(n)).addValues(m.getValues(n));
      }
    }
    return h.build();
  }

  @Test
  void foldIn_alsTrainingUser_givesFactorsCloseToTheTrainedOnes() {
    AssembledFactors f = fit("als", 2, "max_iterations", "40", "regularization", "0.02");
    for (int u : new int[] {0, 30}) {
      FoldInResponse r = stub.foldIn(FoldInRequest.newBuilder().setModelId("m")
          .setUserHistory(history(f.userIds.get(u))).build());
      assertEquals(2, r.getFactorsCount());
      for (int x = 0; x < 2; x++) {
        assertEquals(f.users.get(u)[x], r.getFactors(x), 0.02 * (1 + Math.abs(f.users.get(u)[x])),
            "user " + u + " factor " + x);
      }
    }
  }

  @Test
  void foldIn_newUser_recommendAndPredictRowAgreeWithTheFoldedFactors() {
    AssembledFactors f = fit("sgd", 3);
    UserHistory h = UserHistory.newBuilder().addItemIds(f.itemIds.get(0)).addValues(5)
        .addItemIds(f.itemIds.get(7)).addValues(1).addItemIds(f.itemIds.get(11)).addValues(4)
        .build();
    FoldInResponse folded = stub.foldIn(FoldInRequest.newBuilder().setModelId("m")
        .setUserHistory(h).build());
    assertNotEquals(0f, folded.getBias(), "an SGD model folds in a bias too");
    PredictRowResponse row = stub.predictRow(PredictRowRequest.newBuilder().setModelId("m")
        .setUserHistory(h).build());
    for (int i = 0; i < f.items.size(); i++) {
      double dot = 0;
      for (int x = 0; x < 3; x++) {
        dot += folded.getFactors(x) * f.items.get(i)[x];
      }
      double want = f.globalBias + folded.getBias() + f.itemBiases.get(i) + dot;
      assertEquals(want, row.getScores(i), 1e-4, "item " + i);
    }
    RecommendResponse rec = stub.recommend(RecommendRequest.newBuilder().setModelId("m")
        .setUserHistory(h).setK(5).build());
    List<Integer> order = IntStream.range(0, f.items.size()).boxed()
        .filter(i -> i != 0 && i != 7 && i != 11)
        .sorted((a, b) -> row.getScores(a) != row.getScores(b)
            ? Float.compare(row.getScores(b), row.getScores(a)) : Integer.compare(a, b))
        .limit(5).toList();
    assertEquals(order.stream().map(f.itemIds::get).toList(), ids(rec.getItemsList()),
        "the history's items are left out, the rest ranked by the folded factors");
  }

  @Test
  void foldIn_nmf_factorsAreNonNegative() {
    fit("nmf", 3, "max_iterations", "50");
    FoldInResponse r = stub.foldIn(FoldInRequest.newBuilder().setModelId("m").setUserHistory(
        UserHistory.newBuilder().addItemIds(50).addValues(3).addItemIds(53).addValues(0.5f)
            .addItemIds(56).addValues(4)).build());
    assertEquals(3, r.getFactorsCount());
    for (float x : r.getFactorsList()) {
      assertTrue(x >= 0, "factor " + x);
    }
  }

  @Test
  void memory_contiguousInt64Ids_withinTenPercentOfTheFactorsPlusSeenItems() {
    stub = server.start();
    int users = 300;
    int items = 120;
    SparseMatrix.Builder s = SparseMatrix.newBuilder();
    Random rnd = new Random(3);
    int nnz = 0;
    for (int u = 0; u < users; u++) {
      for (int i = 0; i < items; i++) {
        if (i == u % items || rnd.nextDouble() < 0.1) {
          s.addRowIds(1 + u).addColIds(1000 + i).addValues(1 + rnd.nextInt(5));
          nnz++;
        }
      }
    }
    int k = 64;
    for (String solver : new String[] {"als", "sgd"}) {
      ModelInfo info = stub.fit(Requests.fit(solver, k, Matrix.newBuilder().setSparse(s).build())
          .setMaxIterations(1).build()).getModel();
      long factors = (long) (users + items) * k * 4;
      // The seen items with their values (for Explain), and the item popularity (a count and
      // a mean per item, two short lists).
      long seen = (users + 1L + nnz) * 4 + nnz * 4L + Popularity.estimateBytes(items, true);
      assertTrue(info.getMemoryBytes() <= 1.1 * factors + seen, solver + ": "
          + info.getMemoryBytes() + " > 1.1 × " + factors + " + " + seen);
      assertTrue(info.getMemoryBytes() >= factors + seen);
    }
  }

  @Test
  void stringKeyedModel_batchAndSimilarAnswerWithKeys() {
    stub = server.start();
    SparseMatrix.Builder s = SparseMatrix.newBuilder();
    String[] users = {"ann", "bob", "cy", "dee"};
    for (int u = 0; u < users.length; u++) {
      for (int i = 0; i < 6; i++) {
        if ((u + i) % 3 != 0) {
          s.addRowKeys(users[u]).addColKeys("sku-" + i).addValues(1 + (u * i) % 5);
        }
      }
    }
    stub.fit(FitRequest.newBuilder().setModelId("k").setNumFactors(2)
        .setMatrix(Matrix.newBuilder().setSparse(s)).build());
    List<String> echoed = new ArrayList<>();
    stub.recommendBatch(RecommendBatchRequest.newBuilder().setModelId("k").addUserKeys("cy")
        .addUserKeys("ann").setK(2).setExcludeSeen(false).build())
        .forEachRemaining(r -> {
          echoed.add(r.getUserKey());
          assertTrue(r.getItems(0).getItemKey().startsWith("sku-"));
        });
    assertEquals(List.of("cy", "ann"), echoed);
    assertEquals(3, stub.similarUsers(SimilarUsersRequest.newBuilder().setModelId("k")
        .setUserKey("bob").build()).getUsersCount());
    assertTrue(stub.predictRow(PredictRowRequest.newBuilder().setModelId("k").setUserKey("dee")
        .build()).getItemKeysList().contains("sku-5"));
  }
}
