package io.mfserve.client.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.mfserve.proto.v1.FitRequest;
import io.mfserve.proto.v1.ListModelsResponse;
import io.mfserve.proto.v1.Matrix;
import io.mfserve.proto.v1.ModelInfo;
import io.mfserve.proto.v1.PredictRequest;
import io.mfserve.proto.v1.PredictResponse;
import io.mfserve.proto.v1.RecommendRequest;
import io.mfserve.proto.v1.RecommendResponse;
import io.mfserve.proto.v1.SparseMatrix;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Three server jars sharing one model store behind nginx, configured by
 * {@code deploy/nginx/mfserve.conf} (rendered with this test's ports): every call goes
 * through nginx, which balances per call, round-robin.
 *
 * <ol>
 *   <li>Read your writes: a Fit through nginx, then Predict/Recommend through nginx at once
 *       and many times, for several models: every call succeeds whichever replica answers
 *       (a replica that misses the model loads it from the store) and every replica gives
 *       bit-identical answers.
 *   <li>An alias created and then switched (compare-and-set) through nginx: one poll
 *       interval later every call by the alias, on any replica, reaches the new model.
 *   <li>A DeleteModel through nginx: one poll interval later no replica serves the model.
 *   <li>One replica killed with SIGKILL while client threads send Predict in a loop through
 *       nginx: only calls in flight on it at the kill fail, with UNAVAILABLE/INTERNAL/UNKNOWN
 *       as a proxy reports a cut upstream; every call after that succeeds (nginx retries
 *       refused connections on the next replica and then leaves the dead one out). Restarted
 *       on the same port it serves every model again, directly and, once nginx's
 *       fail_timeout has passed, through nginx.
 * </ol>
 *
 * <p>Skipped with a message when nginx is not installed, unless
 * {@code MFSERVE_REQUIRE_CROSS_LANGUAGE} is set (CI), where that fails.
 */
class ReplicasBehindNginxIT {
  private static final long POLL_MILLIS = 200;
  /**
   * One poll interval plus the time one poll takes (a directory listing, the alias table, and
   * on the --preload all replica the loads it starts), with room for a busy 2-core machine: a
   * change made on one replica is in force on every other one by then.
   */
  private static final long SETTLE_MILLIS = POLL_MILLIS + 250;
  /** fail_timeout in deploy/nginx/mfserve.conf. */
  private static final long NGINX_FAIL_TIMEOUT_MILLIS = 5_000;
  private static final int LOAD_THREADS = 2;
  private static final int MODELS = 6;
  private static final Set<Status.Code> CUT_CODES = Set.of(Status.Code.UNAVAILABLE,
      Status.Code.INTERNAL, Status.Code.UNKNOWN);

  static java.util.stream.Stream<Named<ModelStores.Kind>> stores() {
    return ModelStores.kinds();
  }

  /** The replicas; a restarted one replaces its entry. */
  private final ServerProcess[] replicas = new ServerProcess[3];
  private final List<String> ids = new ArrayList<>();
  private final Map<String, PredictRequest> probes = new LinkedHashMap<>();
  private final Map<String, PredictResponse> predictions = new LinkedHashMap<>();
  private final Map<String, RecommendResponse> recommendations = new LinkedHashMap<>();
  private final Map<String, RepoClient.Fingerprint> factors = new LinkedHashMap<>();
  private final List<String> killedLogs = new ArrayList<>();

  @ParameterizedTest(name = "{0}")
  @MethodSource("stores")
  void threeReplicasBehindNginx_anyReplicaServesEveryWriteAndOneMayDie(ModelStores.Kind kind)
      throws Exception {
    Path nginxBinary = NginxProcess.binary();
    Path template = Path.of(System.getProperty("mfserve.nginx.conf",
        "../deploy/nginx/mfserve.conf"));
    long start = System.nanoTime();
    try (ModelStoreFixture store = kind.create()) {
      try {
        startReplicas(store);
        int port = ServerProcess.freePort();
        List<Integer> ports = List.of(replicas[0].port(), replicas[1].port(),
            replicas[2].port());
        String conf = NginxProcess.render(Files.readString(template), ports, port);
        try (NginxProcess nginx = NginxProcess.start(nginxBinary, conf, port);
            RepoClient lb = new RepoClient("127.0.0.1", port, 20_000)) {
          readYourWrites(lb, nginx);
          aliasSwitch(lb);
          deleteIsSeenEverywhere(lb);
          killOneUnderLoad(lb, nginx);
        }
        checkLogs();
      } finally {
        for (ServerProcess r : replicas) {
          if (r != null) {
            r.close();
          }
        }
      }
    }
    System.out.printf("ReplicasBehindNginxIT: %.1f s%n", (System.nanoTime() - start) / 1e9);
  }

  private void startReplicas(ModelStoreFixture store) throws Exception {
    // Two replicas load nothing ahead (every first call of a model on them is a miss that
    // loads it from the store); the third preloads everything on each poll.
    String[] preload = {"none", "none", "all"};
    ExecutorService pool = Executors.newFixedThreadPool(3);
    try {
      List<Future<ServerProcess>> started = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        String p = preload[i];
        started.add(pool.submit(() -> ServerProcess.builder()
            .jvmArgs("-Xmx384m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1")
            .flags("--model-store", store.uri(), "--preload", p, "--store-poll",
                POLL_MILLIS + "ms", "--memory-budget", "256m", "--training-threads", "1")
            .flags(store.serverFlags())
            .env(store.serverEnv())
            .start()));
      }
      for (int i = 0; i < 3; i++) {
        replicas[i] = started.get(i).get(90, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdown();
    }
  }

  // ---------------------------------------------------------------- 1. read your writes

  private void readYourWrites(RepoClient lb, NginxProcess nginx) {
    Random rnd = new Random(7);
    for (int m = 0; m < MODELS; m++) {
      String id = "lb-model-" + m;
      FitRequest fit = RepoClient.randomFit(rnd, id);
      assertEquals(id, lb.fit(fit).getModelId());
      ids.add(id);
      probes.put(id, probe(fit));
      // The very next calls go to the other replicas (round-robin), which have never seen
      // the model: each must load it from the store, not answer NOT_FOUND.
      for (int j = 0; j < 6; j++) {
        PredictResponse p = call("Predict(" + id + ") right after its Fit",
            () -> lb.stub().predict(probes.get(id)));
        PredictResponse first = predictions.putIfAbsent(id, p);
        if (first != null) {
          assertEquals(first, p, "Predict(" + id + ") differs between replicas");
        }
        RecommendResponse r = call("Recommend(" + id + ") right after its Fit",
            () -> lb.stub().recommend(recommend(fit)));
        RecommendResponse firstR = recommendations.putIfAbsent(id, r);
        if (firstR != null) {
          assertEquals(firstR, r, "Recommend(" + id + ") differs between replicas");
        }
      }
      factors.put(id, lb.fingerprint(id));
    }
    for (int round = 0; round < 5; round++) {
      for (String id : ids) {
        assertEquals(predictions.get(id), call("Predict(" + id + ")",
            () -> lb.stub().predict(probes.get(id))), "Predict(" + id + ") through nginx");
        assertEquals(factors.get(id), call("GetFactors(" + id + ")",
            () -> lb.fingerprint(id)), "GetFactors(" + id + ") through nginx");
      }
    }
    // Every replica served every model, so every replica holds it, the two with
    // --preload none only because a call missed it and loaded it from the store.
    for (ServerProcess r : replicas) {
      try (RepoClient direct = new RepoClient("127.0.0.1", r.port(), 20_000)) {
        Map<String, Boolean> resident = new TreeMap<>();
        for (ModelInfo info : direct.listModels().getModelsList()) {
          resident.put(info.getModelId(), info.getResident());
        }
        for (String id : ids) {
          assertEquals(Boolean.TRUE, resident.get(id), "model " + id + " resident on the"
              + " replica on port " + r.port() + " after calls through nginx: " + resident);
        }
      }
    }
    Map<String, Integer> byUpstream = new TreeMap<>();
    for (String line : nginx.accessLog()) {
      byUpstream.merge(answeredBy(line), 1, Integer::sum);
    }
    System.out.println("ReplicasBehindNginxIT: calls per replica so far " + byUpstream);
    for (ServerProcess r : replicas) {
      int n = byUpstream.getOrDefault("127.0.0.1:" + r.port(), 0);
      assertTrue(n > 0, "nginx sent nothing to 127.0.0.1:" + r.port() + ": " + byUpstream);
    }
  }

  /** A Predict of a few of the training matrix's own (user, item) pairs. */
  static PredictRequest probe(FitRequest fit) {
    PredictRequest.Builder b = PredictRequest.newBuilder().setModelId(fit.getModelId());
    Matrix m = fit.getMatrix();
    if (m.hasDense()) {
      for (int i = 0; i < 4; i++) {
        b.addUserIds(i % m.getDense().getRows()).addItemIds((i * 3) % m.getDense().getCols());
      }
      return b.build();
    }
    SparseMatrix s = m.getSparse();
    for (int n = 0; n < Math.min(4, s.getValuesCount()); n++) {
      if (s.getRowIdsCount() > 0) {
        b.addUserIds(s.getRowIds(n)).addItemIds(s.getColIds(n));
      } else {
        b.addUserKeys(s.getRowKeys(n)).addItemKeys(s.getColKeys(n));
      }
    }
    return b.build();
  }

  /** Top 3 for the matrix's first user. */
  static RecommendRequest recommend(FitRequest fit) {
    RecommendRequest.Builder b = RecommendRequest.newBuilder().setModelId(fit.getModelId())
        .setK(3);
    Matrix m = fit.getMatrix();
    if (m.hasDense()) {
      return b.setUserId(0).build();
    }
    SparseMatrix s = m.getSparse();
    return s.getRowIdsCount() > 0 ? b.setUserId(s.getRowIds(0)).build()
        : b.setUserKey(s.getRowKeys(0)).build();
  }

  /** The replica that answered an access log line: the last of $upstream_addr. */
  static String answeredBy(String accessLogLine) {
    // "... upstream=127.0.0.1:1, 127.0.0.1:2 upstream-status=502, 200" when one was retried
    int at = accessLogLine.indexOf(" upstream=");
    int end = accessLogLine.indexOf(" upstream-status=");
    if (at < 0 || end < at) {
      return "?";
    }
    String[] tried = accessLogLine.substring(at + 10, end).split(",\\s*");
    return tried[tried.length - 1].strip();
  }

  /** Calls nginx logged as answered (200) by {@code upstream} after {@code sinceMillis}. */
  private static long servedBy(NginxProcess nginx, String upstream, long sinceMillis) {
    return nginx.accessLog().stream()
        .filter(l -> answeredBy(l).equals(upstream) && l.contains(" 200 ")
            && (long) (Double.parseDouble(l.substring(0, l.indexOf(' '))) * 1000) > sinceMillis)
        .count();
  }

  private static int portOf(String hostPort) {
    try {
      return Integer.parseInt(hostPort.substring(hostPort.lastIndexOf(':') + 1));
    } catch (RuntimeException e) {
      return -1;
    }
  }

  private static <T> T call(String what, java.util.function.Supplier<T> rpc) {
    try {
      return rpc.get();
    } catch (StatusRuntimeException e) {
      throw new AssertionError(what + " through nginx failed: " + e.getStatus(), e);
    }
  }

  // ---------------------------------------------------------------- 2. aliases

  private void aliasSwitch(RepoClient lb) throws InterruptedException {
    String a = ids.get(0);
    String b = ids.get(1);
    assertEquals("", lb.setAlias("prod", a, "").getPreviousModelId());
    Thread.sleep(SETTLE_MILLIS);
    expectAlias(lb, "prod", a);
    assertEquals(a, lb.setAlias("prod", b, a).getPreviousModelId(), "CAS switch of prod");
    Thread.sleep(SETTLE_MILLIS);
    expectAlias(lb, "prod", b);
    for (ServerProcess r : replicas) {
      try (RepoClient direct = new RepoClient("127.0.0.1", r.port(), 20_000)) {
        assertEquals(Map.of("prod", b), direct.listAliases(), "aliases on port " + r.port());
      }
    }
  }

  /** Nine calls by the alias (three rounds of the three replicas) all reach {@code id}. */
  private void expectAlias(RepoClient lb, String alias, String id) {
    PredictRequest byAlias = probes.get(id).toBuilder().setModelId(alias).build();
    for (int j = 0; j < 9; j++) {
      assertEquals(id, call("GetModel(" + alias + ")", () -> lb.getModel(alias)).getModelId(),
          "GetModel(" + alias + ") through nginx, " + SETTLE_MILLIS + " ms after the switch");
      assertEquals(predictions.get(id), call("Predict(" + alias + ")",
          () -> lb.stub().predict(byAlias)), "Predict(" + alias + ") through nginx");
    }
  }

  // ---------------------------------------------------------------- 3. deletes

  private void deleteIsSeenEverywhere(RepoClient lb) throws InterruptedException {
    String doomed = "lb-doomed";
    FitRequest fit = RepoClient.randomFit(new Random(11), doomed);
    lb.fit(fit);
    PredictRequest p = probe(fit);
    for (int j = 0; j < 6; j++) {
      call("Predict(" + doomed + ")", () -> lb.stub().predict(p)); // now on every replica
    }
    lb.deleteModel(doomed);
    Thread.sleep(SETTLE_MILLIS);
    for (int j = 0; j < 9; j++) {
      try {
        lb.stub().predict(p);
        fail("deleted model " + doomed + " is still served through nginx " + SETTLE_MILLIS
            + " ms after its DeleteModel (call " + j + ")");
      } catch (StatusRuntimeException e) {
        assertEquals(Status.Code.NOT_FOUND, e.getStatus().getCode(), e.getStatus().toString());
      }
    }
    for (ServerProcess r : replicas) {
      try (RepoClient direct = new RepoClient("127.0.0.1", r.port(), 20_000)) {
        assertTrue(!direct.modelIds().contains(doomed), "port " + r.port() + " still lists "
            + doomed);
      }
    }
  }

  // ---------------------------------------------------------------- 4. a replica dies

  /** One call of the load: when it started and ended, and how it failed (null if it did not). */
  private record Outcome(long startNanos, long endNanos, Status status) { }

  private void killOneUnderLoad(RepoClient lb, NginxProcess nginx) throws Exception {
    List<Outcome> outcomes = Collections.synchronizedList(new ArrayList<>());
    AtomicBoolean stop = new AtomicBoolean();
    List<String> names = new ArrayList<>(ids);
    names.add("prod");
    List<Thread> threads = new ArrayList<>();
    for (int t = 0; t < LOAD_THREADS; t++) {
      int seed = t;
      Thread th = new Thread(() -> {
        Random r = new Random(seed);
        while (!stop.get()) {
          String name = names.get(r.nextInt(names.size()));
          String id = name.equals("prod") ? ids.get(1) : name;
          PredictRequest req = probes.get(id).toBuilder().setModelId(name).build();
          long s = System.nanoTime();
          Status status = null;
          try {
            PredictResponse got = lb.stub().predict(req);
            if (!got.equals(predictions.get(id))) {
              status = Status.DATA_LOSS.withDescription("wrong scores for " + name);
            }
          } catch (StatusRuntimeException e) {
            status = e.getStatus();
          }
          outcomes.add(new Outcome(s, System.nanoTime(), status));
        }
      }, "lb-load-" + t);
      th.start();
      threads.add(th);
    }
    Thread.sleep(1000);
    ServerProcess victim = replicas[1];
    long killAt = System.nanoTime();
    victim.kill();
    long killed = System.nanoTime();
    Thread.sleep(1000);
    long restartAt = System.nanoTime();
    long restartWall = System.currentTimeMillis();
    replicas[1] = victim.restart();
    long restarted = System.nanoTime();
    killedLogs.add(victim.logText());
    victim.close();
    // Past fail_timeout (counted in nginx's whole seconds), nginx tries the replica again
    // with a real call and finds it back: the load goes on until it has served a few.
    String back = "127.0.0.1:" + replicas[1].port();
    long until = killAt + TimeUnit.MILLISECONDS.toNanos(NGINX_FAIL_TIMEOUT_MILLIS + 4000);
    while (System.nanoTime() < until && servedBy(nginx, back, restartWall) < 20) {
      Thread.sleep(100);
    }
    stop.set(true);
    for (Thread th : threads) {
      th.join(30_000);
    }

    List<Outcome> all;
    synchronized (outcomes) {
      all = new ArrayList<>(outcomes);
    }
    List<String> failures = new ArrayList<>();
    int afterKill = 0;
    for (Outcome o : all) {
      if (o.endNanos() > killAt) {
        afterKill++;
      }
      if (o.status() != null) {
        failures.add(String.format(java.util.Locale.ROOT, "%s (started %+d ms, ended %+d ms"
            + " from the kill)", o.status(), TimeUnit.NANOSECONDS.toMillis(o.startNanos()
            - killAt), TimeUnit.NANOSECONDS.toMillis(o.endNanos() - killAt)));
      }
    }
    System.out.printf("ReplicasBehindNginxIT: %d Predicts through nginx, %d ending after the"
        + " SIGKILL; %d failed: %s; kill took %d ms, restart %d ms%n", all.size(), afterKill,
        failures.size(), failures, TimeUnit.NANOSECONDS.toMillis(killed - killAt),
        TimeUnit.NANOSECONDS.toMillis(restarted - restartAt));
    assertTrue(afterKill > 100, "too little load after the kill to tell: " + afterKill);
    // Each load thread has at most one call in flight at the kill; allow one more each for a
    // call nginx sent on a pooled connection to the dead replica before it saw it close.
    assertTrue(failures.size() <= 2 * LOAD_THREADS, "more calls failed than were in flight on"
        + " the killed replica: " + failures);
    for (Outcome o : all) {
      if (o.status() == null) {
        continue;
      }
      assertTrue(CUT_CODES.contains(o.status().getCode()), "a call failed with "
          + o.status() + ", not as a proxy reports a cut upstream");
      assertTrue(o.endNanos() >= killAt, "a call failed before the kill: " + o.status());
      assertTrue(o.startNanos() <= killed + TimeUnit.MILLISECONDS.toNanos(500),
          "a call started " + TimeUnit.NANOSECONDS.toMillis(o.startNanos() - killAt)
              + " ms after the kill failed (" + o.status() + "): nginx should have retried"
              + " it on another replica; all failures: " + failures);
    }
    // Per half second from the kill, which replicas nginx's calls ended on.
    long killWall = restartWall - TimeUnit.NANOSECONDS.toMillis(restartAt - killAt);
    Map<Long, Map<String, Integer>> timeline = new TreeMap<>();
    for (String l : nginx.accessLog()) {
      long ms = (long) (Double.parseDouble(l.substring(0, l.indexOf(' '))) * 1000) - killWall;
      if (ms >= -500) {
        String who = answeredBy(l);
        int port = replicas[0].port() == portOf(who) ? 0 : replicas[1].port() == portOf(who) ? 1
            : replicas[2].port() == portOf(who) ? 2 : -1;
        timeline.computeIfAbsent(Math.floorDiv(ms, 500) * 500, k -> new TreeMap<>())
            .merge("r" + port + (l.contains(" 200 ") ? "" : "!"), 1, Integer::sum);
      }
    }
    System.out.println("ReplicasBehindNginxIT: calls by replica per 500 ms from the kill (r1 was"
        + " killed; ! = not 200): " + timeline);
    // nginx sends calls to the restarted replica again.
    long servedAgain = servedBy(nginx, back, restartWall);
    System.out.println("ReplicasBehindNginxIT: calls nginx sent to the restarted replica: "
        + servedAgain);
    assertTrue(servedAgain > 0, "nginx sent no call to the restarted replica " + back
        + " within " + (NGINX_FAIL_TIMEOUT_MILLIS + 4000) + " ms of the kill");

    // Directly: the restarted replica serves every model and the alias from the store.
    try (RepoClient direct = new RepoClient("127.0.0.1", replicas[1].port(), 20_000)) {
      for (String id : ids) {
        assertEquals(predictions.get(id), call("direct Predict(" + id + ")",
            () -> direct.stub().predict(probes.get(id))), "restarted replica, " + id);
        assertEquals(factors.get(id), direct.fingerprint(id), "restarted replica, " + id);
      }
      assertEquals(ids.get(1), direct.getModel("prod").getModelId());
    }
  }

  /** No replica logged a damaged snapshot or an unexpected failure; warnings are printed. */
  private void checkLogs() {
    Map<String, Integer> warnings = new TreeMap<>();
    List<String> logs = new ArrayList<>(killedLogs);
    for (ServerProcess r : replicas) {
      try (RepoClient direct = new RepoClient("127.0.0.1", r.port(), 20_000)) {
        ListModelsResponse list = direct.listModels();
        assertEquals(0, list.getDamagedModelsCount(), list.getDamagedModelsList().toString());
        assertEquals(new TreeSet<>(ids), new TreeSet<>(direct.modelIds()), "port " + r.port());
      }
      logs.add(r.logText());
    }
    for (String log : logs) {
      String[] lines = log.split("\\R");
      for (int i = 0; i < lines.length; i++) {
        String line = lines[i];
        String next = i + 1 < lines.length ? lines[i + 1] : "";
        assertTrue(!line.contains(" SEVERE ") && !line.contains("unexpected failure"),
            "a replica logged: " + line + "\n" + next);
        if (line.contains(" WARNING ")) {
          String what = line.replaceFirst("^\\S+ WARNING ", "")
              + (next.matches("^\\d{4}-.*") ? "" : " / " + next.strip());
          warnings.merge(what, 1, Integer::sum);
        }
      }
    }
    System.out.println("ReplicasBehindNginxIT: replica warnings: " + warnings);
  }
}
