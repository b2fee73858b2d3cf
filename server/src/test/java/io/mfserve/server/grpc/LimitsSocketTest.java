package io.mfserve.server.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.ErrorInfo;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.mfserve.proto.v1.DeleteModelRequest;
import io.mfserve.proto.v1.DenseMatrix;
import io.mfserve.proto.v1.FitRequest;
import io.mfserve.proto.v1.FitWithProgressRequest;
import io.mfserve.proto.v1.GetModelRequest;
import io.mfserve.proto.v1.GetServerInfoRequest;
import io.mfserve.proto.v1.GetServerInfoResponse;
import io.mfserve.proto.v1.LimitInfo;
import io.mfserve.proto.v1.Matrix;
import io.mfserve.proto.v1.MatrixFactorizationGrpc;
import io.mfserve.proto.v1.MatrixFactorizationGrpc.MatrixFactorizationBlockingStub;
import io.mfserve.proto.v1.PredictRequest;
import io.mfserve.proto.v1.RecommendBatchRequest;
import io.mfserve.proto.v1.RecommendRequest;
import io.mfserve.proto.v1.SetAliasRequest;
import io.mfserve.proto.v1.SparseMatrix;
import io.mfserve.proto.v1.UploadMatrixRequest;
import io.mfserve.proto.v1.UploadMatrixResponse;
import io.mfserve.server.ServerConfig;
import io.mfserve.server.model.store.Limits;
import io.mfserve.server.model.store.Limits.Limit;
import io.mfserve.server.model.store.MemoryBudget;
import io.mfserve.server.model.store.ModelStore;
import io.mfserve.server.testing.FutureObserver;
import io.mfserve.server.testing.InProcessMfServer;
import io.mfserve.server.testing.Requests;
import io.mfserve.server.testing.SocketMfServer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Every explicit limit, checked over a real socket with small values: the request over it gets
 * the limit's status, with an ErrorInfo naming the limit and its flag; the server keeps serving
 * and holds no memory for what it refused; GetServerInfo shows the values it enforces.
 */
class LimitsSocketTest {
  private static final Limits SMALL = Limits.defaults()
      .with(Limit.ROWS, 50).with(Limit.COLS, 40).with(Limit.REQUEST_ENTRIES, 1000)
      .with(Limit.UPLOAD_ENTRIES, 1500).with(Limit.FACTORS, 8).with(Limit.K, 20)
      .with(Limit.IDS, 30).with(Limit.KEY_LENGTH, 16).with(Limit.NAME_LENGTH, 24)
      .with(Limit.PARAMS, 3).with(Limit.UPLOADS, 2).with(Limit.MODELS, 3);
  private static final int MESSAGE_BYTES = 64 << 10;

  private SocketMfServer server;
  private MatrixFactorizationBlockingStub stub;

  @BeforeEach
  void start() throws Exception {
    ServerConfig config = InProcessMfServer.testConfig().withLimits(SMALL)
        .withMaxInboundMessageBytes(MESSAGE_BYTES);
    server = new SocketMfServer(config, null);
    stub = server.blocking().withDeadlineAfter(60, TimeUnit.SECONDS);
  }

  @AfterEach
  void stop() throws Exception {
    server.close();
  }

  private static Matrix dense(int rows, int cols) {
    DenseMatrix.Builder d = DenseMatrix.newBuilder().setRows(rows).setCols(cols);
    for (int n = 0; n < rows * cols; n++) {
      d.addValues((n * 7 % 5) + 1);
    }
    return Matrix.newBuilder().setDense(d).build();
  }

  private static String chars(int n) {
    return "k".repeat(n);
  }

