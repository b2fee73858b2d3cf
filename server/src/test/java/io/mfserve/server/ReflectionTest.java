package io.mfserve.server;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.reflection.v1.ServiceResponse;
import io.grpc.stub.StreamObserver;
import io.mfserve.server.testing.InProcessMfServer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class ReflectionTest {
  @RegisterExtension
  final InProcessMfServer server = new InProcessMfServer();

  @Test
  void reflection_listServices_includesMatrixFactorizationHealthAndBothReflections()
      throws Exception {
    server.start();
    CompletableFuture<List<String>> names = new CompletableFuture<>();
    StreamObserver<ServerReflectionRequest> req = ServerReflectionGrpc.newStub(server.channel())
        .serverReflectionInfo(new StreamObserver<>() {
          final List<String> got = new ArrayList<>();

          @Override
          public void onNext(ServerReflectionResponse r) {
            for (ServiceResponse s : r.getListServicesResponse().getServiceList()) {
              got.add(s.getName());
            }
          }

          @Override
          public void onError(Throwable t) {
            names.completeExceptionally(t);
          }

          @Override
          public void onCompleted() {
            names.complete(got);
          }
        });
    req.onNext(ServerReflectionRequest.newBuilder().setListServices("").build());
    req.onCompleted();
    List<String> got = names.get(10, TimeUnit.SECONDS);
    assertTrue(got.contains("mfserve.v1.MatrixFactorization"), got.toString());
    assertTrue(got.contains("grpc.health.v1.Health"), got.toString());
    assertTrue(got.contains("grpc.reflection.v1.ServerReflection"), got.toString());
    assertTrue(got.contains("grpc.reflection.v1alpha.ServerReflection"), got.toString());
  }
}
