package io.mfserve.client.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.mfserve.client.MfClient;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The real server jar: health, reflection-free basics, and a clean exit on SIGTERM. */
class ServerShutdownIT {
  @Test
  void sigterm_serverDrainsAndExits() throws Exception {
    try (ServerProcess server = ServerProcess.start("--shutdown-grace", "3s")) {
      ManagedChannel ch = ManagedChannelBuilder.forTarget(server.target()).usePlaintext()
          .build();
      try {
        assertEquals(ServingStatus.SERVING, HealthGrpc.newBlockingStub(ch)
            .check(HealthCheckRequest.getDefaultInstance()).getStatus());
        assertEquals(3, new MfClient(ch).listSolvers().size());
      } finally {
        ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
      int exit = server.terminate(30);
      // 143 = 128 + SIGTERM: the JVM ran its shutdown hooks and exited on the signal.
      assertTrue(exit == 143 || exit == 0, "exit " + exit + "\n" + server.logText());
      assertTrue(!server.logText().contains("Exception"), server.logText());
    }
  }
}
