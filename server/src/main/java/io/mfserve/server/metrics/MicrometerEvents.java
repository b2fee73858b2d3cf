package io.mfserve.server.metrics;

import io.mfserve.server.model.store.ServerEvents;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The application layer's {@link ServerEvents} as Micrometer meters: fits finished by result
 * and their seconds by solver, model loads, repository operations and damaged snapshots.
 * Every tag value comes from a fixed set (results, repository operation names) or from the
 * solver registry, never from a request. Thread-safe.
 */
final class MicrometerEvents implements ServerEvents {
  private static final Duration[] FIT_BUCKETS = seconds(0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60,
      300, 900, 3600);
  private static final Duration[] IO_BUCKETS = seconds(0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1,
      5, 10, 30, 120);

  private final MeterRegistry registry;
  private final Map<FitResult, Counter> fits = new EnumMap<>(FitResult.class);
  private final Counter damaged;

  MicrometerEvents(MeterRegistry registry) {
    this.registry = registry;
    for (FitResult r : FitResult.values()) {
      // Registered up front, so that every result shows (at 0) before the first fit.
      fits.put(r, Counter.builder("mfserve.fits.finished")
          .description("Fits finished, by result; invalid and refused ones never started")
          .tag("result", lower(r))
          .register(registry));
    }
    damaged = Counter.builder("mfserve.repository.damaged.snapshots.found")
        .description("Damaged snapshots found when loading or describing a model")
        .register(registry);
  }

  @Override
  public void fitFinished(String solver, FitResult result, double seconds) {
    fits.get(result).increment();
    if (solver != null) {
      Timer.builder("mfserve.fit.duration")
          .description("Seconds a fit took from the start of training, by solver and result")
          .tag("solver", solver)
          .tag("result", lower(result))
          .serviceLevelObjectives(FIT_BUCKETS)
          .register(registry)
          .record(Math.round(seconds * 1e9), TimeUnit.NANOSECONDS);
    }
  }

  @Override
  public void modelLoaded(LoadResult result, double seconds) {
    Timer.builder("mfserve.model.load.duration")
        .description("Model loads from the repository, by result")
        .tag("result", result.name().toLowerCase(Locale.ROOT))
        .serviceLevelObjectives(IO_BUCKETS)
        .register(registry)
        .record(Math.round(seconds * 1e9), TimeUnit.NANOSECONDS);
  }

  @Override
  public void repositoryOperation(String operation, boolean ok, double seconds) {
    Timer.builder("mfserve.repository.operation.duration")
        .description("Model repository operations (saves, loads, deletes, alias reads and"
            + " writes, lists: each poll is one), by operation and result")
        .tag("operation", operation)
        .tag("result", ok ? "ok" : "failed")
        .serviceLevelObjectives(IO_BUCKETS)
        .register(registry)
        .record(Math.round(seconds * 1e9), TimeUnit.NANOSECONDS);
  }

  @Override
  public void damagedSnapshotFound() {
    damaged.increment();
  }

  private static String lower(FitResult r) {
    return r.name().toLowerCase(Locale.ROOT);
  }

  private static Duration[] seconds(double... s) {
    Duration[] d = new Duration[s.length];
    for (int i = 0; i < s.length; i++) {
      d[i] = Duration.ofNanos(Math.round(s[i] * 1e9));
    }
    return d;
  }
}
