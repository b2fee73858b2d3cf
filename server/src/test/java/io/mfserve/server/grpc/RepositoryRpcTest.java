package io.mfserve.server.grpc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.mfserve.proto.v1.DeleteAliasRequest;
import io.mfserve.proto.v1.DeleteModelRequest;
import io.mfserve.proto.v1.DenseMatrix;
import io.mfserve.proto.v1.ExportModelRequest;
import io.mfserve.proto.v1.ExportModelResponse;
import io.mfserve.proto.v1.FitRequest;
import io.mfserve.proto.v1.GetAliasRequest;
import io.mfserve.proto.v1.GetFactorsRequest;
import io.mfserve.proto.v1.GetFactorsResponse;
import io.mfserve.proto.v1.GetModelRequest;
import io.mfserve.proto.v1.ImportFactorsHeader;
import io.mfserve.proto.v1.ImportFactorsRequest;
import io.mfserve.proto.v1.ImportFactorsResponse;
import io.mfserve.proto.v1.ImportModelRequest;
import io.mfserve.proto.v1.ImportModelResponse;
import io.mfserve.proto.v1.ListAliasesRequest;
import io.mfserve.proto.v1.ListModelsRequest;
import io.mfserve.proto.v1.ListModelsResponse;
import io.mfserve.proto.v1.MatrixFactorizationGrpc;
import io.mfserve.proto.v1.ModelInfo;
import io.mfserve.proto.v1.PredictRequest;
import io.mfserve.proto.v1.RecommendRequest;
import io.mfserve.proto.v1.SetAliasRequest;
import io.mfserve.server.ServerConfig;
import io.mfserve.server.model.store.ModelStore;
import io.mfserve.server.repository.RepositoryConfig;
import io.mfserve.server.testing.InProcessMfServer;
import io.mfserve.server.testing.Requests;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The model repository through the service: replicas sharing a file store, aliases, transfer.
 * {@link S3RepositoryRpcTest} runs every test again over an S3-compatible server.
 */
class RepositoryRpcTest {
  @RegisterExtension
  final InProcessMfServer servers = new InProcessMfServer();

  @TempDir
  Path dir;

  /** Where the replicas' repository is: a directory here, a bucket in the S3 variant. */
  RepositoryConfig repository() {
    return RepositoryConfig.at(dir.toUri().toString());
  }

  private RepositoryConfig store(ModelStore.Preload preload) {
    return repository().withPreload(preload).withPoll(Duration.ofMillis(100));
  }

  private MatrixFactorizationGrpc.MatrixFactorizationBlockingStub replica(
      ModelStore.Preload preload) {
    return servers.start(InProcessMfServer.testConfig(), null, store(preload));
  }

  private static FitRequest fit(String id, long seed) {
    return Requests.fit("als", 3, Requests.sparseRatings(40, 30, 0.3, seed)).setModelId(id)
        .build();
  }

