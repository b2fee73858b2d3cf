package io.mfserve.client;

import io.grpc.ManagedChannel;
import io.grpc.Server;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Registers gRPC servers and channels and shuts them down, newest first, after each test (the
 * JUnit 5 counterpart of grpc-java's JUnit 4 {@code GrpcCleanupRule}).
 */
public final class GrpcCleanupExtension implements AfterEachCallback {
  private final Deque<Object> resources = new ArrayDeque<>();

  /** Registers a server; returns it. */
  public <T extends Server> T register(T server) {
    resources.push(server);
    return server;
  }

  /** Registers a channel; returns it. */
  public <T extends ManagedChannel> T register(T channel) {
    resources.push(channel);
    return channel;
  }

  @Override
  public void afterEach(ExtensionContext context) throws InterruptedException {
    while (!resources.isEmpty()) {
      Object r = resources.pop();
      if (r instanceof ManagedChannel c) {
        c.shutdownNow();
        c.awaitTermination(5, TimeUnit.SECONDS);
      } else if (r instanceof Server s) {
        s.shutdownNow();
        s.awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }
}
