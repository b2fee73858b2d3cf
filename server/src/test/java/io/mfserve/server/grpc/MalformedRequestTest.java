package io.mfserve.server.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.rpc.BadRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.mfserve.proto.v1.DeleteMatrixRequest;
import io.mfserve.proto.v1.DeleteModelRequest;
import io.mfserve.proto.v1.DenseMatrix;
import io.mfserve.proto.v1.FitRequest;
import io.mfserve.proto.v1.FoldInRequest;
import io.mfserve.proto.v1.GetFactorsRequest;
import io.mfserve.proto.v1.GetModelRequest;
import io.mfserve.proto.v1.Matrix;
import io.mfserve.proto.v1.MatrixFactorizationGrpc.MatrixFactorizationBlockingStub;
import io.mfserve.proto.v1.PredictRequest;
import io.mfserve.proto.v1.PredictRowRequest;
import io.mfserve.proto.v1.RecommendBatchRequest;
import io.mfserve.proto.v1.RecommendRequest;
import io.mfserve.proto.v1.SimilarItemsRequest;
import io.mfserve.proto.v1.SimilarUsersRequest;
import io.mfserve.proto.v1.SparseMatrix;
import io.mfserve.proto.v1.UnknownUserFallback;
import io.mfserve.proto.v1.UserHistory;
import io.mfserve.server.testing.InProcessMfServer;
import io.mfserve.server.testing.Requests;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Dozens of malformed requests: each gets the right status code with a message naming the
 * problem, and the server answers a valid request afterwards.
 */
class MalformedRequestTest {
  @RegisterExtension
  final InProcessMfServer server = new InProcessMfServer();

  private record Case(String name, Status.Code code, String field,
      Consumer<MatrixFactorizationBlockingStub> call) { }

  private static Matrix dense(int rows, int cols, float... values) {
    DenseMatrix.Builder d = DenseMatrix.newBuilder().setRows(rows).setCols(cols);
    for (float v : values) {
      d.addValues(v);
    }
    return Matrix.newBuilder().setDense(d).build();
  }

  private static Matrix sparse(SparseMatrix.Builder s) {
    return Matrix.newBuilder().setSparse(s).build();
  }

  private static FitRequest.Builder good() {
    return Requests.fit("als", 2, Requests.seedMatrix(4, 5, 1));
  }

