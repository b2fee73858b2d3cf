package io.mfserve.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.inject.Guice;
import com.google.inject.Injector;
import com.google.inject.Stage;
import io.grpc.ManagedChannel;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.mfserve.proto.v1.ListModelsRequest;
import io.mfserve.proto.v1.MatrixFactorizationGrpc;
import io.mfserve.server.inject.ConfigModule;
import io.mfserve.server.inject.ModelModule;
import io.mfserve.server.inject.SolverModule;
import io.mfserve.server.inject.TransportModule;
import io.mfserve.server.model.store.MemoryBudget;
import io.mfserve.server.repository.RepositoryConfig;
import io.mfserve.server.testing.InProcessMfServer;
import io.mfserve.server.testing.ZeroFactorProvider;
import io.mfserve.solver.Solver;
import io.mfserve.solver.SolverConfig;
import io.mfserve.solver.SolverProvider;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The warm-up before SERVING: it runs (every solver fitted, queries answered) while health
 * still says NOT_SERVING, and leaves nothing behind: no model listed, no memory budget used,
 * no snapshot in a file model store. {@code --no-warmup} skips it.
 */
class WarmupTest {
  @TempDir
  Path store;

  private final List<AutoCloseable> resources = new ArrayList<>();

  /**
   * A solver that fits zeros and, from inside its fit, asks the server's health service what
   * it says (the server is started, so the in-process channel reaches it).
   */
  static final class HealthProbe extends ZeroFactorProvider {
    final AtomicReference<ManagedChannel> channel = new AtomicReference<>();
    final AtomicReference<ServingStatus> seen = new AtomicReference<>();
    final AtomicInteger fits = new AtomicInteger();

    HealthProbe() {
      super("probe", "records health during its fit");
    }

    @Override
    public Solver create(SolverConfig config) {
      Solver zeros = super.create(config);
      return (data, context) -> {
        fits.incrementAndGet();
        seen.set(HealthGrpc.newBlockingStub(channel.get())
            .withDeadlineAfter(5, TimeUnit.SECONDS)
            .check(HealthCheckRequest.getDefaultInstance()).getStatus());
        return zeros.fit(data, context);
      };
    }
  }

  private record Started(MfServer server, Injector injector, ManagedChannel channel) { }

  private Started start(boolean warmup, HealthProbe probe) throws Exception {
    List<SolverProvider> providers = new ArrayList<>();
    ServiceLoader.load(SolverProvider.class).forEach(providers::add);
    providers.add(probe);
    String name = InProcessServerBuilder.generateName();
    Injector injector = Guice.createInjector(Stage.PRODUCTION,
        new ConfigModule(InProcessMfServer.testConfig().withWarmup(warmup)),
        new SolverModule(providers), new ModelModule(RepositoryConfig.at(store.toUri()
            .toString())), new TransportModule());
    MfServer server = new MfServer(InProcessServerBuilder.forName(name), injector);
    ManagedChannel channel = InProcessChannelBuilder.forName(name).directExecutor().build();
    probe.channel.set(channel);
    resources.add(server);
    resources.add(channel::shutdownNow);
    server.start();
    return new Started(server, injector, channel);
  }

  @AfterEach
  void close() throws Exception {
    for (int n = resources.size() - 1; n >= 0; n--) {
      resources.get(n).close();
    }
  }

  @Test
  void start_withWarmup_fitsEverySolverBeforeServingAndLeavesNothing() throws Exception {
    HealthProbe probe = new HealthProbe();
    Started s = start(true, probe);

    Warmup.Report report = s.server().warmupReport();
    assertNotNull(report);
    assertEquals(List.of("als", "nmf", "probe", "sgd"), report.warmed().stream().sorted()
        .toList());
    assertTrue(report.failed().isEmpty(), report.failed().toString());
    assertTrue(report.queries() > 1000, "queries run: " + report.queries());
    assertEquals(3, probe.fits.get(), "the matrix, its transpose and the matrix again");
    assertEquals(ServingStatus.NOT_SERVING, probe.seen.get(),
        "health during the warm-up");
    assertEquals(ServingStatus.SERVING, HealthGrpc.newBlockingStub(s.channel())
        .check(HealthCheckRequest.getDefaultInstance()).getStatus());

    assertEquals(0, MatrixFactorizationGrpc.newBlockingStub(s.channel())
        .listModels(ListModelsRequest.getDefaultInstance()).getModelsCount());
    assertEquals(0, s.injector().getInstance(MemoryBudget.class).usedBytes());
    try (Stream<Path> files = Files.walk(store)) {
      List<Path> written = files.filter(Files::isRegularFile).toList();
      assertTrue(written.stream().noneMatch(p -> p.toString().contains("warmup")
          || p.toString().endsWith(".mfsnap")), written.toString());
    }
  }

  @Test
  void start_noWarmup_skipsIt() throws Exception {
    HealthProbe probe = new HealthProbe();
    Started s = start(false, probe);

    assertNull(s.server().warmupReport());
    assertEquals(0, probe.fits.get());
    assertEquals(ServingStatus.SERVING, HealthGrpc.newBlockingStub(s.channel())
        .check(HealthCheckRequest.getDefaultInstance()).getStatus());
  }

  @Test
  void main_noWarmupFlag_turnsItOff() {
    Main on = new Main();
    new picocli.CommandLine(on).parseArgs();
    assertTrue(!on.noWarmup);
    Main off = new Main();
    new picocli.CommandLine(off).parseArgs("--no-warmup");
    assertTrue(off.noWarmup);
  }
}
