package io.mfserve.server.inject;

import com.google.inject.AbstractModule;
import com.google.inject.Provides;
import com.google.inject.Singleton;
import com.google.inject.multibindings.Multibinder;
import io.grpc.ServerInterceptor;
import io.grpc.protobuf.services.HealthStatusManager;
import io.mfserve.server.grpc.CallExecutors;
import io.mfserve.server.grpc.LimitsInterceptor;
import io.mfserve.server.grpc.MatrixFactorizationService;

/**
 * Binds the gRPC service, the executors its calls run on, and the standard health service's
 * manager.
 */
public final class TransportModule extends AbstractModule {
  @Override
  protected void configure() {
    bind(MatrixFactorizationService.class).in(Singleton.class);
    bind(CallExecutors.class).in(Singleton.class);
    bind(LimitsInterceptor.class).in(Singleton.class);
    // Interceptors every call goes through; none unless a module adds one (MetricsModule).
    Multibinder.newSetBinder(binder(), ServerInterceptor.class);
  }

  @Provides
  @Singleton
  HealthStatusManager health() {
    return new HealthStatusManager();
  }
}