  /** Asserts the call fails with the limit's status and an ErrorInfo naming it and its flag. */
  private static void assertLimit(Limit limit, Consumer<MatrixFactorizationBlockingStub> call,
      MatrixFactorizationBlockingStub stub) {
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
        () -> call.accept(stub), limit.id());
    assertLimit(limit, e);
  }

  private static void assertLimit(Limit limit, Throwable t) {
    StatusRuntimeException e = (StatusRuntimeException) t;
    Status.Code want = limit.invalidArgument() ? Status.Code.INVALID_ARGUMENT
        : Status.Code.RESOURCE_EXHAUSTED;
    assertEquals(want, e.getStatus().getCode(), limit.id() + ": " + e.getStatus());
    ErrorInfo info = errorInfo(e);
    assertNotNull(info, limit.id() + " carries an ErrorInfo");
    assertEquals("LIMIT_EXCEEDED", info.getReason());
    assertEquals(limit.id(), info.getMetadataOrThrow("limit"), e.getStatus().getDescription());
    assertEquals(limit.flag(), info.getMetadataOrThrow("flag"));
    assertEquals(Long.toString(SMALL.get(limit)), info.getMetadataOrThrow("value"));
    assertTrue(e.getStatus().getDescription().contains(limit.flag()),
        e.getStatus().getDescription());
  }

  private static ErrorInfo errorInfo(StatusRuntimeException e) {
    com.google.rpc.Status s = StatusProto.fromThrowable(e);
    if (s == null) {
      return null;
    }
    for (Any a : s.getDetailsList()) {
      if (a.is(ErrorInfo.class)) {
        try {
          return a.unpack(ErrorInfo.class);
        } catch (InvalidProtocolBufferException x) {
          throw new AssertionError(x);
        }
      }
    }
    return null;
  }

  @Test
  void eachLimit_refusesTheRequestOverIt_namingLimitAndFlag() {
    String model = stub.fit(Requests.fit("als", 2, dense(6, 5)).setModelId("m1").build())
        .getModel().getModelId();
    SparseMatrix.Builder manyRows = SparseMatrix.newBuilder();
    for (int r = 0; r < 51; r++) {
      manyRows.addRowIds(r).addColIds(r % 3).addValues(1);
    }
    assertLimit(Limit.ROWS, s -> s.fit(Requests.fit("als", 2, dense(51, 2)).build()), stub);
    assertLimit(Limit.ROWS, s -> s.fit(Requests.fit("als", 2,
        Matrix.newBuilder().setSparse(manyRows).build()).build()), stub);
    assertLimit(Limit.COLS, s -> s.fit(Requests.fit("als", 2, dense(2, 41)).build()), stub);
    assertLimit(Limit.REQUEST_ENTRIES, s -> s.fit(Requests.fit("als", 2, dense(30, 34))
        .build()), stub);
    // An id-keyed sparse matrix is decoded from the wire (FitMessageMarshaller) and counted
    // there, in a Fit and in a FitWithProgress, with the field named as protobuf's path.
    SparseMatrix.Builder manyEntries = SparseMatrix.newBuilder();
    for (int n = 0; n < 1001; n++) {
      manyEntries.addRowIds(n % 50).addColIds(n / 50).addValues(1);
    }
    Matrix entries = Matrix.newBuilder().setSparse(manyEntries).build();
    StatusRuntimeException inline = assertThrows(StatusRuntimeException.class,
        () -> stub.fit(Requests.fit("als", 2, entries).build()));
    assertLimit(Limit.REQUEST_ENTRIES, inline);
    assertTrue(inline.getStatus().getDescription().contains("matrix.sparse.values"),
        inline.getStatus().getDescription());
    StatusRuntimeException streamed = assertThrows(StatusRuntimeException.class,
        () -> stub.fitWithProgress(FitWithProgressRequest.newBuilder()
            .setFit(Requests.fit("als", 2, entries)).build()).next());
    assertLimit(Limit.REQUEST_ENTRIES, streamed);
    assertTrue(streamed.getStatus().getDescription().contains("fit.matrix.sparse.values"),
        streamed.getStatus().getDescription());
    assertLimit(Limit.FACTORS, s -> s.fit(Requests.fit("als", 9, dense(20, 20)).build()),
        stub);
    assertLimit(Limit.K, s -> s.recommend(RecommendRequest.newBuilder().setModelId(model)
        .setUserId(1).setK(21).build()), stub);
    assertLimit(Limit.K, s -> s.recommend(RecommendRequest.newBuilder().setModelId(model)
        .setUserId(1).setK(5).setOffset(16).build()), stub);
    PredictRequest.Builder pairs = PredictRequest.newBuilder().setModelId(model);
    for (int n = 0; n < 16; n++) {
      pairs.addUserIds(n % 6).addItemIds(n % 5);
    }
    assertLimit(Limit.IDS, s -> s.predict(pairs.build()), stub);
    RecommendBatchRequest.Builder batch = RecommendBatchRequest.newBuilder().setModelId(model);
    for (int n = 0; n < 31; n++) {
      batch.addUserIds(n % 6);
    }
    assertLimit(Limit.IDS, s -> s.recommendBatch(batch.build()).hasNext(), stub);
    assertLimit(Limit.KEY_LENGTH, s -> s.predict(PredictRequest.newBuilder().setModelId(model)
        .addUserKeys(chars(17)).addItemKeys("a").build()), stub);
    assertLimit(Limit.NAME_LENGTH, s -> s.getModel(GetModelRequest.newBuilder()
        .setModelId(chars(25)).build()), stub);
    assertLimit(Limit.NAME_LENGTH, s -> s.setAlias(SetAliasRequest.newBuilder()
        .setAlias(chars(25)).setModelId(model).build()), stub);
    assertLimit(Limit.PARAMS, s -> s.fit(Requests.fit("als", 2, dense(6, 5))
        .putParams("a", "1").putParams("b", "2").putParams("c", "3").putParams("d", "4")
        .build()), stub);
    assertLimit(Limit.KEY_LENGTH, s -> s.fit(Requests.fit("als", 2, dense(6, 5))
        .putParams("lambda", chars(17)).build()), stub);

    // Within every limit, the same server answers, and holds only the model's memory.
    assertEquals(3, stub.recommend(RecommendRequest.newBuilder().setModelId(model)
        .setUserId(1).setK(3).build()).getItemsCount());
    assertBudgetHeldOnlyByModels();
  }

  @Test
  void messageOverTheInboundSize_isRefusedByTheTransport_andTheServerKeepsServing() {
    // 20 000 floats: about 100 kB, over the 64 kB message limit (and within every count).
    SparseMatrix.Builder s = SparseMatrix.newBuilder();
    for (int n = 0; n < 20_000; n++) {
      s.addValues(1);
    }
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
        () -> stub.fit(FitRequest.newBuilder().setMatrix(Matrix.newBuilder().setSparse(s))
            .build()));
    assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.getStatus().getCode());
    assertEquals(2, stub.fit(Requests.fit("als", 2, dense(6, 5)).build()).getModel()
        .getNumFactors());
    assertBudgetHeldOnlyByModels();
  }

  /** Sends {@code chunks} on one UploadMatrix stream and half-closes; the call's outcome. */
  private CompletableFuture<UploadMatrixResponse> upload(UploadMatrixRequest... chunks) {
    CompletableFuture<UploadMatrixResponse> done = new CompletableFuture<>();
    StreamObserver<UploadMatrixRequest> up = MatrixFactorizationGrpc.newStub(
        server.newChannel()).uploadMatrix(FutureObserver.of(done));
    for (UploadMatrixRequest chunk : chunks) {
      up.onNext(chunk);
    }
    up.onCompleted();
    return done;
  }

  /** The error an upload's outcome ends with. */
  private static Throwable failure(CompletableFuture<UploadMatrixResponse> outcome) {
    return assertThrows(java.util.concurrent.ExecutionException.class,
        () -> outcome.get(30, TimeUnit.SECONDS)).getCause();
  }

  @Test
  void uploadOverItsEntries_isRefusedMidStream_andItsMemoryFreed() throws Exception {
    // 25 rows × 40 = 1000 entries a chunk: the second chunk takes the upload to 2000 > 1500.
    UploadMatrixRequest chunk = UploadMatrixRequest.newBuilder().setChunk(dense(25, 40)).build();
    assertLimit(Limit.UPLOAD_ENTRIES, failure(upload(chunk, chunk)));
    awaitUploadsClosed();
    assertBudgetHeldOnlyByModels();
  }

  /** An id-keyed sparse chunk of n entries: the form the server decodes from the wire. */
  private static UploadMatrixRequest sparseChunk(int n) {
    SparseMatrix.Builder s = SparseMatrix.newBuilder();
    for (int e = 0; e < n; e++) {
      s.addRowIds(e % 50).addColIds(e % 40 + 1000).addValues(e % 5);
    }
    return UploadMatrixRequest.newBuilder().setChunk(Matrix.newBuilder().setSparse(s)).build();
  }

  @Test
  void sparseUploadOverItsEntries_isRefusedMidStream_andItsMemoryFreed() throws Exception {
    // 800 entries a chunk: the second takes the upload to 1600 > 1500.
    assertLimit(Limit.UPLOAD_ENTRIES, failure(upload(sparseChunk(800), sparseChunk(800))));
    awaitUploadsClosed();
    assertBudgetHeldOnlyByModels();
  }

  @Test
  void sparseChunkOverTheRequestEntries_isRefused_andAnUploadWithinLimitsIsNot()
      throws Exception {
    assertLimit(Limit.REQUEST_ENTRIES, failure(upload(sparseChunk(1001))));

    UploadMatrixResponse r = upload(sparseChunk(700), sparseChunk(700))
        .get(30, TimeUnit.SECONDS);
    assertEquals(1400, r.getEntries());
    assertEquals(50, r.getRows());
    assertEquals(40, r.getCols());
    assertEquals(2, r.getChunks());
  }

  @Test
  void uploadsOverTheConcurrentLimit_areRefused_untilOneCloses() throws Exception {
    List<ClientCallStreamObserver<UploadMatrixRequest>> open = new ArrayList<>();
    List<CompletableFuture<UploadMatrixResponse>> results = new ArrayList<>();
    for (int n = 0; n < 2; n++) {
      CompletableFuture<UploadMatrixResponse> f = new CompletableFuture<>();
      results.add(f);
      var up = (ClientCallStreamObserver<UploadMatrixRequest>) MatrixFactorizationGrpc
          .newStub(server.newChannel()).uploadMatrix(FutureObserver.of(f));
      up.onNext(UploadMatrixRequest.newBuilder().setChunk(dense(5, 4)).build());
      open.add(up);
    }
    LimitsInterceptor limits = server.injector().getInstance(LimitsInterceptor.class);
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (limits.openUploads() < 2 && System.nanoTime() < until) {
      Thread.sleep(10);
    }
    CompletableFuture<UploadMatrixResponse> third = new CompletableFuture<>();
    StreamObserver<UploadMatrixRequest> up3 = MatrixFactorizationGrpc.newStub(
        server.newChannel()).uploadMatrix(FutureObserver.of(third));
    up3.onNext(UploadMatrixRequest.newBuilder().setChunk(dense(5, 4)).build());
    up3.onCompleted();
    assertLimit(Limit.UPLOADS, assertThrows(java.util.concurrent.ExecutionException.class,
        () -> third.get(30, TimeUnit.SECONDS)).getCause());
    // One client gives up, the other finishes: both free their slot.
    open.get(0).cancel("test gives up", null);
    open.get(1).onCompleted();
    assertEquals(20, results.get(1).get(30, TimeUnit.SECONDS).getEntries());
    awaitUploadsClosed();
    CompletableFuture<UploadMatrixResponse> fourth = new CompletableFuture<>();
    StreamObserver<UploadMatrixRequest> up4 = MatrixFactorizationGrpc.newStub(
        server.newChannel()).uploadMatrix(FutureObserver.of(fourth));
    up4.onNext(UploadMatrixRequest.newBuilder().setChunk(dense(5, 4)).build());
    up4.onCompleted();
    assertEquals(20, fourth.get(30, TimeUnit.SECONDS).getEntries());
  }

  @Test
  void modelsOverTheLimit_areRefused_untilOneIsDeleted() {
    for (int n = 0; n < 3; n++) {
      stub.fit(Requests.fit("als", 2, dense(6, 5)).setModelId("m" + n).build());
    }
    assertLimit(Limit.MODELS, s -> s.fit(Requests.fit("als", 2, dense(6, 5)).setModelId("m3")
        .build()), stub);
    // A retry of a model already held is not a new model.
    assertEquals("m1", stub.fit(Requests.fit("als", 2, dense(6, 5)).setModelId("m1").build())
        .getModel().getModelId());
    stub.deleteModel(DeleteModelRequest.newBuilder().setModelId("m0").build());
    assertEquals("m3", stub.fit(Requests.fit("als", 2, dense(6, 5)).setModelId("m3").build())
        .getModel().getModelId());
    assertBudgetHeldOnlyByModels();
  }

  @Test
  void getServerInfo_listsEveryLimitWithItsValueAndFlag() {
    GetServerInfoResponse info = stub.getServerInfo(GetServerInfoRequest.getDefaultInstance());
    assertTrue(!info.getVersion().isEmpty());
    Set<String> names = new HashSet<>();
    for (LimitInfo l : info.getLimitsList()) {
      names.add(l.getName());
      assertTrue(l.getFlag().startsWith("--"), l.getName());
      assertTrue(!l.getDescription().isEmpty(), l.getName());
    }
    for (Limit l : Limit.values()) {
      LimitInfo shown = info.getLimitsList().stream().filter(i -> i.getName().equals(l.id()))
          .findFirst().orElseThrow();
      assertEquals(SMALL.get(l), shown.getValue(), l.id());
      assertEquals(l.flag(), shown.getFlag());
      assertEquals(l.invalidArgument() ? "INVALID_ARGUMENT" : "RESOURCE_EXHAUSTED",
          shown.getStatus());
    }
    assertTrue(names.contains("max_message_bytes") && names.contains("memory_budget_bytes"));
    assertEquals(Limit.values().length + 2, names.size());
  }


  private void awaitUploadsClosed() throws InterruptedException {
    LimitsInterceptor limits = server.injector().getInstance(LimitsInterceptor.class);
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (limits.openUploads() > 0 && System.nanoTime() < until) {
      Thread.sleep(10);
    }
    assertEquals(0, limits.openUploads());
  }

  /** The budget holds exactly the resident models' bytes (uploads kept count too). */
  private void assertBudgetHeldOnlyByModels() {
    MemoryBudget budget = server.injector().getInstance(MemoryBudget.class);
    ModelStore store = server.injector().getInstance(ModelStore.class);
    assertEquals(store.residentBytes(), budget.usedBytes());
  }
}
