package io.mfserve.server.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.mfserve.proto.v1.DeleteModelRequest;
import io.mfserve.proto.v1.FitRequest;
import io.mfserve.proto.v1.GetModelRequest;
import io.mfserve.proto.v1.ListModelsRequest;
import io.mfserve.proto.v1.ListModelsResponse;
import io.mfserve.proto.v1.Matrix;
import io.mfserve.proto.v1.MatrixFactorizationGrpc.MatrixFactorizationBlockingStub;
import io.mfserve.proto.v1.ModelInfo;
import io.mfserve.proto.v1.RecommendRequest;
import io.mfserve.proto.v1.SparseMatrix;
import io.mfserve.server.model.store.MemoryBudget;
import io.mfserve.server.model.store.ModelStore;
import io.mfserve.server.repository.RepositoryConfig;
import io.mfserve.server.testing.InProcessMfServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A model repository on a real filesystem that fills up: a 1 MiB tmpfs mounted for the test
 * (it needs root or CAP_SYS_ADMIN; where {@code mount} is refused the test is skipped, and
 * says so). The Fit whose snapshot cannot be written fails with RESOURCE_EXHAUSTED naming the
 * full repository; the server keeps serving; what it serves matches what the repository holds
 * (no half-written snapshot, no temporary file, no model served that a restart would lose);
 * deleting models frees the space and fits succeed again.
 */
class DiskFullTest {
  @RegisterExtension
  final InProcessMfServer server = new InProcessMfServer();

  @TempDir
  Path dir;
  private Path mount;
  private boolean mounted;

  @BeforeEach
  void mountSmallFilesystem() throws Exception {
    mount = Files.createDirectories(dir.resolve("repo"));
    Process p = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs",
        mount.toString()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    mounted = p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
    Assumptions.assumeTrue(mounted, "cannot mount a tmpfs here (needs root): " + out.strip());
  }

  @AfterEach
  void unmount() throws Exception {
    server.afterEach(null);
    if (mounted) {
      new ProcessBuilder("umount", "-l", mount.toString()).start().waitFor(30,
          TimeUnit.SECONDS);
    }
  }

  /** About 150 kB of snapshot: 2000 users × 300 items, 12 000 ratings, k = 8. */
  private static FitRequest fit(String id, long seed) {
    Random rnd = new Random(seed);
    SparseMatrix.Builder s = SparseMatrix.newBuilder();
    java.util.Set<Long> seen = new java.util.HashSet<>();
    while (s.getValuesCount() < 12_000) {
      int u = rnd.nextInt(2000);
      int i = rnd.nextInt(300);
      if (seen.add((long) u << 32 | i)) {
        s.addRowIds(u).addColIds(i).addValues(1 + rnd.nextInt(5));
      }
    }
    return FitRequest.newBuilder().setSolver("als").setNumFactors(8).setMaxIterations(2)
        .setModelId(id).setMatrix(Matrix.newBuilder().setSparse(s)).build();
  }

  @Test
  void fullRepository_failsTheFitClearly_keepsServing_andFreesSpaceOnDelete() throws Exception {
    MatrixFactorizationBlockingStub stub = server.start(InProcessMfServer.testConfig(), null,
        RepositoryConfig.at(mount.toUri().toString()));
    List<String> stored = new ArrayList<>();
    StatusRuntimeException full = null;
    for (int n = 0; n < 40 && full == null; n++) {
      try {
        stored.add(stub.fit(fit("m" + n, n)).getModel().getModelId());
      } catch (StatusRuntimeException e) {
        full = e;
      }
    }
    assertTrue(full != null, "1 MiB filled up after " + stored.size() + " models");
    assertTrue(stored.size() >= 2, "some models fit before it filled: " + stored);
    assertEquals(Status.Code.RESOURCE_EXHAUSTED, full.getStatus().getCode(),
        full.getStatus().toString());
    assertTrue(full.getStatus().getDescription().contains("repository is full"),
        full.getStatus().getDescription());
    String lost = "m" + stored.size();

    // Memory and store agree: the failed model is neither served nor stored, nothing partial
    // is left on disk, and the budget holds exactly the models served.
    assertEquals(Status.Code.NOT_FOUND, assertThrows(StatusRuntimeException.class,
        () -> stub.getModel(GetModelRequest.newBuilder().setModelId(lost).build()))
        .getStatus().getCode());
    assertServedEqualsStored(stub, stored);
    // Still serving every model it acknowledged.
    for (String id : stored) {
      assertEquals(3, stub.recommend(RecommendRequest.newBuilder().setModelId(id).setUserId(1)
          .setK(3).build()).getItemsCount(), id);
    }
    // Deletes free the space: the same fit now succeeds.
    long before = mount.toFile().getUsableSpace();
    for (String id : List.copyOf(stored.subList(0, 2))) {
      stub.deleteModel(DeleteModelRequest.newBuilder().setModelId(id).build());
      stored.remove(id);
    }
    assertTrue(mount.toFile().getUsableSpace() > before, "deletes freed space");
    assertEquals(lost, stub.fit(fit(lost, stored.size() + 2)).getModel().getModelId());
    stored.add(lost);
    assertServedEqualsStored(stub, stored);

    // A restart on the same repository serves exactly the acknowledged models, none damaged.
    server.afterEach(null);
    MatrixFactorizationBlockingStub again = server.start(InProcessMfServer.testConfig(), null,
        RepositoryConfig.at(mount.toUri().toString()));
    ListModelsResponse after = again.listModels(ListModelsRequest.getDefaultInstance());
    assertEquals(0, after.getDamagedModelsCount(), after.getDamagedModelsList().toString());
    assertEquals(new TreeSet<>(stored), ids(after.getModelsList()));
  }

  private void assertServedEqualsStored(MatrixFactorizationBlockingStub stub,
      List<String> acknowledged) throws IOException {
    ListModelsResponse listed = stub.listModels(ListModelsRequest.getDefaultInstance());
    assertEquals(new TreeSet<>(acknowledged), ids(listed.getModelsList()));
    assertEquals(0, listed.getDamagedModelsCount());
    try (Stream<Path> files = Files.walk(mount)) {
      List<String> tmp = files.map(p -> p.getFileName().toString())
          .filter(f -> f.startsWith(".tmp-")).toList();
      assertTrue(tmp.isEmpty(), "temporary files left: " + tmp);
    }
    ModelStore store = server.injector().getInstance(ModelStore.class);
    MemoryBudget budget = server.injector().getInstance(MemoryBudget.class);
    assertEquals(store.residentBytes(), budget.usedBytes());
    assertFalse(acknowledged.isEmpty());
  }

  private static TreeSet<String> ids(List<ModelInfo> models) {
    TreeSet<String> out = new TreeSet<>();
    for (ModelInfo m : models) {
      out.add(m.getModelId());
    }
    return out;
  }
}
