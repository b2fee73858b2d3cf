package io.mfserve.server.inject;

import com.google.inject.AbstractModule;
import io.mfserve.server.ServerConfig;
import io.mfserve.server.model.store.Limits;
import java.time.Clock;

/** Binds the server's settings, its limits and its clock. */
public final class ConfigModule extends AbstractModule {
  private final ServerConfig config;
  private final Clock clock;

  /** Binds {@code config} and the system clock. */
  public ConfigModule(ServerConfig config) {
    this(config, Clock.systemUTC());
  }

  /** Binds {@code config} and {@code clock} (tests pass a fixed one). */
  public ConfigModule(ServerConfig config, Clock clock) {
    this.config = config;
    this.clock = clock;
  }

  @Override
  protected void configure() {
    bind(ServerConfig.class).toInstance(config);
    bind(Limits.class).toInstance(config.limits());
    bind(Clock.class).toInstance(clock);
  }
}
