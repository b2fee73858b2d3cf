package io.mfserve.server.security;

import com.google.inject.Guice;
import com.google.inject.Injector;
import com.google.inject.Stage;
import io.grpc.ServerBuilder;
import io.mfserve.server.MfServer;
import io.mfserve.server.inject.ConfigModule;
import io.mfserve.server.inject.ModelModule;
import io.mfserve.server.inject.SolverModule;
import io.mfserve.server.inject.TransportModule;
import io.mfserve.server.testing.InProcessMfServer;
import io.mfserve.server.testing.ZeroFactorProvider;
import io.mfserve.solver.FactorModel;
import io.mfserve.solver.Solver;
import io.mfserve.solver.SolverConfig;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/** Starts an {@link MfServer} with guards, and a solver tests can hold in the middle of a fit. */
final class SecureServers {
  private SecureServers() {
  }

  /** A zero-factor solver named "gated" whose fits wait for {@link #release}. */
  static final class GatedProvider extends ZeroFactorProvider {
    final CountDownLatch entered = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);

    /** A solver that holds every fit until {@link #release} is counted down. */
    GatedProvider() {
      super("gated", "waits for the test");
    }

    /** A solver that never holds a fit. */
    static GatedProvider open() {
      GatedProvider p = new GatedProvider();
      p.release.countDown();
      return p;
    }

    @Override
    public Solver create(SolverConfig config) {
      Solver inner = super.create(config);
      return (data, context) -> {
        entered.countDown();
        try {
          release.await(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        FactorModel m = inner.fit(data, context);
        return m;
      };
    }
  }

  static MfServer start(ServerBuilder<?> builder, MfServer.Guards guards,
      GatedProvider provider) throws IOException {
    Injector injector = Guice.createInjector(Stage.PRODUCTION,
        new ConfigModule(InProcessMfServer.testConfig()),
        new SolverModule(List.of(provider)), new ModelModule(), new TransportModule());
    return new MfServer(builder, injector, guards).start();
  }
}