  private static List<Case> cases() {
    List<Case> c = new ArrayList<>();
    Status.Code bad = Status.Code.INVALID_ARGUMENT;
    c.add(new Case("no matrix", bad, "matrix", s -> s.fit(FitRequest.newBuilder()
        .setSolver("als").build())));
    c.add(new Case("empty matrix oneof", bad, "matrix", s -> s.fit(FitRequest.newBuilder()
        .setMatrix(Matrix.getDefaultInstance()).build())));
    c.add(new Case("dense zero rows", bad, "matrix.dense.rows", s -> s.fit(good()
        .setMatrix(dense(0, 3)).build())));
    c.add(new Case("dense negative cols", bad, "matrix.dense.cols", s -> s.fit(good()
        .setMatrix(dense(2, -3, 1, 2)).build())));
    c.add(new Case("dense too few values", bad, "matrix.dense.values", s -> s.fit(good()
        .setMatrix(dense(2, 2, 1, 2, 3)).build())));
    c.add(new Case("dense too many values", bad, "matrix.dense.values", s -> s.fit(good()
        .setMatrix(dense(1, 2, 1, 2, 3)).build())));
    c.add(new Case("dense NaN", bad, "matrix.dense.values[1]", s -> s.fit(good()
        .setMatrix(dense(2, 2, 1, Float.NaN, 3, 4)).build())));
    c.add(new Case("dense +Inf", bad, "matrix.dense.values[3]", s -> s.fit(good()
        .setMatrix(dense(2, 2, 1, 2, 3, Float.POSITIVE_INFINITY)).build())));
    c.add(new Case("sparse empty", bad, "matrix.sparse.values", s -> s.fit(good()
        .setMatrix(sparse(SparseMatrix.newBuilder())).build())));
    c.add(new Case("sparse ids shorter than values", bad, "matrix.sparse.row_ids",
        s -> s.fit(good().setMatrix(sparse(SparseMatrix.newBuilder().addRowIds(1)
            .addColIds(1).addColIds(2).addValues(1).addValues(2))).build())));
    c.add(new Case("sparse no col ids", bad, "matrix.sparse.col_ids", s -> s.fit(good()
        .setMatrix(sparse(SparseMatrix.newBuilder().addRowIds(1).addValues(1))).build())));
    c.add(new Case("sparse ids and keys on one side", bad, "matrix.sparse.row_keys",
        s -> s.fit(good().setMatrix(sparse(SparseMatrix.newBuilder().addRowIds(1)
            .addRowKeys("a").addColIds(1).addValues(1))).build())));
    c.add(new Case("sparse NaN", bad, "matrix.sparse.values[0]", s -> s.fit(good()
        .setMatrix(sparse(SparseMatrix.newBuilder().addRowIds(1).addColIds(1)
            .addValues(Float.NaN))).build())));
    c.add(new Case("sparse empty key", bad, "matrix.sparse.row_keys[0]", s -> s.fit(good()
        .setMatrix(sparse(SparseMatrix.newBuilder().addRowKeys("").addColIds(1)
            .addValues(1))).build())));
    c.add(new Case("sparse duplicate pair", bad, "matrix.sparse", s -> s.fit(good()
        .setNumFactors(1).setMatrix(sparse(SparseMatrix.newBuilder().addRowIds(7).addColIds(9)
            .addValues(1).addRowIds(7).addColIds(9).addValues(2))).build())));
    c.add(new Case("num_factors 0", bad, "num_factors", s -> s.fit(good().setNumFactors(0)
        .build())));
    c.add(new Case("num_factors negative", bad, "num_factors", s -> s.fit(good()
        .setNumFactors(-3).build())));
    c.add(new Case("num_factors above min(rows, cols)", bad, "num_factors", s -> s.fit(good()
        .setNumFactors(5).build())));
    c.add(new Case("num_factors huge", bad, "num_factors", s -> s.fit(good()
        .setNumFactors(Integer.MAX_VALUE).build())));
    c.add(new Case("unknown solver", bad, "solver", s -> s.fit(good().setSolver("svdpp")
        .build())));
    c.add(new Case("unknown parameter", bad, "params.rank", s -> s.fit(good()
        .putParams("rank", "3").build())));
    c.add(new Case("unparsable parameter", bad, "params.weighted_lambda", s -> s.fit(good()
        .putParams("weighted_lambda", "maybe").build())));
    c.add(new Case("negative regularization", bad, "regularization", s -> s.fit(good()
        .setRegularization(-1).build())));
    c.add(new Case("NaN regularization", bad, "regularization", s -> s.fit(good()
        .setRegularization(Double.NaN).build())));
    c.add(new Case("zero iterations", bad, "max_iterations", s -> s.fit(good()
        .setMaxIterations(0).build())));
    c.add(new Case("ALS negative alpha", bad, "params.alpha", s -> s.fit(good()
        .setAbsentEntries(io.mfserve.proto.v1.AbsentEntries.ABSENT_ENTRIES_IMPLICIT)
        .putParams("alpha", "-1").build())));
    c.add(new Case("ALS zero CG steps", bad, "params.cg_steps", s -> s.fit(good()
        .putParams("cg_steps", "0").build())));
    c.add(new Case("ALS unknown implicit solver", bad, "params.implicit_solver", s -> s.fit(
        good().putParams("implicit_solver", "lu").build())));
    c.add(new Case("ALS zero epsilon", bad, "params.epsilon", s -> s.fit(good()
        .putParams("epsilon", "0").build())));
    c.add(new Case("ALS negative early stopping", bad, "params.early_stopping_rounds",
        s -> s.fit(good().putParams("early_stopping_rounds", "-2").build())));
    c.add(new Case("learning rate for ALS", bad, "learning_rate", s -> s.fit(good()
        .setLearningRate(0.1).build())));
    c.add(new Case("zero learning rate for SGD", bad, "learning_rate", s -> s.fit(good()
        .setSolver("sgd").setLearningRate(0).build())));
    c.add(new Case("SGD learning rate above 100", bad, "learning_rate", s -> s.fit(good()
        .setSolver("sgd").setLearningRate(101).build())));
    c.add(new Case("SGD unknown schedule", bad, "params.schedule", s -> s.fit(good()
        .setSolver("sgd").putParams("schedule", "adam").build())));
    c.add(new Case("SGD unknown parallel mode", bad, "params.parallel", s -> s.fit(good()
        .setSolver("sgd").putParams("parallel", "gpu").build())));
    c.add(new Case("SGD grid too fine", bad, "params.blocks", s -> s.fit(good()
        .setSolver("sgd").putParams("blocks", "5000").build())));
    c.add(new Case("SGD BPR on ratings", bad, "params.loss", s -> s.fit(good()
        .setSolver("sgd").putParams("loss", "bpr").build())));
    c.add(new Case("SGD squared loss on implicit feedback", bad, "params.loss", s -> s.fit(
        good().setSolver("sgd").setMatrix(Requests.sparseRatings(5, 5, 0.5, 1))
            .setAbsentEntries(io.mfserve.proto.v1.AbsentEntries.ABSENT_ENTRIES_IMPLICIT)
            .putParams("loss", "squared").build())));
    c.add(new Case("SGD SVD++ on implicit feedback", bad, "params.model", s -> s.fit(
        good().setSolver("sgd").setMatrix(Requests.sparseRatings(5, 5, 0.5, 1))
            .setAbsentEntries(io.mfserve.proto.v1.AbsentEntries.ABSENT_ENTRIES_IMPLICIT)
            .putParams("model", "svdpp").build())));
    c.add(new Case("SGD early stopping without validation", bad, "early_stopping_rounds",
        s -> s.fit(good().setSolver("sgd").putParams("early_stopping_rounds", "3").build())));
    c.add(new Case("typed field and params disagree", bad, "params.max_iterations",
        s -> s.fit(good().setMaxIterations(5).putParams("max_iterations", "6").build())));
    c.add(new Case("unsupported absent entries", bad, "absent_entries", s -> s.fit(good()
        .setMatrix(Requests.sparseRatings(5, 5, 0.5, 1))
        .setAbsentEntries(io.mfserve.proto.v1.AbsentEntries.ABSENT_ENTRIES_ZERO).build())));
    c.add(new Case("unknown absent entries number", bad, "absent_entries", s -> s.fit(good()
        .setAbsentEntriesValue(99).build())));
    c.add(new Case("bad model id", bad, "model_id", s -> s.fit(good().setModelId("a b/c")
        .build())));
    c.add(new Case("validation fraction 1", bad, "validation_fraction", s -> s.fit(good()
        .setValidationFraction(1).build())));
    c.add(new Case("NMF with negative values", bad, "matrix", s -> s.fit(good()
        .setSolver("nmf").setMatrix(dense(2, 2, 1, -2, 3, 4)).setNumFactors(1).build())));
    c.add(new Case("unknown uploaded matrix", Status.Code.NOT_FOUND, null, s -> s.fit(
        FitRequest.newBuilder().setMatrixId("mx-nope").build())));
    c.add(new Case("get unknown model", Status.Code.NOT_FOUND, null, s -> s.getModel(
        GetModelRequest.newBuilder().setModelId("nope").build())));
    c.add(new Case("get model empty id", bad, "model_id", s -> s.getModel(
        GetModelRequest.getDefaultInstance())));
    c.add(new Case("delete unknown model", Status.Code.NOT_FOUND, null, s -> s.deleteModel(
        DeleteModelRequest.newBuilder().setModelId("nope").build())));
    c.add(new Case("delete unknown matrix", Status.Code.NOT_FOUND, null, s -> s.deleteMatrix(
        DeleteMatrixRequest.newBuilder().setMatrixId("nope").build())));
    c.add(new Case("factors of unknown model", Status.Code.NOT_FOUND, null, s -> s.getFactors(
        GetFactorsRequest.newBuilder().setModelId("nope").build()).hasNext()));
    c.add(new Case("predict unknown model", Status.Code.NOT_FOUND, null, s -> s.predict(
        PredictRequest.newBuilder().setModelId("nope").addUserIds(1).addItemIds(1).build())));
    c.add(new Case("predict unknown user", bad, "user_ids", s -> s.predict(PredictRequest
        .newBuilder().setModelId("ok").addUserIds(99).addItemIds(1).build())));
    c.add(new Case("predict unknown item", bad, "item_ids[1]", s -> s.predict(PredictRequest
        .newBuilder().setModelId("ok").addUserIds(1).addUserIds(1).addItemIds(1)
        .addItemIds(-5).build())));
    c.add(new Case("predict mismatched lengths", bad, "item_ids", s -> s.predict(PredictRequest
        .newBuilder().setModelId("ok").addUserIds(1).addUserIds(2).addItemIds(1).build())));
    c.add(new Case("predict keys on an id model", bad, "user_keys", s -> s.predict(
        PredictRequest.newBuilder().setModelId("ok").addUserKeys("a").addItemIds(1).build())));
    c.add(new Case("recommend no user", bad, "user", s -> s.recommend(RecommendRequest
        .newBuilder().setModelId("ok").build())));
    c.add(new Case("recommend unknown user", bad, "user_id", s -> s.recommend(RecommendRequest
        .newBuilder().setModelId("ok").setUserId(1234)
        .setUnknownUser(UnknownUserFallback.UNKNOWN_USER_FALLBACK_ERROR).build())));
    c.add(new Case("recommend negative k", bad, "k", s -> s.recommend(RecommendRequest
        .newBuilder().setModelId("ok").setUserId(1).setK(-1).build())));
    c.add(new Case("recommend unknown model", Status.Code.NOT_FOUND, null, s -> s.recommend(
        RecommendRequest.newBuilder().setModelId("nope").setUserId(1).build())));
    c.addAll(queryCases());
    return c;
  }

