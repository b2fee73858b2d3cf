package io.mfserve.server.grpc;

import io.grpc.Context;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallExecutorSupplier;
import io.mfserve.proto.v1.MatrixFactorizationGrpc;
import io.mfserve.server.ServerConfig;
import jakarta.inject.Inject;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

/**
 * Decides which thread runs each call: the transport thread that read it, or the handler pool.
 *
 * <p>The server's default executor is direct, so a call starts on the Netty event-loop thread
 * that decoded it. Handing every call to a pool (gRPC's default) costs two cross-thread
 * wake-ups per call, one to the pool and one back to the event loop for the reply; on this
 * project's 2-core reference machine that was a third of the server's CPU per Health and Predict
 * call, and the wake-ups are where the latency tail came from. But an event-loop thread serves
 * many connections, so nothing may hold it long. Hence two rules:
 * <ul>
 *   <li>Methods that stream large messages, parse whole matrices or train ({@link #POOLED}) are
 *       switched to the pool as soon as their method is known, before their first message is
 *       parsed ({@link #getExecutor}).
 *   <li>The other methods start on the transport thread, and their handler calls
 *       {@link #run} with an estimate of the call's work (multiply-adds): at most
 *       {@value #INLINE_WORK} (about a quarter of a millisecond of scoring, a catalogue of 32,768
 *       items at 64 factors) runs there and then; more goes to the pool.
 * </ul>
 *
 * <p>Owns the handler pool ({@code --worker-threads}); the server closes it at shutdown.
 * Thread-safe.
 */
public final class CallExecutors implements ServerCallExecutorSupplier, AutoCloseable {
  /** The most multiply-adds a call may do on a transport thread. */
  public static final long INLINE_WORK = 1L << 21;

  /** Methods that always run on the handler pool. */
  static final Set<String> POOLED = List.of(
      MatrixFactorizationGrpc.getFitMethod(),
      MatrixFactorizationGrpc.getFitWithProgressMethod(),
      MatrixFactorizationGrpc.getUploadMatrixMethod(),
      MatrixFactorizationGrpc.getGetFactorsMethod(),
      MatrixFactorizationGrpc.getRecommendBatchMethod())
      .stream().map(MethodDescriptor::getFullMethodName).collect(Collectors.toUnmodifiableSet());

  private final ThreadPoolExecutor pool;

  /** Creates the handler pool with {@link ServerConfig#workerThreads()} threads. */
  @Inject
  public CallExecutors(ServerConfig config) {
    AtomicInteger n = new AtomicInteger();
    pool = new ThreadPoolExecutor(config.workerThreads(), config.workerThreads(), 60,
        TimeUnit.SECONDS, new LinkedBlockingQueue<>(), r -> {
          Thread t = new Thread(r, "mfserve-grpc-" + n.incrementAndGet());
          t.setDaemon(true);
          return t;
        });
    pool.allowCoreThreadTimeOut(true);
  }

  /** Returns the pool for {@link #POOLED} methods, null (the transport thread) for the rest. */
  @Override
  public <ReqT, RespT> Executor getExecutor(ServerCall<ReqT, RespT> call, Metadata headers) {
    return POOLED.contains(call.getMethodDescriptor().getFullMethodName()) ? pool : null;
  }

  /**
   * Runs {@code task} now, on this thread, when {@code work} is at most {@link #INLINE_WORK};
   * otherwise on the handler pool, in the call's {@link Context} (so it sees the call's
   * deadline and cancellation).
   *
   * @param work the call's estimated multiply-adds
   */
  public void run(long work, Runnable task) {
    if (work <= INLINE_WORK) {
      task.run();
    } else {
      pool.execute(Context.current().wrap(task));
    }
  }

  /** Stops the pool's threads; calls still queued are dropped (the server cancelled them). */
  @Override
  public void close() {
    pool.shutdownNow();
  }
}
