package io.mfserve.server.testing;

import com.google.inject.Guice;
import com.google.inject.Injector;
import com.google.inject.Module;
import com.google.inject.Stage;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.mfserve.proto.v1.MatrixFactorizationGrpc;
import io.mfserve.server.MfServer;
import io.mfserve.server.ServerConfig;
import io.mfserve.server.inject.ConfigModule;
import io.mfserve.server.inject.ModelModule;
import io.mfserve.server.inject.SolverModule;
import io.mfserve.server.inject.TransportModule;
import io.mfserve.server.repository.RepositoryConfig;
import io.mfserve.solver.SolverProvider;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * mfserve on a real TCP socket (Netty, a free port on localhost) with a plaintext channel to
 * it: what the in-process transport does not do (message size limits, connections that close
 * mid-stream) is tested here. Close it after the test.
 */
public final class SocketMfServer implements AutoCloseable {
  private final Injector injector;
  private final MfServer server;
  private final List<ManagedChannel> channels = new ArrayList<>();

  /**
   * Starts a server.
   *
   * @param config its settings (the port is ignored: a free one is picked)
   * @param providers the solvers, or null for those on the classpath
   */
  public SocketMfServer(ServerConfig config, List<SolverProvider> providers)
      throws IOException {
    List<Module> modules = List.of(new ConfigModule(config),
        providers == null ? SolverModule.discover(null) : new SolverModule(providers),
        new ModelModule(RepositoryConfig.memory()), new TransportModule());
    injector = Guice.createInjector(Stage.PRODUCTION, modules);
    server = new MfServer(NettyServerBuilder.forPort(0), injector);
    server.start();
  }

  /** Returns the injector (for the budget, the stores, the interceptor). */
  public Injector injector() {
    return injector;
  }

  /** Opens a new channel (a new TCP connection) to the server; closed with the server. */
  public ManagedChannel newChannel() {
    ManagedChannel c = NettyChannelBuilder.forAddress("localhost", server.port()).usePlaintext()
        .maxInboundMessageSize(64 << 20).build();
    channels.add(c);
    return c;
  }

  /** A blocking stub on a new channel. */
  public MatrixFactorizationGrpc.MatrixFactorizationBlockingStub blocking() {
    return MatrixFactorizationGrpc.newBlockingStub(newChannel());
  }

  @Override
  public void close() throws Exception {
    for (ManagedChannel c : channels) {
      c.shutdownNow();
      c.awaitTermination(5, TimeUnit.SECONDS);
    }
    server.close();
  }
}