  /** Bad requests to the query RPCs of issue 6; model "ok" has users and items 0..4. */
  private static List<Case> queryCases() {
    List<Case> c = new ArrayList<>();
    Status.Code bad = Status.Code.INVALID_ARGUMENT;
    Status.Code notFound = Status.Code.NOT_FOUND;
    RecommendRequest.Builder rec = RecommendRequest.newBuilder().setModelId("ok").setUserId(1);
    UserHistory.Builder history = UserHistory.newBuilder().addItemIds(1).addValues(4);
    c.add(new Case("recommend negative offset", bad, "offset", s -> s.recommend(rec.clone()
        .setOffset(-1).build())));
    c.add(new Case("recommend unknown allowed item", bad, "allowed_item_ids[1]",
        s -> s.recommend(rec.clone().addAllowedItemIds(1).addAllowedItemIds(77).build())));
    c.add(new Case("recommend unknown denied item", bad, "denied_item_ids[0]",
        s -> s.recommend(rec.clone().addDeniedItemIds(-1).build())));
    c.add(new Case("recommend allowed keys on an id model", bad, "allowed_item_keys",
        s -> s.recommend(rec.clone().addAllowedItemKeys("a").build())));
    c.add(new Case("recommend allowed ids and keys", bad, "allowed_item_keys",
        s -> s.recommend(rec.clone().addAllowedItemIds(1).addAllowedItemKeys("a").build())));
    c.add(new Case("recommend user key on an id model", bad, "user_key", s -> s.recommend(
        RecommendRequest.newBuilder().setModelId("ok").setUserKey("ann").build())));
    c.add(new Case("recommend empty history", bad, "user_history.item_ids", s -> s.recommend(
        rec.clone().setUserHistory(UserHistory.getDefaultInstance()).build())));
    c.add(new Case("recommend history unknown item", bad, "user_history.item_ids[1]",
        s -> s.recommend(rec.clone().setUserHistory(history.clone().addItemIds(99)
            .addValues(1)).build())));
    c.add(new Case("recommend history repeated item", bad, "user_history.item_ids[1]",
        s -> s.recommend(rec.clone().setUserHistory(history.clone().addItemIds(1)
            .addValues(1)).build())));
    c.add(new Case("recommend history too few values", bad, "user_history.values",
        s -> s.recommend(rec.clone().setUserHistory(history.clone().addItemIds(2)).build())));
    c.add(new Case("recommend history NaN value", bad, "user_history.values[1]",
        s -> s.recommend(rec.clone().setUserHistory(history.clone().addItemIds(2)
            .addValues(Float.NaN)).build())));
    c.add(new Case("recommend history keys on an id model", bad, "user_history.item_keys",
        s -> s.recommend(rec.clone().setUserHistory(UserHistory.newBuilder().addItemKeys("a")
            .addValues(1)).build())));
    c.add(new Case("batch no users", bad, "user_ids", s -> s.recommendBatch(
        RecommendBatchRequest.newBuilder().setModelId("ok").build()).hasNext()));
    c.add(new Case("batch unknown user", bad, "user_ids[2]", s -> s.recommendBatch(
        RecommendBatchRequest.newBuilder().setModelId("ok").addUserIds(0).addUserIds(1)
            .addUserIds(42).setUnknownUser(io.mfserve.proto.v1.UnknownUserFallback
                .UNKNOWN_USER_FALLBACK_ERROR).build()).hasNext()));
    c.add(new Case("explain unknown item", bad, "item_id", s -> s.explain(
        io.mfserve.proto.v1.ExplainRequest.newBuilder().setModelId("ok").setUserId(0)
            .setItemId(4242).build())));
    c.add(new Case("explain no item", bad, "item", s -> s.explain(
        io.mfserve.proto.v1.ExplainRequest.newBuilder().setModelId("ok").setUserId(0)
            .build())));
    c.add(new Case("explain negative k", bad, "k", s -> s.explain(
        io.mfserve.proto.v1.ExplainRequest.newBuilder().setModelId("ok").setUserId(0)
            .setItemId(0).setK(-1).build())));
    c.add(new Case("batch negative k", bad, "k", s -> s.recommendBatch(RecommendBatchRequest
        .newBuilder().setModelId("ok").addUserIds(0).setK(-2).build()).hasNext()));
    c.add(new Case("batch unknown denied item", bad, "denied_item_ids[0]", s -> s
        .recommendBatch(RecommendBatchRequest.newBuilder().setModelId("ok").addUserIds(0)
            .addDeniedItemIds(5).build()).hasNext()));
    c.add(new Case("batch unknown model", notFound, null, s -> s.recommendBatch(
        RecommendBatchRequest.newBuilder().setModelId("nope").addUserIds(0).build())
        .hasNext()));
    c.add(new Case("similar items no item", bad, "item", s -> s.similarItems(
        SimilarItemsRequest.newBuilder().setModelId("ok").build())));
    c.add(new Case("similar items unknown item", bad, "item_id", s -> s.similarItems(
        SimilarItemsRequest.newBuilder().setModelId("ok").setItemId(5).build())));
    c.add(new Case("similar items key on an id model", bad, "item_key", s -> s.similarItems(
        SimilarItemsRequest.newBuilder().setModelId("ok").setItemKey("x").build())));
    c.add(new Case("similar items negative k", bad, "k", s -> s.similarItems(
        SimilarItemsRequest.newBuilder().setModelId("ok").setItemId(1).setK(-1).build())));
    c.add(new Case("similar items unknown similarity", bad, "similarity", s -> s.similarItems(
        SimilarItemsRequest.newBuilder().setModelId("ok").setItemId(1).setSimilarityValue(9)
            .build())));
    c.add(new Case("similar items unknown model", notFound, null, s -> s.similarItems(
        SimilarItemsRequest.newBuilder().setModelId("nope").setItemId(1).build())));
    c.add(new Case("similar users no user", bad, "user", s -> s.similarUsers(
        SimilarUsersRequest.newBuilder().setModelId("ok").build())));
    c.add(new Case("similar users unknown user", bad, "user_id", s -> s.similarUsers(
        SimilarUsersRequest.newBuilder().setModelId("ok").setUserId(-3).build())));
    c.add(new Case("similar users empty model id", bad, "model_id", s -> s.similarUsers(
        SimilarUsersRequest.newBuilder().setUserId(1).build())));
    c.add(new Case("predict row no user", bad, "user", s -> s.predictRow(
        PredictRowRequest.newBuilder().setModelId("ok").build())));
    c.add(new Case("predict row unknown user", bad, "user_id", s -> s.predictRow(
        PredictRowRequest.newBuilder().setModelId("ok").setUserId(8).build())));
    c.add(new Case("predict row bad history", bad, "user_history.values[0]",
        s -> s.predictRow(PredictRowRequest.newBuilder().setModelId("ok").setUserHistory(
            UserHistory.newBuilder().addItemIds(1).addValues(Float.POSITIVE_INFINITY)).build())));
    c.add(new Case("predict row unknown model", notFound, null, s -> s.predictRow(
        PredictRowRequest.newBuilder().setModelId("nope").setUserId(1).build())));
    c.add(new Case("fold in no history", bad, "user_history", s -> s.foldIn(
        FoldInRequest.newBuilder().setModelId("ok").build())));
    c.add(new Case("fold in ids and keys", bad, "user_history.item_keys", s -> s.foldIn(
        FoldInRequest.newBuilder().setModelId("ok").setUserHistory(history.clone()
            .addItemKeys("a")).build())));
    c.add(new Case("fold in unknown model", notFound, null, s -> s.foldIn(
        FoldInRequest.newBuilder().setModelId("nope").setUserHistory(history).build())));
    return c;
  }

