package io.mfserve.server;

import com.google.inject.Binding;
import com.google.inject.Injector;
import com.google.inject.Key;
import com.google.inject.TypeLiteral;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import io.mfserve.proto.v1.MatrixFactorizationGrpc;
import io.mfserve.server.grpc.CallExecutors;
import io.mfserve.server.grpc.LimitsInterceptor;
import io.mfserve.server.grpc.MatrixFactorizationService;
import io.mfserve.server.metrics.MetricsEndpoint;
import io.mfserve.server.model.fit.FitExecutor;
import io.mfserve.server.model.fit.SolverRegistry;
import io.mfserve.server.model.matrix.MatrixStore;
import io.mfserve.server.model.store.ModelStore;
import io.mfserve.server.repository.RepositoryConfig;
import java.io.IOException;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * The running gRPC server and everything it owns: the handler pool ({@link CallExecutors}),
 * the fit executor, the sweeper of expired uploads, and the health status.
 *
 * <p>Calls run on the transport threads, or on the handler pool where {@link CallExecutors}
 * says so. It takes a {@link ServerBuilder} so tests can pass an in-process one.
 * {@link #close()} drains gracefully: health turns NOT_SERVING (so load balancers move traffic
 * away), new calls are refused with UNAVAILABLE, in-flight calls get the configured grace, then
 * whatever is left is cancelled (which stops running fits) and the pools are closed.
 */
