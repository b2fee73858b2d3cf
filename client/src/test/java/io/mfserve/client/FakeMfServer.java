package io.mfserve.client;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.rpc.BadRequest;
import com.google.rpc.Code;
import io.grpc.Context;
import io.grpc.Status;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.mfserve.proto.v1.AbsentEntries;
import io.mfserve.proto.v1.Alias;
import io.mfserve.proto.v1.DamagedModel;
import io.mfserve.proto.v1.DeleteAliasRequest;
import io.mfserve.proto.v1.DeleteAliasResponse;
import io.mfserve.proto.v1.DeleteMatrixRequest;
import io.mfserve.proto.v1.DeleteMatrixResponse;
import io.mfserve.proto.v1.DeleteModelRequest;
import io.mfserve.proto.v1.DeleteModelResponse;
import io.mfserve.proto.v1.ExportModelRequest;
import io.mfserve.proto.v1.ExportModelResponse;
import io.mfserve.proto.v1.FitProgress;
import io.mfserve.proto.v1.FitRequest;
import io.mfserve.proto.v1.FitResponse;
import io.mfserve.proto.v1.FitWithProgressRequest;
import io.mfserve.proto.v1.FitWithProgressResponse;
import io.mfserve.proto.v1.GetAliasRequest;
import io.mfserve.proto.v1.GetAliasResponse;
import io.mfserve.proto.v1.GetFactorsRequest;
import io.mfserve.proto.v1.GetFactorsResponse;
import io.mfserve.proto.v1.GetModelRequest;
import io.mfserve.proto.v1.GetModelResponse;
import io.mfserve.proto.v1.IdForm;
import io.mfserve.proto.v1.ImportFactorsHeader;
import io.mfserve.proto.v1.ImportFactorsRequest;
import io.mfserve.proto.v1.ImportFactorsResponse;
import io.mfserve.proto.v1.ImportModelRequest;
import io.mfserve.proto.v1.ImportModelResponse;
import io.mfserve.proto.v1.ListAliasesRequest;
import io.mfserve.proto.v1.ListAliasesResponse;
import io.mfserve.proto.v1.ListModelsRequest;
import io.mfserve.proto.v1.ListModelsResponse;
import io.mfserve.proto.v1.ListSolversRequest;
import io.mfserve.proto.v1.ListSolversResponse;
import io.mfserve.proto.v1.Matrix;
import io.mfserve.proto.v1.MatrixFactorizationGrpc;
import io.mfserve.proto.v1.ModelInfo;
import io.mfserve.proto.v1.ParameterInfo;
import io.mfserve.proto.v1.ParameterType;
import io.mfserve.proto.v1.PredictRequest;
import io.mfserve.proto.v1.PredictResponse;
import io.mfserve.proto.v1.RecommendRequest;
import io.mfserve.proto.v1.RecommendResponse;
import io.mfserve.proto.v1.ScoredItem;
import io.mfserve.proto.v1.SetAliasRequest;
import io.mfserve.proto.v1.SetAliasResponse;
import io.mfserve.proto.v1.SolverInfo;
import io.mfserve.proto.v1.UploadMatrixRequest;
import io.mfserve.proto.v1.UploadMatrixResponse;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A fake mfserve that records what it receives and answers with canned, predictable values.
 *
 * <p>Fit makes a model whose shape comes from the matrix; Predict scores {@code user + item /
 * 10}; Recommend returns items 3, 1, 2 with scores 0.9, 0.5, 0.25 (or keys "c", "a", "b" for
 * string-keyed models). Every call records whether it carried a deadline.
 *
 * <p>The repository calls are faked too: aliases with compare-and-set as the proto specifies;
 * ExportModel streams {@link #snapshotBytes} pseudo-random bytes per model (which ImportModel
 * recognises and serves under the id asked for); ImportFactors checks the stream's shape
 * (header first and only first, user rows before item rows) and serves the imported rows back
 * through GetFactors unchanged. Each streaming call records what it received.
 */
public final class FakeMfServer extends MatrixFactorizationGrpc.MatrixFactorizationImplBase {
  public final List<FitRequest> fits = new CopyOnWriteArrayList<>();
  public final List<PredictRequest> predicts = new CopyOnWriteArrayList<>();
  public final List<RecommendRequest> recommends = new CopyOnWriteArrayList<>();
  public final List<io.mfserve.proto.v1.RecommendBatchRequest> recommendBatches =
      new CopyOnWriteArrayList<>();
  /** Whether RecommendBatch is served (each user gets Recommend's answer); else UNIMPLEMENTED. */
  public volatile boolean serveRecommendBatch;
  /** The serialized size of each upload chunk, per upload. */
  public final List<List<Integer>> uploads = new CopyOnWriteArrayList<>();
  public final List<String> deletedMatrices = new CopyOnWriteArrayList<>();
  public final List<String> methodsWithoutDeadline = new CopyOnWriteArrayList<>();
  public final Map<String, ModelInfo> models = new LinkedHashMap<>();
  private final Map<String, Matrix> matrices = new LinkedHashMap<>();
  /** What GetFactors streams; null means one chunk built from the model. */
  public volatile List<GetFactorsResponse> factorChunks;
  /**
   * FitWithProgress: after this many progress events the stream waits (up to 10 s) for the
   * client to cancel; 0 streams every iteration, then the model.
   */
  public volatile int holdAfterProgress;
  /** Counted down when a FitWithProgress call is cancelled by the client. */
  public final CountDownLatch fitCancelled = new CountDownLatch(1);

