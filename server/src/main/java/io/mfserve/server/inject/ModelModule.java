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
import io.mfserve.server.model.store.ModelRepository;
import io.mfserve.server.model.store.ModelStore;
import io.mfserve.server.repository.RepositoryConfig;
import java.time.Clock;

/**
 * Binds the application layer: stores, budget, fit executor, the model service, and the model
 * repository they keep models in.
 */
public final class ModelModule extends AbstractModule {
  private final RepositoryConfig repository;

  /** The application layer with models kept in memory only. */
  public ModelModule() {
    this(RepositoryConfig.memory());
  }

  /** The application layer over the repository {@code repository} names. */
  public ModelModule(RepositoryConfig repository) {
    this.repository = repository;
  }

  @Override
  protected void configure() {
    install(new RepositoryModule(repository));
    bind(SolverRegistry.class).in(Singleton.class);
    bind(ModelService.class).in(Singleton.class);
  }

  @Provides
  @Singleton
  MemoryBudget memoryBudget(ServerConfig config) {
    return new MemoryBudget(config.memoryBudgetBytes());
  }

  @Provides
  @Singleton
  ModelStore modelStore(ModelRepository repository, MemoryBudget budget) {
    return new ModelStore(repository, budget);
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