public final class MfServer implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(MfServer.class.getName());

  private final ServerConfig config;
  private final HealthStatusManager health;
  private final FitExecutor fits;
  private final MatrixStore matrices;
  private final SolverRegistry solvers;
  private final CallExecutors calls;
  private final ModelStore models;
  private final RepositoryConfig repository;
  private final ScheduledExecutorService sweeper;
  private final Warmup warmup;
  private final Server server;
  private final MetricsEndpoint metrics;
  private volatile Warmup.Report warmupReport;
  private final Server healthServer;
  private final List<AutoCloseable> owned;
  private boolean closed;

  /**
   * What sits around the service when the server is secured.
   *
   * @param auth checks tokens on the mfserve.v1 service ({@code null}: no checks)
   * @param authReflection whether reflection is behind {@code auth} too
   * @param healthBuilder a second, plaintext server that gets only the health service (for
   *     Kubernetes' gRPC probe when the main port speaks TLS); {@code null}: none
   * @param owned closed after the server has stopped (certificate watchers and the like)
   */
  public record Guards(ServerInterceptor auth, boolean authReflection,
      ServerBuilder<?> healthBuilder, List<AutoCloseable> owned) {
    /** No TLS watchers, no tokens, no separate health port. */
    public static Guards none() {
      return new Guards(null, false, null, List.of());
    }
  }

  /**
   * Builds (but does not start) the server.
   *
   * @param builder a transport's builder: Netty on a port, or in-process for tests
   * @param injector an injector built from the server's modules
   */
  public MfServer(ServerBuilder<?> builder, Injector injector) {
    this(builder, injector, Guards.none());
  }

  /**
   * Builds (but does not start) the server with tokens checked, a plaintext health port, or
   * both.
   *
   * @param builder a transport's builder, with TLS credentials when TLS is on
   * @param injector an injector built from the server's modules
   * @param guards token checks, the health port and what to close on shutdown
   */
  public MfServer(ServerBuilder<?> builder, Injector injector, Guards guards) {
    this.config = injector.getInstance(ServerConfig.class);
    this.health = injector.getInstance(HealthStatusManager.class);
    this.fits = injector.getInstance(FitExecutor.class);
    this.matrices = injector.getInstance(MatrixStore.class);
    this.solvers = injector.getInstance(SolverRegistry.class);
    this.calls = injector.getInstance(CallExecutors.class);
    this.models = injector.getInstance(ModelStore.class);
    this.repository = injector.getInstance(RepositoryConfig.class);
    this.warmup = new Warmup(solvers, fits, injector.getInstance(java.time.Clock.class));
    // grpc's HealthStatusManager starts with "" SERVING; say NOT_SERVING until start() has
    // preloaded the repository and warmed up, so that no probe or balancer sends traffic early.
    health.setStatus("", ServingStatus.NOT_SERVING);
    health.setStatus(MatrixFactorizationGrpc.SERVICE_NAME, ServingStatus.NOT_SERVING);
    this.sweeper = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "mfserve-upload-sweeper");
      t.setDaemon(true);
      return t;
    });
    // Calls start on the transport thread; CallExecutors moves the long ones to its pool.
    builder.directExecutor()
        .callExecutor(calls)
        .maxInboundMessageSize(config.maxInboundMessageBytes())
        // Tokens are checked before limits: an unauthenticated caller learns nothing more.
        .addService(guard(ServerInterceptors.intercept(
            injector.getInstance(MatrixFactorizationService.class).definition(),
            injector.getInstance(LimitsInterceptor.class)), guards.auth()))
        // Health is never behind a token: probes and balancers carry none.
        .addService(health.getHealthService());
    // ServerBuilder runs the last interceptor added first; the set's order is the modules'.
    for (ServerInterceptor i : injector.getInstance(
        Key.get(new TypeLiteral<Set<ServerInterceptor>>() { }))) {
      builder.intercept(i);
    }
    Binding<MetricsEndpoint> endpoint = injector.getExistingBinding(
        Key.get(MetricsEndpoint.class));
    this.metrics = endpoint == null ? null : endpoint.getProvider().get();
    if (config.reflection()) {
      ServerInterceptor r = guards.authReflection() ? guards.auth() : null;
      builder.addService(guard(ProtoReflectionServiceV1.newInstance().bindService(), r));
      // Many tools (grpcurl before 1.9, Python's grpcio-reflection, Postman) still speak only
      // the v1alpha reflection protocol; serving both costs nothing.
      builder.addService(guard(legacyReflection().bindService(), r));
    }
    this.server = builder.build();
    this.healthServer = guards.healthBuilder() == null ? null
        : guards.healthBuilder().directExecutor().addService(health.getHealthService()).build();
    this.owned = guards.owned();
  }

  private static ServerServiceDefinition guard(ServerServiceDefinition service,
      ServerInterceptor auth) {
    return auth == null ? service : ServerInterceptors.intercept(service, auth);
  }

  @SuppressWarnings("deprecation")
  private static io.grpc.BindableService legacyReflection() {
    return io.grpc.protobuf.services.ProtoReflectionService.newInstance();
  }

  /**
   * Starts serving and turns health SERVING once solvers are loaded, the repository's models
   * preloaded and (unless {@code --no-warmup}) the {@link Warmup} has run. Until then health
   * says NOT_SERVING, though the port already answers.
   */
  public MfServer start() throws IOException {
    if (metrics != null) {
      metrics.start();
    }
    server.start();
    if (healthServer != null) {
      healthServer.start();
    }
    long period = Math.max(1, Math.min(60, config.uploadTtl().toSeconds() / 4));
    sweeper.scheduleAtFixedRate(() -> {
      int n = matrices.evictExpired();
      if (n > 0) {
        LOG.info(() -> "freed " + n + " uploaded matrix(es) unused for " + config.uploadTtl());
      }
    }, period, period, TimeUnit.SECONDS);
    preload();
    if (models.repository().durable()) {
      long every = Math.max(1, repository.poll().toMillis());
      sweeper.scheduleWithFixedDelay(this::poll, every, every, TimeUnit.MILLISECONDS);
    }
    if (config.warmup() && !solvers.isEmpty()) {
      warmupReport = warmup.run();
    }
    ServingStatus status = solvers.isEmpty() ? ServingStatus.NOT_SERVING : ServingStatus.SERVING;
    if (solvers.isEmpty()) {
      LOG.warning("no solver was found on the classpath or in --plugins-dir; health stays"
          + " NOT_SERVING");
    }
    health.setStatus("", status);
    health.setStatus(MatrixFactorizationGrpc.SERVICE_NAME, status);
    return this;
  }

  /**
   * Loads the repository's models that {@code --preload} asks for, in parallel, before health
   * turns SERVING, with a log line per model (from the store) and one for the total.
   */
  private void preload() {
    if (!models.repository().durable()) {
      return;
    }
    long start = System.nanoTime();
    List<String> wanted = models.poll(repository.preload());
    int threads = Math.max(2, Runtime.getRuntime().availableProcessors());
    ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
      Thread t = new Thread(r, "mfserve-preload");
      t.setDaemon(true);
      return t;
    });
    try {
      int loaded = models.loadAll(wanted, pool);
      LOG.info(String.format(Locale.ROOT, "model repository %s: preloaded %d of %d model(s)"
          + " (--preload %s) in %.3f s", models.repository().describe(), loaded, wanted.size(),
          repository.preload().name().toLowerCase(Locale.ROOT),
          (System.nanoTime() - start) / 1e9));
    } finally {
      pool.shutdown();
    }
  }

  /** One poll of the repository; new models the preload policy wants are loaded here. */
  private void poll() {
    try {
      List<String> wanted = models.poll(repository.preload());
      for (String id : wanted) {
        try {
          models.get(id);
        } catch (RuntimeException e) {
          LOG.warning("model " + id + ": not loaded after poll: " + e.getMessage());
        }
      }
    } catch (RuntimeException e) {
      LOG.log(java.util.logging.Level.WARNING, "repository poll failed", e);
    }
  }

  /** Returns the metrics endpoint, or null when metrics are off. */
  public MetricsEndpoint metrics() {
    return metrics;
  }

  /** Returns what the warm-up did, or null when it did not run ({@code --no-warmup}). */
  public Warmup.Report warmupReport() {
    return warmupReport;
  }

  /** Returns the port listened on (the one picked when configured with 0). */
  public int port() {
    return server.getPort();
  }

  /** Returns the plaintext health port, or -1 when there is none. */
  public int healthPort() {
    return healthServer == null ? -1 : healthServer.getPort();
  }

  /** Blocks until the server has terminated. */
  public void awaitTermination() throws InterruptedException {
    server.awaitTermination();
  }

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    health.enterTerminalState();
    server.shutdown();
    try {
      if (!server.awaitTermination(config.shutdownGrace().toMillis(), TimeUnit.MILLISECONDS)) {
        LOG.warning("calls still running after the " + config.shutdownGrace().toSeconds()
            + " s grace are cancelled");
        server.shutdownNow();
        server.awaitTermination(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      server.shutdownNow();
      Thread.currentThread().interrupt();
    } finally {
      if (healthServer != null) {
        // Last to go, so that probes see NOT_SERVING during the grace rather than a refusal.
        healthServer.shutdownNow();
      }
      fits.close();
      sweeper.shutdownNow();
      calls.close();
      if (metrics != null) {
        metrics.close();
      }
      for (AutoCloseable c : owned) {
        try {
          c.close();
        } catch (Exception e) {
          LOG.warning("closing " + c + ": " + e);
        }
      }
    }
  }
}
