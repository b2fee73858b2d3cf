package io.mfserve.client.e2e;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.mfserve.proto.v1.DeleteMatrixRequest;
import io.mfserve.proto.v1.DeleteModelRequest;
import io.mfserve.proto.v1.FitRequest;
import io.mfserve.proto.v1.Matrix;
import io.mfserve.proto.v1.MatrixFactorizationGrpc;
import io.mfserve.proto.v1.MatrixFactorizationGrpc.MatrixFactorizationBlockingStub;
import io.mfserve.proto.v1.PredictRequest;
import io.mfserve.proto.v1.RecommendBatchRequest;
import io.mfserve.proto.v1.RecommendRequest;
import io.mfserve.proto.v1.SimilarItemsRequest;
import io.mfserve.proto.v1.SparseMatrix;
import io.mfserve.proto.v1.UploadMatrixRequest;
import io.mfserve.proto.v1.UploadMatrixResponse;
import io.mfserve.server.testing.FutureObserver;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Soak: the real server jar under mixed traffic with model churn (fit, query, delete, re-fit,
 * upload, fit from the upload, delete the upload) for {@code -Dmfserve.soak.seconds} (30 by
 * default here; {@code solvers/bench/reliability/soak.sh} runs 600). The server's heap after a
 * full GC, its threads and its open file descriptors are read (jcmd, /proc) after a first
 * warm minute fraction and at the end, once the churned models are gone: the heap must be back
 * within 10% of its baseline (4 MiB at least, GC noise on a heap of tens of MiB), descriptors
 * must not grow, no kind of thread may grow but the JVM's compiler threads (which it adds and
 * retires with the compile queue), and no call may fail but with the
 * expected NOT_FOUND of a query racing a delete. The figures are printed.
 */
class SoakIT {
  private static final int SECONDS = Integer.getInteger("mfserve.soak.seconds", 30);
  private static final int QUERY_THREADS = 4;

  private final Map<String, Boolean> live = new ConcurrentHashMap<>();
  private final List<String> unexpected = new CopyOnWriteArrayList<>();
  private final Map<String, AtomicLong> counts = new ConcurrentHashMap<>();
  private volatile boolean stop;

  @Test
  void mixedTrafficWithChurn_heapThreadsAndDescriptorsComeBack() throws Exception {
    assertTrue(Files.isDirectory(Path.of("/proc/self/fd")), "needs /proc (Linux)");
    try (ServerProcess server = ServerProcess.start("--no-warmup")) {
      ManagedChannel channel = ManagedChannelBuilder.forTarget(server.target()).usePlaintext()
          .build();
      MatrixFactorizationBlockingStub stub = MatrixFactorizationGrpc.newBlockingStub(channel);
      long pid = server.process().pid();
      // A base model queries always find, and a first churn cycle and query burst for the
      // JIT and the pools, before the baseline.
      stub.withDeadlineAfter(60, TimeUnit.SECONDS).fit(fit("base", 1));
      live.put("base", true);
      churnOnce(stub, channel, 0, new Random(1));
      Thread[] queries = new Thread[QUERY_THREADS];
      for (int t = 0; t < queries.length; t++) {
        long seed = t;
        queries[t] = new Thread(() -> queryLoop(stub, new Random(seed)), "soak-query-" + t);
        queries[t].start();
      }
      long warm = System.nanoTime() + TimeUnit.SECONDS.toNanos(Math.max(5, SECONDS / 8));
      int cycle = 1;
      Random rnd = new Random(2);
      while (System.nanoTime() < warm) {
        churnOnce(stub, channel, cycle++, rnd);
      }
      cleanUp(stub);
      Figures base = Figures.read(pid);
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(SECONDS);
      while (System.nanoTime() < end) {
        churnOnce(stub, channel, cycle++, rnd);
      }
      stop = true;
      for (Thread t : queries) {
        t.join(30_000);
      }
      cleanUp(stub);
      Thread.sleep(1000);
      Figures after = Figures.read(pid);
      System.out.printf(Locale.ROOT, "soak %d s: %d churn cycles, calls %s%n  baseline %s%n"
          + "  after    %s%n", SECONDS, cycle, counts, base, after);
      channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
      assertTrue(unexpected.isEmpty(), "unexpected failures: " + unexpected);
      long slack = Math.max(base.heapBytes / 10, 4L << 20);
      assertTrue(after.heapBytes <= base.heapBytes + slack, "heap after GC " + base + " → "
          + after);
      // A thread per call or per model would show as thousands over the cycles. Counted by
      // kind (the name without its number, so that a pool worker retired and replaced is the
      // same kind): none may grow, except the JVM's compiler threads, which it adds under a
      // long compile queue (-XX:+UseDynamicNumberOfCompilerThreads) and retires when idle.
      Map<String, Integer> grown = after.grownKinds(base);
      System.out.println("  thread kinds grown (JVM compiler threads allowed): " + grown);
      grown.keySet().removeIf(Figures::isJvmCompilerThread);
      assertTrue(grown.isEmpty(), "threads " + base + " → " + after + "; grown: " + grown
          + "; new names: " + after.newNames(base));
      assertTrue(after.fds <= base.fds + 2, "file descriptors " + base + " → " + after);
      assertTrue(server.isAlive());
    }
  }

