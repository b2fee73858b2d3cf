package io.mfserve.client.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.mfserve.proto.v1.DamagedModel;
import io.mfserve.proto.v1.FitRequest;
import io.mfserve.proto.v1.ListModelsResponse;
import io.mfserve.proto.v1.ModelInfo;
import io.mfserve.proto.v1.PredictRequest;
import io.mfserve.proto.v1.SetAliasResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Crash consistency of the model repository: the real server jar on a store, a client thread
 * running fits, deletes and alias switches (plain and compare-and-set), and a SIGKILL at a
 * seeded random moment, {@value #DEFAULT_ROUNDS} times. After every restart on the same store:
 *
 * <ul>
 *   <li>every acknowledged model (its Fit returned, no Delete of it returned) is listed and
 *       serves factors bit-identical to those read right after its Fit returned;
 *   <li>every acknowledged alias points where its last acknowledged SetAlias put it;
 *   <li>every acknowledged delete stays deleted;
 *   <li>no snapshot is damaged (writes are atomic), no temporary object is left over;
 *   <li>the one operation in flight at the kill took effect entirely or not at all (a fit
 *       in flight is retried as a client would, and must then succeed; if it had landed,
 *       the retry must return the stored model).
 * </ul>
 *
 * <p>{@code -Dmfserve.crash.seed=N} replays a run's choices (the seed is printed; thread timing
 * still varies); {@code -Dmfserve.crash.rounds=N} changes the number of kills.
 *
 * <p>SIGKILL ends the process, not the machine: the page cache survives, so this checks that
 * every write is atomic and ordered before its acknowledgement, not that fsync makes it
 * durable through a power cut (FileObjectStore fsyncs the file and the directory for that).
 */
class RepositoryCrashIT {
  static final int DEFAULT_ROUNDS = 20;
  private static final int ROUNDS = Integer.getInteger("mfserve.crash.rounds", DEFAULT_ROUNDS);
  private static final long SEED = Long.getLong("mfserve.crash.seed",
      System.nanoTime() & 0xffffff);
  private static final List<String> ALIASES = List.of("prod", "staging", "Canary.v2");
  private static final int MAX_MODELS = 60;

  /** One operation of the client thread. */
  private sealed interface Op {
    String kind();
  }

  private record Fit(FitRequest request) implements Op {
    public String kind() {
      return "Fit";
    }

    String id() {
      return request.getModelId();
    }
  }

  private record Delete(String id) implements Op {
    public String kind() {
      return "DeleteModel";
    }
  }

  /** A SetAlias that must succeed; {@code expected} null for an unconditional switch. */
  private record SetAlias(String alias, String target, String expected, String before)
      implements Op {
    public String kind() {
      return expected == null ? "SetAlias" : "SetAlias(CAS)";
    }
  }

  private record DeleteAlias(String alias, String before) implements Op {
    public String kind() {
      return "DeleteAlias(CAS)";
    }
  }

  /** A request the server must refuse without changing anything. */
  private record Refused(String what, Status.Code code, Runnable call) implements Op {
    public String kind() {
      return "refused " + what;
    }
  }

  /** A read: factors by id or alias, compared with the recorded ones. */
  private record Read(String name, String id) implements Op {
    public String kind() {
      return "GetFactors";
    }
  }

  // The acknowledged state: what the server has confirmed.
  private final Map<String, RepoClient.Fingerprint> models = new TreeMap<>();
  /** Acknowledged fits whose factors could not be read before the kill. */
  private final Set<String> unrecorded = new TreeSet<>();
  private final Set<String> deleted = new TreeSet<>();
  private final Map<String, String> aliases = new TreeMap<>();
  private final Map<String, Integer> inFlightKinds = new TreeMap<>();
  private final List<String> outcomes = new ArrayList<>();
  private int modelCounter;

  private volatile boolean killing;
  private RepoClient client;

  // What the run measured, printed at the end.
  private int lastRoundOps;
  private long restartNanos;
  private long verifyNanos;
  private final Map<String, Integer> warnings = new TreeMap<>();

