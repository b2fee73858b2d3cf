package io.mfserve.client.cli;

import io.grpc.Channel;
import io.grpc.Status;
import java.util.ArrayDeque;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * Drives asynchronous calls at a server and measures them: throughput, a latency histogram
 * (HdrHistogram, 3 significant digits) and failures by status code.
 *
 * <p>Two schedules. <b>Closed loop</b> (no rate): {@code concurrency} calls are kept in flight,
 * each completion starting the next, so the server's own speed sets the pace; latency is
 * measured from each call's start. <b>Open loop</b> (a rate): call n is due at
 * {@code start + n / rate} whatever happened before, at most {@code concurrency} in flight;
 * latency is measured from the <em>intended</em> send time, so when the server (or the
 * in-flight limit) falls behind, the waiting counts — no coordinated omission (Tene). Calls are
 * spread over the channels round-robin, many in flight on each (HTTP/2 multiplexing).
 *
 * <p>A warm-up runs the same load first and records nothing. Calls started in the measured
 * window are recorded even if they finish after it, so a slow tail is never cut off.
 */
final class LoadGenerator {
  /** One kind of call. */
  interface Call {
    /**
     * Starts call number {@code n} on {@code channel} and reports its outcome exactly once
     * (on any thread; possibly before this returns).
     */
    void start(Channel channel, long n, Consumer<Status> done);
  }

  /**
   * What a run measured.
   *
   * @param ok calls that succeeded
   * @param errors failed calls by status code
   * @param latencyNanos every recorded call's latency, successes and failures
   * @param seconds the measured window
   */
  record Result(long ok, Map<Status.Code, Long> errors, Histogram latencyNanos, double seconds) {
    long failed() {
      return errors.values().stream().mapToLong(Long::longValue).sum();
    }

    double throughput() {
      return ok / seconds;
    }
  }

  private final List<? extends Channel> channels;
  private final Call call;
  private final int concurrency;
  private final Recorder recorder = new Recorder(3);
  private final LongAdder ok = new LongAdder();
  private final Map<Status.Code, LongAdder> errors = new ConcurrentHashMap<>();
  /** Calls started on this thread while another call's completion runs, run after it. */
  private final ThreadLocal<ArrayDeque<Runnable>> pending = new ThreadLocal<>();
  private long measureFrom;
  private long end;

  LoadGenerator(List<? extends Channel> channels, Call call, int concurrency) {
    if (channels.isEmpty() || concurrency < 1) {
      throw new IllegalArgumentException("need a channel and a concurrency of at least 1");
    }
    this.channels = channels;
    this.call = call;
    this.concurrency = concurrency;
  }

  /**
   * Runs the load and returns what the measured window saw.
   *
   * @param ratePerSecond calls per second for an open loop; 0 for a closed loop
   * @param warmupNanos load before measuring
   * @param durationNanos the measured window
   * @param drainNanos how long to wait for calls still in flight at the end
   */
  Result run(double ratePerSecond, long warmupNanos, long durationNanos, long drainNanos)
      throws InterruptedException {
    long start = System.nanoTime();
    measureFrom = start + warmupNanos;
    end = measureFrom + durationNanos;
    if (ratePerSecond > 0) {
      openLoop(start, ratePerSecond, drainNanos);
    } else {
      closedLoop(drainNanos);
    }
    Map<Status.Code, Long> byCode = new EnumMap<>(Status.Code.class);
    errors.forEach((code, n) -> byCode.put(code, n.sum()));
    return new Result(ok.sum(), byCode, recorder.getIntervalHistogram(), durationNanos / 1e9);
  }

  private void closedLoop(long drainNanos) throws InterruptedException {
    Semaphore finished = new Semaphore(0);
    AtomicLong sequence = new AtomicLong();
    for (int w = 0; w < concurrency; w++) {
      Channel channel = channels.get(w % channels.size());
      trampoline(() -> next(channel, sequence, finished));
    }
    // Each worker stops once it would start a call after the end.
    long waitNanos = end - System.nanoTime() + drainNanos;
    finished.tryAcquire(concurrency, Math.max(0, waitNanos), TimeUnit.NANOSECONDS);
  }

  private void next(Channel channel, AtomicLong sequence, Semaphore finished) {
    long sent = System.nanoTime();
    if (sent >= end) {
      finished.release();
      return;
    }
    call.start(channel, sequence.getAndIncrement(), status -> {
      record(sent, status);
      trampoline(() -> next(channel, sequence, finished));
    });
  }

  private void openLoop(long start, double rate, long drainNanos) throws InterruptedException {
    Semaphore inFlight = new Semaphore(concurrency);
    double interval = 1e9 / rate;
    for (long n = 0; ; n++) {
      long due = start + (long) (n * interval);
      if (due >= end) {
        break;
      }
      long wait;
      while ((wait = due - System.nanoTime()) > 0) {
        LockSupport.parkNanos(wait);
      }
      // Waiting for a free slot is part of this call's latency: it is measured from `due`.
      inFlight.acquire();
      Channel channel = channels.get((int) (n % channels.size()));
      call.start(channel, n, status -> {
        record(due, status);
        inFlight.release();
      });
    }
    long waitNanos = end - System.nanoTime() + drainNanos;
    inFlight.tryAcquire(concurrency, Math.max(0, waitNanos), TimeUnit.NANOSECONDS);
  }

  private void record(long sentNanos, Status status) {
    if (sentNanos < measureFrom) {
      return;
    }
    recorder.recordValue(Math.max(1, System.nanoTime() - sentNanos));
    if (status.isOk()) {
      ok.increment();
    } else {
      errors.computeIfAbsent(status.getCode(), c -> new LongAdder()).increment();
    }
  }

  /**
   * Runs {@code r}, or, when called from inside another trampolined task on this thread (a call
   * that completed before its start returned, as in-process transports do), queues it to run
   * after that task: completions that start the next call then never nest on the stack.
   */
  private void trampoline(Runnable r) {
    ArrayDeque<Runnable> queue = pending.get();
    if (queue != null) {
      queue.add(r);
      return;
    }
    queue = new ArrayDeque<>();
    pending.set(queue);
    try {
      r.run();
      Runnable next;
      while ((next = queue.poll()) != null) {
        next.run();
      }
    } finally {
      pending.remove();
    }
  }
}
