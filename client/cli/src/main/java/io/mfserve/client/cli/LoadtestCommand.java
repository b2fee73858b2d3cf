package io.mfserve.client.cli;

import io.grpc.Channel;
import io.grpc.Context;
import io.grpc.Status;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.stub.AbstractStub;
import io.grpc.stub.StreamObserver;
import io.mfserve.proto.v1.GetFactorsRequest;
import io.mfserve.proto.v1.GetFactorsResponse;
import io.mfserve.proto.v1.IdForm;
import io.mfserve.proto.v1.MatrixFactorizationGrpc;
import io.mfserve.proto.v1.ModelInfo;
import io.mfserve.proto.v1.PredictRequest;
import io.mfserve.proto.v1.PredictRowRequest;
import io.mfserve.proto.v1.PredictRowResponse;
import io.mfserve.proto.v1.RecommendRequest;
import io.mfserve.proto.v1.SimilarItemsRequest;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.HdrHistogram.Histogram;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code mfctl loadtest}: measures a server's throughput and latency for one RPC, with many
 * calls in flight on several channels (see {@link LoadGenerator} for the schedules). Requests
 * are drawn, seeded, from the model's own ids, which it reads once before the load starts.
 * {@code --rpc health} calls the standard {@code grpc.health.v1.Health/Check}: the transport's
 * own limit, to compare the model RPCs against on the same machine.
 */
@Command(name = "loadtest", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Measures throughput and latency (p50, p90, p99, p99.9, max) of one RPC under"
          + " load, and counts failures by status code.",
        "Without --rate: a closed loop, --concurrency calls always in flight. With --rate: an"
            + " open loop, calls started on schedule and latency measured from the intended"
            + " send time (no coordinated omission); the start lag (how late calls were"
            + " started: waiting for a free slot, or for this tool's thread to get a core) is"
            + " reported with it.",
        "--rpc health calls grpc.health.v1 Check: the transport's own limit, for comparison."})
final class LoadtestCommand implements Callable<Integer> {
  /** Requests prepared before the load, cycled through. */
  static final int REQUESTS = 8192;
  /** Users read from the model at most. */
  static final int MAX_USERS = 50_000;

  @ParentCommand
  Mfctl mfctl;

  @Spec
  CommandSpec spec;

  @Option(names = "--rpc", paramLabel = "RPC", required = true,
      description = "predict (one pair), recommend (top-k with exclude_seen), similar (top-k"
          + " similar items) or health.")
  String rpc;

  @Option(names = "--model", paramLabel = "MODEL",
      description = "The model (every RPC but health).")
  String modelId;

  @Option(names = "--concurrency", paramLabel = "N", defaultValue = "16",
      description = "Calls in flight at most, over all channels (default: ${DEFAULT-VALUE}).")
  int concurrency;

  @Option(names = "--duration", paramLabel = "TIME", defaultValue = "30s",
      description = "How long to measure: 30s, 2m, 500ms (default: ${DEFAULT-VALUE}).")
  String duration;

  // 10 s: on a 2-core machine this tool's own JIT takes about 3.6 s of CPU in its first 10 s,
  // CPU a server on the same machine would lose while being measured.
  @Option(names = "--warmup", paramLabel = "TIME", defaultValue = "10s",
      description = "Load before measuring, not recorded; it also lets this tool's own JIT"
          + " settle (default: ${DEFAULT-VALUE}).")
  String warmup;

  @Option(names = "--rate", paramLabel = "R",
      description = "Calls per second, open loop; without it, a closed loop.")
  Double rate;

  @Option(names = "--channels", paramLabel = "C", defaultValue = "4",
      description = "Connections to spread the calls over, served by one event-loop thread per"
          + " core at most, which also starts the open loop's calls (default: ${DEFAULT-VALUE}).")
  int channelCount;

  @Option(names = {"-k", "--k"}, paramLabel = "K", defaultValue = "10",
      description = "k for recommend and similar (default: ${DEFAULT-VALUE}).")
  int k;

  @Option(names = "--exact",
      description = "Ask recommend and similar for the exact scan even where the model has an"
          + " approximate index: the two paths' costs, compared on one server.")
  boolean exact;

  @Option(names = "--seed", paramLabel = "S", defaultValue = "42",
      description = "Seeds the choice of users and items (default: ${DEFAULT-VALUE}).")
  long seed;

  private static final Pattern TIME = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*(ms|s|m|h)?");

