package io.mfserve.solver.spark;

import io.mfserve.solver.FitCancelledException;
import io.mfserve.solver.FitContext;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.logging.Logger;
import java.util.stream.Stream;
import org.apache.spark.sql.SparkSession;

/**
 * The one SparkSession of this server (Spark allows one SparkContext per JVM), lent to one fit
 * at a time. A fit with the same master and settings as the last reuses the running session
 * (starting one costs seconds); another stops it and starts its own. A session idle for
 * {@value #IDLE_SECONDS_DEFAULT} s (property {@code mfserve.spark.idle-seconds}) is stopped, so
 * an idle server holds no Spark threads, executors or cluster resources.
 */
final class SparkSessions {
  private static final Logger LOG = Logger.getLogger(SparkSessions.class.getName());
  private static final long IDLE_SECONDS_DEFAULT = 120;
  private static final SparkSessions INSTANCE = new SparkSessions();

  private final ReentrantLock lock = new ReentrantLock();
  private final ScheduledExecutorService idle = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "mfserve-spark-idle");
    t.setDaemon(true);
    return t;
  });
  private final FitProgressListener listener = new FitProgressListener();
  private SparkSession session;
  private String key;
  private Path checkpoints;
  private ScheduledFuture<?> stopper;

  static SparkSessions get() {
    return INSTANCE;
  }

  /**
   * Waits for the session (checking {@code context} for cancellation), starting or replacing
   * it as the settings ask. The caller calls {@link #release()} when done.
   */
  SparkSession acquire(AlsSettings s, FitContext context) throws InterruptedException {
    while (!lock.tryLock(200, TimeUnit.MILLISECONDS)) {
      context.throwIfCancelled(0);
    }
    try {
      if (stopper != null) {
        stopper.cancel(false);
        stopper = null;
      }
      String wanted = s.master() + " " + s.sparkConf();
      if (session != null && (!wanted.equals(key) || session.sparkContext().isStopped())) {
        stop();
      }
      if (session == null) {
        start(s, wanted);
      }
      return session;
    } catch (RuntimeException | Error e) {
      lock.unlock();
      throw e;
    }
  }

  /** Returns the listener that turns this session's stages into a fit's progress. */
  FitProgressListener listener() {
    return listener;
  }

  /** Ends a fit's use of the session; stops it after the idle time. */
  void release() {
    long seconds = Long.getLong("mfserve.spark.idle-seconds", IDLE_SECONDS_DEFAULT);
    stopper = idle.schedule(this::stopIfIdle, seconds, TimeUnit.SECONDS);
    lock.unlock();
  }

  private void stopIfIdle() {
    if (lock.tryLock()) {
      try {
        if (stopper != null && session != null) {
          LOG.info("stopping the idle Spark session (" + key + ")");
          stop();
        }
      } finally {
        lock.unlock();
      }
    }
  }

  /** The plugin's own jar, as a path Spark can ship; null when run from a classes folder. */
  private static String pluginJar() {
    try {
      java.security.CodeSource src = SparkSessions.class.getProtectionDomain().getCodeSource();
      java.nio.file.Path p = src == null ? null : java.nio.file.Path.of(src.getLocation().toURI());
      return p != null && p.toString().endsWith(".jar") ? p.toString() : null;
    } catch (java.net.URISyntaxException | SecurityException e) {
      return null;
    }
  }

  private void start(AlsSettings s, String wanted) {
    // Netty (Spark's RPC) reads this once, on first use; the server's launch sets no flag.
    System.setProperty("io.netty.tryReflectionSetAccessible", "true");
    SparkSession.Builder b = SparkSession.builder().master(s.master()).appName("mfserve-spark-als")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4");
    if (s.master().startsWith("local")) {
      // Spark in the server's JVM listens on loopback only.
      b.config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1");
    }
    for (Map.Entry<String, String> e : s.sparkConf().entrySet()) {
      b.config(e.getKey(), e.getValue());
    }
    String jar = pluginJar();
    if (!s.master().startsWith("local") && jar != null) {
      // Every fit runs the plugin's own code on the executors (CheckedRatings): a cluster's
      // fetch the plugin's jar from the driver, beside any the deployment names.
      String given = s.sparkConf().getOrDefault("spark.jars", "");
      b.config("spark.jars", given.isEmpty() ? jar : given + "," + jar);
    }
    long t0 = System.nanoTime();
    session = b.getOrCreate();
    key = wanted;
    session.sparkContext().setLogLevel("WARN");
    session.sparkContext().addSparkListener(listener);
    String dir = session.sparkContext().getConf().get("spark.checkpoint.dir", "");
    if (dir.isEmpty()) {
      // Without a checkpoint directory long ALS runs die of a StackOverflowError (lineage).
      // A local one serves local[*]; a cluster names a shared one (spark.checkpoint.dir).
      try {
        checkpoints = Files.createTempDirectory("mfserve-spark-checkpoints");
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      dir = checkpoints.toUri().toString();
    }
    session.sparkContext().setCheckpointDir(dir);
    LOG.info(String.format("started Spark %s, master %s, in %.1f s", session.version(),
        s.master(), (System.nanoTime() - t0) / 1e9));
  }

  private void stop() {
    try {
      session.stop();
    } finally {
      session = null;
      key = null;
      stopper = null;
      deleteCheckpoints();
    }
  }

  private void deleteCheckpoints() {
    if (checkpoints == null) {
      return;
    }
    try (Stream<Path> walk = Files.walk(checkpoints)) {
      walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      LOG.warning("cannot delete " + checkpoints + ": " + e);
    }
    checkpoints = null;
  }

  /** Throws if the fit was cancelled, counting what it had finished. */
  static void checkCancelled(FitContext context, int iterations) {
    Objects.requireNonNull(context);
    if (context.isCancelled()) {
      throw new FitCancelledException(iterations);
    }
  }
}
