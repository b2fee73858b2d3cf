package io.mfserve.server.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.mfserve.proto.v1.DeleteModelRequest;
import io.mfserve.proto.v1.FitRequest;
import io.mfserve.proto.v1.GetModelRequest;
import io.mfserve.proto.v1.ListModelsRequest;
import io.mfserve.proto.v1.ListSolversRequest;
import io.mfserve.proto.v1.ListSolversResponse;
import io.mfserve.proto.v1.Matrix;
import io.mfserve.proto.v1.MatrixFactorizationGrpc.MatrixFactorizationBlockingStub;
import io.mfserve.proto.v1.ModelInfo;
import io.mfserve.proto.v1.ParameterInfo;
import io.mfserve.proto.v1.ParameterType;
import io.mfserve.proto.v1.PredictRequest;
import io.mfserve.proto.v1.RecommendRequest;
import io.mfserve.proto.v1.RecommendResponse;
import io.mfserve.proto.v1.ScoredItem;
import io.mfserve.proto.v1.SolverInfo;
import io.mfserve.proto.v1.SparseMatrix;
import io.mfserve.proto.v1.UnknownIdPolicy;
import io.mfserve.server.testing.AssembledFactors;
import io.mfserve.server.testing.InProcessMfServer;
import io.mfserve.server.testing.Requests;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class QueryRpcTest {
  @RegisterExtension
  final InProcessMfServer server = new InProcessMfServer();

  private MatrixFactorizationBlockingStub stub;

  private ModelInfo fitSparse(String solver) {
    stub = server.start();
    FitRequest.Builder req = Requests.fit(solver, 2, Requests.sparseRatings(30, 20, 0.4, 3))
        .setModelId("m");
    return stub.fit(req.build()).getModel();
  }

  @Test
  void predict_pairs_matchTheReassembledFactors() {
    fitSparse("sgd");
    AssembledFactors f = AssembledFactors.read(stub, "m");
    PredictRequest.Builder req = PredictRequest.newBuilder().setModelId("m");
    int[][] pairs = {{0, 0}, {3, 7}, {29, 19}};
    for (int[] p : pairs) {
      req.addUserIds(f.userIds.get(p[0])).addItemIds(f.itemIds.get(p[1]));
    }
    List<Float> scores = stub.predict(req.build()).getScoresList();
    assertEquals(3, scores.size());
    for (int n = 0; n < pairs.length; n++) {
      assertEquals(f.reconstruct(pairs[n][0], pairs[n][1]), scores.get(n), 1e-4);
    }
  }

  @Test
  void predict_unknownIds_fallBackWhenAsked() {
    ModelInfo info = fitSparse("als");
    List<Float> nan = stub.predict(PredictRequest.newBuilder().setModelId("m").addUserIds(-1)
        .addItemIds(50).setUnknownIds(UnknownIdPolicy.UNKNOWN_ID_POLICY_NAN).build())
        .getScoresList();
    assertTrue(Float.isNaN(nan.get(0)));
    float mean = stub.predict(PredictRequest.newBuilder().setModelId("m").addUserIds(-1)
        .addItemIds(50).setUnknownIds(UnknownIdPolicy.UNKNOWN_ID_POLICY_GLOBAL_MEAN).build())
        .getScores(0);
    assertTrue(mean > 0.5 && mean < 5, "mean " + mean);
    assertEquals(30, info.getNumUsers());
  }

  @Test
  void predict_baselinePolicy_meanPlusTheKnownSidesBias() {
    // Sparse ratings: als's defaults have biases.
    ModelInfo info = fitSparse("als");
    assertTrue(info.getHasBiases());
    AssembledFactors f = AssembledFactors.read(stub, "m");
    long item = f.itemIds.get(7);
    long user = f.userIds.get(4);
    List<Float> scores = stub.predict(PredictRequest.newBuilder().setModelId("m")
        .addUserIds(-1).addItemIds(item).addUserIds(user).addItemIds(-5)
        .addUserIds(-1).addItemIds(-5)
        .setUnknownIds(UnknownIdPolicy.UNKNOWN_ID_POLICY_BASELINE).build()).getScoresList();
    assertEquals(f.globalBias + f.itemBiases.get(7), scores.get(0), 1e-5);
    assertEquals(f.globalBias + f.userBiases.get(4), scores.get(1), 1e-5);
    assertEquals(f.globalBias, scores.get(2), 1e-5);
  }

  @Test
  void recommend_topK_isBestFirstAndMatchesBruteForce() {
    fitSparse("als");
    AssembledFactors f = AssembledFactors.read(stub, "m");
    int u = 4;
    RecommendResponse r = stub.recommend(RecommendRequest.newBuilder().setModelId("m")
        .setUserId(f.userIds.get(u)).setK(5).setExcludeSeen(false).build());
    assertEquals(5, r.getItemsCount());
    List<double[]> all = new ArrayList<>();
    for (int i = 0; i < f.items.size(); i++) {
      all.add(new double[] {f.reconstruct(u, i), i});
    }
    all.sort((a, b) -> a[0] != b[0] ? Double.compare(b[0], a[0]) : Double.compare(a[1], b[1]));
    for (int n = 0; n < 5; n++) {
      ScoredItem s = r.getItems(n);
      assertEquals((long) f.itemIds.get((int) all.get(n)[1]), s.getItemId(), "rank " + n);
      assertEquals(all.get(n)[0], s.getScore(), 1e-4);
      if (n > 0) {
        assertTrue(r.getItems(n - 1).getScore() >= s.getScore());
      }
    }
  }

  @Test
  void recommend_excludeSeen_leavesOutTrainingItems() {
    stub = server.start();
    SparseMatrix.Builder s = SparseMatrix.newBuilder();
    // User 1 has seen items 10 and 11; user 2 has seen 11 and 12; user 3 has seen all three.
    long[][] seen = {{1, 10}, {1, 11}, {2, 11}, {2, 12}, {3, 10}, {3, 11}, {3, 12}};
    for (long[] e : seen) {
      s.addRowIds(e[0]).addColIds(e[1]).addValues(4);
    }
    stub.fit(FitRequest.newBuilder().setModelId("m").setNumFactors(2)
        .setMatrix(Matrix.newBuilder().setSparse(s)).build());
    RecommendResponse r = stub.recommend(RecommendRequest.newBuilder().setModelId("m")
        .setUserId(1).setK(10).setExcludeSeen(true).build());
    assertEquals(1, r.getItemsCount());
    assertEquals(12, r.getItems(0).getItemId());
    assertEquals(0, stub.recommend(RecommendRequest.newBuilder().setModelId("m").setUserId(3)
        .setExcludeSeen(true).build()).getItemsCount());
    // Unset, exclude_seen is on for a model of ratings (absent entries unknown).
    assertEquals(0, stub.recommend(RecommendRequest.newBuilder().setModelId("m").setUserId(3)
        .build()).getItemsCount());
    // k larger than the catalogue returns the whole catalogue.
    assertEquals(3, stub.recommend(RecommendRequest.newBuilder().setModelId("m").setUserId(3)
        .setK(1000).setExcludeSeen(false).build()).getItemsCount());
    // k unset means 10 (here: all 3).
    assertEquals(3, stub.recommend(RecommendRequest.newBuilder().setModelId("m").setUserId(3)
        .setExcludeSeen(false).build()).getItemsCount());
  }

  @Test
  void recommend_stringKeyedModel_answersWithKeys() {
    stub = server.start();
    SparseMatrix.Builder s = SparseMatrix.newBuilder();
    String[] users = {"ann", "bob", "cy"};
    String[] items = {"sku-1", "sku-2", "sku-3", "sku-4"};
    for (int u = 0; u < 3; u++) {
      for (int i = 0; i < 4; i++) {
        if ((u + i) % 3 != 0) {
          s.addRowKeys(users[u]).addColKeys(items[i]).addValues(1 + i);
        }
      }
    }
    stub.fit(FitRequest.newBuilder().setModelId("k").setNumFactors(2)
        .setMatrix(Matrix.newBuilder().setSparse(s)).build());
    RecommendResponse r = stub.recommend(RecommendRequest.newBuilder().setModelId("k")
        .setUserKey("bob").setK(2).setExcludeSeen(false).build());
    assertEquals(2, r.getItemsCount());
    assertTrue(r.getItems(0).getItemKey().startsWith("sku-"));
    float p = stub.predict(PredictRequest.newBuilder().setModelId("k").addUserKeys("bob")
        .addItemKeys(r.getItems(0).getItemKey()).build()).getScores(0);
    assertEquals(r.getItems(0).getScore(), p, 1e-5);
  }

  @Test
  void models_listGetDelete_lifecycle() {
    fitSparse("nmf");
    stub.fit(Requests.fit("als", 2, Requests.seedMatrix(5, 5, 1)).setModelId("n").build());
    List<ModelInfo> listed = stub.listModels(ListModelsRequest.getDefaultInstance())
        .getModelsList();
    assertEquals(List.of("m", "n"), listed.stream().map(ModelInfo::getModelId).toList());
    assertEquals("nmf", stub.getModel(GetModelRequest.newBuilder().setModelId("m").build())
        .getModel().getSolver());
    long freed = stub.deleteModel(DeleteModelRequest.newBuilder().setModelId("m").build())
        .getFreedBytes();
    assertTrue(freed > 0);
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
        () -> stub.getModel(GetModelRequest.newBuilder().setModelId("m").build()));
    assertEquals(Status.Code.NOT_FOUND, e.getStatus().getCode());
    assertEquals(1, stub.listModels(ListModelsRequest.getDefaultInstance()).getModelsCount());
  }

  @Test
  void listSolvers_describesEveryParameter() {
    stub = server.start();
    ListSolversResponse r = stub.listSolvers(ListSolversRequest.getDefaultInstance());
    Set<String> names = new HashSet<>();
    for (SolverInfo s : r.getSolversList()) {
      names.add(s.getName());
      assertFalse(s.getDescription().isBlank());
      assertTrue(s.getSupportedAbsentEntriesCount() > 0);
      for (ParameterInfo p : s.getParametersList()) {
        assertFalse(p.getDoc().isBlank(), s.getName() + "." + p.getName());
        assertFalse(p.getDefaultValue().isBlank());
        if (p.getType() == ParameterType.PARAMETER_TYPE_DOUBLE
            || p.getType() == ParameterType.PARAMETER_TYPE_INT) {
          assertFalse(p.getValidRange().isBlank());
        }
      }
    }
    assertEquals(Set.of("als", "sgd", "nmf"), names);
  }
}