  private void checkDeadline(String method) {
    if (Context.current().getDeadline() == null) {
      methodsWithoutDeadline.add(method);
    }
  }

  /** As spark-als: a request with no input and a source_uri names its data itself. */
  private static boolean readsOwnInput(FitRequest request) {
    return request.getInputCase() == FitRequest.InputCase.INPUT_NOT_SET
        && request.containsParams("source_uri");
  }

  @Override
  public synchronized void fit(FitRequest request, StreamObserver<FitResponse> response) {
    checkDeadline("Fit");
    fits.add(request);
    if (request.hasNumFactors() && request.getNumFactors() < 1) {
      response.onError(invalidArgument("num_factors is " + request.getNumFactors()
          + "; it must be at least 1", "num_factors"));
      return;
    }
    Matrix m = request.hasMatrix() ? request.getMatrix() : matrices.get(request.getMatrixId());
    if (m == null && readsOwnInput(request)) {
      m = Matrix.getDefaultInstance();
    }
    if (m == null) {
      response.onError(Status.NOT_FOUND
          .withDescription("no uploaded matrix '" + request.getMatrixId() + "'")
          .asRuntimeException());
      return;
    }
    String id = request.getModelId().isEmpty() ? "model-" + (models.size() + 1)
        : request.getModelId();
    ModelInfo info = info(id, request, m);
    models.put(id, info);
    response.onNext(FitResponse.newBuilder().setModel(info).build());
    response.onCompleted();
  }

