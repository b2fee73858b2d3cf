package io.mfserve.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.inject.CreationException;
import com.google.inject.Guice;
import com.google.inject.Stage;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.mfserve.proto.v1.MatrixFactorizationGrpc;
import io.mfserve.server.inject.ConfigModule;
import io.mfserve.server.inject.ModelModule;
import io.mfserve.server.inject.SolverModule;
import io.mfserve.server.inject.TransportModule;
import io.mfserve.server.testing.InProcessMfServer;
import io.mfserve.server.testing.ZeroFactorProvider;
import io.mfserve.solver.SolverProvider;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class LifecycleTest {
  @RegisterExtension
  final InProcessMfServer server = new InProcessMfServer();

  /** A provider that only exists to test registration. */
  static final class NamedProvider extends ZeroFactorProvider {
    NamedProvider(String name) {
      super(name, "test");
    }
  }

  @Test
  void serviceLoader_classpath_findsTheThreeBuiltInSolvers() {
    TreeSet<String> names = new TreeSet<>();
    for (SolverProvider p : ServiceLoader.load(SolverProvider.class)) {
      names.add(p.name());
    }
    assertEquals(new TreeSet<>(List.of("als", "nmf", "sgd")), names);
  }

  @Test
  void solverModule_duplicateName_failsAtStartup() {
    CreationException e = assertThrows(CreationException.class, () -> Guice.createInjector(
        Stage.PRODUCTION, new ConfigModule(InProcessMfServer.testConfig()),
        new SolverModule(List.of(new NamedProvider("x"), new NamedProvider("x"))),
        new ModelModule(), new TransportModule()));
    assertTrue(e.getMessage().contains("two solvers are named 'x'"), e.getMessage());
  }

  @Test
  void solverModule_badName_failsAtStartup() {
    assertThrows(CreationException.class, () -> Guice.createInjector(Stage.PRODUCTION,
        new ConfigModule(InProcessMfServer.testConfig()),
        new SolverModule(List.of(new NamedProvider("Bad Name"))), new ModelModule(),
        new TransportModule()));
  }

  @Test
  void pluginSolver_registeredExplicitly_isUsableByName() {
    var stub = server.start(InProcessMfServer.testConfig(), List.of(new NamedProvider("zeros")));
    var info = stub.fit(io.mfserve.server.testing.Requests.fit("zeros", 2,
        io.mfserve.server.testing.Requests.seedMatrix(3, 4, 1)).build()).getModel();
    assertEquals("zeros", info.getSolver());
    assertEquals(Map.of("num_factors", "2", "absent_entries", "unknown"), info.getParamsMap());
  }

  @Test
  void health_servingAfterStart_notServingAfterClose() throws Exception {
    String name = InProcessServerBuilder.generateName();
    MfServer s = new MfServer(InProcessServerBuilder.forName(name), Guice.createInjector(
        Stage.PRODUCTION, new ConfigModule(InProcessMfServer.testConfig()),
        SolverModule.discover(null), new ModelModule(), new TransportModule())).start();
    ManagedChannel ch = InProcessChannelBuilder.forName(name).build();
    try {
      var health = HealthGrpc.newBlockingStub(ch);
      assertEquals(ServingStatus.SERVING, health.check(HealthCheckRequest.getDefaultInstance())
          .getStatus());
      assertEquals(ServingStatus.SERVING, health.check(HealthCheckRequest.newBuilder()
          .setService(MatrixFactorizationGrpc.SERVICE_NAME).build()).getStatus());
      StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
          () -> health.check(HealthCheckRequest.newBuilder().setService("nope").build()));
      assertEquals(Status.Code.NOT_FOUND, e.getStatus().getCode());
      s.close();
      StatusRuntimeException after = assertThrows(StatusRuntimeException.class,
          () -> health.check(HealthCheckRequest.getDefaultInstance()));
      assertEquals(Status.Code.UNAVAILABLE, after.getStatus().getCode());
    } finally {
      s.close();
      ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void health_noSolvers_staysNotServing() {
    server.start(InProcessMfServer.testConfig(), List.of());
    var health = HealthGrpc.newBlockingStub(server.channel());
    assertEquals(ServingStatus.NOT_SERVING, health.check(HealthCheckRequest
        .getDefaultInstance()).getStatus());
  }
}
