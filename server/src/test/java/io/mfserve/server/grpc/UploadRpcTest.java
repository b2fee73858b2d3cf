package io.mfserve.server.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.mfserve.proto.v1.DeleteMatrixRequest;
import io.mfserve.proto.v1.DenseMatrix;
import io.mfserve.proto.v1.FitRequest;
import io.mfserve.proto.v1.Matrix;
import io.mfserve.proto.v1.MatrixFactorizationGrpc;
import io.mfserve.proto.v1.MatrixFactorizationGrpc.MatrixFactorizationBlockingStub;
import io.mfserve.proto.v1.ModelInfo;
import io.mfserve.proto.v1.SparseMatrix;
import io.mfserve.proto.v1.UploadMatrixRequest;
import io.mfserve.proto.v1.UploadMatrixResponse;
import io.mfserve.server.ServerConfig;
import io.mfserve.server.model.store.MemoryBudget;
import io.mfserve.server.testing.InProcessMfServer;
import io.mfserve.server.testing.Requests;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class UploadRpcTest {
  @RegisterExtension
  final InProcessMfServer server = new InProcessMfServer();

  private UploadMatrixResponse upload(List<Matrix> chunks) throws Exception {
    CompletableFuture<UploadMatrixResponse> done = new CompletableFuture<>();
    StreamObserver<UploadMatrixRequest> out = MatrixFactorizationGrpc.newStub(server.channel())
        .uploadMatrix(new StreamObserver<>() {
          @Override
          public void onNext(UploadMatrixResponse r) {
            done.complete(r);
          }

          @Override
          public void onError(Throwable t) {
            done.completeExceptionally(t);
          }

          @Override
          public void onCompleted() { }
        });
    for (Matrix m : chunks) {
      out.onNext(UploadMatrixRequest.newBuilder().setChunk(m).build());
    }
    out.onCompleted();
    try {
      return done.get(30, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      throw (Exception) e.getCause();
    }
  }

  private static Matrix sparseChunk(int from, int to) {
    SparseMatrix.Builder s = SparseMatrix.newBuilder();
    for (int n = from; n < to; n++) {
      s.addRowIds(n % 50).addColIds(n / 50).addValues(1 + (n % 7) * ((n / 50) % 3));
    }
    return Matrix.newBuilder().setSparse(s).build();
  }

  @Test
  void upload_sparseChunks_fitTwiceFromOneUpload_thenDelete() throws Exception {
    MatrixFactorizationBlockingStub stub = server.start();
    UploadMatrixResponse up = upload(List.of(sparseChunk(0, 400), sparseChunk(400, 1000)));
    assertEquals(50, up.getRows());
    assertEquals(20, up.getCols());
    assertEquals(1000, up.getEntries());
    assertEquals(2, up.getChunks());
    assertTrue(up.getMemoryBytes() > 0);
    ModelInfo a = stub.fit(FitRequest.newBuilder().setMatrixId(up.getMatrixId())
        .setNumFactors(3).build()).getModel();
    ModelInfo b = stub.fit(FitRequest.newBuilder().setMatrixId(up.getMatrixId())
        .setSolver("sgd").setNumFactors(3).build()).getModel();
    assertEquals(1000, a.getNumEntries());
    assertEquals(a.getDataFingerprint(), b.getDataFingerprint());
    assertTrue(stub.deleteMatrix(DeleteMatrixRequest.newBuilder()
        .setMatrixId(up.getMatrixId()).build()).getFreedBytes() > 0);
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> stub.fit(
        FitRequest.newBuilder().setMatrixId(up.getMatrixId()).build()));
    assertEquals(Status.Code.NOT_FOUND, e.getStatus().getCode());
  }

  @Test
  void upload_denseRowBlocks_equalsTheInlineMatrix() throws Exception {
    MatrixFactorizationBlockingStub stub = server.start();
    Matrix whole = Requests.seedMatrix(10, 20, 3);
    List<Float> v = whole.getDense().getValuesList();
    Matrix top = Matrix.newBuilder().setDense(DenseMatrix.newBuilder().setRows(4).setCols(20)
        .addAllValues(v.subList(0, 80))).build();
    Matrix rest = Matrix.newBuilder().setDense(DenseMatrix.newBuilder().setRows(6).setCols(20)
        .addAllValues(v.subList(80, 200))).build();
    UploadMatrixResponse up = upload(List.of(top, rest));
    assertEquals(10, up.getRows());
    ModelInfo uploaded = stub.fit(FitRequest.newBuilder().setMatrixId(up.getMatrixId())
        .setNumFactors(3).build()).getModel();
    ModelInfo inline = stub.fit(Requests.fit("als", 3, whole).build()).getModel();
    assertEquals(inline.getDataFingerprint(), uploaded.getDataFingerprint());
    assertEquals(inline.getTrainingRmse(), uploaded.getTrainingRmse(), 1e-9);
  }

  @Test
  void upload_mixedForms_isInvalidArgument() {
    server.start();
    Exception e = assertThrows(StatusRuntimeException.class, () -> upload(List.of(
        sparseChunk(0, 10), Requests.seedMatrix(2, 2, 1))));
    assertEquals(Status.Code.INVALID_ARGUMENT, ((StatusRuntimeException) e).getStatus()
        .getCode());
  }

  @Test
  void upload_denseChunksOfDifferentWidths_isInvalidArgument() {
    server.start();
    Exception e = assertThrows(StatusRuntimeException.class, () -> upload(List.of(
        Requests.seedMatrix(2, 3, 1), Requests.seedMatrix(2, 4, 1))));
    assertEquals(Status.Code.INVALID_ARGUMENT, ((StatusRuntimeException) e).getStatus()
        .getCode());
  }

  @Test
  void budget_uploadOverBudget_isResourceExhausted_andMemoryIsGivenBack() throws Exception {
    // Room for a small fit (solvers reserve per-thread scratch) but not for 60,000 entries.
    ServerConfig small = InProcessMfServer.testConfig().withMemoryBudget(512 << 10);
    MatrixFactorizationBlockingStub stub = server.start(small, null);
    Exception e = assertThrows(StatusRuntimeException.class, () -> upload(List.of(
        sparseChunk(0, 30000), sparseChunk(30000, 60000))));
    assertEquals(Status.Code.RESOURCE_EXHAUSTED, ((StatusRuntimeException) e).getStatus()
        .getCode());
    assertTrue(((StatusRuntimeException) e).getStatus().getDescription()
        .contains("--memory-budget"));
    MemoryBudget budget = server.injector().getInstance(MemoryBudget.class);
    assertEquals(0, budget.usedBytes());
    // A small fit still goes through.
    stub.fit(Requests.fit("als", 2, Requests.seedMatrix(5, 5, 1)).build());
  }

  @Test
  void budget_fitWhoseModelWouldNotFit_isRefusedBeforeTraining() {
    ServerConfig small = InProcessMfServer.testConfig().withMemoryBudget(200 << 10);
    MatrixFactorizationBlockingStub stub = server.start(small, null);
    // 1000 × 40 dense is 160 kB as input; training would need several times that.
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> stub.fit(
        Requests.fit("als", 20, Requests.seedMatrix(1000, 40, 1)).build()));
    assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.getStatus().getCode());
    assertEquals(0, server.injector().getInstance(MemoryBudget.class).usedBytes());
  }

  @Test
  void upload_expiredMatrix_isFreed() throws Exception {
    ServerConfig cfg = InProcessMfServer.testConfig();
    cfg = new ServerConfig(cfg.port(), null, cfg.memoryBudgetBytes(),
        cfg.maxInboundMessageBytes(), cfg.workerThreads(), cfg.trainingThreads(),
        cfg.maxConcurrentFits(), cfg.maxQueuedFits(), Duration.ZERO, cfg.shutdownGrace(), true,
        false);
    server.start(cfg, null);
    upload(List.of(sparseChunk(0, 10)));
    io.mfserve.server.model.matrix.MatrixStore store = server.injector()
        .getInstance(io.mfserve.server.model.matrix.MatrixStore.class);
    Thread.sleep(5);
    assertEquals(1, store.evictExpired());
    assertEquals(0, server.injector().getInstance(MemoryBudget.class).usedBytes());
  }
}
