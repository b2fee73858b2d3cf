package io.mfserve.server.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Attributes;
import io.grpc.Context;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.Status;
import io.grpc.health.v1.HealthGrpc;
import io.mfserve.proto.v1.Matrix;
import io.mfserve.proto.v1.MatrixFactorizationGrpc;
import io.mfserve.proto.v1.ScoredItem;
import io.mfserve.proto.v1.SimilarItemsRequest;
import io.mfserve.proto.v1.SimilarUsersRequest;
import io.mfserve.proto.v1.SparseMatrix;
import io.mfserve.server.testing.InProcessMfServer;
import io.mfserve.server.testing.Requests;
import io.mfserve.server.testing.ZeroFactorProvider;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class CallExecutorsTest {
  @RegisterExtension
  final InProcessMfServer server = new InProcessMfServer();

  @Test
  void getExecutor_streamingAndTrainingMethods_runOnThePool() {
    try (CallExecutors calls = new CallExecutors(InProcessMfServer.testConfig())) {
      for (MethodDescriptor<?, ?> m : List.of(MatrixFactorizationGrpc.getFitMethod(),
          MatrixFactorizationGrpc.getFitWithProgressMethod(),
          MatrixFactorizationGrpc.getUploadMatrixMethod(),
          MatrixFactorizationGrpc.getGetFactorsMethod(),
          MatrixFactorizationGrpc.getRecommendBatchMethod())) {
        assertNotNull(calls.getExecutor(call(m), new Metadata()), m.getFullMethodName());
      }
    }
  }

  @Test
  void getExecutor_queriesAndHealth_stayOnTheTransportThread() {
    try (CallExecutors calls = new CallExecutors(InProcessMfServer.testConfig())) {
      for (MethodDescriptor<?, ?> m : List.of(MatrixFactorizationGrpc.getPredictMethod(),
          MatrixFactorizationGrpc.getRecommendMethod(),
          MatrixFactorizationGrpc.getSimilarItemsMethod(),
          MatrixFactorizationGrpc.getGetModelMethod(), HealthGrpc.getCheckMethod())) {
        assertNull(calls.getExecutor(call(m), new Metadata()), m.getFullMethodName());
      }
    }
  }

  @Test
  void run_smallWork_runsOnTheCallingThread() {
    try (CallExecutors calls = new CallExecutors(InProcessMfServer.testConfig())) {
      Thread[] ran = new Thread[1];
      calls.run(CallExecutors.INLINE_WORK, () -> ran[0] = Thread.currentThread());
      assertSame(Thread.currentThread(), ran[0]);
    }
  }

  @Test
  void run_largeWork_runsOnThePoolInTheCallsContext() throws Exception {
    Context.Key<String> key = Context.key("test");
    try (CallExecutors calls = new CallExecutors(InProcessMfServer.testConfig())) {
      CompletableFuture<String> seen = new CompletableFuture<>();
      Context.current().withValue(key, "call").run(() -> calls.run(CallExecutors.INLINE_WORK + 1,
          () -> seen.complete(Thread.currentThread().getName() + " " + key.get())));
      String got = seen.get(10, TimeUnit.SECONDS);
      assertTrue(got.startsWith("mfserve-grpc-"), got);
      assertTrue(got.endsWith(" call"), got);
    }
  }

  @Test
  void similarItems_catalogueAboveTheInlineLimit_isAnsweredFromThePool() {
    // 64 users × 33,000 items at 64 factors: 2,112,000 multiply-adds per scan of the items,
    // above INLINE_WORK; a scan of the users is far below it.
    int items = (int) (CallExecutors.INLINE_WORK / 64) + 232;
    SparseMatrix.Builder m = SparseMatrix.newBuilder();
    for (int i = 0; i < items; i++) {
      m.addRowIds(i % 64).addColIds(i).addValues(1);
    }
    var stub = server.start(InProcessMfServer.testConfig(),
        List.of(new ZeroFactorProvider("zeros", "all-zero factors")));
    stub.fit(Requests.fit("zeros", 64, Matrix.newBuilder().setSparse(m).build())
        .setModelId("big").build());
    // All-zero factors: every cosine is 0, so ties go to the lowest positions, itself left out.
    List<ScoredItem> top = stub.similarItems(SimilarItemsRequest.newBuilder().setModelId("big")
        .setItemId(0).setK(3).build()).getItemsList();
    assertEquals(List.of(1L, 2L, 3L), top.stream().map(ScoredItem::getItemId).toList());
    assertEquals(List.of(0L, 2L), stub.similarUsers(SimilarUsersRequest.newBuilder()
        .setModelId("big").setUserId(1).setK(2).build()).getUsersList().stream()
        .map(u -> u.getUserId()).toList());
  }

  @Test
  void run_largeWorkAfterClose_isRejected() {
    // The service answers a rejected call with UNAVAILABLE; small work still runs inline.
    CallExecutors calls = new CallExecutors(InProcessMfServer.testConfig());
    calls.close();
    assertThrows(RejectedExecutionException.class,
        () -> calls.run(CallExecutors.INLINE_WORK + 1, () -> { }));
    boolean[] ran = new boolean[1];
    calls.run(1, () -> ran[0] = true);
    assertTrue(ran[0]);
  }

  private static <ReqT, RespT> ServerCall<ReqT, RespT> call(MethodDescriptor<ReqT, RespT> m) {
    return new ServerCall<>() {
      @Override
      public void request(int numMessages) { }

      @Override
      public void sendHeaders(Metadata headers) { }

      @Override
      public void sendMessage(RespT message) { }

      @Override
      public void close(Status status, Metadata trailers) { }

      @Override
      public boolean isCancelled() {
        return false;
      }

      @Override
      public Attributes getAttributes() {
        return Attributes.EMPTY;
      }

      @Override
      public MethodDescriptor<ReqT, RespT> getMethodDescriptor() {
        return m;
      }
    };
  }
}