  static java.util.stream.Stream<org.junit.jupiter.api.Named<ModelStores.Kind>> stores() {
    return ModelStores.kinds();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("stores")
  void sigkillAtRandomMoments_acknowledgedWritesSurviveAndNothingIsDamaged(
      ModelStores.Kind kind) throws Exception {
    System.out.println("RepositoryCrashIT: seed " + SEED + " (-Dmfserve.crash.seed=" + SEED
        + " to replay), " + ROUNDS + " rounds");
    Random rnd = new Random(SEED);
    long start = System.nanoTime();
    int totalOps = 0;
    try (ModelStoreFixture store = kind.create()) {
      ServerProcess server = ServerProcess.builder()
          .jvmArgs("-Xmx384m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1")
          .flags("--model-store", store.uri(), "--preload", "all", "--memory-budget", "256m",
              "--store-poll", "200ms", "--training-threads", "1", "--max-concurrent-fits", "1",
              // 40 restarts: the JIT warm-up before SERVING would add seconds to each, and
              // durability does not depend on it.
              "--no-warmup")
          .flags(store.serverFlags())
          .env(store.serverEnv())
          .start();
      ServerProcess previous = null;
      try {
        for (int round = 1; round <= ROUNDS; round++) {
          client = new RepoClient("127.0.0.1", server.port(), 30_000);
          try {
            Op cut = runAndKill(round, rnd, server);
            totalOps += lastRoundOps;
            if (previous != null) {
              previous.close();
            }
            previous = server;
            long t0 = System.nanoTime();
            server = server.restart();
            restartNanos += System.nanoTime() - t0;
            client.close();
            client = new RepoClient("127.0.0.1", server.port(), 30_000);
            String context = "round " + round + " (seed " + SEED + "), op cut by the kill: "
                + describe(cut) + "\n--- log before the kill:\n" + previous.logTail(4000)
                + "\n--- log after the restart:\n" + server.logTail(4000);
            long t1 = System.nanoTime();
            reconcile(cut, context);
            verify(store, context);
            verifyNanos += System.nanoTime() - t1;
            noteLog(previous.logText(), context);
          } finally {
            client.close();
          }
        }
        noteLog(server.logText(), "the server after the last restart");
      } finally {
        server.close();
        if (previous != null) {
          previous.close();
        }
      }
    }
    System.out.printf("RepositoryCrashIT: %d rounds, %d operations, %.1f s; at the end %d"
        + " models, %d deleted, %d aliases; ops cut by the kill: %s%n", ROUNDS, totalOps,
        (System.nanoTime() - start) / 1e9, models.size(), deleted.size(), aliases.size(),
        inFlightKinds);
    System.out.printf("RepositoryCrashIT: restarts took %.1f s, checks %.1f s in all%n",
        restartNanos / 1e9, verifyNanos / 1e9);
    System.out.println("RepositoryCrashIT: outcomes of cut ops: " + outcomes);
    System.out.println("RepositoryCrashIT: server warnings (first line, count): " + warnings);
  }

  /**
   * Reads a killed server's log: SEVERE (a damaged snapshot) or an unexpected failure (an
   * INTERNAL answer) fails the test; warnings are counted and printed at the end.
   */
  private void noteLog(String log, String context) {
    String[] lines = log.split("\\R");
    for (int i = 0; i < lines.length; i++) {
      String line = lines[i];
      if (line.contains(" SEVERE ") || line.contains("unexpected failure")) {
        fail("the server logged: " + line + (i + 1 < lines.length ? "\n" + lines[i + 1] : "")
            + "; " + context);
      }
      if (line.contains(" WARNING ")) {
        String what = line.replaceFirst("^\\S+ WARNING ", "")
            .replaceAll("crash-r\\S+|Crash\\.R\\S+|\\.tmp-[0-9a-f-]+", "…");
        if (i + 1 < lines.length && !lines[i + 1].matches("^\\d{4}-.*")) {
          what += " / " + lines[i + 1].strip();
        }
        warnings.merge(what.length() > 240 ? what.substring(0, 240) : what, 1, Integer::sum);
      }
    }
  }

  /**
   * Runs operations from a client thread and kills the server with SIGKILL after a seeded
   * random delay; returns the operation that was in flight (null if none).
   */
  private Op runAndKill(int round, Random rnd, ServerProcess server) throws Exception {
    long opSeed = rnd.nextLong();
    long delayMillis = 150 + rnd.nextInt(1200);
    AtomicReference<Op> inFlight = new AtomicReference<>();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    int[] ops = new int[1];
    killing = false;
    Thread worker = new Thread(() -> {
      Random r = new Random(opSeed);
      try {
        while (!killing) {
          Op op = next(r, round);
          inFlight.set(op);
          try {
            apply(op);
          } catch (StatusRuntimeException e) {
            if (killing && cutByKill(e.getStatus().getCode())) {
              return; // in flight at the kill: either way
            }
            throw new AssertionError(describe(op) + " failed: " + e.getStatus(), e);
          }
          inFlight.set(null);
          ops[0]++;
        }
      } catch (Throwable t) {
        failure.set(t);
      }
    }, "crash-ops-" + round);
    worker.start();
    Thread.sleep(delayMillis);
    killing = true;
    server.kill();
    worker.join(60_000);
    if (worker.isAlive()) {
      fail("round " + round + ": the client thread is still blocked 60 s after the kill");
    }
    lastRoundOps = ops[0];
    if (failure.get() != null) {
      throw new AssertionError("round " + round + " (seed " + SEED + "): "
          + failure.get().getMessage() + "\n--- server log:\n" + server.logTail(6000),
          failure.get());
    }
    Op cut = inFlight.get();
    inFlightKinds.merge(cut == null ? "none" : cut.kind(), 1, Integer::sum);
    return cut;
  }

  private static boolean cutByKill(Status.Code code) {
    return code == Status.Code.UNAVAILABLE || code == Status.Code.INTERNAL
        || code == Status.Code.UNKNOWN || code == Status.Code.CANCELLED;
  }

  // ---------------------------------------------------------------- operations

  /** Chooses the next operation from the acknowledged state. */
  private Op next(Random r, int round) {
    List<String> ids = new ArrayList<>(models.keySet());
    int p = r.nextInt(100);
    if (ids.size() < 2 || (p < 45 && ids.size() < MAX_MODELS)) {
      // Ids are never reused, so "deleted stays deleted" is unambiguous; some have capitals
      // and dots, which the repository escapes in object names.
      String id = (r.nextInt(4) == 0 ? "Crash.R" : "crash-r") + round + "-" + (++modelCounter)
          + "-" + Integer.toHexString(r.nextInt(1 << 16));
      return new Fit(RepoClient.randomFit(r, id));
    }
    String any = ids.get(r.nextInt(ids.size()));
    String alias = ALIASES.get(r.nextInt(ALIASES.size()));
    String current = aliases.get(alias);
    if (p < 65) {
      List<String> free = new ArrayList<>(ids);
      free.removeAll(aliases.values());
      if (!free.isEmpty()) {
        return new Delete(free.get(r.nextInt(free.size())));
      }
    }
    if (p < 85) {
      String expected = r.nextBoolean() ? null : (current == null ? "" : current);
      return new SetAlias(alias, any, expected, current);
    }
    if (p < 88 && current != null) {
      return new DeleteAlias(alias, current);
    }
    if (p < 91 && current != null) {
      String wrong = ids.stream().filter(id -> !id.equals(current)).findFirst().orElse("");
      return new Refused("SetAlias(" + alias + ", expected " + wrong + ")",
          Status.Code.FAILED_PRECONDITION, () -> client.setAlias(alias, any, wrong));
    }
    if (p < 94 && current != null) {
      return new Refused("DeleteModel(" + current + ") pointed at by " + alias,
          Status.Code.FAILED_PRECONDITION, () -> client.deleteModel(current));
    }
    if (p < 96 && current != null) {
      return new Refused("SetAlias(" + alias + ", create-only)", Status.Code.FAILED_PRECONDITION,
          () -> client.setAlias(alias, any, ""));
    }
    if (current != null && r.nextBoolean()) {
      return new Read(alias, current);
    }
    return new Read(any, any);
  }

  /** Sends {@code op} and, when the server acknowledges it, records its effect. */
  private void apply(Op op) {
    if (op instanceof Fit f) {
      ModelInfo info = client.fit(f.request());
      assertEquals(f.id(), info.getModelId());
      synchronized (this) {
        models.put(f.id(), null);
        unrecorded.add(f.id());
      }
      // Recorded right after the fit returned; if the kill cuts this, it is read after the
      // restart instead (and then cannot be compared with the pre-crash bits).
      RepoClient.Fingerprint fp = client.fingerprint(f.id());
      synchronized (this) {
        models.put(f.id(), fp);
        unrecorded.remove(f.id());
      }
    } else if (op instanceof Delete d) {
      client.deleteModel(d.id());
      synchronized (this) {
        models.remove(d.id());
        deleted.add(d.id());
      }
    } else if (op instanceof SetAlias s) {
      SetAliasResponse r = client.setAlias(s.alias(), s.target(), s.expected());
      assertEquals(s.before() == null ? "" : s.before(), r.getPreviousModelId(),
          "previous_model_id of " + describe(s));
      synchronized (this) {
        aliases.put(s.alias(), s.target());
      }
    } else if (op instanceof DeleteAlias d) {
      assertEquals(d.before(), client.deleteAlias(d.alias(), d.before()));
      synchronized (this) {
        aliases.remove(d.alias());
      }
    } else if (op instanceof Refused x) {
      try {
        x.call().run();
      } catch (StatusRuntimeException e) {
        if (e.getStatus().getCode() == x.code()) {
          return;
        }
        throw e;
      }
      throw new AssertionError(x.what() + " succeeded; expected " + x.code());
    } else if (op instanceof Read rd) {
      RepoClient.Fingerprint want;
      synchronized (this) {
        want = models.get(rd.id());
      }
      RepoClient.Fingerprint got = client.fingerprint(rd.name());
      if (want != null) {
        assertEquals(want, got, "GetFactors(" + rd.name() + ") before any crash of it");
      }
    }
  }

  private static String describe(Op op) {
    if (op == null) {
      return "none";
    }
    if (op instanceof Fit f) {
      return "Fit(" + f.id() + ", " + f.request().getSolver() + ")";
    }
    return op.toString();
  }

  // ---------------------------------------------------------------- after the restart

  /** Settles the operation cut by the kill: it happened entirely or not at all. */
  private void reconcile(Op cut, String context) {
    for (String id : List.copyOf(unrecorded)) {
      if (!(cut instanceof Fit f && f.id().equals(id))) {
        // Acknowledged, but the kill came before its factors were read: read them now.
        models.put(id, client.fingerprint(id));
        unrecorded.remove(id);
        outcomes.add("factors of acknowledged " + id + " read after the restart");
      }
    }
    if (cut instanceof Fit f) {
      boolean acked = models.containsKey(f.id());
      RepoClient.Fingerprint landed = client.exists(f.id()) ? client.fingerprint(f.id()) : null;
      if (acked && landed == null) {
        fail("acknowledged Fit(" + f.id() + ") is gone after the restart; " + context);
      }
      // A client whose Fit was cut retries the identical request: it must succeed, and
      // return the stored model if the first attempt landed.
      ModelInfo info = client.fit(f.request());
      RepoClient.Fingerprint now = client.fingerprint(f.id());
      if (landed != null) {
        assertEquals(landed, now, "retried Fit(" + f.id() + ") replaced the stored model; "
            + context);
      }
      RepoClient.Fingerprint before = models.get(f.id());
      if (before != null) {
        assertEquals(before, now, "factors of " + f.id() + " changed; " + context);
      }
      assertEquals(f.id(), info.getModelId());
      models.put(f.id(), now);
      unrecorded.remove(f.id());
      outcomes.add("Fit " + (acked ? "acknowledged" : landed != null ? "landed" : "lost"));
    } else if (cut instanceof Delete d) {
      if (client.exists(d.id())) {
        outcomes.add("Delete lost");
      } else {
        models.remove(d.id());
        deleted.add(d.id());
        outcomes.add("Delete landed");
      }
    } else if (cut instanceof SetAlias s) {
      String now = client.getAlias(s.alias());
      String was = aliases.get(s.alias());
      assertTrue(java.util.Objects.equals(now, was) || s.target().equals(now),
          "alias " + s.alias() + " points at " + now + "; it pointed at " + was + " and the"
              + " SetAlias cut by the kill would move it to " + s.target() + "; " + context);
      if (now == null) {
        aliases.remove(s.alias());
      } else {
        aliases.put(s.alias(), now);
      }
      outcomes.add(s.kind() + (s.target().equals(now) && !s.target().equals(was) ? " landed"
          : " lost"));
    } else if (cut instanceof DeleteAlias d) {
      String now = client.getAlias(d.alias());
      assertTrue(now == null || now.equals(d.before()), "alias " + d.alias() + " points at "
          + now + " after a cut DeleteAlias of it (was " + d.before() + "); " + context);
      if (now == null) {
        aliases.remove(d.alias());
      }
      outcomes.add("DeleteAlias " + (now == null ? "landed" : "lost"));
    }
  }

  /** Checks the whole acknowledged state against the restarted server and the raw store. */
  private void verify(ModelStoreFixture store, String context) throws Exception {
    ListModelsResponse list = client.listModels();
    List<String> damaged = new ArrayList<>();
    for (DamagedModel d : list.getDamagedModelsList()) {
      damaged.add(d.getModelId() + ": " + d.getReason());
    }
    assertEquals(List.of(), damaged, "damaged snapshots after a SIGKILL; " + context);
    Set<String> listed = new TreeSet<>();
    for (ModelInfo m : list.getModelsList()) {
      listed.add(m.getModelId());
    }
    assertEquals(models.keySet(), listed, "ListModels after the restart; " + context);
    for (Map.Entry<String, RepoClient.Fingerprint> e : models.entrySet()) {
      RepoClient.Fingerprint got;
      try {
        got = client.fingerprint(e.getKey());
      } catch (StatusRuntimeException x) {
        throw new AssertionError("acknowledged model " + e.getKey() + ": GetFactors failed: "
            + x.getStatus() + "; " + context, x);
      }
      assertEquals(e.getValue(), got, "factors of acknowledged model " + e.getKey()
          + " after the restart; " + context);
    }
    assertEquals(aliases, client.listAliases(), "aliases after the restart; " + context);
    for (Map.Entry<String, String> a : aliases.entrySet()) {
      // Served by alias: the same bits as by id.
      assertEquals(models.get(a.getValue()), client.fingerprint(a.getKey()),
          "GetFactors by alias " + a.getKey() + "; " + context);
    }
    for (String id : deleted) {
      try {
        client.stub().predict(PredictRequest.newBuilder().setModelId(id).addUserIds(0)
            .addItemIds(0).build());
        fail("deleted model " + id + " is served again; " + context);
      } catch (StatusRuntimeException e) {
        assertEquals(Status.Code.NOT_FOUND, e.getStatus().getCode(), "Predict on deleted "
            + id + ": " + e.getStatus() + "; " + context);
      }
    }
    // Under the server: one snapshot per acknowledged model, nothing half-written left.
    Set<String> snapshots = new TreeSet<>();
    List<String> temporary = new ArrayList<>();
    for (String name : store.objectNames()) {
      String base = name.substring(name.lastIndexOf('/') + 1);
      if (base.startsWith(".tmp-")) {
        temporary.add(name);
      } else if (name.startsWith("models/") && name.endsWith(".mfsnap")) {
        snapshots.add(name);
      }
    }
    assertEquals(List.of(), temporary, "temporary objects left after the restart; " + context);
    Set<String> expected = new TreeSet<>();
    models.keySet().forEach(id -> expected.add("models/" + storageName(id) + ".mfsnap"));
    assertEquals(expected, snapshots, "snapshots in the store; " + context);
  }

  /**
   * The object name the repository gives an id, as StorageNames documents it: a-z, 0-9, '_'
   * and '-' as they are, every other byte as '=' and two hex digits (ids here are short).
   */
  static String storageName(String id) {
    StringBuilder b = new StringBuilder();
    for (byte x : id.getBytes(java.nio.charset.StandardCharsets.UTF_8)) {
      char c = (char) (x & 0xff);
      if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-') {
        b.append(c);
      } else {
        b.append('=').append(String.format(java.util.Locale.ROOT, "%02x", x & 0xff));
      }
    }
    return b.toString();
  }
}
