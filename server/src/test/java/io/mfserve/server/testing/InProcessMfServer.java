package io.mfserve.server.testing;

import com.google.inject.Guice;
import com.google.inject.Injector;
import com.google.inject.Module;
import com.google.inject.Stage;
import io.grpc.ManagedChannel;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.mfserve.proto.v1.MatrixFactorizationGrpc;
import io.mfserve.server.MfServer;
import io.mfserve.server.ServerConfig;
import io.mfserve.server.inject.ConfigModule;
import io.mfserve.server.inject.ModelModule;
import io.mfserve.server.inject.SolverModule;
import io.mfserve.server.inject.TransportModule;
import io.mfserve.server.model.ann.AnnSettings;
import io.mfserve.server.repository.RepositoryConfig;
import io.mfserve.solver.SolverProvider;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A JUnit 5 extension that starts mfserve on the in-process transport and shuts every server
 * and channel it made down after each test, newest first (gRPC's GrpcCleanupRule is JUnit 4
 * only). Register with {@code @RegisterExtension}.
 */
public final class InProcessMfServer implements AfterEachCallback {
  private final Deque<AutoCloseable> resources = new ArrayDeque<>();
  private Injector injector;
  private MfServer server;
  private ManagedChannel channel;

  /**
   * A config for tests: small pools, a generous budget, short grace, and no warm-up (it costs
   * about a second per server; WarmupTest turns it on).
   */
  public static ServerConfig testConfig() {
    return new ServerConfig(0, null, 1L << 30, 4 << 20, 4, 2, 2, 4, Duration.ofMinutes(5),
        Duration.ofSeconds(2), true, false);
  }

  /** Starts a server with the solvers on the classpath and the test config. */
  public MatrixFactorizationGrpc.MatrixFactorizationBlockingStub start() {
    return start(testConfig(), null);
  }

  /**
   * Starts a server.
   *
   * @param config its settings
   * @param providers the solvers to register, or null to discover those on the classpath
   */
  public MatrixFactorizationGrpc.MatrixFactorizationBlockingStub start(ServerConfig config,
      List<SolverProvider> providers) {
    return start(config, providers, RepositoryConfig.memory());
  }

  /**
   * Starts a server over a model repository; several servers started on one repository are
   * replicas of each other. {@link #channel()} and {@link #injector()} are the last one's.
   */
  public MatrixFactorizationGrpc.MatrixFactorizationBlockingStub start(ServerConfig config,
      List<SolverProvider> providers, RepositoryConfig repository) {
    return start(config, providers, repository, new Module[0]);
  }

  /**
   * Starts a server over a model repository with {@code extra} modules installed as well
   * (e.g. a {@code MetricsModule}).
   */
  public MatrixFactorizationGrpc.MatrixFactorizationBlockingStub start(ServerConfig config,
      List<SolverProvider> providers, RepositoryConfig repository, Module... extra) {
    return start(config, providers, repository, AnnSettings.OFF, extra);
  }

  /** Starts a server whose models get approximate indexes as {@code ann} says. */
  public MatrixFactorizationGrpc.MatrixFactorizationBlockingStub start(ServerConfig config,
      List<SolverProvider> providers, RepositoryConfig repository, AnnSettings ann,
      Module... extra) {
    String name = InProcessServerBuilder.generateName();
    List<Module> modules = new java.util.ArrayList<>(List.of(new ConfigModule(config),
        providers == null ? SolverModule.discover(null) : new SolverModule(providers),
        new ModelModule(repository, ann), new TransportModule()));
    modules.addAll(List.of(extra));
    injector = Guice.createInjector(Stage.PRODUCTION, modules);
    MfServer server = new MfServer(InProcessServerBuilder.forName(name), injector);
    this.server = server;
    try {
      server.start();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    resources.push(server);
    channel = InProcessChannelBuilder.forName(name).directExecutor().build();
    resources.push(() -> {
      channel.shutdownNow();
      channel.awaitTermination(5, TimeUnit.SECONDS);
    });
    return MatrixFactorizationGrpc.newBlockingStub(channel);
  }

  /** Returns the channel of the last server started. */
  public ManagedChannel channel() {
    return channel;
  }

  /** Returns the last server started. */
  public MfServer server() {
    return server;
  }

  /** Returns the injector of the last server started. */
  public Injector injector() {
    return injector;
  }

  @Override
  public void afterEach(ExtensionContext context) throws Exception {
    while (!resources.isEmpty()) {
      resources.pop().close();
    }
  }
}
