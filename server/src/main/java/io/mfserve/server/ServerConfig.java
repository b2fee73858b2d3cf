package io.mfserve.server;

import io.mfserve.server.model.store.Limits;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The server's settings, from flags or environment variables (see {@link Main}).
 *
 * @param port the TCP port to listen on; 0 picks a free one
 * @param pluginsDir a directory of solver plugin jars, or null
 * @param memoryBudgetBytes bytes the server may hold for models, matrices and fits
 * @param maxInboundMessageBytes the largest request message accepted
 * @param workerThreads threads for long calls (see {@code CallExecutors}); short ones run on the
 *     transport threads
 * @param trainingThreads threads the solvers share
 * @param maxConcurrentFits fits that train at once
 * @param maxQueuedFits fits that may wait for a slot before new ones are refused
 * @param uploadTtl how long an unused uploaded matrix is kept
 * @param shutdownGrace how long in-flight calls may run on after SIGTERM
 * @param reflection whether server reflection is on
 * @param warmup whether {@link Warmup} runs before health turns SERVING
 * @param limits the explicit limits on requests, uploads and models held
 */
public record ServerConfig(int port, Path pluginsDir, long memoryBudgetBytes,
    int maxInboundMessageBytes, int workerThreads, int trainingThreads, int maxConcurrentFits,
    int maxQueuedFits, Duration uploadTtl, Duration shutdownGrace, boolean reflection,
    boolean warmup, Limits limits) {

  /** The settings with every limit at its default. */
  public ServerConfig(int port, Path pluginsDir, long memoryBudgetBytes,
      int maxInboundMessageBytes, int workerThreads, int trainingThreads, int maxConcurrentFits,
      int maxQueuedFits, Duration uploadTtl, Duration shutdownGrace, boolean reflection,
      boolean warmup) {
    this(port, pluginsDir, memoryBudgetBytes, maxInboundMessageBytes, workerThreads,
        trainingThreads, maxConcurrentFits, maxQueuedFits, uploadTtl, shutdownGrace, reflection,
        warmup, Limits.defaults());
  }

  /** Defaults for this machine: port 50051, 60% of the heap as budget, all cores. */
  public static ServerConfig defaults() {
    int cores = Runtime.getRuntime().availableProcessors();
    return new ServerConfig(50051, null, (long) (Runtime.getRuntime().maxMemory() * 0.6),
        4 << 20, Math.max(4, 2 * cores), cores, 2, 16, Duration.ofHours(1),
        Duration.ofSeconds(20), true, true);
  }

  /** Returns a copy with a memory budget of {@code bytes}. */
  public ServerConfig withMemoryBudget(long bytes) {
    return new ServerConfig(port, pluginsDir, bytes, maxInboundMessageBytes, workerThreads,
        trainingThreads, maxConcurrentFits, maxQueuedFits, uploadTtl, shutdownGrace, reflection,
        warmup, limits);
  }

  /** Returns a copy with the warm-up before SERVING on or off. */
  public ServerConfig withWarmup(boolean on) {
    return new ServerConfig(port, pluginsDir, memoryBudgetBytes, maxInboundMessageBytes,
        workerThreads, trainingThreads, maxConcurrentFits, maxQueuedFits, uploadTtl,
        shutdownGrace, reflection, on, limits);
  }

  /** Returns a copy with {@code newLimits}. */
  public ServerConfig withLimits(Limits newLimits) {
    return new ServerConfig(port, pluginsDir, memoryBudgetBytes, maxInboundMessageBytes,
        workerThreads, trainingThreads, maxConcurrentFits, maxQueuedFits, uploadTtl,
        shutdownGrace, reflection, warmup, newLimits);
  }

  /** Returns a copy whose largest request message is {@code bytes}. */
  public ServerConfig withMaxInboundMessageBytes(int bytes) {
    return new ServerConfig(port, pluginsDir, memoryBudgetBytes, bytes, workerThreads,
        trainingThreads, maxConcurrentFits, maxQueuedFits, uploadTtl, shutdownGrace, reflection,
        warmup, limits);
  }
}
