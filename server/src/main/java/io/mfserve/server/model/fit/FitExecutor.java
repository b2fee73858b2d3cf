package io.mfserve.server.model.fit;

import io.mfserve.server.model.errors.ResourceExhaustedException;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The threads fits run on, apart from gRPC's own: a small pool that runs each fit's
 * orchestration (at most {@code maxConcurrentFits} at once, a bounded queue behind them), and
 * one fork-join pool that every solver fans its parallel sweeps out to. Beside them, a
 * fork-join pool of the same width for queries that fan out (RecommendBatch), kept apart so
 * that a batch is not queued behind a long sweep's tasks. Owned by the server and closed at
 * shutdown.
 */
public final class FitExecutor implements AutoCloseable {
  /**
   * The priority of every thread that trains: the lowest, so that queries arriving during a
   * fit take the cores first and a fit cannot starve them. The JVM on Linux passes Java
   * priorities to the kernel only with {@code -XX:ThreadPriorityPolicy=1}; with
   * {@code -XX:JavaPriority1_To_OSPriority=19} this priority becomes nice 19, which the
   * scheduler gives about 1/70 of a nice-0 thread's share whenever both want a core. Raising a
   * thread's nice value needs no privilege, so this works for an ordinary user and in a
   * container (the JVM still prints a warning there). See README, "Fits beside queries".
   */
  public static final int TRAINING_PRIORITY = Thread.MIN_PRIORITY;

  private final ThreadPoolExecutor coordinators;
  private final ForkJoinPool workers;
  private final ForkJoinPool queries;

  /**
   * Creates the pools.
   *
   * @param maxConcurrentFits fits that train at once
   * @param maxQueuedFits fits that may wait behind them before new ones are refused
   * @param trainingThreads the parallelism of the solvers' shared pool
   */
  public FitExecutor(int maxConcurrentFits, int maxQueuedFits, int trainingThreads) {
    AtomicInteger n = new AtomicInteger();
    coordinators = new ThreadPoolExecutor(maxConcurrentFits, maxConcurrentFits, 60,
        TimeUnit.SECONDS, new ArrayBlockingQueue<>(Math.max(1, maxQueuedFits)), r -> {
          Thread t = new Thread(r, "mfserve-fit-" + n.incrementAndGet());
          t.setDaemon(true);
          t.setPriority(TRAINING_PRIORITY);
          return t;
        });
    coordinators.allowCoreThreadTimeOut(true);
    AtomicInteger w = new AtomicInteger();
    workers = new ForkJoinPool(trainingThreads, pool -> {
      ForkJoinWorkerThread t = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(pool);
      t.setName("mfserve-train-" + w.incrementAndGet());
      t.setPriority(TRAINING_PRIORITY);
      return t;
    }, null, false);
    // Its threads start on first use and retire when idle, so a server without batches pays
    // nothing for it.
    queries = new ForkJoinPool(trainingThreads);
  }

  /** Returns the number of fits training now. */
  public int running() {
    return coordinators.getActiveCount();
  }

  /** Returns the number of fits waiting for a slot. */
  public int queued() {
    return coordinators.getQueue().size();
  }

  /** Returns the pool batch queries fan out to. */
  public ForkJoinPool queries() {
    return queries;
  }

  /** Returns the pool solvers fan out to. */
  public ForkJoinPool workers() {
    return workers;
  }

  /**
   * Runs a fit's orchestration.
   *
   * @throws ResourceExhaustedException if every slot and the queue are taken
   */
  public void submit(Runnable fit) {
    try {
      coordinators.execute(fit);
    } catch (RejectedExecutionException e) {
      throw new ResourceExhaustedException("the server is already running "
          + coordinators.getMaximumPoolSize() + " fits with " + coordinators.getQueue().size()
          + " queued (--max-concurrent-fits); retry later");
    }
  }

  @Override
  public void close() {
    coordinators.shutdownNow();
    workers.shutdownNow();
    queries.shutdownNow();
    try {
      coordinators.awaitTermination(10, TimeUnit.SECONDS);
      workers.awaitTermination(10, TimeUnit.SECONDS);
      queries.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
