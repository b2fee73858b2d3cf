package io.mfserve.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import io.mfserve.proto.v1.FitProgress;
import io.mfserve.proto.v1.FitRequest;
import io.mfserve.proto.v1.FitResponse;
import io.mfserve.proto.v1.MatrixFactorizationGrpc;
import io.mfserve.proto.v1.ModelInfo;
import io.mfserve.proto.v1.SparseMatrix;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@link MfClient#fitWithProgress} and {@link MatrixFactorization#fit(FitListener)}. */
class FitWithProgressTest {
  @RegisterExtension
  final GrpcCleanupExtension grpc = new GrpcCleanupExtension();

  private final FakeMfServer fake = new FakeMfServer();

  private ManagedChannel serve(io.grpc.BindableService service) throws IOException {
    String name = InProcessServerBuilder.generateName();
    grpc.register(InProcessServerBuilder.forName(name).directExecutor().addService(service)
        .build().start());
    return grpc.register(InProcessChannelBuilder.forName(name).directExecutor().build());
  }

  @AfterEach
  void clearInterrupt() {
    Thread.interrupted();
  }

  private static FitRequest request(int iterations) {
    return FitRequest.newBuilder().setMaxIterations(iterations).setNumFactors(2)
        .setMatrix(new Ratings().add(1, 10, 5f).add(2, 20, 3f).add(3, 10, 1f).toMatrix())
        .build();
  }

  @Test
  void fitWithProgress_fiveIterations_deliversEveryEventInOrderThenTheModel() throws IOException {
    MfClient client = new MfClient(serve(fake));
    List<FitProgress> events = new ArrayList<>();

    ModelInfo info = client.fitWithProgress(
        request(5).toBuilder().setValidationFraction(0.2).setModelId("p").build(), events::add);

    assertEquals("p", info.getModelId());
    assertEquals(5, events.size());
    for (int i = 0; i < 5; i++) {
      FitProgress p = events.get(i);
      assertEquals(i + 1, p.getIteration());
      assertEquals(5, p.getMaxIterations());
      assertEquals(100.0 / (i + 1), p.getLoss(), 1e-12);
      assertTrue(p.hasValidationRmse());
      assertEquals("p", p.getModelId());
    }
    assertEquals(1, fake.fits.size());
    assertTrue(fake.fits.get(0).hasMatrix());
    assertTrue(fake.methodsWithoutDeadline.isEmpty());
  }

  @Test
  void fitWithProgress_listenerThrows_cancelsTheCallAndRethrows() throws Exception {
    MfClient client = new MfClient(serve(fake));
    fake.holdAfterProgress = 1;
    IllegalStateException stop = new IllegalStateException("stop");

    IllegalStateException thrown = assertThrows(IllegalStateException.class,
        () -> client.fitWithProgress(request(5), p -> {
          throw stop;
        }));

    assertSame(stop, thrown);
    assertTrue(fake.fitCancelled.await(5, TimeUnit.SECONDS), "the server saw no cancellation");
    assertTrue(fake.models.isEmpty());
  }

  @Test
  void fitWithProgress_threadInterrupted_cancelsWithCancelled() throws Exception {
    MfClient client = new MfClient(serve(fake));
    fake.holdAfterProgress = 1;

    MfServeException e = assertThrows(MfServeException.class,
        () -> client.fitWithProgress(request(5), p -> Thread.currentThread().interrupt()));

    assertEquals(Status.Code.CANCELLED, e.code());
    assertTrue(Thread.interrupted(), "the interrupt flag must stay set");
    assertTrue(fake.fitCancelled.await(5, TimeUnit.SECONDS), "the server saw no cancellation");
  }

  @Test
  void fitWithProgress_matrixOverTheInlineLimit_uploadsWithProgressThenFitsById()
      throws IOException {
    MfClient client = new MfClient(serve(fake), Duration.ofMinutes(1), Duration.ofMinutes(1),
        1_000, 512);
    SparseMatrix.Builder m = SparseMatrix.newBuilder();
    for (int i = 0; i < 2_000; i++) {
      m.addRowIds(i % 37).addColIds(i).addValues(i % 5);
    }
    FitRequest request = request(3).toBuilder()
        .setMatrix(io.mfserve.proto.v1.Matrix.newBuilder().setSparse(m)).build();
    List<UploadProgress> uploads = new ArrayList<>();
    List<FitProgress> iterations = new ArrayList<>();

    client.fitWithProgress(request, new FitListener() {
      @Override
      public void onProgress(FitProgress progress) {
        iterations.add(progress);
      }

      @Override
      public void onUpload(UploadProgress upload) {
        assertTrue(iterations.isEmpty(), "uploads come before iterations");
        uploads.add(upload);
      }
    });

    int chunks = fake.uploads.get(0).size();
    assertTrue(chunks > 5, "chunks: " + chunks);
    assertEquals(chunks, uploads.size());
    long total = request.getMatrix().getSerializedSize();
    for (int i = 0; i < uploads.size(); i++) {
      UploadProgress u = uploads.get(i);
      assertEquals(i + 1, u.chunksSent());
      assertEquals(total, u.totalBytes());
      assertTrue(i == 0 || u.bytesSent() >= uploads.get(i - 1).bytesSent());
      assertEquals(i == uploads.size() - 1, u.done());
    }
    assertEquals(total, uploads.get(uploads.size() - 1).bytesSent());
    assertEquals(1.0, uploads.get(uploads.size() - 1).fraction());
    assertEquals(3, iterations.size());
    FitRequest sent = fake.fits.get(0);
    assertFalse(sent.hasMatrix());
    assertEquals(List.of(sent.getMatrixId()), fake.deletedMatrices);
  }

  @Test
  void fitWithProgress_serverWithoutTheRpc_fallsBackToFit() throws IOException {
    MatrixFactorizationGrpc.MatrixFactorizationImplBase fitOnly =
        new MatrixFactorizationGrpc.MatrixFactorizationImplBase() {
          @Override
          public void fit(FitRequest request, StreamObserver<FitResponse> response) {
            fake.fit(request, response);
          }
        };
    MfClient client = new MfClient(serve(fitOnly));
    List<FitProgress> events = new ArrayList<>();

    ModelInfo info = client.fitWithProgress(request(4), events::add);

    assertEquals(4, info.getIterations());
    assertTrue(events.isEmpty());
  }

  @Test
  void matrixFactorization_fitWithListener_reportsIterationsAndRemembersTheModel()
      throws IOException {
    float[][] ratings = {{5, 3, 0}, {4, 0, 1}};
    MatrixFactorization model = new MatrixFactorization(serve(fake), ratings, 2).maxIterations(4);
    List<Integer> seen = new ArrayList<>();

    ModelInfo info = model.fit(p -> seen.add(p.getIteration()));

    assertEquals(List.of(1, 2, 3, 4), seen);
    assertEquals(info.getModelId(), model.modelId());
    assertEquals(2, model.getFactors().numUsers());
  }
}
