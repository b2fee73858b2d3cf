package io.mfserve.server.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.mfserve.proto.v1.ApproximateIndex;
import io.mfserve.proto.v1.DeleteModelRequest;
import io.mfserve.proto.v1.GetModelRequest;
import io.mfserve.proto.v1.MatrixFactorizationGrpc.MatrixFactorizationBlockingStub;
import io.mfserve.proto.v1.ModelInfo;
import io.mfserve.proto.v1.PredictRequest;
import io.mfserve.proto.v1.RecommendRequest;
import io.mfserve.proto.v1.RecommendResponse;
import io.mfserve.proto.v1.ScoredItem;
import io.mfserve.proto.v1.SimilarItemsRequest;
import io.mfserve.proto.v1.SimilarItemsResponse;
import io.mfserve.proto.v1.UnknownUserFallback;
import io.mfserve.server.model.ann.AnnSettings;
import io.mfserve.server.model.ann.Metric;
import io.mfserve.server.model.store.MemoryBudget;
import io.mfserve.server.repository.RepositoryConfig;
import io.mfserve.server.testing.InProcessMfServer;
import io.mfserve.server.testing.Requests;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The approximate path through the service: indexes built after a fit and shown in ModelInfo
 * with their memory, Recommend and SimilarItems through them with exact scores, the exact
 * field, DeleteModel giving every byte back, and the unknown-user fallback.
 */
class ApproximateRpcTest {
  private static final int USERS = 400;
  private static final int ITEMS = 1500;

  @RegisterExtension
  final InProcessMfServer server = new InProcessMfServer();

  private MatrixFactorizationBlockingStub start() {
    MatrixFactorizationBlockingStub stub = server.start(InProcessMfServer.testConfig(), null,
        RepositoryConfig.memory(), new AnnSettings(300, 16, 100, 100, Metric.DOT, 8));
    stub.fit(Requests.fit("sgd", 8, Requests.sparseRatings(USERS, ITEMS, 0.05, 3))
        .setModelId("m").build());
    return stub;
  }

  /** Polls GetModel until no index is queued or building. */
  private static ModelInfo awaitIndexes(MatrixFactorizationBlockingStub stub) {
    long deadline = System.nanoTime() + 120_000_000_000L;
    while (true) {
      ModelInfo m = stub.getModel(GetModelRequest.newBuilder().setModelId("m").build())
          .getModel();
      boolean busy = m.getApproximateIndexesList().stream()
          .anyMatch(a -> a.getState().equals("queued") || a.getState().equals("building"));
      if (!busy || System.nanoTime() > deadline) {
        return m;
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        throw new AssertionError(e);
      }
    }
  }

  private static long user(int u) {
    return 1000 + 7L * u;
  }

  @Test
  void modelInfo_describesTheIndexes_andCountsTheirMemory() {
    MatrixFactorizationBlockingStub stub = start();
    ModelInfo m = awaitIndexes(stub);
    List<String> targets = m.getApproximateIndexesList().stream()
        .map(ApproximateIndex::getTarget).toList();
    assertEquals(List.of("recommend", "similar_items", "similar_users"), targets);
    long indexBytes = 0;
    for (ApproximateIndex a : m.getApproximateIndexesList()) {
      assertEquals("ready", a.getState(), a.getDetail());
      assertEquals(16, a.getMaxConnections());
      assertEquals(100, a.getEfSearch());
      assertTrue(a.getMemoryBytes() > 0);
      assertTrue(a.getSampledRecall() > 0.8, "sampled recall " + a.getSampledRecall());
      indexBytes += a.getMemoryBytes();
    }
    assertEquals("dot", m.getApproximateIndexes(0).getMetric());
    assertEquals("cosine", m.getApproximateIndexes(1).getMetric());
    assertEquals(ITEMS, m.getApproximateIndexes(0).getRows());
    assertEquals(USERS, m.getApproximateIndexes(2).getRows());
    assertTrue(m.getMemoryBytes() > indexBytes);
    MemoryBudget budget = server.injector().getInstance(MemoryBudget.class);
    assertEquals(m.getMemoryBytes(), budget.usedBytes());
    long freed = stub.deleteModel(DeleteModelRequest.newBuilder().setModelId("m").build())
        .getFreedBytes();
    assertEquals(m.getMemoryBytes(), freed);
    assertEquals(0, budget.usedBytes());
  }

  @Test
  void recommend_approximateAndExact_scoreEveryItemAsPredict() {
    MatrixFactorizationBlockingStub stub = start();
    awaitIndexes(stub);
    int overlap = 0;
    int total = 0;
    for (int u = 0; u < USERS; u += 13) {
      RecommendRequest.Builder r = RecommendRequest.newBuilder().setModelId("m")
          .setUserId(user(u)).setK(10);
      RecommendResponse approx = stub.recommend(r.build());
      RecommendResponse exact = stub.recommend(r.setExact(true).build());
      assertEquals(10, approx.getItemsCount());
      assertEquals("", approx.getFallback());
      PredictRequest.Builder p = PredictRequest.newBuilder().setModelId("m");
      for (ScoredItem s : approx.getItemsList()) {
        p.addUserIds(user(u)).addItemIds(s.getItemId());
      }
      List<Float> predicted = stub.predict(p.build()).getScoresList();
      for (int n = 0; n < 10; n++) {
        assertEquals(predicted.get(n), approx.getItems(n).getScore());
        long id = approx.getItems(n).getItemId();
        overlap += exact.getItemsList().stream().anyMatch(e -> e.getItemId() == id) ? 1 : 0;
      }
      total += 10;
    }
    assertTrue(overlap >= 0.9 * total, "recall@10 " + overlap + " / " + total);
  }

  @Test
  void similarItems_approximate_leavesOutTheQuery() {
    MatrixFactorizationBlockingStub stub = start();
    awaitIndexes(stub);
    for (int i = 0; i < ITEMS; i += 101) {
      long id = 50 + 3L * i;
      SimilarItemsResponse r = stub.similarItems(SimilarItemsRequest.newBuilder()
          .setModelId("m").setItemId(id).setK(10).build());
      assertEquals(10, r.getItemsCount());
      assertFalse(r.getItemsList().stream().anyMatch(s -> s.getItemId() == id));
    }
  }

  @Test
  void recommend_unknownUser_getsPopularItems_unlessItAsksForTheError() {
    MatrixFactorizationBlockingStub stub = start();
    RecommendResponse r = stub.recommend(RecommendRequest.newBuilder().setModelId("m")
        .setUserId(-5).setK(5).build());
    assertEquals("popular", r.getFallback());
    assertEquals(5, r.getItemsCount());
    for (int n = 1; n < 5; n++) {
      assertTrue(r.getItems(n - 1).getScore() >= r.getItems(n).getScore());
    }
    RecommendResponse top = stub.recommend(RecommendRequest.newBuilder().setModelId("m")
        .setUserId(-5).setK(5)
        .setUnknownUser(UnknownUserFallback.UNKNOWN_USER_FALLBACK_TOP_RATED).build());
    assertEquals("top_rated", top.getFallback());
    StatusRuntimeException e = org.junit.jupiter.api.Assertions.assertThrows(
        StatusRuntimeException.class, () -> stub.recommend(RecommendRequest.newBuilder()
            .setModelId("m").setUserId(-5)
            .setUnknownUser(UnknownUserFallback.UNKNOWN_USER_FALLBACK_ERROR).build()));
    assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
  }
}