  /** One cycle: fit, re-fit after delete, upload + fit from it + delete upload, deletes. */
  private void churnOnce(MatrixFactorizationBlockingStub stub, ManagedChannel channel, int i,
      Random rnd) throws Exception {
    var s = stub.withDeadlineAfter(120, TimeUnit.SECONDS);
    String id = "soak-" + i;
    call("fit", () -> s.fit(fit(id, rnd.nextLong())));
    live.put(id, true);
    // Delete and re-fit the same id: the store must forget it completely in between.
    live.remove(id);
    call("delete", () -> s.deleteModel(DeleteModelRequest.newBuilder().setModelId(id).build()));
    call("refit", () -> s.fit(fit(id, rnd.nextLong())));
    live.put(id, true);
    // Upload in two chunks, fit from it, delete the upload.
    CompletableFuture<UploadMatrixResponse> done = new CompletableFuture<>();
    StreamObserver<UploadMatrixRequest> up = MatrixFactorizationGrpc.newStub(channel)
        .withDeadlineAfter(60, TimeUnit.SECONDS).uploadMatrix(FutureObserver.of(done));
    Matrix m = fit("x", rnd.nextLong()).getMatrix();
    int half = m.getSparse().getValuesCount() / 2;
    up.onNext(UploadMatrixRequest.newBuilder().setChunk(slice(m, 0, half)).build());
    up.onNext(UploadMatrixRequest.newBuilder().setChunk(slice(m, half,
        m.getSparse().getValuesCount())).build());
    up.onCompleted();
    String matrixId = done.get(60, TimeUnit.SECONDS).getMatrixId();
    count("upload");
    String fromUpload = id + "-u";
    call("fit-upload", () -> s.fit(FitRequest.newBuilder().setSolver("sgd").setNumFactors(8)
        .setMaxIterations(3).setModelId(fromUpload).setMatrixId(matrixId).build()));
    live.put(fromUpload, true);
    call("delete-upload", () -> s.deleteMatrix(DeleteMatrixRequest.newBuilder()
        .setMatrixId(matrixId).build()));
    // Keep a few models alive at a time: delete the previous cycle's.
    for (String old : List.of("soak-" + (i - 1), "soak-" + (i - 1) + "-u")) {
      if (live.remove(old) != null) {
        call("delete", () -> s.deleteModel(DeleteModelRequest.newBuilder().setModelId(old)
            .build()));
      }
    }
  }

  private void queryLoop(MatrixFactorizationBlockingStub stub, Random rnd) {
    while (!stop) {
      List<String> ids = List.copyOf(live.keySet());
      String id = ids.get(rnd.nextInt(ids.size()));
      var s = stub.withDeadlineAfter(30, TimeUnit.SECONDS);
      int user = rnd.nextInt(400);
      try {
        switch (rnd.nextInt(4)) {
          case 0 -> s.recommend(RecommendRequest.newBuilder().setModelId(id).setUserId(user)
              .setK(10).build());
          case 1 -> s.predict(PredictRequest.newBuilder().setModelId(id).addUserIds(user)
              .addItemIds(rnd.nextInt(200)).build());
          case 2 -> s.similarItems(SimilarItemsRequest.newBuilder().setModelId(id)
              .setItemId(rnd.nextInt(200)).setK(10).build());
          default -> s.recommendBatch(RecommendBatchRequest.newBuilder().setModelId(id)
              .addUserIds(user).addUserIds((user + 1) % 400).setK(5).build())
              .forEachRemaining(r -> { });
        }
        count("query");
      } catch (StatusRuntimeException e) {
        Status.Code c = e.getStatus().getCode();
        // A query racing the delete of its model, or an id the model happens not to have.
        if (c == Status.Code.NOT_FOUND || c == Status.Code.INVALID_ARGUMENT
            && e.getStatus().getDescription().contains("unknown")) {
          count("query-expected-miss");
        } else {
          unexpected.add("query on " + id + ": " + e.getStatus());
        }
      }
    }
  }

  private void cleanUp(MatrixFactorizationBlockingStub stub) {
    for (String id : List.copyOf(live.keySet())) {
      if (!id.equals("base")) {
        live.remove(id);
        call("delete", () -> stub.deleteModel(DeleteModelRequest.newBuilder().setModelId(id)
            .build()));
      }
    }
  }

