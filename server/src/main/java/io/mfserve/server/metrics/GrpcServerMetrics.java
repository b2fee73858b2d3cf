package io.mfserve.server.metrics;

import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Times every gRPC call the server answers, by full method name and status code:
 * {@code grpc_server_call_duration_seconds{grpc_method, grpc_status}} (a histogram; the name and
 * labels follow gRFC A66). A call is counted once, when the server closes it or, if the client
 * gives up first, as CANCELLED.
 *
 * <p>Both labels are bounded: gRPC hands only registered methods to interceptors (an unknown
 * method is answered UNIMPLEMENTED before), and status codes are a fixed enum. The timers of
 * a method are looked up once and kept in an array by code, so a call costs one map read, one
 * array read and one histogram update after the first call. Thread-safe.
 */
public final class GrpcServerMetrics implements ServerInterceptor {
  /** Bucket bounds in seconds, those gRFC A66 recommends for call latency (trimmed). */
  static final Duration[] BUCKETS = seconds(0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01,
      0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300);

  private static final Status.Code[] CODES = Status.Code.values();

  private final MeterRegistry registry;
  private final ConcurrentHashMap<String, AtomicReferenceArray<Timer>> timers =
      new ConcurrentHashMap<>();

  /** Records into {@code registry}. */
  public GrpcServerMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  @Override
  public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(ServerCall<ReqT, RespT> call,
      Metadata headers, ServerCallHandler<ReqT, RespT> next) {
    Recorder recorder = new Recorder(timersOf(call.getMethodDescriptor().getFullMethodName()),
        call.getMethodDescriptor().getFullMethodName());
    ServerCall<ReqT, RespT> timed = new SimpleForwardingServerCall<>(call) {
      @Override
      public void close(Status status, Metadata trailers) {
        recorder.record(status.getCode());
        super.close(status, trailers);
      }
    };
    return new SimpleForwardingServerCallListener<>(next.startCall(timed, headers)) {
      @Override
      public void onCancel() {
        recorder.record(Status.Code.CANCELLED);
        super.onCancel();
      }
    };
  }

  private AtomicReferenceArray<Timer> timersOf(String method) {
    AtomicReferenceArray<Timer> t = timers.get(method);
    return t != null ? t
        : timers.computeIfAbsent(method, m -> new AtomicReferenceArray<>(CODES.length));
  }

  private Timer timer(AtomicReferenceArray<Timer> byCode, String method, Status.Code code) {
    Timer t = byCode.get(code.ordinal());
    if (t == null) {
      // Registering twice returns the same timer, so a race here is harmless.
      t = Timer.builder("grpc.server.call.duration")
          .description("Time from a call's start until the server closes it, by method and"
              + " status code")
          .tag("grpc.method", method)
          .tag("grpc.status", code.name())
          .serviceLevelObjectives(BUCKETS)
          .register(registry);
      byCode.set(code.ordinal(), t);
    }
    return t;
  }

  private final class Recorder {
    private final AtomicReferenceArray<Timer> byCode;
    private final String method;
    private final long start = System.nanoTime();
    private final AtomicBoolean done = new AtomicBoolean();

    Recorder(AtomicReferenceArray<Timer> byCode, String method) {
      this.byCode = byCode;
      this.method = method;
    }

    void record(Status.Code code) {
      if (done.compareAndSet(false, true)) {
        timer(byCode, method, code).record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
      }
    }
  }

  private static Duration[] seconds(double... s) {
    Duration[] d = new Duration[s.length];
    for (int i = 0; i < s.length; i++) {
      d[i] = Duration.ofNanos(Math.round(s[i] * 1e9));
    }
    return d;
  }
}
