package io.mfserve.server.inject;

import com.google.inject.AbstractModule;
import com.google.inject.Provides;
import com.google.inject.Singleton;
import io.mfserve.server.ServerConfig;
import io.mfserve.server.model.fit.FitExecutor;
import io.mfserve.server.model.fit.ModelService;
import io.mfserve.server.model.fit.SolverRegistry;
import io.mfserve.server.model.matrix.MatrixStore;
import io.mfserve.server.model.store.MemoryBudget;
import io.mfserve.server.model.store.ModelStore;
import java.time.Clock;

/** Binds the application layer: stores, budget, fit executor, the model service. */
public final class ModelModule extends AbstractModule {
  @Override
  protected void configure() {
    bind(SolverRegistry.class).in(Singleton.class);
    bind(ModelStore.class).in(Singleton.class);
    bind(ModelService.class).in(Singleton.class);
  }

  @Provides
  @Singleton
  MemoryBudget memoryBudget(ServerConfig config) {
    return new MemoryBudget(config.memoryBudgetBytes());
  }

  @Provides
  @Singleton
  MatrixStore matrixStore(ServerConfig config, Clock clock) {
    return new MatrixStore(config.uploadTtl(), clock);
  }

  @Provides
  @Singleton
  FitExecutor fitExecutor(ServerConfig config) {
    return new FitExecutor(config.maxConcurrentFits(), config.maxQueuedFits(),
        config.trainingThreads());
  }
}