  @Test
  void malformedRequests_eachGetTheirStatus_andTheServerKeepsServing() {
    MatrixFactorizationBlockingStub stub = server.start();
    stub.fit(good().setModelId("ok").build());
    List<String> failures = new ArrayList<>();
    for (Case c : cases()) {
      StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
          () -> c.call().accept(stub), c.name());
      if (e.getStatus().getCode() != c.code()) {
        failures.add(c.name() + ": got " + e.getStatus());
        continue;
      }
      String message = e.getStatus().getDescription();
      assertFalse(message == null || message.isBlank(), c.name());
      if (c.field() != null) {
        BadRequest br = badRequest(e);
        if (br == null || br.getFieldViolationsCount() == 0
            || !br.getFieldViolations(0).getField().equals(c.field())) {
          failures.add(c.name() + ": expected field " + c.field() + ", got "
              + (br == null ? "no BadRequest" : br.getFieldViolationsList()) + " / " + message);
        }
      }
    }
    assertTrue(failures.isEmpty(), String.join("\n", failures));
    assertTrue(cases().size() >= 40);
    // Still serving, and nothing half-made was left behind.
    assertEquals(2, stub.fit(good().build()).getModel().getNumFactors());
    assertEquals(2, stub.listModels(io.mfserve.proto.v1.ListModelsRequest.getDefaultInstance())
        .getModelsCount());
  }

  private static BadRequest badRequest(StatusRuntimeException e) {
    com.google.rpc.Status s = StatusProto.fromThrowable(e);
    if (s == null) {
      return null;
    }
    for (com.google.protobuf.Any any : s.getDetailsList()) {
      if (any.is(BadRequest.class)) {
        try {
          return any.unpack(BadRequest.class);
        } catch (com.google.protobuf.InvalidProtocolBufferException x) {
          throw new AssertionError(x);
        }
      }
    }
    return null;
  }
}
