package io.mfserve.server.inject;

import com.google.inject.AbstractModule;
import com.google.inject.Provides;
import com.google.inject.Singleton;
import io.mfserve.server.model.fit.SolverRegistry;
import io.mfserve.server.model.store.ModelRepository;
import io.mfserve.server.repository.Repositories;
import io.mfserve.server.repository.RepositoryConfig;

/** Binds the model repository that {@code --model-store} names (in memory without it). */
public final class RepositoryModule extends AbstractModule {
  private final RepositoryConfig config;

  /** Binds the repository of {@code config}. */
  public RepositoryModule(RepositoryConfig config) {
    this.config = config;
  }

  @Override
  protected void configure() {
    bind(RepositoryConfig.class).toInstance(config);
  }

  @Provides
  @Singleton
  ModelRepository repository(SolverRegistry solvers) {
    return Repositories.open(config, solvers);
  }
}