  private void call(String what, Runnable r) {
    try {
      r.run();
      count(what);
    } catch (StatusRuntimeException e) {
      unexpected.add(what + ": " + e.getStatus());
    }
  }

  private void count(String what) {
    counts.computeIfAbsent(what, k -> new AtomicLong()).incrementAndGet();
  }

  /** Ratings of 400 users × 200 items, 8000 entries, ALS, k = 8. */
  private static FitRequest fit(String id, long seed) {
    Random rnd = new Random(seed);
    SparseMatrix.Builder s = SparseMatrix.newBuilder();
    java.util.Set<Integer> seen = new java.util.HashSet<>();
    for (int u = 0; u < 400; u++) {
      seen.add(u * 200 + u % 200);
      s.addRowIds(u).addColIds(u % 200).addValues(1 + rnd.nextInt(5));
    }
    while (s.getValuesCount() < 8000) {
      int u = rnd.nextInt(400);
      int i = rnd.nextInt(200);
      if (seen.add(u * 200 + i)) {
        s.addRowIds(u).addColIds(i).addValues(1 + rnd.nextInt(5));
      }
    }
    return FitRequest.newBuilder().setSolver("als").setNumFactors(8).setMaxIterations(3)
        .setModelId(id).setMatrix(Matrix.newBuilder().setSparse(s)).build();
  }

  private static Matrix slice(Matrix m, int from, int to) {
    SparseMatrix s = m.getSparse();
    return Matrix.newBuilder().setSparse(SparseMatrix.newBuilder()
        .addAllRowIds(s.getRowIdsList().subList(from, to))
        .addAllColIds(s.getColIdsList().subList(from, to))
        .addAllValues(s.getValuesList().subList(from, to))).build();
  }


  /** The server process's heap after a full GC, its threads and open descriptors. */
  record Figures(long heapBytes, int threads, int fds, List<String> names) {
    /** The thread names (by /proc comm) here and not in {@code base}, with multiplicity. */
    List<String> newNames(Figures base) {
      List<String> extra = new java.util.ArrayList<>(names);
      for (String n : base.names) {
        extra.remove(n);
      }
      return extra;
    }

    /** Kinds (names without digits) whose count is higher here than in {@code base}. */
    Map<String, Integer> grownKinds(Figures base) {
      Map<String, Integer> now = kinds(names);
      Map<String, Integer> before = kinds(base.names);
      Map<String, Integer> grown = new TreeMap<>();
      now.forEach((kind, n) -> {
        int was = before.getOrDefault(kind, 0);
        if (n > was) {
          grown.put(kind, n - was);
        }
      });
      return grown;
    }

    static boolean isJvmCompilerThread(String kind) {
      return kind.startsWith("C1 CompilerThre") || kind.startsWith("C2 CompilerThre");
    }

    private static Map<String, Integer> kinds(List<String> names) {
      Map<String, Integer> out = new TreeMap<>();
      for (String n : names) {
        out.merge(n.replaceAll("[0-9]+", "#"), 1, Integer::sum);
      }
      return out;
    }

    private static final Pattern USED = Pattern.compile("used (\\d+)K");

    static Figures read(long pid) throws IOException, InterruptedException {
      jcmd(pid, "GC.run");
      Thread.sleep(300);
      jcmd(pid, "GC.run");
      String heap = jcmd(pid, "GC.heap_info");
      Matcher m = USED.matcher(heap);
      if (!m.find()) {
        throw new AssertionError("no heap figure in: " + heap);
      }
      long used = Long.parseLong(m.group(1)) << 10;
      int threads = 0;
      for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
        if (line.startsWith("Threads:")) {
          threads = Integer.parseInt(line.substring(8).trim());
        }
      }
      int fds;
      try (var s = Files.list(Path.of("/proc/" + pid + "/fd"))) {
        fds = (int) s.count();
      }
      List<String> names = new java.util.ArrayList<>();
      try (var tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
        for (Path t : tasks.toList()) {
          try {
            names.add(Files.readString(t.resolve("comm")).strip());
          } catch (IOException gone) {
            // the thread ended while listed
          }
        }
      }
      return new Figures(used, threads, fds, names);
    }

    private static String jcmd(long pid, String command) throws IOException,
        InterruptedException {
      Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jcmd")
          .toString(), Long.toString(pid), command).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes());
      p.waitFor(60, TimeUnit.SECONDS);
      return out;
    }

    @Override
    public String toString() {
      return String.format(Locale.ROOT, "heap after GC %.1f MiB, %d threads, %d fds",
          heapBytes / 1048576.0, threads, fds);
    }
  }
}
