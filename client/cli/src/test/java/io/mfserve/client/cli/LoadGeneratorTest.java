package io.mfserve.client.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Channel;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.inprocess.InProcessChannelBuilder;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class LoadGeneratorTest {
  private final ManagedChannel channel = InProcessChannelBuilder.forName("unused").build();
  private final ScheduledExecutorService timer = Executors.newScheduledThreadPool(2);
  private final ScheduledExecutorService laneThread =
      Executors.newSingleThreadScheduledExecutor();

  @AfterEach
  void stop() {
    channel.shutdownNow();
    timer.shutdownNow();
    laneThread.shutdownNow();
  }

  /** {@code n} lanes on the one channel, all run by {@link #laneThread}. */
  private List<LoadChannels.Lane> lanes(int n) {
    return Collections.nCopies(n, new LoadChannels.Lane(channel, laneThread));
  }

  @Test
  void closedLoop_callsCompletingInline_failuresCountedByCode() throws Exception {
    // Every third call fails; each completes before start() returns (no stack growth).
    LoadGenerator.Call call = (Channel c, long n, java.util.function.Consumer<Status> done) ->
        done.accept(n % 3 == 2 ? Status.UNAVAILABLE : Status.OK);
    LoadGenerator.Result r = new LoadGenerator(lanes(2), call, 4)
        .run(0, 0, TimeUnit.MILLISECONDS.toNanos(300), TimeUnit.SECONDS.toNanos(1));
    long unavailable = r.errors().get(Status.Code.UNAVAILABLE);
    assertTrue(r.ok() > 1000, "ok " + r.ok());
    assertEquals(r.ok() + unavailable, r.latencyNanos().getTotalCount());
    assertEquals(r.ok() / 2.0, unavailable, 2.0);
    assertEquals(0, r.startLagNanos().getTotalCount(), "a closed loop has no schedule to lag");
  }

  @Test
  void openLoop_slowServer_latencyCountsTheWaitFromTheIntendedSendTime() throws Exception {
    // One call at a time, 20 ms each, asked for 100 per second: the backlog grows, and latency
    // measured from the schedule (not from the actual send) shows it.
    LoadGenerator.Call call = (c, n, done) -> timer.schedule(() -> done.accept(Status.OK), 20,
        TimeUnit.MILLISECONDS);
    LoadGenerator.Result r = new LoadGenerator(lanes(1), call, 1)
        .run(100, 0, TimeUnit.MILLISECONDS.toNanos(500), TimeUnit.SECONDS.toNanos(2));
    assertEquals(50, r.ok(), 1, "every scheduled call is made, however late");
    assertTrue(r.latencyNanos().getMaxValue() > TimeUnit.MILLISECONDS.toNanos(200),
        "max " + r.latencyNanos().getMaxValue());
    assertTrue(r.latencyNanos().getMinNonZeroValue() >= TimeUnit.MILLISECONDS.toNanos(19));
    // The wait was before the send: each call's start lag is its latency less the 20 ms call.
    assertEquals(r.ok(), r.startLagNanos().getTotalCount());
    assertTrue(r.startLagNanos().getMaxValue() > TimeUnit.MILLISECONDS.toNanos(180),
        "max lag " + r.startLagNanos().getMaxValue());
    assertTrue(r.startLagNanos().getMaxValue() <= r.latencyNanos().getMaxValue());
  }

  @Test
  void warmup_isNotRecorded() throws Exception {
    LoadGenerator.Call call = (c, n, done) -> done.accept(Status.OK);
    // A drain long enough for a starved lane thread to catch up with its schedule: under a
    // loaded machine (load 30) a 1-s drain left 24 of the 200 calls unmade.
    LoadGenerator.Result r = new LoadGenerator(lanes(1), call, 1)
        .run(1000, TimeUnit.MILLISECONDS.toNanos(200), TimeUnit.MILLISECONDS.toNanos(200),
            TimeUnit.SECONDS.toNanos(30));
    assertEquals(200, r.ok(), 2);
  }

  @Test
  void openLoop_severalLanes_everyCallOnScheduleFromItsLaneThreadWithinItsShareOfTheLimit()
      throws Exception {
    // 3 lanes share 5 calls in flight (2, 2 and 1). Each call lasts 20 ms and each lane is
    // asked for one every 7.5 ms, so every lane falls behind and fills its share: the limits
    // are reached and never passed, and every scheduled call is still made.
    Thread lane = laneThread.submit(Thread::currentThread).get();
    AtomicInteger offThread = new AtomicInteger();
    AtomicIntegerArray inFlight = new AtomicIntegerArray(3);
    AtomicIntegerArray most = new AtomicIntegerArray(3);
    LoadGenerator.Call call = (c, n, done) -> {
      if (Thread.currentThread() != lane) {
        offThread.incrementAndGet();
      }
      int l = (int) (n % 3);
      int now = inFlight.incrementAndGet(l);
      most.accumulateAndGet(l, now, Math::max);
      timer.schedule(() -> {
        inFlight.decrementAndGet(l);
        done.accept(Status.OK);
      }, 20, TimeUnit.MILLISECONDS);
    };
    LoadGenerator.Result r = new LoadGenerator(lanes(3), call, 5)
        .run(400, 0, TimeUnit.MILLISECONDS.toNanos(500), TimeUnit.SECONDS.toNanos(5));
    assertEquals(200, r.ok(), "every scheduled call is made");
    assertEquals(0, offThread.get(), "calls started off their lane's thread");
    assertEquals("[2, 2, 1]", most.toString(), "most in flight per lane");
    // The backlog counts: lane 2's last call was due at about 0.5 s and made at about 1.3 s.
    assertTrue(r.latencyNanos().getMaxValue() > TimeUnit.MILLISECONDS.toNanos(500),
        "max " + r.latencyNanos().getMaxValue());
  }
}
