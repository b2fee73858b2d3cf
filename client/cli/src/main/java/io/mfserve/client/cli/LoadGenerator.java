package io.mfserve.client.cli;

import io.grpc.Channel;
import io.grpc.Status;
import java.util.ArrayDeque;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
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
 * in-flight limit) falls behind, the waiting counts — no coordinated omission (Tene). How late
 * each call started is recorded too (its <em>start lag</em>): a lag near the latency's tail says
 * the tail was spent before the send, waiting for a free slot or for this tool's own thread to
 * get a core, not in the server. Calls are
 * spread over the channels round-robin, many in flight on each (HTTP/2 multiplexing). An open
 * loop's calls are started by each channel's own lane thread ({@link LoadChannels.Lane}, the
 * channel's event loop over the network), each lane with its share of the in-flight limit.
 *
 * <p>A warm-up runs the same load first; nothing it sees is reported. Calls started in the
 * measured window are recorded even if they finish after it, so a slow tail is never cut off.
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
   * @param startLagNanos open loop: how long after its intended send time each recorded call
   *     was started (empty for a closed loop, whose calls have no schedule)
   * @param seconds the measured window
   */
  record Result(long ok, Map<Status.Code, Long> errors, Histogram latencyNanos,
      Histogram startLagNanos, double seconds) {
    long failed() {
      return errors.values().stream().mapToLong(Long::longValue).sum();
    }

    double throughput() {
      return ok / seconds;
    }
  }

  private static final int MEASURED = 1;

  private final List<LoadChannels.Lane> lanes;
  private final Call call;
  private final int concurrency;
  /**
   * What the warm-up saw (index 0, discarded) and what the measured window saw (index 1). The
   * warm-up records too, through the same code, so that this code is compiled for recording
   * when the window opens: skipped during the warm-up, it would be compiled without it and
   * fall back to the interpreter on every thread at once, a stall measured in the first calls.
   */
  private final Tally[] tallies = {new Tally(), new Tally()};
  /** Calls started on this thread while another call's completion runs, run after it. */
  private final ThreadLocal<ArrayDeque<Runnable>> pending = new ThreadLocal<>();
  private long measureFrom;
  private long end;

  LoadGenerator(List<LoadChannels.Lane> lanes, Call call, int concurrency) {
    if (lanes.isEmpty() || concurrency < 1) {
      throw new IllegalArgumentException("need a channel and a concurrency of at least 1");
    }
    this.lanes = lanes;
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
    return tallies[MEASURED].result(durationNanos / 1e9);
  }

  private void closedLoop(long drainNanos) throws InterruptedException {
    Semaphore finished = new Semaphore(0);
    AtomicLong sequence = new AtomicLong();
    for (int w = 0; w < concurrency; w++) {
      Channel channel = lanes.get(w % lanes.size()).channel();
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
    // At most one lane per call in flight, so that every lane may have one.
    int count = Math.min(lanes.size(), concurrency);
    CountDownLatch finished = new CountDownLatch(count);
    for (int i = 0; i < count; i++) {
      int limit = concurrency / count + (i < concurrency % count ? 1 : 0);
      OpenLane lane = new OpenLane(lanes.get(i), i, count, limit, start, 1e9 / rate, finished);
      lane.lane.executor().execute(lane::begin);
    }
    long waitNanos = end - System.nanoTime() + drainNanos;
    finished.await(Math.max(0, waitNanos), TimeUnit.NANOSECONDS);
  }

  /**
   * One lane's share of an open loop: calls {@code first}, {@code first + stride}, ... of the
   * whole schedule, each due at {@code start + n / rate}, at most {@code limit} of them in
   * flight. Its state is touched only on the lane's thread: a call is started there when it is
   * due (a timer set for the next due time), and a completion arriving on another thread (a
   * deadline's timer, say) is handed back to it.
   */
  private final class OpenLane {
    final LoadChannels.Lane lane;
    final int stride;
    final int limit;
    final long start;
    final double interval;
    final CountDownLatch finished;
    /** The lane's thread, set when it first runs; completions on it are handled in place. */
    volatile Thread thread;
    long next;
    int inFlight;
    boolean timerSet;
    boolean pumping;
    boolean again;
    boolean scheduleDone;
    boolean reported;

    OpenLane(LoadChannels.Lane lane, int first, int stride, int limit, long start,
        double interval, CountDownLatch finished) {
      this.lane = lane;
      this.next = first;
      this.stride = stride;
      this.limit = limit;
      this.start = start;
      this.interval = interval;
      this.finished = finished;
    }

    void begin() {
      thread = Thread.currentThread();
      pump();
    }

    void onTimer() {
      timerSet = false;
      pump();
    }

    /**
     * Starts every call that is due while a slot is free, then sets a timer for the next one
     * (unless the slots are full: a completion pumps again). Re-entered from a completion
     * that ran inside a call's start, it only asks the running pass to look again.
     */
    void pump() {
      if (pumping) {
        again = true;
        return;
      }
      pumping = true;
      try {
        do {
          again = false;
          long now = System.nanoTime();
          while (!scheduleDone && inFlight < limit) {
            long due = start + (long) (next * interval);
            if (due >= end) {
              scheduleDone = true;
            } else if (due > now) {
              if (!timerSet) {
                timerSet = true;
                lane.executor().schedule(this::onTimer, due - now, TimeUnit.NANOSECONDS);
              }
              break;
            } else {
              long n = next;
              next += stride;
              inFlight++;
              // Waiting for a free slot counts in this call's latency: it is measured from
              // `due`.
              recordLag(due);
              call.start(lane.channel(), n, status -> completed(due, status));
            }
          }
        } while (again);
      } finally {
        pumping = false;
      }
      if (scheduleDone && inFlight == 0 && !reported) {
        reported = true;
        finished.countDown();
      }
    }

    void completed(long due, Status status) {
      record(due, status);
      if (Thread.currentThread() == thread) {
        release();
      } else {
        try {
          lane.executor().execute(this::release);
        } catch (RejectedExecutionException e) {
          // The lanes' threads are stopped: the run is over and this call was abandoned.
        }
      }
    }

    void release() {
      inFlight--;
      pump();
    }
  }

  private void record(long sentNanos, Status status) {
    tallies[phase(sentNanos)].record(Math.max(1, System.nanoTime() - sentNanos), status);
  }

  /** Records how late a call due at {@code dueNanos} is being started. */
  private void recordLag(long dueNanos) {
    tallies[phase(dueNanos)].lag.recordValue(Math.max(0, System.nanoTime() - dueNanos));
  }

  /**
   * The phase of a call started (or due) at {@code startNanos}: 1 from the measured window on,
   * else 0, without a branch that the warm-up never takes.
   */
  private int phase(long startNanos) {
    return (int) ((measureFrom - 1 - startNanos) >>> 63);
  }

  /**
   * Latencies, start lags, successes and failures by status code of one phase's calls;
   * thread-safe.
   */
  private static final class Tally {
    final Recorder latency = new Recorder(3);
    final Recorder lag = new Recorder(3);
    final LongAdder ok = new LongAdder();
    final Map<Status.Code, LongAdder> errors = new ConcurrentHashMap<>();

    void record(long latencyNanos, Status status) {
      latency.recordValue(latencyNanos);
      if (status.isOk()) {
        ok.increment();
      } else {
        errors.computeIfAbsent(status.getCode(), c -> new LongAdder()).increment();
      }
    }

    Result result(double seconds) {
      Map<Status.Code, Long> byCode = new EnumMap<>(Status.Code.class);
      errors.forEach((code, n) -> byCode.put(code, n.sum()));
      return new Result(ok.sum(), byCode, latency.getIntervalHistogram(),
          lag.getIntervalHistogram(), seconds);
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