  /**
   * Streams one progress event per iteration (loss 100 / i, validation RMSE 1 + 1 / i when a
   * validation fraction is set), then the model of {@link #fit}, from a thread of its own so that
   * a client on a direct executor can cancel in between.
   */
  @Override
  public void fitWithProgress(FitWithProgressRequest request,
      StreamObserver<FitWithProgressResponse> response) {
    checkDeadline("FitWithProgress");
    ServerCallStreamObserver<FitWithProgressResponse> call =
        (ServerCallStreamObserver<FitWithProgressResponse>) response;
    call.setOnCancelHandler(fitCancelled::countDown);
    FitRequest fit = request.getFit();
    fits.add(fit);
    if (fit.hasNumFactors() && fit.getNumFactors() < 1) {
      response.onError(invalidArgument("num_factors is " + fit.getNumFactors()
          + "; it must be at least 1", "num_factors"));
      return;
    }
    Matrix m;
    String id;
    synchronized (this) {
      m = fit.hasMatrix() ? fit.getMatrix() : matrices.get(fit.getMatrixId());
      if (m == null && readsOwnInput(fit)) {
        m = Matrix.getDefaultInstance();
      }
      id = fit.getModelId().isEmpty() ? "model-" + (models.size() + 1) : fit.getModelId();
    }
    if (m == null) {
      response.onError(Status.NOT_FOUND
          .withDescription("no uploaded matrix '" + fit.getMatrixId() + "'")
          .asRuntimeException());
      return;
    }
    ModelInfo info = info(id, fit, m);
    Thread streamer = new Thread(() -> {
      for (int i = 1; i <= info.getIterations(); i++) {
        if (call.isCancelled()) {
          return;
        }
        FitProgress.Builder p = FitProgress.newBuilder().setModelId(id).setIteration(i)
            .setMaxIterations(info.getIterations()).setLoss(100.0 / i)
            .setElapsedSeconds(0.5 * i).setEtaSeconds(0.5 * (info.getIterations() - i));
        if (fit.hasValidationFraction()) {
          p.setValidationRmse(1 + 1.0 / i);
        }
        synchronized (call) {
          response.onNext(FitWithProgressResponse.newBuilder().setProgress(p).build());
        }
        if (i == holdAfterProgress) {
          try {
            fitCancelled.await(10, TimeUnit.SECONDS);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          return;
        }
      }
      synchronized (FakeMfServer.this) {
        models.put(id, info);
      }
      synchronized (call) {
        response.onNext(FitWithProgressResponse.newBuilder().setModel(info).build());
        response.onCompleted();
      }
    }, "fake-fit-progress");
    streamer.setDaemon(true);
    streamer.start();
  }

  public static ModelInfo info(String id, FitRequest request, Matrix m) {
    long users;
    long items;
    long entries;
    IdForm uf = IdForm.ID_FORM_INT64;
    IdForm itf = IdForm.ID_FORM_INT64;
    if (m.hasDense()) {
      users = m.getDense().getRows();
      items = m.getDense().getCols();
      entries = users * items;
    } else {
      var s = m.getSparse();
      uf = s.getRowKeysCount() > 0 ? IdForm.ID_FORM_STRING : IdForm.ID_FORM_INT64;
      itf = s.getColKeysCount() > 0 ? IdForm.ID_FORM_STRING : IdForm.ID_FORM_INT64;
      users = uf == IdForm.ID_FORM_STRING ? s.getRowKeysList().stream().distinct().count()
          : s.getRowIdsList().stream().distinct().count();
      items = itf == IdForm.ID_FORM_STRING ? s.getColKeysList().stream().distinct().count()
          : s.getColIdsList().stream().distinct().count();
      entries = s.getValuesCount();
    }
    int k = request.hasNumFactors() ? request.getNumFactors() : 10;
    int iterations = request.hasMaxIterations() ? request.getMaxIterations() : 3;
    ModelInfo.Builder b = ModelInfo.newBuilder()
        .setModelId(id)
        .setSolver(request.getSolver().isEmpty() ? "als" : request.getSolver())
        .setNumFactors(k)
        .setNumUsers(users)
        .setNumItems(items)
        .setNumEntries(entries)
        .setIterations(iterations)
        .setTrainingRmse(0.5)
        .setFitSeconds(1.25)
        .setMemoryBytes(2048)
        .setSeed(request.hasSeed() ? request.getSeed() : 42)
        .setAbsentEntries(AbsentEntries.ABSENT_ENTRIES_UNKNOWN)
        .setUserIdForm(uf)
        .setItemIdForm(itf)
        .putAllParams(request.getParamsMap())
        .putParams("lambda", "0.1");
    for (int i = 0; i < iterations; i++) {
      b.addTrainingLoss(100.0 / (i + 1));
      if (request.hasValidationFraction()) {
        b.addValidationRmse(1 + 1.0 / (i + 1));
      }
    }
    return b.build();
  }

  static RuntimeException invalidArgument(String description, String field) {
    com.google.rpc.Status status = com.google.rpc.Status.newBuilder()
        .setCode(Code.INVALID_ARGUMENT_VALUE)
        .setMessage(description)
        .addDetails(Any.pack(BadRequest.newBuilder()
            .addFieldViolations(BadRequest.FieldViolation.newBuilder()
                .setField(field).setDescription(description))
            .build()))
        .build();
    return StatusProto.toStatusRuntimeException(status);
  }

  @Override
  public StreamObserver<UploadMatrixRequest> uploadMatrix(
      StreamObserver<UploadMatrixResponse> response) {
    checkDeadline("UploadMatrix");
    List<Integer> sizes = new ArrayList<>();
    Matrix.Builder all = Matrix.newBuilder();
    return new StreamObserver<>() {
      @Override
      public void onNext(UploadMatrixRequest chunk) {
        sizes.add(chunk.getSerializedSize());
        Matrix c = chunk.getChunk();
        if (c.hasDense()) {
          var d = all.getDenseBuilder();
          d.setCols(c.getDense().getCols()).setRows(d.getRows() + c.getDense().getRows())
              .addAllValues(c.getDense().getValuesList());
        } else {
          all.getSparseBuilder().mergeFrom(c.getSparse());
        }
      }

      @Override
      public void onError(Throwable t) {}

      @Override
      public void onCompleted() {
        String id;
        synchronized (FakeMfServer.this) {
          id = "matrix-" + (matrices.size() + 1);
          matrices.put(id, all.build());
          uploads.add(sizes);
        }
        Matrix m = all.build();
        long entries = m.hasDense() ? m.getDense().getValuesCount()
            : m.getSparse().getValuesCount();
        response.onNext(UploadMatrixResponse.newBuilder().setMatrixId(id).setEntries(entries)
            .setChunks(sizes.size()).build());
        response.onCompleted();
      }
    };
  }

  /** The matrix uploaded under an id, reassembled. */
  public synchronized Matrix uploaded(String id) {
    return matrices.get(id);
  }

  @Override
  public synchronized void deleteMatrix(DeleteMatrixRequest request,
      StreamObserver<DeleteMatrixResponse> response) {
    checkDeadline("DeleteMatrix");
    deletedMatrices.add(request.getMatrixId());
    response.onNext(DeleteMatrixResponse.newBuilder().setFreedBytes(100).build());
    response.onCompleted();
  }

  @Override
  public void getFactors(GetFactorsRequest request,
      StreamObserver<GetFactorsResponse> response) {
    checkDeadline("GetFactors");
    ModelInfo info = model(request.getModelId(), response);
    if (info == null) {
      return;
    }
    List<GetFactorsResponse> chunks;
    synchronized (this) {
      chunks = importedFactors.get(request.getModelId());
    }
    if (chunks == null) {
      chunks = factorChunks;
    }
    if (chunks == null) {
      chunks = List.of(oneChunk(info));
    }
    chunks.forEach(response::onNext);
    response.onCompleted();
  }

  /** All factors in one chunk: user u factor f = u + f / 10, item i factor f = -(i + f / 10). */
  static GetFactorsResponse oneChunk(ModelInfo info) {
    int k = info.getNumFactors();
    GetFactorsResponse.Builder b = GetFactorsResponse.newBuilder().setModel(info);
    b.getUserFactorsBuilder().setRows((int) info.getNumUsers()).setCols(k);
    b.getItemFactorsBuilder().setRows((int) info.getNumItems()).setCols(k);
    for (int u = 0; u < info.getNumUsers(); u++) {
      b.addUserIds(u);
      for (int f = 0; f < k; f++) {
        b.getUserFactorsBuilder().addValues(u + f / 10f);
      }
    }
    for (int i = 0; i < info.getNumItems(); i++) {
      b.addItemIds(i);
      for (int f = 0; f < k; f++) {
        b.getItemFactorsBuilder().addValues(-(i + f / 10f));
      }
    }
    return b.build();
  }

  private synchronized ModelInfo model(String id, StreamObserver<?> response) {
    ModelInfo info = models.get(id);
    if (info == null) {
      response.onError(Status.NOT_FOUND.withDescription("no model '" + id + "'")
          .asRuntimeException());
    }
    return info;
  }

  @Override
  public void predict(PredictRequest request, StreamObserver<PredictResponse> response) {
    checkDeadline("Predict");
    predicts.add(request);
    if (model(request.getModelId(), response) == null) {
      return;
    }
    PredictResponse.Builder b = PredictResponse.newBuilder();
    for (int i = 0; i < request.getUserIdsCount(); i++) {
      b.addScores(request.getUserIds(i) + request.getItemIds(i) / 10f);
    }
    for (int i = 0; i < request.getUserKeysCount(); i++) {
      b.addScores(request.getUserKeys(i).length() + request.getItemKeys(i).length() / 10f);
    }
    response.onNext(b.build());
    response.onCompleted();
  }

  @Override
  public void recommend(RecommendRequest request, StreamObserver<RecommendResponse> response) {
    checkDeadline("Recommend");
    recommends.add(request);
    ModelInfo info = model(request.getModelId(), response);
    if (info == null) {
      return;
    }
    if (request.hasUserId() && request.getUserId() < 0) {
      response.onError(invalidArgument("unknown user " + request.getUserId(), "user_id"));
      return;
    }
    boolean keys = info.getItemIdForm() == IdForm.ID_FORM_STRING;
    long[] ids = {3, 1, 2};
    String[] names = {"c", "a", "b"};
    float[] scores = {0.9f, 0.5f, 0.25f};
    RecommendResponse.Builder b = RecommendResponse.newBuilder();
    int k = request.getK() == 0 ? 10 : request.getK();
    for (int i = 0; i < Math.min(k, 3); i++) {
      b.addItems(keys ? ScoredItem.newBuilder().setItemKey(names[i]).setScore(scores[i])
          : ScoredItem.newBuilder().setItemId(ids[i]).setScore(scores[i]));
    }
    response.onNext(b.build());
    response.onCompleted();
  }

  @Override
  public void recommendBatch(io.mfserve.proto.v1.RecommendBatchRequest request,
      StreamObserver<io.mfserve.proto.v1.RecommendBatchResponse> response) {
    checkDeadline("RecommendBatch");
    if (!serveRecommendBatch) {
      super.recommendBatch(request, response);
      return;
    }
    recommendBatches.add(request);
    ModelInfo info = model(request.getModelId(), response);
    if (info == null) {
      return;
    }
    // Each user gets what Recommend answers: items 3, 1, 2 (keys c, a, b), at most k.
    boolean keys = info.getItemIdForm() == IdForm.ID_FORM_STRING;
    int k = request.getK() == 0 ? 10 : request.getK();
    for (int u = 0; u < Math.max(request.getUserIdsCount(), request.getUserKeysCount()); u++) {
      io.mfserve.proto.v1.RecommendBatchResponse.Builder b =
          io.mfserve.proto.v1.RecommendBatchResponse.newBuilder();
      if (request.getUserIdsCount() > 0) {
        b.setUserId(request.getUserIds(u));
      } else {
        b.setUserKey(request.getUserKeys(u));
      }
      long[] ids = {3, 1, 2};
      String[] names = {"c", "a", "b"};
      float[] scores = {0.9f, 0.5f, 0.25f};
      for (int i = 0; i < Math.min(k, 3); i++) {
        b.addItems(keys ? ScoredItem.newBuilder().setItemKey(names[i]).setScore(scores[i])
            : ScoredItem.newBuilder().setItemId(ids[i]).setScore(scores[i]));
      }
      response.onNext(b.build());
    }
    response.onCompleted();
  }

  public final List<io.mfserve.proto.v1.ExplainRequest> explainRequests =
      new CopyOnWriteArrayList<>();

  /** Least squares: score 3.5 = base 3 + shares 0.75 (item 4, value 5) and -0.25 (item 1, 2). */
  @Override
  public void explain(io.mfserve.proto.v1.ExplainRequest request,
      StreamObserver<io.mfserve.proto.v1.ExplainResponse> response) {
    checkDeadline("Explain");
    explainRequests.add(request);
    ModelInfo info = model(request.getModelId(), response);
    if (info != null) {
      boolean keys = info.getItemIdForm() == IdForm.ID_FORM_STRING;
      response.onNext(io.mfserve.proto.v1.ExplainResponse.newBuilder().setScore(3.5f)
          .setMethod("least_squares").setBase(3).setExplainedScore(3.5).setHistoryEntries(2)
          .addContributions(io.mfserve.proto.v1.Contribution.newBuilder()
              .setItemId(keys ? 0 : 4).setItemKey(keys ? "d" : "").setValue(5)
              .setContribution(0.75))
          .addContributions(io.mfserve.proto.v1.Contribution.newBuilder()
              .setItemId(keys ? 0 : 1).setItemKey(keys ? "a" : "").setValue(2)
              .setContribution(-0.25))
          .build());
      response.onCompleted();
    }
  }

  public final List<io.mfserve.proto.v1.SimilarItemsRequest> similarItemRequests =
      new CopyOnWriteArrayList<>();
  public final List<io.mfserve.proto.v1.SimilarUsersRequest> similarUserRequests =
      new CopyOnWriteArrayList<>();
  public final List<io.mfserve.proto.v1.PredictRowRequest> predictRows =
      new CopyOnWriteArrayList<>();

  /** Items 2 and 0 (or keys "b", "a"), scores 0.75 and 0.5 (dot: 3 and 2). */
  @Override
  public void similarItems(io.mfserve.proto.v1.SimilarItemsRequest request,
      StreamObserver<io.mfserve.proto.v1.SimilarItemsResponse> response) {
    checkDeadline("SimilarItems");
    similarItemRequests.add(request);
    ModelInfo info = model(request.getModelId(), response);
    if (info != null) {
      boolean keys = info.getItemIdForm() == IdForm.ID_FORM_STRING;
      boolean dot = request.getSimilarity() == io.mfserve.proto.v1.Similarity.SIMILARITY_DOT;
      response.onNext(io.mfserve.proto.v1.SimilarItemsResponse.newBuilder()
          .addItems(ScoredItem.newBuilder().setItemId(keys ? 0 : 2).setItemKey(keys ? "b" : "")
              .setScore(dot ? 3f : 0.75f))
          .addItems(ScoredItem.newBuilder().setItemId(0).setItemKey(keys ? "a" : "")
              .setScore(dot ? 2f : 0.5f))
          .build());
      response.onCompleted();
    }
  }

  /** User 7 (or key "zed"), score 0.25. */
  @Override
  public void similarUsers(io.mfserve.proto.v1.SimilarUsersRequest request,
      StreamObserver<io.mfserve.proto.v1.SimilarUsersResponse> response) {
    checkDeadline("SimilarUsers");
    similarUserRequests.add(request);
    ModelInfo info = model(request.getModelId(), response);
    if (info != null) {
      boolean keys = info.getUserIdForm() == IdForm.ID_FORM_STRING;
      response.onNext(io.mfserve.proto.v1.SimilarUsersResponse.newBuilder()
          .addUsers(io.mfserve.proto.v1.ScoredUser.newBuilder().setUserId(keys ? 0 : 7)
              .setUserKey(keys ? "zed" : "").setScore(0.25f))
          .build());
      response.onCompleted();
    }
  }

  /** Item i (ids 0..n-1, or keys "i0".."i{n-1}") scores i / 10. */
  @Override
  public void predictRow(io.mfserve.proto.v1.PredictRowRequest request,
      StreamObserver<io.mfserve.proto.v1.PredictRowResponse> response) {
    checkDeadline("PredictRow");
    predictRows.add(request);
    ModelInfo info = model(request.getModelId(), response);
    if (info != null) {
      io.mfserve.proto.v1.PredictRowResponse.Builder b =
          io.mfserve.proto.v1.PredictRowResponse.newBuilder();
      for (int i = 0; i < info.getNumItems(); i++) {
        b.addScores(i / 10f);
        if (info.getItemIdForm() == IdForm.ID_FORM_STRING) {
          b.addItemKeys("i" + i);
        } else {
          b.addItemIds(i);
        }
      }
      response.onNext(b.build());
      response.onCompleted();
    }
  }

  /** Factors 1, 2, ... k and bias 0.5. */
  @Override
  public void foldIn(io.mfserve.proto.v1.FoldInRequest request,
      StreamObserver<io.mfserve.proto.v1.FoldInResponse> response) {
    checkDeadline("FoldIn");
    ModelInfo info = model(request.getModelId(), response);
    if (info != null) {
      io.mfserve.proto.v1.FoldInResponse.Builder b =
          io.mfserve.proto.v1.FoldInResponse.newBuilder().setBias(0.5f);
      for (int f = 0; f < info.getNumFactors(); f++) {
        b.addFactors(f + 1);
      }
      response.onNext(b.build());
      response.onCompleted();
    }
  }

  @Override
  public void getModel(GetModelRequest request, StreamObserver<GetModelResponse> response) {
    checkDeadline("GetModel");
    ModelInfo info = model(request.getModelId(), response);
    if (info != null) {
      response.onNext(GetModelResponse.newBuilder().setModel(info).build());
      response.onCompleted();
    }
  }

  @Override
  public synchronized void listModels(ListModelsRequest request,
      StreamObserver<ListModelsResponse> response) {
    checkDeadline("ListModels");
    ListModelsResponse.Builder b = ListModelsResponse.newBuilder().addAllDamagedModels(damaged);
    for (ModelInfo m : models.values()) {
      ModelInfo.Builder with = m.toBuilder().clearAliases().setResident(true);
      aliases.forEach((alias, target) -> {
        if (target.equals(m.getModelId())) {
          with.addAliases(alias);
        }
      });
      b.addModels(with);
    }
    response.onNext(b.build());
    response.onCompleted();
  }

  @Override
  public synchronized void deleteModel(DeleteModelRequest request,
      StreamObserver<DeleteModelResponse> response) {
    checkDeadline("DeleteModel");
    if (models.remove(request.getModelId()) == null) {
      response.onError(Status.NOT_FOUND.withDescription("no model '" + request.getModelId()
          + "'").asRuntimeException());
      return;
    }
    response.onNext(DeleteModelResponse.newBuilder().setFreedBytes(2048).build());
    response.onCompleted();
  }

  @Override
  public void listSolvers(ListSolversRequest request,
      StreamObserver<ListSolversResponse> response) {
    checkDeadline("ListSolvers");
    response.onNext(ListSolversResponse.newBuilder()
        .addSolvers(SolverInfo.newBuilder()
            .setName("als")
            .setDescription("Alternating least squares.")
            .setDefaultAbsentEntries(AbsentEntries.ABSENT_ENTRIES_UNKNOWN)
            .addSupportedAbsentEntries(AbsentEntries.ABSENT_ENTRIES_UNKNOWN)
            .addSupportedAbsentEntries(AbsentEntries.ABSENT_ENTRIES_IMPLICIT)
            .addParameters(ParameterInfo.newBuilder().setName("max_iterations")
                .setType(ParameterType.PARAMETER_TYPE_INT).setDefaultValue("10")
                .setValidRange("[1, 10000]").setDoc("Number of sweeps."))
            .addParameters(ParameterInfo.newBuilder().setName("alpha")
                .setType(ParameterType.PARAMETER_TYPE_DOUBLE).setDefaultValue("40")
                .setValidRange("(0, inf)").setDoc("Confidence scale for implicit feedback.")))
        .addSolvers(SolverInfo.newBuilder()
            .setName("nmf")
            .setDescription("Non-negative matrix factorization.")
            .setDefaultAbsentEntries(AbsentEntries.ABSENT_ENTRIES_ZERO)
            .addSupportedAbsentEntries(AbsentEntries.ABSENT_ENTRIES_ZERO)
            .addParameters(ParameterInfo.newBuilder().setName("init")
                .setType(ParameterType.PARAMETER_TYPE_CHOICE).setDefaultValue("random")
                .addAllowedValues("random").addAllowedValues("nndsvd")
                .setDoc("How W and H start.")))
        .build());
    response.onCompleted();
  }

  // ---------------------------------------------------------------------------------------
  // The repository: aliases, snapshots, imported factors

  /** Alias → model id, by name. */
  public final Map<String, String> aliases = new TreeMap<>();
  public final List<SetAliasRequest> setAliasRequests = new CopyOnWriteArrayList<>();
  public final List<DeleteAliasRequest> deleteAliasRequests = new CopyOnWriteArrayList<>();
  /** What ListModels reports as damaged snapshots. */
  public final List<DamagedModel> damaged = new CopyOnWriteArrayList<>();
  /** The size of the snapshot ExportModel streams, and of its chunks. */
  public volatile int snapshotBytes = 100;
  public volatile int exportChunkBytes = 64 * 1024;
  /** ExportModel announces the full size but stops halfway. */
  public volatile boolean truncateExport;
  /** The snapshots ExportModel made, and the model each holds. */
  private final Map<ByteString, ModelInfo> snapshots = new HashMap<>();
  /** Per ImportModel call: every request as received. */
  public final List<List<ImportModelRequest>> importModelCalls = new CopyOnWriteArrayList<>();
  /** Per ImportFactors call: every request as received. */
  public final List<List<ImportFactorsRequest>> importFactorsCalls =
      new CopyOnWriteArrayList<>();
  /** The rows of imported models, served back by GetFactors. */
  private final Map<String, List<GetFactorsResponse>> importedFactors = new HashMap<>();

  private static RuntimeException failedPrecondition(String description) {
    return Status.FAILED_PRECONDITION.withDescription(description).asRuntimeException();
  }

  @Override
  public synchronized void setAlias(SetAliasRequest request,
      StreamObserver<SetAliasResponse> response) {
    checkDeadline("SetAlias");
    setAliasRequests.add(request);
    if (!models.containsKey(request.getModelId())) {
      response.onError(Status.NOT_FOUND.withDescription("no model '" + request.getModelId()
          + "'").asRuntimeException());
      return;
    }
    String now = aliases.getOrDefault(request.getAlias(), "");
    if (request.hasExpectedModelId() && !request.getExpectedModelId().equals(now)) {
      response.onError(failedPrecondition("alias '" + request.getAlias() + "' points at '"
          + now + "', not '" + request.getExpectedModelId() + "'"));
      return;
    }
    aliases.put(request.getAlias(), request.getModelId());
    response.onNext(SetAliasResponse.newBuilder().setAlias(Alias.newBuilder()
        .setAlias(request.getAlias()).setModelId(request.getModelId()))
        .setPreviousModelId(now).build());
    response.onCompleted();
  }

  @Override
  public synchronized void getAlias(GetAliasRequest request,
      StreamObserver<GetAliasResponse> response) {
    checkDeadline("GetAlias");
    String target = aliases.get(request.getAlias());
    if (target == null) {
      response.onError(Status.NOT_FOUND.withDescription("no alias '" + request.getAlias()
          + "'").asRuntimeException());
      return;
    }
    response.onNext(GetAliasResponse.newBuilder().setAlias(Alias.newBuilder()
        .setAlias(request.getAlias()).setModelId(target)).build());
    response.onCompleted();
  }

  @Override
  public synchronized void listAliases(ListAliasesRequest request,
      StreamObserver<ListAliasesResponse> response) {
    checkDeadline("ListAliases");
    ListAliasesResponse.Builder b = ListAliasesResponse.newBuilder();
    aliases.forEach((a, m) -> b.addAliases(Alias.newBuilder().setAlias(a).setModelId(m)));
    response.onNext(b.build());
    response.onCompleted();
  }

  @Override
  public synchronized void deleteAlias(DeleteAliasRequest request,
      StreamObserver<DeleteAliasResponse> response) {
    checkDeadline("DeleteAlias");
    deleteAliasRequests.add(request);
    String now = aliases.get(request.getAlias());
    if (now == null) {
      response.onError(Status.NOT_FOUND.withDescription("no alias '" + request.getAlias()
          + "'").asRuntimeException());
      return;
    }
    if (request.hasExpectedModelId() && !request.getExpectedModelId().equals(now)) {
      response.onError(failedPrecondition("alias '" + request.getAlias() + "' points at '"
          + now + "', not '" + request.getExpectedModelId() + "'"));
      return;
    }
    aliases.remove(request.getAlias());
    response.onNext(DeleteAliasResponse.newBuilder().setPreviousModelId(now).build());
    response.onCompleted();
  }

  /** The id a request names, an alias resolved. */
  private synchronized String resolve(String idOrAlias) {
    return aliases.getOrDefault(idOrAlias, idOrAlias);
  }

  /** Streams {@link #snapshotBytes} bytes seeded by the model id, total_bytes on the first. */
  @Override
  public void exportModel(ExportModelRequest request,
      StreamObserver<ExportModelResponse> response) {
    checkDeadline("ExportModel");
    ModelInfo info = model(resolve(request.getModelId()), response);
    if (info == null) {
      return;
    }
    byte[] data = new byte[snapshotBytes];
    new Random(info.getModelId().hashCode()).nextBytes(data);
    synchronized (this) {
      snapshots.put(ByteString.copyFrom(data), info);
    }
    int send = truncateExport ? data.length / 2 : data.length;
    int step = Math.max(1, exportChunkBytes);
    for (int from = 0; from < send || from == 0; from += step) {
      ExportModelResponse.Builder c = ExportModelResponse.newBuilder()
          .setData(ByteString.copyFrom(data, from, Math.min(step, send - from)));
      if (from == 0) {
        c.setTotalBytes(data.length);
      }
      response.onNext(c.build());
      if (send == 0) {
        break;
      }
    }
    response.onCompleted();
  }

  /** Accepts the snapshots {@link #exportModel} made; anything else is INVALID_ARGUMENT. */
  @Override
  public StreamObserver<ImportModelRequest> importModel(
      StreamObserver<ImportModelResponse> response) {
    checkDeadline("ImportModel");
    List<ImportModelRequest> received = new ArrayList<>();
    importModelCalls.add(received);
    return new StreamObserver<>() {
      @Override
      public void onNext(ImportModelRequest chunk) {
        received.add(chunk);
      }

      @Override
      public void onError(Throwable t) {}

      @Override
      public void onCompleted() {
        ByteString all = ByteString.EMPTY;
        for (int i = 0; i < received.size(); i++) {
          if (i > 0 && !received.get(i).getModelId().isEmpty()) {
            response.onError(invalidArgument("model_id is for the first chunk only",
                "model_id"));
            return;
          }
          all = all.concat(received.get(i).getData());
        }
        synchronized (FakeMfServer.this) {
          ModelInfo source = snapshots.get(all);
          if (source == null) {
            response.onError(invalidArgument("not an mfserve snapshot (" + all.size()
                + " bytes)", "data"));
            return;
          }
          String id = received.get(0).getModelId().isEmpty() ? source.getModelId()
              : received.get(0).getModelId();
          if (models.containsKey(id)) {
            response.onError(Status.ALREADY_EXISTS.withDescription("model '" + id
                + "' exists").asRuntimeException());
            return;
          }
          ModelInfo imported = source.toBuilder().setModelId(id).build();
          models.put(id, imported);
          response.onNext(ImportModelResponse.newBuilder().setModel(imported).build());
        }
        response.onCompleted();
      }
    };
  }

  /**
   * Checks the shape of the stream (header first and only first; no user row after an item
   * row; each chunk's rows, ids or keys and biases consistent), then serves the rows.
   */
  @Override
  public StreamObserver<ImportFactorsRequest> importFactors(
      StreamObserver<ImportFactorsResponse> response) {
    checkDeadline("ImportFactors");
    List<ImportFactorsRequest> received = new ArrayList<>();
    importFactorsCalls.add(received);
    return new StreamObserver<>() {
      private String error;

      @Override
      public void onNext(ImportFactorsRequest m) {
        int n = received.size();
        received.add(m);
        if (error != null) {
          return;
        }
        if (n == 0 && !m.hasHeader()) {
          error = "the first message must carry the header";
        } else if (n > 0 && m.hasHeader()) {
          error = "message " + n + " carries a second header";
        } else if (m.hasRows()) {
          GetFactorsResponse r = m.getRows();
          boolean itemsSeen = received.subList(0, n).stream()
              .anyMatch(p -> p.getRows().getItemFactors().getRows() > 0);
          if (itemsSeen && r.getUserFactors().getRows() > 0) {
            error = "message " + n + " has user rows after item rows";
          }
        }
      }

      @Override
      public void onError(Throwable t) {}

      @Override
      public void onCompleted() {
        if (error != null) {
          response.onError(invalidArgument(error, "rows"));
          return;
        }
        if (received.isEmpty()) {
          response.onError(invalidArgument("no header", "header"));
          return;
        }
        ImportFactorsHeader h = received.get(0).getHeader();
        GetFactorsResponse.Builder all = GetFactorsResponse.newBuilder();
        all.getUserFactorsBuilder().setCols(h.getNumFactors());
        all.getItemFactorsBuilder().setCols(h.getNumFactors());
        long seen = 0;
        for (ImportFactorsRequest m : received) {
          GetFactorsResponse r = m.getRows();
          all.getUserFactorsBuilder().setRows(all.getUserFactors().getRows()
              + r.getUserFactors().getRows()).addAllValues(r.getUserFactors().getValuesList());
          all.getItemFactorsBuilder().setRows(all.getItemFactors().getRows()
              + r.getItemFactors().getRows()).addAllValues(r.getItemFactors().getValuesList());
          all.addAllUserIds(r.getUserIdsList()).addAllUserKeys(r.getUserKeysList())
              .addAllItemIds(r.getItemIdsList()).addAllItemKeys(r.getItemKeysList())
              .addAllUserBiases(r.getUserBiasesList()).addAllItemBiases(r.getItemBiasesList());
          seen += Math.max(m.getSeen().getRowIdsCount(), m.getSeen().getRowKeysCount());
        }
        synchronized (FakeMfServer.this) {
          String id = h.getModelId().isEmpty() ? "imported-" + (models.size() + 1)
              : h.getModelId();
          if (models.containsKey(id)) {
            response.onError(Status.ALREADY_EXISTS.withDescription("model '" + id
                + "' exists").asRuntimeException());
            return;
          }
          ModelInfo info = ModelInfo.newBuilder()
              .setModelId(id)
              .setSolver(h.getFoldInSolver().isEmpty() ? "als" : h.getFoldInSolver())
              .setNumFactors(h.getNumFactors())
              .setNumUsers(all.getUserFactors().getRows())
              .setNumItems(all.getItemFactors().getRows())
              .setNumEntries(seen)
              .setHasBiases(h.getHasBiases())
              .setAbsentEntries(h.getAbsentEntries() == AbsentEntries.ABSENT_ENTRIES_UNSPECIFIED
                  ? AbsentEntries.ABSENT_ENTRIES_UNKNOWN : h.getAbsentEntries())
              .setUserIdForm(all.getUserKeysCount() > 0 ? IdForm.ID_FORM_STRING
                  : IdForm.ID_FORM_INT64)
              .setItemIdForm(all.getItemKeysCount() > 0 ? IdForm.ID_FORM_STRING
                  : IdForm.ID_FORM_INT64)
              .putAllParams(h.getParamsMap())
              .setResident(true)
              .build();
          models.put(id, info);
          importedFactors.put(id, List.of(all.setModel(info).setGlobalBias(h.getGlobalMean())
              .build()));
          response.onNext(ImportFactorsResponse.newBuilder().setModel(info).build());
        }
        response.onCompleted();
      }
    };
  }
}
