package io.mfserve.server.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.StreamObserver;
import io.mfserve.proto.v1.DenseMatrix;
import io.mfserve.proto.v1.FitRequest;
import io.mfserve.proto.v1.FitWithProgressRequest;
import io.mfserve.proto.v1.FitWithProgressResponse;
import io.mfserve.proto.v1.GetFactorsRequest;
import io.mfserve.proto.v1.GetFactorsResponse;
import io.mfserve.proto.v1.ImportFactorsHeader;
import io.mfserve.proto.v1.ImportFactorsRequest;
import io.mfserve.proto.v1.ImportFactorsResponse;
import io.mfserve.proto.v1.Matrix;
import io.mfserve.proto.v1.MatrixFactorizationGrpc;
import io.mfserve.proto.v1.RecommendBatchRequest;
import io.mfserve.proto.v1.RecommendBatchResponse;
import io.mfserve.proto.v1.SparseMatrix;
import io.mfserve.proto.v1.UploadMatrixRequest;
import io.mfserve.proto.v1.UploadMatrixResponse;
import io.mfserve.server.grpc.LimitsInterceptor;
import io.mfserve.server.model.fit.FitExecutor;
import io.mfserve.server.model.matrix.MatrixStore;
import io.mfserve.server.model.store.MemoryBudget;
import io.mfserve.server.model.store.ModelStore;
import io.mfserve.server.testing.FutureObserver;
import io.mfserve.server.testing.InProcessMfServer;
import io.mfserve.server.testing.SocketMfServer;
import java.lang.management.ManagementFactory;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A Fit, an UploadMatrix, a GetFactors and a RecommendBatch stream that the client cancels,
 * lets expire or abandons (its connection closed mid-call), over a real socket: each frees its
 * memory reservation (the budget holds only the resident models' bytes again), its fit slot
 * and its upload slot; after many rounds of all of them the server has no more threads than
 * after the first, and its heap after GC has not grown by what the rounds allocated.
 */
class CancellationCleanupTest {
  private static final int ROUNDS = 3;
  private SocketMfServer server;
  private String bigModel;

  @BeforeEach
  void start() throws Exception {
    server = new SocketMfServer(InProcessMfServer.testConfig(), null);
    bigModel = importBigModel();
  }

  @AfterEach
  void stop() throws Exception {
    server.close();
  }

  /** A model of 40 000 users × 2000 items, k = 32: its factors stream in many chunks. */
  private String importBigModel() throws Exception {
    CompletableFuture<ImportFactorsResponse> done = new CompletableFuture<>();
    StreamObserver<ImportFactorsRequest> in = MatrixFactorizationGrpc.newStub(
        server.newChannel()).importFactors(FutureObserver.of(done));
    int k = 32;
    Random rnd = new Random(3);
    in.onNext(ImportFactorsRequest.newBuilder().setHeader(ImportFactorsHeader.newBuilder()
        .setModelId("big").setNumFactors(k)).build());
    for (int side = 0; side < 2; side++) {
      int n = side == 0 ? 40_000 : 2000;
      for (int from = 0; from < n; from += 2000) {
        DenseMatrix.Builder f = DenseMatrix.newBuilder().setRows(2000).setCols(k);
        GetFactorsResponse.Builder rows = GetFactorsResponse.newBuilder();
        for (int r = from; r < from + 2000; r++) {
          if (side == 0) {
            rows.addUserIds(r);
          } else {
            rows.addItemIds(r);
          }
          for (int j = 0; j < k; j++) {
            f.addValues((float) rnd.nextGaussian());
          }
        }
        if (side == 0) {
          rows.setUserFactors(f);
        } else {
          rows.setItemFactors(f);
        }
        in.onNext(ImportFactorsRequest.newBuilder().setRows(rows).build());
      }
    }
    in.onCompleted();
    return done.get(60, TimeUnit.SECONDS).getModel().getModelId();
  }

  /** Ratings of 3000 users × 1000 items, 5% observed: a fit of many iterations runs long. */
  private static Matrix ratings() {
    Random rnd = new Random(7);
    SparseMatrix.Builder s = SparseMatrix.newBuilder();
    for (int u = 0; u < 3000; u++) {
      for (int i = 0; i < 1000; i++) {
        if (rnd.nextInt(20) == 0) {
          s.addRowIds(u).addColIds(i).addValues(1 + rnd.nextInt(5));
        }
      }
    }
    return Matrix.newBuilder().setSparse(s).build();
  }

  private static FitRequest longFit(Matrix m) {
    return FitRequest.newBuilder().setSolver("als").setNumFactors(16).setMaxIterations(10_000)
        .setMatrix(m).build();
  }

  private static UploadMatrixRequest chunk(int from) {
    SparseMatrix.Builder s = SparseMatrix.newBuilder();
    for (int n = 0; n < 100_000; n++) {
      s.addRowIds(from + n / 100).addColIds(n % 100).addValues(1);
    }
    return UploadMatrixRequest.newBuilder().setChunk(Matrix.newBuilder().setSparse(s)).build();
  }

  @Test
  void cancelledExpiredAndAbandonedCalls_freeMemoryFitSlotsUploadSlotsAndThreads()
      throws Exception {
    Matrix ratings = ratings();
    oneRoundOfEach(ratings);
    int threadsAfterFirst = settledThreads();
    long heapAfterFirst = heapAfterGc();
    for (int r = 1; r < ROUNDS; r++) {
      oneRoundOfEach(ratings);
    }
    int threads = settledThreads();
    long heap = heapAfterGc();
    // Each round reserves about 30 MB (matrices, upload chunks, factor chunks); a leak of any
    // kind per round would show as several times that. Pools keep their threads.
    assertTrue(threads <= threadsAfterFirst + 4, "threads: " + threadsAfterFirst + " → "
        + threads);
    assertTrue(heap <= heapAfterFirst + (48L << 20), "heap after GC: "
        + (heapAfterFirst >> 20) + " MiB → " + (heap >> 20) + " MiB");
  }

  private void oneRoundOfEach(Matrix ratings) throws Exception {
    fitWithProgressCancelled(ratings);
    fitDeadline(ratings);
    fitAbandoned(ratings);
    uploadCancelled();
    uploadDeadline();
    uploadAbandoned();
    getFactorsCancelledAfterOneChunk();
    getFactorsAbandoned();
    recommendBatchCancelledAfterOneUser();
    recommendBatchDeadline();
  }

  private void fitWithProgressCancelled(Matrix ratings) throws Exception {
    CountDownLatch progressed = new CountDownLatch(1);
    CompletableFuture<Status> end = new CompletableFuture<>();
    ClientCallStreamObserver<FitWithProgressRequest>[] call = new ClientCallStreamObserver[1];
    MatrixFactorizationGrpc.newStub(server.newChannel()).fitWithProgress(
        FitWithProgressRequest.newBuilder().setFit(longFit(ratings)).build(),
        new ClientResponseObserver<FitWithProgressRequest, FitWithProgressResponse>() {
          @Override
          public void beforeStart(ClientCallStreamObserver<FitWithProgressRequest> s) {
            call[0] = s;
          }

          @Override
          public void onNext(FitWithProgressResponse value) {
            progressed.countDown();
          }

          @Override
          public void onError(Throwable t) {
            end.complete(Status.fromThrowable(t));
          }

          @Override
          public void onCompleted() {
            end.complete(Status.OK);
          }
        });
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!progressed.await(20, TimeUnit.MILLISECONDS) && !end.isDone()
        && System.nanoTime() < until) {
      Thread.yield();
    }
    assertEquals(0, progressed.getCount(), "a first iteration; the call ended with "
        + end.getNow(null));
    call[0].cancel("the test gives up", null);
    assertEquals(Status.Code.CANCELLED, end.get(30, TimeUnit.SECONDS).getCode());
    assertCleanedUp("FitWithProgress cancelled");
  }

  private void fitDeadline(Matrix ratings) throws Exception {
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
        () -> server.blocking().withDeadlineAfter(700, TimeUnit.MILLISECONDS)
            .fit(longFit(ratings)));
    assertEquals(Status.Code.DEADLINE_EXCEEDED, e.getStatus().getCode());
    assertCleanedUp("Fit past its deadline");
  }

  private void fitAbandoned(Matrix ratings) throws Exception {
    ManagedChannel c = server.newChannel();
    CompletableFuture<Void> end = new CompletableFuture<>();
    MatrixFactorizationGrpc.newStub(c).fit(longFit(ratings), new StreamObserver<>() {
      @Override
      public void onNext(io.mfserve.proto.v1.FitResponse value) { }

      @Override
      public void onError(Throwable t) {
        end.complete(null);
      }

      @Override
      public void onCompleted() {
        end.complete(null);
      }
    });
    awaitFitRunning();
    c.shutdownNow(); // the connection closes under the call
    end.get(30, TimeUnit.SECONDS);
    assertCleanedUp("Fit whose connection closed");
  }

  private void uploadCancelled() throws Exception {
    CompletableFuture<UploadMatrixResponse> done = new CompletableFuture<>();
    var up = (ClientCallStreamObserver<UploadMatrixRequest>) MatrixFactorizationGrpc
        .newStub(server.newChannel()).uploadMatrix(FutureObserver.of(done));
    for (int n = 0; n < 3; n++) {
      up.onNext(chunk(n * 1000));
    }
    awaitBudgetAboveModels();
    up.cancel("the test gives up", null);
    assertCleanedUp("UploadMatrix cancelled");
  }

  private void uploadDeadline() throws Exception {
    CompletableFuture<UploadMatrixResponse> done = new CompletableFuture<>();
    StreamObserver<UploadMatrixRequest> up = MatrixFactorizationGrpc
        .newStub(server.newChannel()).withDeadlineAfter(1500, TimeUnit.MILLISECONDS)
        .uploadMatrix(FutureObserver.of(done));
    for (int n = 0; n < 3; n++) {
      up.onNext(chunk(n * 1000));
    }
    Throwable t = assertThrows(java.util.concurrent.ExecutionException.class,
        () -> done.get(30, TimeUnit.SECONDS)).getCause();
    assertEquals(Status.Code.DEADLINE_EXCEEDED, Status.fromThrowable(t).getCode());
    assertCleanedUp("UploadMatrix past its deadline");
  }

  private void uploadAbandoned() throws Exception {
    ManagedChannel c = server.newChannel();
    CompletableFuture<UploadMatrixResponse> done = new CompletableFuture<>();
    StreamObserver<UploadMatrixRequest> up = MatrixFactorizationGrpc.newStub(c)
        .uploadMatrix(FutureObserver.of(done));
    for (int n = 0; n < 3; n++) {
      up.onNext(chunk(n * 1000));
    }
    awaitBudgetAboveModels();
    c.shutdownNow();
    assertCleanedUp("UploadMatrix whose connection closed");
  }

  /** Reads one chunk of a many-chunk stream, asks for no more, then cancels. */
  private void getFactorsCancelledAfterOneChunk() throws Exception {
    CountDownLatch first = new CountDownLatch(1);
    ClientCallStreamObserver<GetFactorsRequest>[] call = new ClientCallStreamObserver[1];
    MatrixFactorizationGrpc.newStub(server.newChannel()).getFactors(
        GetFactorsRequest.newBuilder().setModelId(bigModel).build(),
        new SlowReader<GetFactorsRequest, GetFactorsResponse>(first, call));
    assertTrue(first.await(30, TimeUnit.SECONDS));
    call[0].cancel("enough", null);
    assertCleanedUp("GetFactors cancelled");
  }

  private void getFactorsAbandoned() throws Exception {
    ManagedChannel c = server.newChannel();
    CountDownLatch first = new CountDownLatch(1);
    ClientCallStreamObserver<GetFactorsRequest>[] call = new ClientCallStreamObserver[1];
    MatrixFactorizationGrpc.newStub(c).getFactors(
        GetFactorsRequest.newBuilder().setModelId(bigModel).build(),
        new SlowReader<GetFactorsRequest, GetFactorsResponse>(first, call));
    assertTrue(first.await(30, TimeUnit.SECONDS));
    c.shutdownNow();
    assertCleanedUp("GetFactors whose connection closed");
  }

  private RecommendBatchRequest batch() {
    RecommendBatchRequest.Builder b = RecommendBatchRequest.newBuilder().setModelId(bigModel)
        .setK(50);
    for (int u = 0; u < 40_000; u++) {
      b.addUserIds(u);
    }
    return b.build();
  }

  private void recommendBatchCancelledAfterOneUser() throws Exception {
    CountDownLatch first = new CountDownLatch(1);
    ClientCallStreamObserver<RecommendBatchRequest>[] call = new ClientCallStreamObserver[1];
    MatrixFactorizationGrpc.newStub(server.newChannel()).recommendBatch(batch(),
        new SlowReader<RecommendBatchRequest, RecommendBatchResponse>(first, call));
    assertTrue(first.await(30, TimeUnit.SECONDS));
    call[0].cancel("enough", null);
    assertCleanedUp("RecommendBatch cancelled");
  }

  private void recommendBatchDeadline() throws Exception {
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> {
      var it = server.blocking().withDeadlineAfter(300, TimeUnit.MILLISECONDS)
          .recommendBatch(batch());
      while (it.hasNext()) {
        it.next();
        Thread.sleep(1); // a slow reader: the deadline comes first
      }
    });
    assertEquals(Status.Code.DEADLINE_EXCEEDED, e.getStatus().getCode());
    assertCleanedUp("RecommendBatch past its deadline");
  }

  /** Takes the first message and asks for no more: the server's stream waits on flow control. */
  private static final class SlowReader<Q, R> implements ClientResponseObserver<Q, R> {
    private final CountDownLatch first;
    private final ClientCallStreamObserver<Q>[] call;

    SlowReader(CountDownLatch first, ClientCallStreamObserver<Q>[] call) {
      this.first = first;
      this.call = call;
    }

    @Override
    public void beforeStart(ClientCallStreamObserver<Q> s) {
      call[0] = s;
      s.disableAutoRequestWithInitial(1);
    }

    @Override
    public void onNext(R value) {
      first.countDown();
    }

    @Override
    public void onError(Throwable t) { }

    @Override
    public void onCompleted() { }
  }

  // ------------------------------------------------------------------ what must come back

  /**
   * Waits (at most 30 s: cleanup after a cancel is asynchronous, a fit stops within one
   * iteration) until the budget holds only the resident models, no upload is kept, no fit runs
   * or waits and no upload slot is held.
   */
  private void assertCleanedUp(String what) throws InterruptedException {
    MemoryBudget budget = server.injector().getInstance(MemoryBudget.class);
    ModelStore store = server.injector().getInstance(ModelStore.class);
    FitExecutor fits = server.injector().getInstance(FitExecutor.class);
    MatrixStore matrices = server.injector().getInstance(MatrixStore.class);
    LimitsInterceptor limits = server.injector().getInstance(LimitsInterceptor.class);
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (System.nanoTime() < until && !(budget.usedBytes() == store.residentBytes()
        && fits.running() == 0 && fits.queued() == 0 && matrices.size() == 0
        && limits.openUploads() == 0 && store.residentCount() == 1)) {
      Thread.sleep(20);
    }
    assertEquals(store.residentBytes(), budget.usedBytes(), what + ": budget");
    assertEquals(0, fits.running() + fits.queued(), what + ": fits");
    assertEquals(0, matrices.size(), what + ": uploads kept");
    assertEquals(0, limits.openUploads(), what + ": upload slots");
    assertEquals(1, store.residentCount(), what + ": only the imported model is held");
  }

  private void awaitFitRunning() throws InterruptedException {
    FitExecutor fits = server.injector().getInstance(FitExecutor.class);
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (fits.running() == 0 && System.nanoTime() < until) {
      Thread.sleep(10);
    }
    assertEquals(1, fits.running());
  }

  private void awaitBudgetAboveModels() throws InterruptedException {
    MemoryBudget budget = server.injector().getInstance(MemoryBudget.class);
    ModelStore store = server.injector().getInstance(ModelStore.class);
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (budget.usedBytes() <= store.residentBytes() && System.nanoTime() < until) {
      Thread.sleep(10);
    }
    assertTrue(budget.usedBytes() > store.residentBytes(), "the upload holds memory");
  }

  private static int settledThreads() throws InterruptedException {
    Thread.sleep(500);
    return ManagementFactory.getThreadMXBean().getThreadCount();
  }

  private static long heapAfterGc() throws InterruptedException {
    for (int n = 0; n < 3; n++) {
      System.gc();
      Thread.sleep(100);
    }
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }


  static {
    assertNotNull(ManagementFactory.getThreadMXBean());
  }
}