  @Override
  public Integer call() throws InterruptedException {
    String kind = rpc.toLowerCase(Locale.ROOT);
    if (!List.of("predict", "recommend", "similar", "health").contains(kind)) {
      throw new ParameterException(spec.commandLine(), "--rpc '" + rpc + "': expected one of"
          + " predict, recommend, similar, health");
    }
    if (!kind.equals("health") && (modelId == null || modelId.isBlank())) {
      throw new ParameterException(spec.commandLine(), "--rpc " + kind + " needs --model");
    }
    if (concurrency < 1 || channelCount < 1 || k < 1) {
      throw new ParameterException(spec.commandLine(),
          "--concurrency, --channels and -k must be at least 1");
    }
    if (rate != null && !(rate > 0 && Double.isFinite(rate))) {
      throw new ParameterException(spec.commandLine(), "--rate must be a positive number of"
          + " calls per second, got " + rate);
    }
    long durationNanos = nanos("--duration", duration);
    long warmupNanos = nanos("--warmup", warmup);
    if (durationNanos <= 0) {
      throw new ParameterException(spec.commandLine(), "--duration must be positive");
    }
    long timeoutNanos = mfctl.timeoutSeconds != null ? (long) (mfctl.timeoutSeconds * 1e9)
        : TimeUnit.SECONDS.toNanos(30);
    try (LoadChannels channels = mfctl.loadChannels(channelCount)) {
      LoadGenerator.Call call = kind.equals("health") ? health(timeoutNanos)
          : modelCall(kind, channels.first(), timeoutNanos);
      LoadGenerator.Result r = new LoadGenerator(channels.lanes(), call, concurrency)
          .run(rate == null ? 0 : rate, warmupNanos, durationNanos,
              Math.max(timeoutNanos, TimeUnit.SECONDS.toNanos(1)));
      print(kind, r, warmupNanos);
      return Mfctl.EXIT_OK;
    }
  }

  private long nanos(String option, String text) {
    Matcher m = TIME.matcher(text.strip().toLowerCase(Locale.ROOT));
    if (!m.matches()) {
      throw new ParameterException(spec.commandLine(), option + " '" + text + "': expected a"
          + " time like 30s, 2m or 500ms");
    }
    double v = Double.parseDouble(m.group(1));
    String unit = m.group(2) == null ? "s" : m.group(2);
    double seconds = switch (unit) {
      case "ms" -> v / 1000;
      case "m" -> v * 60;
      case "h" -> v * 3600;
      default -> v;
    };
    return (long) (seconds * 1e9);
  }

  // ---------------------------------------------------------------- the calls

  /**
   * Runs a call's callbacks on the transport thread that received the response. They only
   * record a latency and start the next call, so handing each to a pool thread would add a
   * thread wake-up per call: CPU that the load generator takes from a server it often shares a
   * machine with, and scheduling delay added to every latency it measures.
   */
  private static final Executor INLINE = Runnable::run;

  /** A stub for one call: its deadline from now, its callbacks {@link #INLINE}. */
  private static <S extends AbstractStub<S>> S perCall(S stub, long timeoutNanos) {
    return stub.withDeadlineAfter(timeoutNanos, TimeUnit.NANOSECONDS).withExecutor(INLINE);
  }

  /** Reports a unary call's outcome once. */
  private static <T> StreamObserver<T> observer(Consumer<Status> done) {
    return new StreamObserver<>() {
      @Override
      public void onNext(T value) {}

      @Override
      public void onError(Throwable t) {
        done.accept(Status.fromThrowable(t));
      }

      @Override
      public void onCompleted() {
        done.accept(Status.OK);
      }
    };
  }

  private static LoadGenerator.Call health(long timeoutNanos) {
    HealthCheckRequest request = HealthCheckRequest.getDefaultInstance();
    return (channel, n, done) -> perCall(HealthGrpc.newStub(channel), timeoutNanos)
        .check(request, observer(done));
  }

