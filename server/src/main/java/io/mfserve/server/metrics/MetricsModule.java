package io.mfserve.server.metrics;

import com.google.inject.AbstractModule;
import com.google.inject.Provides;
import com.google.inject.Singleton;
import com.google.inject.multibindings.Multibinder;
import com.google.inject.multibindings.OptionalBinder;
import io.grpc.ServerInterceptor;
import io.mfserve.server.model.fit.FitExecutor;
import io.mfserve.server.model.matrix.MatrixStore;
import io.mfserve.server.model.store.MemoryBudget;
import io.mfserve.server.model.store.ModelStore;
import io.mfserve.server.model.store.ServerEvents;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.BaseUnits;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

/**
 * Turns metrics on: binds a Prometheus registry, sets the application layer's
 * {@link ServerEvents} to meters, adds the gRPC call interceptor, and binds the
 * {@link MetricsEndpoint} that {@code MfServer} starts and stops. Installed by {@code Main}
 * only with {@code --metrics-port}; without it nothing of Micrometer is created.
 *
 * <p>Gauges read the state they report when scraped (the budget, the stores, the fit
 * executor), so the hot paths pay nothing for them.
 */
public final class MetricsModule extends AbstractModule {
  private final int port;

  /** Serves {@code /metrics} on {@code port}; 0 picks a free one (tests). */
  public MetricsModule(int port) {
    this.port = port;
  }

  @Override
  protected void configure() {
    OptionalBinder.newOptionalBinder(binder(), ServerEvents.class).setBinding()
        .to(MicrometerEvents.class);
    Multibinder.newSetBinder(binder(), ServerInterceptor.class).addBinding()
        .to(GrpcServerMetrics.class);
  }

  @Provides
  @Singleton
  PrometheusMeterRegistry prometheus() {
    return new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  }

  @Provides
  @Singleton
  MeterRegistry registry(PrometheusMeterRegistry prometheus) {
    return prometheus;
  }

  @Provides
  @Singleton
  MicrometerEvents events(MeterRegistry registry) {
    return new MicrometerEvents(registry);
  }

  @Provides
  @Singleton
  GrpcServerMetrics grpcMetrics(MeterRegistry registry) {
    return new GrpcServerMetrics(registry);
  }

  @Provides
  @Singleton
  MetricsEndpoint endpoint(PrometheusMeterRegistry registry, FitExecutor fits,
      MemoryBudget budget, ModelStore models, MatrixStore matrices) {
    Gauge.builder("mfserve.fits.running", fits, FitExecutor::running)
        .description("Fits training now").strongReference(true).register(registry);
    Gauge.builder("mfserve.fits.queued", fits, FitExecutor::queued)
        .description("Fits waiting for a slot (--max-concurrent-fits)").strongReference(true)
        .register(registry);
    Gauge.builder("mfserve.models.resident", models, ModelStore::residentCount)
        .description("Models held in memory, ready to serve").strongReference(true)
        .register(registry);
    Gauge.builder("mfserve.models.resident.memory", models, ModelStore::residentBytes)
        .description("Bytes the resident models hold").baseUnit(BaseUnits.BYTES)
        .strongReference(true).register(registry);
    Gauge.builder("mfserve.memory.budget.used", budget, MemoryBudget::usedBytes)
        .description("Bytes reserved against the memory budget: models, uploads, fits")
        .baseUnit(BaseUnits.BYTES).strongReference(true).register(registry);
    Gauge.builder("mfserve.memory.budget.limit", budget, MemoryBudget::limitBytes)
        .description("The memory budget (--memory-budget)").baseUnit(BaseUnits.BYTES)
        .strongReference(true).register(registry);
    Gauge.builder("mfserve.uploads.held", matrices, MatrixStore::size)
        .description("Uploaded matrices held for fits").strongReference(true)
        .register(registry);
    Gauge.builder("mfserve.repository.damaged.snapshots", models, ModelStore::damagedCount)
        .description("Damaged snapshots known now (not served)").strongReference(true)
        .register(registry);
    new JvmMemoryMetrics().bindTo(registry);
    JvmGcMetrics gc = new JvmGcMetrics();
    gc.bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ClassLoaderMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    return new MetricsEndpoint(registry, port, gc);
  }
}
