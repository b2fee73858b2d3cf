package io.mfserve.server.inject;

import com.google.inject.AbstractModule;
import com.google.inject.Provides;
import com.google.inject.Singleton;
import com.google.inject.multibindings.OptionalBinder;
import io.mfserve.server.ServerConfig;
import io.mfserve.server.model.ann.AnnSettings;
import io.mfserve.server.model.fit.FitExecutor;
import io.mfserve.server.model.fit.FitOrchestrator;
import io.mfserve.server.model.fit.SolverRegistry;
import io.mfserve.server.model.matrix.MatrixStore;
import io.mfserve.server.model.matrix.MatrixUploads;
import io.mfserve.server.model.query.ModelService;
import io.mfserve.server.model.store.IndexBuilder;
import io.mfserve.server.model.store.MemoryBudget;
import io.mfserve.server.model.store.ModelRepository;
import io.mfserve.server.model.store.ModelStore;
import io.mfserve.server.model.store.ObservedRepository;
import io.mfserve.server.model.store.ServerEvents;
import io.mfserve.server.repository.RepositoryConfig;
import java.time.Clock;

/**
 * Binds the application layer: stores, budget, fit executor, the model service, and the model
 * repository they keep models in.
 */
public final class ModelModule extends AbstractModule {
  private final RepositoryConfig repository;
  private final AnnSettings ann;

  /** The application layer with models kept in memory only, without approximate indexes. */
  public ModelModule() {
    this(RepositoryConfig.memory());
  }

  /** The application layer over the repository {@code repository} names, no indexes. */
  public ModelModule(RepositoryConfig repository) {
    this(repository, AnnSettings.OFF);
  }

  /**
   * The application layer over the repository {@code repository} names, building approximate
   * indexes as {@code ann} says.
   */
  public ModelModule(RepositoryConfig repository, AnnSettings ann) {
    this.repository = repository;
    this.ann = ann;
  }

  @Override
  protected void configure() {
    install(new RepositoryModule(repository));
    bind(SolverRegistry.class).in(Singleton.class);
    bind(FitOrchestrator.class).in(Singleton.class);
    bind(MatrixUploads.class).in(Singleton.class);
    bind(ModelService.class).in(Singleton.class);
    // No observer unless a MetricsModule sets one.
    OptionalBinder.newOptionalBinder(binder(), ServerEvents.class).setDefault()
        .toInstance(ServerEvents.NONE);
  }

  @Provides
  @Singleton
  MemoryBudget memoryBudget(ServerConfig config) {
    return new MemoryBudget(config.memoryBudgetBytes());
  }

  @Provides
  @Singleton
  ModelStore modelStore(ModelRepository repository, MemoryBudget budget, ServerEvents events,
      ServerConfig config, IndexBuilder indexes) {
    return new ModelStore(ObservedRepository.wrap(repository, events), budget, events,
        config.limits(), indexes);
  }

  @Provides
  @Singleton
  IndexBuilder indexBuilder() {
    return ann.minRows() == 0 ? IndexBuilder.NONE : new IndexBuilder(ann);
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
