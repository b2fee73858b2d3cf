package io.mfserve.client.cli;

import io.grpc.Channel;
import io.mfserve.proto.v1.ApproximateIndex;
import io.mfserve.proto.v1.IdForm;
import io.mfserve.proto.v1.ModelInfo;
import io.mfserve.proto.v1.RecommendRequest;
import io.mfserve.proto.v1.ScoredItem;
import io.mfserve.proto.v1.SimilarItemsRequest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.UnaryOperator;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code mfctl recall MODEL}: measures what a model's approximate index gives up and gains.
 * Each sampled user is asked for a Recommend twice, through the index and with
 * {@code exact = true}, one call at a time, each path in a run of its own after a warm-up;
 * recall@k is the share of the exact top k that the approximate answer has, and the speed-up
 * the ratio of the two median latencies (client-side, so a round trip is in both). With
 * {@code --similar}, SimilarItems (cosine) the same way, on the items the exact
 * recommendations named.
 */
@Command(name = "recall", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Measures the recall@k of a model's approximate index against the exact"
        + " scan, and the speed-up, on sampled users (Recommend; with --similar, SimilarItems"
        + " too): each query is sent twice, once with exact = true.",
        "Calls are sent one at a time: the latencies are of an idle server (use loadtest"
            + " --exact for throughput). After 50 unrecorded calls of each path, all exact"
            + " calls are timed, then all approximate ones."})
final class RecallCommand implements Callable<Integer> {
  @ParentCommand
  Mfctl mfctl;

  @Spec
  CommandSpec spec;

  @Parameters(paramLabel = "MODEL", description = "The model id.")
  String modelId;

  @Option(names = "--users", paramLabel = "N", defaultValue = "200",
      description = "Users to sample (default: ${DEFAULT-VALUE}).")
  int users;

  @Option(names = "-k", paramLabel = "K", defaultValue = "10",
      description = "k of recall@k (default: ${DEFAULT-VALUE}).")
  int k;

  @Option(names = "--exclude-seen", negatable = true,
      description = "Leave out (or keep) each user's items in both answers. Default: the"
          + " server's.")
  Boolean excludeSeen;

  @Option(names = "--similar",
      description = "Also measure SimilarItems (cosine).")
  boolean similar;

  @Option(names = "--seed", paramLabel = "S", defaultValue = "42",
      description = "Seeds the choice of users (default: ${DEFAULT-VALUE}).")
  long seed;

  /** One RPC's figures: recall and the two latency samples. */
  private static final class Figures {
    long found;
    long asked;
    final List<Long> approx = new ArrayList<>();
    final List<Long> exact = new ArrayList<>();

    double recall() {
      return asked == 0 ? Double.NaN : (double) found / asked;
    }

    double speedup() {
      return median(exact) / median(approx);
    }
  }

  @Override
  public Integer call() throws InterruptedException {
    if (users < 1 || k < 1) {
      throw new ParameterException(spec.commandLine(), "--users and -k must be at least 1");
    }
    ModelInfo model = mfctl.model(modelId);
    long timeoutNanos = mfctl.timeoutSeconds != null ? (long) (mfctl.timeoutSeconds * 1e9)
        : TimeUnit.SECONDS.toNanos(30);
    List<String> ids;
    try (LoadChannels channels = mfctl.loadChannels(1)) {
      Channel channel = channels.first();
      ids = LoadtestCommand.sample(channel, model, timeoutNanos, mfctl.client(), false).users();
    }
    SplittableRandom rnd = new SplittableRandom(seed);
    boolean userKeys = model.getUserIdForm() == IdForm.ID_FORM_STRING;
    boolean itemKeys = model.getItemIdForm() == IdForm.ID_FORM_STRING;
    List<RecommendRequest> recommends = new ArrayList<>();
    for (int n = 0; n < users; n++) {
      String u = ids.get(rnd.nextInt(ids.size()));
      RecommendRequest.Builder b = RecommendRequest.newBuilder().setModelId(modelId).setK(k);
      if (excludeSeen != null) {
        b.setExcludeSeen(excludeSeen);
      }
      if (userKeys) {
        b.setUserKey(u);
      } else {
        b.setUserId(Long.parseLong(u));
      }
      recommends.add(b.build());
    }
    Figures rec = new Figures();
    List<List<ScoredItem>> exactRecs = measure(rec, recommends,
        r -> mfctl.client().recommend(r).getItemsList(), r -> r.toBuilder().setExact(true).build(),
        r -> r.toBuilder().setExact(false).build());
    Figures sim = null;
    if (similar) {
      List<SimilarItemsRequest> similars = new ArrayList<>();
      for (List<ScoredItem> exact : exactRecs) {
        if (exact.isEmpty()) {
          continue;
        }
        ScoredItem item = exact.get(0);
        SimilarItemsRequest.Builder b = SimilarItemsRequest.newBuilder().setModelId(modelId)
            .setK(k);
        if (itemKeys) {
          b.setItemKey(item.getItemKey());
        } else {
          b.setItemId(item.getItemId());
        }
        similars.add(b.build());
      }
      sim = new Figures();
      measure(sim, similars, r -> mfctl.client().similarItems(r).getItemsList(),
          r -> r.toBuilder().setExact(true).build(), r -> r.toBuilder().setExact(false).build());
    }
    print(model, rec, sim);
    return Mfctl.EXIT_OK;
  }

