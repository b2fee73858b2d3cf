package io.mfserve.client.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Channel;
import io.grpc.Status;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.ManagedChannel;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class LoadGeneratorTest {
  private final ManagedChannel channel = InProcessChannelBuilder.forName("unused").build();
  private final ScheduledExecutorService timer = Executors.newScheduledThreadPool(2);

  @AfterEach
  void stop() {
    channel.shutdownNow();
    timer.shutdownNow();
  }

  @Test
  void closedLoop_callsCompletingInline_failuresCountedByCode() throws Exception {
    // Every third call fails; each completes before start() returns (no stack growth).
    LoadGenerator.Call call = (Channel c, long n, java.util.function.Consumer<Status> done) ->
        done.accept(n % 3 == 2 ? Status.UNAVAILABLE : Status.OK);
    LoadGenerator.Result r = new LoadGenerator(List.of(channel, channel), call, 4)
        .run(0, 0, TimeUnit.MILLISECONDS.toNanos(300), TimeUnit.SECONDS.toNanos(1));
    long unavailable = r.errors().get(Status.Code.UNAVAILABLE);
    assertTrue(r.ok() > 1000, "ok " + r.ok());
    assertEquals(r.ok() + unavailable, r.latencyNanos().getTotalCount());
    assertEquals(r.ok() / 2.0, unavailable, 2.0);
  }

  @Test
  void openLoop_slowServer_latencyCountsTheWaitFromTheIntendedSendTime() throws Exception {
    // One call at a time, 20 ms each, asked for 100 per second: the backlog grows, and latency
    // measured from the schedule (not from the actual send) shows it.
    LoadGenerator.Call call = (c, n, done) -> timer.schedule(() -> done.accept(Status.OK), 20,
        TimeUnit.MILLISECONDS);
    LoadGenerator.Result r = new LoadGenerator(List.of(channel), call, 1)
        .run(100, 0, TimeUnit.MILLISECONDS.toNanos(500), TimeUnit.SECONDS.toNanos(2));
    assertEquals(50, r.ok(), 1, "every scheduled call is made, however late");
    assertTrue(r.latencyNanos().getMaxValue() > TimeUnit.MILLISECONDS.toNanos(200),
        "max " + r.latencyNanos().getMaxValue());
    assertTrue(r.latencyNanos().getMinNonZeroValue() >= TimeUnit.MILLISECONDS.toNanos(19));
  }

  @Test
  void warmup_isNotRecorded() throws Exception {
    LoadGenerator.Call call = (c, n, done) -> done.accept(Status.OK);
    LoadGenerator.Result r = new LoadGenerator(List.of(channel), call, 1)
        .run(1000, TimeUnit.MILLISECONDS.toNanos(200), TimeUnit.MILLISECONDS.toNanos(200),
            TimeUnit.SECONDS.toNanos(1));
    assertEquals(200, r.ok(), 2);
  }
}