  private static byte[] factorBytes(MatrixFactorizationGrpc.MatrixFactorizationBlockingStub s,
      String id) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    Iterator<GetFactorsResponse> it = s.getFactors(GetFactorsRequest.newBuilder()
        .setModelId(id).build());
    while (it.hasNext()) {
      GetFactorsResponse r = it.next().toBuilder().clearModel().build();
      out.writeBytes(r.toByteArray());
    }
    return out.toByteArray();
  }

  @Test
  void fitOnOneReplica_isServedByAnother_fromTheNextRequest() {
    var a = replica(ModelStore.Preload.NONE);
    var b = replica(ModelStore.Preload.NONE);
    a.fit(fit("m1", 1));
    assertEquals(0.0, 0.0);
    float fromA = a.predict(PredictRequest.newBuilder().setModelId("m1").addUserIds(1021)
        .addItemIds(62).build()).getScores(0);
    float fromB = b.predict(PredictRequest.newBuilder().setModelId("m1").addUserIds(1021)
        .addItemIds(62).build()).getScores(0);
    assertEquals(fromA, fromB);
    assertArrayEquals(factorBytes(a, "m1"), factorBytes(b, "m1"));
    assertTrue(b.getModel(GetModelRequest.newBuilder().setModelId("m1").build()).getModel()
        .getResident());
  }

  @Test
  void tunedFit_isServedByAnotherReplica_withItsTrials() {
    var a = replica(ModelStore.Preload.NONE);
    var b = replica(ModelStore.Preload.NONE);
    FitRequest tuned = fit("tuned", 2).toBuilder().setTune(io.mfserve.proto.v1.TuneSpec
        .newBuilder().setMaxFits(5).addRanges(io.mfserve.proto.v1.TuneRange.newBuilder()
            .setName("regularization").setMin(0.1).setMax(10).setLogScale(true))).build();
    ModelInfo fitted = a.fit(tuned).getModel();
    assertEquals(5, fitted.getTuneTrialsCount());
    ModelInfo loaded = b.getModel(GetModelRequest.newBuilder().setModelId("tuned").build())
        .getModel();
    assertEquals(fitted.getTuneTrialsList(), loaded.getTuneTrialsList());
    assertEquals(fitted.getTuneMetric(), loaded.getTuneMetric());
  }

  @Test
  void streamingCalls_onAModelNotYetLoaded_loadItAndStream() {
    var a = replica(ModelStore.Preload.NONE);
    // A stream that never started would hang the test without a deadline.
    var b = replica(ModelStore.Preload.NONE).withDeadlineAfter(30, TimeUnit.SECONDS);
    a.fit(fit("s1", 1));
    a.fit(fit("s2", 2));
    assertArrayEquals(factorBytes(a, "s1"), factorBytes(b, "s1"));
    Iterator<io.mfserve.proto.v1.RecommendBatchResponse> batch = b.recommendBatch(
        io.mfserve.proto.v1.RecommendBatchRequest.newBuilder().setModelId("s2")
            .addUserIds(1000).addUserIds(1007).setK(2).build());
    int users = 0;
    while (batch.hasNext()) {
      assertEquals(2, batch.next().getItemsCount());
      users++;
    }
    assertEquals(2, users);
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
        () -> b.getFactors(GetFactorsRequest.newBuilder().setModelId("none").build()).next());
    assertEquals(Status.Code.NOT_FOUND, e.getStatus().getCode());
  }

  @Test
  void restart_preloadAll_servesEveryModelBitForBit() throws Exception {
    var a = replica(ModelStore.Preload.ALL);
    a.fit(fit("x", 1));
    a.fit(FitRequest.newBuilder(fit("y", 2)).setSolver("sgd").build());
    byte[] x = factorBytes(a, "x");
    byte[] y = factorBytes(a, "y");
    servers.afterEach(null);
    var restarted = replica(ModelStore.Preload.ALL);
    ListModelsResponse list = restarted.listModels(ListModelsRequest.getDefaultInstance());
    assertEquals(List.of("x", "y"), list.getModelsList().stream().map(ModelInfo::getModelId)
        .toList());
    assertTrue(list.getModelsList().stream().allMatch(ModelInfo::getResident));
    assertArrayEquals(x, factorBytes(restarted, "x"));
    assertArrayEquals(y, factorBytes(restarted, "y"));
  }

  @Test
  void identicalRetry_onAnotherReplica_returnsTheModel_differentRequestIsRefused() {
    var a = replica(ModelStore.Preload.NONE);
    var b = replica(ModelStore.Preload.NONE);
    ModelInfo first = a.fit(fit("same", 1)).getModel();
    ModelInfo again = b.fit(fit("same", 1)).getModel();
    assertEquals(first.getCreateTime(), again.getCreateTime());
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
        () -> b.fit(fit("same", 2)));
    assertEquals(Status.Code.ALREADY_EXISTS, e.getStatus().getCode());
  }

  @Test
  void delete_isSeenByOtherReplicas_withinOnePoll() throws Exception {
    var a = replica(ModelStore.Preload.ALL);
    var b = replica(ModelStore.Preload.ALL);
    a.fit(fit("gone", 1));
    b.getModel(GetModelRequest.newBuilder().setModelId("gone").build());
    a.deleteModel(DeleteModelRequest.newBuilder().setModelId("gone").build());
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    Status.Code code = null;
    while (System.nanoTime() < until) {
      try {
        b.getModel(GetModelRequest.newBuilder().setModelId("gone").build());
        Thread.sleep(20);
      } catch (StatusRuntimeException e) {
        code = e.getStatus().getCode();
        break;
      }
    }
    assertEquals(Status.Code.NOT_FOUND, code);
  }

  @Test
  void alias_resolvesEverywhere_compareAndSetRefusesAStaleExpectation() throws Exception {
    var a = replica(ModelStore.Preload.ALIASES);
    var b = replica(ModelStore.Preload.ALIASES);
    a.fit(fit("v1", 1));
    a.fit(fit("v2", 2));
    a.setAlias(SetAliasRequest.newBuilder().setAlias("prod").setModelId("v1")
        .setExpectedModelId("").build());
    StatusRuntimeException stale = assertThrows(StatusRuntimeException.class,
        () -> b.setAlias(SetAliasRequest.newBuilder().setAlias("prod").setModelId("v2")
            .setExpectedModelId("v0").build()));
    assertEquals(Status.Code.FAILED_PRECONDITION, stale.getStatus().getCode());
    assertEquals("v1", b.setAlias(SetAliasRequest.newBuilder().setAlias("prod")
        .setModelId("v2").setExpectedModelId("v1").build()).getPreviousModelId());
    float v2 = a.predict(PredictRequest.newBuilder().setModelId("v2").addUserIds(1007)
        .addItemIds(53).build()).getScores(0);
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    float viaAlias = Float.NaN;
    while (System.nanoTime() < until) {
      viaAlias = a.predict(PredictRequest.newBuilder().setModelId("prod").addUserIds(1007)
          .addItemIds(53).build()).getScores(0);
      if (viaAlias == v2) {
        break;
      }
      Thread.sleep(20);
    }
    assertEquals(v2, viaAlias);
    assertEquals("v2", a.getAlias(GetAliasRequest.newBuilder().setAlias("prod").build())
        .getAlias().getModelId());
    StatusRuntimeException pinned = assertThrows(StatusRuntimeException.class,
        () -> a.deleteModel(DeleteModelRequest.newBuilder().setModelId("v2").build()));
    assertEquals(Status.Code.FAILED_PRECONDITION, pinned.getStatus().getCode());
    a.deleteAlias(DeleteAliasRequest.newBuilder().setAlias("prod").build());
    assertEquals(0, a.listAliases(ListAliasesRequest.getDefaultInstance()).getAliasesCount());
    StatusRuntimeException missing = assertThrows(StatusRuntimeException.class,
        () -> a.setAlias(SetAliasRequest.newBuilder().setAlias("p").setModelId("nope").build()));
    assertEquals(Status.Code.NOT_FOUND, missing.getStatus().getCode());
  }

  @Test
  void aliasCompareAndSet_underConcurrency_exactlyOneWinnerPerRound() throws Exception {
    var a = replica(ModelStore.Preload.NONE);
    var b = replica(ModelStore.Preload.NONE);
    a.fit(fit("c0", 1));
    a.fit(fit("c1", 2));
    a.setAlias(SetAliasRequest.newBuilder().setAlias("live").setModelId("c0").build());
    String current = "c0";
    for (int round = 0; round < 10; round++) {
      String next = current.equals("c0") ? "c1" : "c0";
      String expect = current;
      List<CompletableFuture<Boolean>> racers = new ArrayList<>();
      for (int t = 0; t < 6; t++) {
        var stub = t % 2 == 0 ? a : b;
        racers.add(CompletableFuture.supplyAsync(() -> {
          try {
            stub.setAlias(SetAliasRequest.newBuilder().setAlias("live").setModelId(next)
                .setExpectedModelId(expect).build());
            return true;
          } catch (StatusRuntimeException e) {
            assertEquals(Status.Code.FAILED_PRECONDITION, e.getStatus().getCode());
            return false;
          }
        }));
      }
      long winners = racers.stream().filter(CompletableFuture::join).count();
      assertEquals(1, winners, "round " + round);
      current = next;
    }
  }

  @Test
  void damagedSnapshot_isListedAndNeverServed() throws Exception {
    var a = replica(ModelStore.Preload.NONE);
    a.fit(fit("ok", 1));
    a.fit(fit("bad", 2));
    servers.afterEach(null);
    Path snap;
    try (Stream<Path> files = Files.walk(dir)) {
      snap = files.filter(p -> p.getFileName().toString().equals("bad.mfsnap")).findFirst()
          .orElseThrow();
    }
    byte[] bytes = Files.readAllBytes(snap);
    bytes[bytes.length / 2] ^= 0x10;
    Files.write(snap, bytes);
    var b = replica(ModelStore.Preload.ALL);
    ListModelsResponse list = b.listModels(ListModelsRequest.getDefaultInstance());
    assertEquals(List.of("ok"), list.getModelsList().stream().map(ModelInfo::getModelId)
        .toList());
    assertEquals("bad", list.getDamagedModels(0).getModelId());
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
        () -> b.predict(PredictRequest.newBuilder().setModelId("bad").addUserIds(1007)
            .addItemIds(53).build()));
    assertEquals(Status.Code.DATA_LOSS, e.getStatus().getCode());
  }

  @Test
  void smallBudget_evictsLeastRecentlyUsed_andReloadsOnDemand() throws Exception {
    var a = replica(ModelStore.Preload.NONE);
    for (int i = 0; i < 4; i++) {
      a.fit(fit("e" + i, i));
    }
    byte[] e0 = factorBytes(a, "e0");
    long oneModel = a.getModel(GetModelRequest.newBuilder().setModelId("e0").build()).getModel()
        .getMemoryBytes();
    servers.afterEach(null);
    ServerConfig small = InProcessMfServer.testConfig().withMemoryBudget(oneModel * 5 / 2);
    var b = servers.start(small, null, store(ModelStore.Preload.NONE));
    for (int round = 0; round < 2; round++) {
      for (int i = 0; i < 4; i++) {
        b.recommend(RecommendRequest.newBuilder().setModelId("e" + i).setUserId(1007).setK(3)
            .build());
      }
    }
    long resident = b.listModels(ListModelsRequest.getDefaultInstance()).getModelsList()
        .stream().filter(ModelInfo::getResident).count();
    assertTrue(resident <= 2, "resident " + resident);
    assertArrayEquals(e0, factorBytes(b, "e0"));
  }

  @Test
  void exportThenImport_underANewId_givesIdenticalFactors() throws Exception {
    var a = servers.start();
    a.fit(fit("src", 1));
    ByteArrayOutputStream snapshot = new ByteArrayOutputStream();
    Iterator<ExportModelResponse> it = a.exportModel(ExportModelRequest.newBuilder()
        .setModelId("src").build());
    long total = -1;
    while (it.hasNext()) {
      ExportModelResponse r = it.next();
      if (total < 0) {
        total = r.getTotalBytes();
      }
      r.getData().writeTo(snapshot);
    }
    assertEquals(total, snapshot.size());
    var async = MatrixFactorizationGrpc.newStub(servers.channel());
    CompletableFuture<ImportModelResponse> done = new CompletableFuture<>();
    StreamObserver<ImportModelRequest> up = async.importModel(observer(done));
    byte[] bytes = snapshot.toByteArray();
    for (int off = 0; off < bytes.length; off += 1000) {
      up.onNext(ImportModelRequest.newBuilder().setModelId(off == 0 ? "copy" : "")
          .setData(ByteString.copyFrom(bytes, off, Math.min(1000, bytes.length - off))).build());
    }
    up.onCompleted();
    assertEquals("copy", done.get(10, TimeUnit.SECONDS).getModel().getModelId());
    assertArrayEquals(factorBytes(a, "src"), factorBytes(a, "copy"));
    CompletableFuture<ImportModelResponse> junk = new CompletableFuture<>();
    StreamObserver<ImportModelRequest> bad = async.importModel(observer(junk));
    bad.onNext(ImportModelRequest.newBuilder().setData(ByteString.copyFromUtf8("nope")).build());
    bad.onCompleted();
    Exception e = assertThrows(Exception.class, () -> junk.get(10, TimeUnit.SECONDS));
    assertEquals(Status.Code.INVALID_ARGUMENT, Status.fromThrowable(e.getCause()).getCode());
  }

  @Test
  void importFactors_servesThemAsAFittedModel() throws Exception {
    var a = servers.start();
    var async = MatrixFactorizationGrpc.newStub(servers.channel());
    CompletableFuture<ImportFactorsResponse> done = new CompletableFuture<>();
    StreamObserver<ImportFactorsRequest> up = async.importFactors(observer(done));
    up.onNext(ImportFactorsRequest.newBuilder().setHeader(ImportFactorsHeader.newBuilder()
        .setModelId("spark").setNumFactors(2).setHasBiases(true).setGlobalMean(3)).build());
    up.onNext(ImportFactorsRequest.newBuilder().setRows(GetFactorsResponse.newBuilder()
        .setUserFactors(DenseMatrix.newBuilder().setRows(2).setCols(2).addValues(1)
            .addValues(0).addValues(0).addValues(1))
        .addUserIds(10).addUserIds(20).addUserBiases(0.5f).addUserBiases(-0.5f)).build());
    up.onNext(ImportFactorsRequest.newBuilder().setRows(GetFactorsResponse.newBuilder()
        .setItemFactors(DenseMatrix.newBuilder().setRows(3).setCols(2).addValues(1)
            .addValues(2).addValues(3).addValues(4).addValues(5).addValues(6))
        .addItemIds(7).addItemIds(8).addItemIds(9).addItemBiases(0).addItemBiases(0.25f)
        .addItemBiases(1)).build());
    up.onCompleted();
    ModelInfo info = done.get(10, TimeUnit.SECONDS).getModel();
    assertEquals(2, info.getNumUsers());
    assertEquals(3, info.getNumItems());
    // 3 + 0.5 + 0.25 + (1, 0)·(3, 4)
    assertEquals(6.75f, a.predict(PredictRequest.newBuilder().setModelId("spark")
        .addUserIds(10).addItemIds(8).build()).getScores(0));
    assertEquals(9, a.recommend(RecommendRequest.newBuilder().setModelId("spark").setUserId(20)
        .setK(1).setExcludeSeen(false).build()).getItems(0).getItemId());
  }

  @Test
  void warmStart_withAnotherRank_isInvalid_sameRank_isRecorded() {
    var a = servers.start();
    a.fit(fit("base", 1));
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
        () -> a.fit(Requests.fit("als", 2, Requests.sparseRatings(40, 30, 0.3, 5))
            .setWarmStartModelId("base").build()));
    assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
    ModelInfo warm = a.fit(Requests.fit("als", 3, Requests.sparseRatings(40, 30, 0.3, 5))
        .setWarmStartModelId("base").build()).getModel();
    assertEquals("base", warm.getWarmStartModelId());
    assertFalse(warm.getModelId().isEmpty());
  }

  private static <T> StreamObserver<T> observer(CompletableFuture<T> done) {
    return new StreamObserver<>() {
      @Override
      public void onNext(T value) {
        done.complete(value);
      }

      @Override
      public void onError(Throwable t) {
        done.completeExceptionally(t);
      }

      @Override
      public void onCompleted() {
      }
    };
  }
}
