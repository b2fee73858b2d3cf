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
import org.junit.jupiter.api.Named;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Two replicas on one store, each asked to do something that conflicts with what the other
 * just did, before a poll has told it. DeleteModel and Fit re-read the alias table where they
 * check one, and a new model's snapshot is created only if none of its id exists
 * (create-if-absent: a hard link on a file store, If-None-Match on S3), so each conflict is
 * caught by the replica that comes second.
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