  /** Calls a client JVM makes unrecorded before measuring: its own code is compiled by then. */
  private static final int WARMUP_CALLS = 50;

  /**
   * Sends every request exactly, then every request through the index, each path in a run of
   * its own (an exact scan streams the whole catalogue through the caches, so an approximate
   * call right after one would be timed cold, as no server serving only approximate queries
   * ever is), after {@value #WARMUP_CALLS} unrecorded calls of each path. Counts recall per
   * request into {@code f} and returns the exact answers.
   */
  private static <R> List<List<ScoredItem>> measure(Figures f, List<R> requests,
      Function<R, List<ScoredItem>> call, UnaryOperator<R> exact, UnaryOperator<R> approx) {
    for (int n = 0; n < Math.min(WARMUP_CALLS, requests.size()); n++) {
      call.apply(exact.apply(requests.get(n)));
      call.apply(approx.apply(requests.get(n)));
    }
    List<List<ScoredItem>> truth = new ArrayList<>();
    for (R r : requests) {
      truth.add(timed(f.exact, call, exact.apply(r)));
    }
    for (int n = 0; n < requests.size(); n++) {
      count(f, truth.get(n), timed(f.approx, call, approx.apply(requests.get(n))));
    }
    return truth;
  }

  private static <R> List<ScoredItem> timed(List<Long> into, Function<R, List<ScoredItem>> call,
      R request) {
    long start = System.nanoTime();
    List<ScoredItem> out = call.apply(request);
    into.add(System.nanoTime() - start);
    return out;
  }

  private static void count(Figures f, List<ScoredItem> exact, List<ScoredItem> approx) {
    Set<String> truth = new HashSet<>();
    for (ScoredItem s : exact) {
      truth.add(s.getItemKey() + "/" + s.getItemId());
    }
    for (ScoredItem s : approx) {
      if (truth.contains(s.getItemKey() + "/" + s.getItemId())) {
        f.found++;
      }
    }
    f.asked += exact.size();
  }

  private static double median(List<Long> nanos) {
    if (nanos.isEmpty()) {
      return Double.NaN;
    }
    long[] a = nanos.stream().mapToLong(Long::longValue).toArray();
    Arrays.sort(a);
    return a.length % 2 == 1 ? a[a.length / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2.0;
  }

  private void print(ModelInfo model, Figures rec, Figures sim) {
    if (mfctl.json()) {
      Json j = new Json().beginObject().field("model_id", model.getModelId()).field("k", k)
          .field("users", users);
      figures(j.name("recommend"), rec);
      if (sim != null) {
        figures(j.name("similar_items"), sim);
      }
      j.name("indexes").beginArray();
      for (ApproximateIndex a : model.getApproximateIndexesList()) {
        j.raw(Json.proto(a));
      }
      mfctl.out().println(j.endArray().endObject());
      return;
    }
    if (model.getApproximateIndexesCount() == 0) {
      mfctl.out().println("model " + model.getModelId() + " has no approximate index (the"
          + " server's --ann-min-rows): both answers are exact");
    }
    for (ApproximateIndex a : model.getApproximateIndexesList()) {
      mfctl.out().println(String.format(Locale.ROOT, "index %s: %s%s", a.getTarget(),
          a.getState(), a.getState().equals("ready") ? String.format(Locale.ROOT,
              " (%s, M=%d, ef=%d, built in %.1f s, server's sampled recall@10 %.3f)",
              a.getMetric(), a.getMaxConnections(), a.getEfSearch(), a.getBuildSeconds(),
              a.getSampledRecall()) : ""));
    }
    Table t = new Table("RPC", "QUERIES", "RECALL@" + k, "APPROX P50 MS", "EXACT P50 MS",
        "SPEED-UP");
    row(t, "recommend", rec);
    if (sim != null) {
      row(t, "similar", sim);
    }
    t.print(mfctl.out(), "");
  }

  private static void row(Table t, String name, Figures f) {
    t.add(name, f.approx.size(), String.format(Locale.ROOT, "%.4f", f.recall()),
        String.format(Locale.ROOT, "%.3f", median(f.approx) / 1e6),
        String.format(Locale.ROOT, "%.3f", median(f.exact) / 1e6),
        String.format(Locale.ROOT, "%.1f×", f.speedup()));
  }

  private static void figures(Json j, Figures f) {
    j.beginObject().field("queries", f.approx.size()).field("recall", f.recall())
        .field("approx_p50_ms", median(f.approx) / 1e6)
        .field("exact_p50_ms", median(f.exact) / 1e6)
        .field("speedup", f.speedup()).endObject();
  }
}