  private LoadGenerator.Call modelCall(String kind, Channel channel, long timeoutNanos) {
    ModelInfo model = mfctl.model(modelId);
    Sample ids = sample(channel, model, timeoutNanos, mfctl.client(), !kind.equals("recommend"));
    SplittableRandom rnd = new SplittableRandom(seed);
    boolean userKeys = model.getUserIdForm() == IdForm.ID_FORM_STRING;
    boolean itemKeys = model.getItemIdForm() == IdForm.ID_FORM_STRING;
    switch (kind) {
      case "predict": {
        PredictRequest[] requests = new PredictRequest[REQUESTS];
        for (int n = 0; n < REQUESTS; n++) {
          PredictRequest.Builder b = PredictRequest.newBuilder().setModelId(modelId);
          int u = rnd.nextInt(ids.users.size());
          int i = rnd.nextInt(ids.items.size());
          if (userKeys) {
            b.addUserKeys(ids.users.get(u));
          } else {
            b.addUserIds(Long.parseLong(ids.users.get(u)));
          }
          if (itemKeys) {
            b.addItemKeys(ids.items.get(i));
          } else {
            b.addItemIds(Long.parseLong(ids.items.get(i)));
          }
          requests[n] = b.build();
        }
        return (ch, n, done) -> perCall(MatrixFactorizationGrpc.newStub(ch), timeoutNanos)
            .predict(requests[(int) (n % REQUESTS)], observer(done));
      }
      case "recommend": {
        RecommendRequest[] requests = new RecommendRequest[REQUESTS];
        for (int n = 0; n < REQUESTS; n++) {
          RecommendRequest.Builder b = RecommendRequest.newBuilder().setModelId(modelId)
              .setK(k).setExcludeSeen(true).setExact(exact);
          String u = ids.users.get(rnd.nextInt(ids.users.size()));
          if (userKeys) {
            b.setUserKey(u);
          } else {
            b.setUserId(Long.parseLong(u));
          }
          requests[n] = b.build();
        }
        return (ch, n, done) -> perCall(MatrixFactorizationGrpc.newStub(ch), timeoutNanos)
            .recommend(requests[(int) (n % REQUESTS)], observer(done));
      }
      default: {
        SimilarItemsRequest[] requests = new SimilarItemsRequest[REQUESTS];
        for (int n = 0; n < REQUESTS; n++) {
          SimilarItemsRequest.Builder b = SimilarItemsRequest.newBuilder().setModelId(modelId)
              .setK(k).setExact(exact);
          String i = ids.items.get(rnd.nextInt(ids.items.size()));
          if (itemKeys) {
            b.setItemKey(i);
          } else {
            b.setItemId(Long.parseLong(i));
          }
          requests[n] = b.build();
        }
        return (ch, n, done) -> perCall(MatrixFactorizationGrpc.newStub(ch), timeoutNanos)
            .similarItems(requests[(int) (n % REQUESTS)], observer(done));
      }
    }
  }

  /** User and item ids (as text) to draw requests from. */
  record Sample(List<String> users, List<String> items) {}

  /**
   * Reads the model's ids: users from the first GetFactors chunks (at most {@value #MAX_USERS}
   * of them; the stream is cancelled there), items from the same stream when it ends, else
   * from one PredictRow, which names every item — so a large model's factors are never
   * downloaded in full. Without {@code needItems}, items are whatever the users' chunks
   * brought (possibly none).
   */
  static Sample sample(Channel channel, ModelInfo model, long timeoutNanos,
      io.mfserve.client.MfClient client, boolean needItems) {
    String modelId = model.getModelId();
    List<String> users = new ArrayList<>();
    List<String> items = new ArrayList<>();
    boolean complete = false;
    Context.CancellableContext context = Context.current().withCancellation();
    Context previous = context.attach();
    try {
      Iterator<GetFactorsResponse> it = MatrixFactorizationGrpc.newBlockingStub(channel)
          .withDeadlineAfter(Math.max(timeoutNanos, TimeUnit.SECONDS.toNanos(60)),
              TimeUnit.NANOSECONDS)
          .getFactors(GetFactorsRequest.newBuilder().setModelId(modelId).build());
      while (users.size() < MAX_USERS && it.hasNext()) {
        GetFactorsResponse r = it.next();
        r.getUserIdsList().forEach(id -> users.add(Long.toString(id)));
        users.addAll(r.getUserKeysList());
        r.getItemIdsList().forEach(id -> items.add(Long.toString(id)));
        items.addAll(r.getItemKeysList());
      }
      complete = items.size() == model.getNumItems();
    } finally {
      context.detach(previous);
      context.cancel(null);
    }
    if (users.isEmpty()) {
      throw new IllegalArgumentException("model " + modelId + " has no users to draw from");
    }
    if (!complete && needItems) {
      items.clear();
      PredictRowRequest.Builder b = PredictRowRequest.newBuilder().setModelId(modelId);
      if (model.getUserIdForm() == IdForm.ID_FORM_STRING) {
        b.setUserKey(users.get(0));
      } else {
        b.setUserId(Long.parseLong(users.get(0)));
      }
      PredictRowResponse row = client.predictRow(b.build());
      row.getItemIdsList().forEach(id -> items.add(Long.toString(id)));
      items.addAll(row.getItemKeysList());
    }
    return new Sample(users, items);
  }

