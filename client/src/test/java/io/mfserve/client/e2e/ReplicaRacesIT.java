package io.mfserve.client.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.mfserve.proto.v1.DenseMatrix;
import io.mfserve.proto.v1.FitRequest;
import io.mfserve.proto.v1.Matrix;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Two replicas on one store, each asked to do something that conflicts with what the other
 * just did, before a poll has told it. The precondition checks of DeleteModel and Fit read the
 * replica's cached alias table, and a snapshot write replaces whatever is stored, so today
 * these conflicts are not caught: each test is disabled with the reason, as an executable
 * repro for the fix, and passes once the server re-reads the alias table where it checks one
 * and writes a new model's snapshot only if none exists (create-if-absent).
 *
 * <p>Run them anyway with
 * {@code -Djunit.jupiter.conditions.deactivate=org.junit.*DisabledCondition}.
 */
class ReplicaRacesIT {
  /** Long enough that no poll falls between the two conflicting calls. */
  private static final long POLL_MILLIS = 2_000;

  static java.util.stream.Stream<Named<ModelStores.Kind>> stores() {
    return ModelStores.kinds();
  }

  private record Pair(ModelStoreFixture store, ServerProcess a, ServerProcess b, RepoClient ca,
      RepoClient cb) implements AutoCloseable {
    static Pair start(ModelStores.Kind kind) throws Exception {
      ModelStoreFixture store = kind.create();
      ServerProcess a = replica(store);
      ServerProcess b = replica(store);
      return new Pair(store, a, b, new RepoClient("127.0.0.1", a.port(), 60_000),
          new RepoClient("127.0.0.1", b.port(), 60_000));
    }

    private static ServerProcess replica(ModelStoreFixture store) throws Exception {
      return ServerProcess.builder().jvmArgs("-Xmx512m", "-XX:+UseSerialGC")
          .flags("--model-store", store.uri(), "--store-poll", POLL_MILLIS + "ms")
          .flags(store.serverFlags()).env(store.serverEnv()).start();
    }

    @Override
    public void close() throws java.io.IOException {
      ca.close();
      cb.close();
      a.close();
      b.close();
      store.close();
    }
  }

  @Disabled("server bug: ModelStore.delete checks aliasesOf(id) in the replica's cached alias"
      + " table; B deletes m1 although A has just pointed prod at it, and after B's delete"
      + " reaches A's poll, prod answers NOT_FOUND on every replica")
  @ParameterizedTest(name = "{0}")
  @MethodSource("stores")
  void deleteModel_aliasJustSetOnAnotherReplica_isRefusedAndTheAliasKeepsWorking(
      ModelStores.Kind kind) throws Exception {
    try (Pair p = Pair.start(kind)) {
      p.ca().fit(RepoClient.randomFit(new Random(3), "m1"));
      p.ca().setAlias("prod", "m1", "");
      StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
          () -> p.cb().deleteModel("m1"), "DeleteModel of a model an alias points at");
      assertEquals(Status.Code.FAILED_PRECONDITION, e.getStatus().getCode());
      Thread.sleep(POLL_MILLIS + 500);
      assertEquals("m1", p.ca().getModel("prod").getModelId());
      assertEquals("m1", p.cb().getModel("prod").getModelId());
    }
  }

  @Disabled("server bug: ModelStore.claim checks the repository before a fit and"
      + " SnapshotRepository.save overwrites after it, so two replicas fitting one model_id"
      + " with different requests both return OK; each then serves its own model for good"
      + " (ModelStore.poll compares two listings, not the version each replica holds)")
  @ParameterizedTest(name = "{0}")
  @MethodSource("stores")
  void fit_sameIdDifferentRequestsOnTwoReplicasAtOnce_oneIsAlreadyExists(ModelStores.Kind kind)
      throws Exception {
    try (Pair p = Pair.start(kind)) {
      CompletableFuture<Status.Code> onA = CompletableFuture.supplyAsync(
          () -> code(() -> p.ca().fit(slowFit("dup", 1))));
      CompletableFuture<Status.Code> onB = CompletableFuture.supplyAsync(
          () -> code(() -> p.cb().fit(slowFit("dup", 2))));
      List<Status.Code> codes = List.of(onA.get(), onB.get());
      assertEquals(1, codes.stream().filter(c -> c == Status.Code.OK).count(), codes.toString());
      assertEquals(1, codes.stream().filter(c -> c == Status.Code.ALREADY_EXISTS).count(),
          codes.toString());
      Thread.sleep(POLL_MILLIS + 500);
      assertEquals(p.ca().fingerprint("dup"), p.cb().fingerprint("dup"),
          "the replicas serve different models under one id");
    }
  }

  @Disabled("server bug: ModelStore.claim checks the cached alias table; B fits a model whose"
      + " id A has just made an alias, and that model is then shadowed by the alias on every"
      + " replica (and cannot be deleted by its id while the alias exists)")
  @ParameterizedTest(name = "{0}")
  @MethodSource("stores")
  void fit_modelIdJustMadeAnAliasOnAnotherReplica_isAlreadyExists(ModelStores.Kind kind)
      throws Exception {
    try (Pair p = Pair.start(kind)) {
      p.ca().fit(RepoClient.randomFit(new Random(3), "m1"));
      p.ca().setAlias("staging", "m1", "");
      assertEquals(Status.Code.ALREADY_EXISTS,
          code(() -> p.cb().fit(RepoClient.randomFit(new Random(4), "staging"))));
    }
  }

  private static Status.Code code(Runnable call) {
    try {
      call.run();
      return Status.Code.OK;
    } catch (StatusRuntimeException e) {
      return e.getStatus().getCode();
    }
  }

  /** An ALS fit of about a second on this machine, so that two overlap. */
  private static FitRequest slowFit(String id, long seed) {
    Random r = new Random(1);
    DenseMatrix.Builder d = DenseMatrix.newBuilder().setRows(300).setCols(300);
    for (int i = 0; i < 300 * 300; i++) {
      d.addValues(r.nextInt(6));
    }
    return FitRequest.newBuilder().setModelId(id).setSolver("als").setNumFactors(20)
        .setMaxIterations(40).setSeed(seed).setMatrix(Matrix.newBuilder().setDense(d)).build();
  }
}
