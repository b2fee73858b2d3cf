package io.mfserve.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.inject.Guice;
import com.google.inject.Injector;
import com.google.inject.Stage;
import io.grpc.Attributes;
import io.grpc.ManagedChannel;
import io.grpc.ServerTransportFilter;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.mfserve.proto.v1.ListSolversRequest;
import io.mfserve.proto.v1.MatrixFactorizationGrpc;
import io.mfserve.server.inject.ConfigModule;
import io.mfserve.server.inject.ModelModule;
import io.mfserve.server.inject.SolverModule;
import io.mfserve.server.inject.TransportModule;
import io.mfserve.server.testing.InProcessMfServer;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Keepalive and maximum connection age over a real Netty socket: a client calling without
 * pause across several max-age cycles sees no failed call, and the server really did recycle
 * its connection.
 */
class ConnectionsTest {

  /** Counts the transports (connections) the server made ready and saw end. */
  static final class CountingFilter extends ServerTransportFilter {
    final AtomicInteger ready = new AtomicInteger();
    final AtomicInteger terminated = new AtomicInteger();

    @Override
    public Attributes transportReady(Attributes attrs) {
      ready.incrementAndGet();
      return attrs;
    }

    @Override
    public void transportTerminated(Attributes attrs) {
      terminated.incrementAndGet();
    }
  }

  @Test
  void maxConnectionAge_clientCallingAcrossCycles_noFailedCallAndConnectionsRecycled()
      throws Exception {
    Injector injector = Guice.createInjector(Stage.PRODUCTION,
        new ConfigModule(InProcessMfServer.testConfig()), SolverModule.discover(null),
        new ModelModule(), new TransportModule());
    CountingFilter connections = new CountingFilter();
    Connections settings = new Connections(Duration.ofSeconds(60), Duration.ofSeconds(20),
        Duration.ofSeconds(1), Duration.ofSeconds(1));
    NettyServerBuilder builder = settings.applyTo(NettyServerBuilder.forPort(0))
        .addTransportFilter(connections);
    Map<String, Integer> failures = new TreeMap<>();
    int calls = 0;
    try (MfServer server = new MfServer(builder, injector).start()) {
      ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", server.port())
          .usePlaintext().build();
      try {
        var stub = MatrixFactorizationGrpc.newBlockingStub(channel);
        // At least 5 s (five max-age cycles) and 100 calls, however loaded the machine: the
        // calls must straddle the cycles, and a busy CI machine makes fewer per second.
        long start = System.nanoTime();
        long end = start + TimeUnit.SECONDS.toNanos(5);
        long limit = start + TimeUnit.SECONDS.toNanos(60);
        while ((System.nanoTime() < end || calls <= 100) && System.nanoTime() < limit) {
          try {
            stub.withDeadlineAfter(5, TimeUnit.SECONDS)
                .listSolvers(ListSolversRequest.getDefaultInstance());
          } catch (StatusRuntimeException e) {
            failures.merge(e.getStatus().getCode().name(), 1, Integer::sum);
          }
          calls++;
        }
      } finally {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
    assertTrue(calls > 100, "calls made: " + calls);
    assertEquals(Map.of(), failures, "failed calls out of " + calls);
    // 5 s at a max age of 1 s ± 10% (plus the grace before the old one closes): 4 or more.
    assertTrue(connections.ready.get() >= 3, "connections: " + connections.ready.get());
    assertTrue(connections.terminated.get() >= 2, "closed: " + connections.terminated.get());
  }

  @Test
  void main_connectionFlags_defaultsAndOff() {
    Main d = new Main();
    new picocli.CommandLine(d).parseArgs();
    assertEquals(Connections.defaults(), d.toConnections());

    Main off = new Main();
    new picocli.CommandLine(off).parseArgs("--keepalive-time", "off", "--keepalive-timeout",
        "5s", "--max-connection-age", "90s", "--max-connection-age-grace", "off");
    Connections c = off.toConnections();
    assertNull(c.keepAliveTime());
    assertEquals(Duration.ofSeconds(5), c.keepAliveTimeout());
    assertEquals(Duration.ofSeconds(90), c.maxConnectionAge());
    assertNull(c.maxConnectionAgeGrace());
  }
}