  // ---------------------------------------------------------------- the report

  private static final double[] PERCENTILES = {50, 90, 99, 99.9};
  private static final String[] NAMES = {"p50", "p90", "p99", "p99_9"};

  private void print(String kind, LoadGenerator.Result r, long warmupNanos) {
    Histogram h = r.latencyNanos();
    long calls = r.ok() + r.failed();
    if (mfctl.json()) {
      Json j = new Json().beginObject().field("rpc", kind);
      if (modelId != null && !kind.equals("health")) {
        j.field("model_id", modelId);
      }
      j.field("channels", channelCount).field("concurrency", concurrency)
          .field("mode", rate == null ? "closed" : "open");
      j.name("rate");
      if (rate == null) {
        j.raw("null");
      } else {
        j.value(rate.doubleValue());
      }
      j.field("duration_s", r.seconds()).field("warmup_s", warmupNanos / 1e9)
          .field("calls", calls).field("ok", r.ok()).field("failed", r.failed())
          .field("throughput_per_s", r.throughput());
      j.name("errors").beginObject();
      for (Map.Entry<Status.Code, Long> e : r.errors().entrySet()) {
        j.field(e.getKey().name(), e.getValue());
      }
      j.endObject().name("latency_ms");
      percentiles(j, h);
      if (rate != null) {
        j.name("start_lag_ms");
        percentiles(j, r.startLagNanos());
      }
      mfctl.out().println(j.endObject());
      return;
    }
    StringBuilder head = new StringBuilder("loadtest ").append(kind);
    if (!kind.equals("health")) {
      head.append(" on model ").append(modelId);
    }
    head.append(": ").append(channelCount).append(channelCount == 1 ? " channel, " : " channels, ")
        .append(rate == null ? "closed loop, " + concurrency + " in flight"
            : "open loop at " + Fmt.count(Math.round(rate)) + " calls/s (at most " + concurrency
                + " in flight; latency from the intended send time)")
        .append(", ").append(Fmt.seconds(r.seconds()));
    if (warmupNanos > 0) {
      head.append(" after a ").append(Fmt.seconds(warmupNanos / 1e9)).append(" warm-up");
    }
    mfctl.out().println(head);
    List<String[]> rows = new ArrayList<>();
    rows.add(new String[] {"calls", Fmt.count(calls) + " (" + Fmt.count(r.ok()) + " ok, "
          + Fmt.count(r.failed()) + " failed)"});
    rows.add(new String[] {"throughput",
        String.format(Locale.ROOT, "%,.0f calls/s", r.throughput())});
    rows.add(new String[] {"latency (ms)", percentiles(h)});
    if (rate != null) {
      rows.add(new String[] {"start lag (ms)", percentiles(r.startLagNanos())});
    }
    StringBuilder err = new StringBuilder();
    for (Map.Entry<Status.Code, Long> e : r.errors().entrySet()) {
      err.append(err.length() == 0 ? "" : ", ").append(e.getKey()).append(' ')
          .append(Fmt.count(e.getValue()));
    }
    rows.add(new String[] {"errors", err.length() == 0 ? "none" : err.toString()});
    int width = rows.stream().mapToInt(row -> row[0].length()).max().orElse(0);
    for (String[] row : rows) {
      mfctl.out().println("  " + row[0] + " ".repeat(width - row[0].length() + 2) + row[1]);
    }
  }

  /** A histogram's percentiles, max and mean in milliseconds, as a JSON object. */
  private static void percentiles(Json j, Histogram h) {
    j.beginObject();
    for (int p = 0; p < PERCENTILES.length; p++) {
      j.field(NAMES[p], ms(h.getValueAtPercentile(PERCENTILES[p])));
    }
    j.field("max", ms(h.getMaxValue()))
        .field("mean", h.getTotalCount() == 0 ? 0 : h.getMean() / 1e6).endObject();
  }

  /** A histogram's percentiles and max in milliseconds, as one line of the table. */
  private static String percentiles(Histogram h) {
    StringBuilder line = new StringBuilder();
    for (int p = 0; p < PERCENTILES.length; p++) {
      line.append(NAMES[p].replace('_', '.')).append(' ')
          .append(fmtMs(h.getValueAtPercentile(PERCENTILES[p]))).append("  ");
    }
    return line.append("max ").append(fmtMs(h.getMaxValue())).toString();
  }

  private static double ms(long nanos) {
    return nanos / 1e6;
  }

  private static String fmtMs(long nanos) {
    return String.format(Locale.ROOT, "%.3f", nanos / 1e6);
  }
}
