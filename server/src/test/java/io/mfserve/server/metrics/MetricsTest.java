package io.mfserve.server.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.mfserve.proto.v1.DeleteModelRequest;
import io.mfserve.proto.v1.MatrixFactorizationGrpc.MatrixFactorizationBlockingStub;
import io.mfserve.proto.v1.PredictRequest;
import io.mfserve.proto.v1.SetAliasRequest;
import io.mfserve.server.model.store.MemoryBudget;
import io.mfserve.server.repository.RepositoryConfig;
import io.mfserve.server.testing.InProcessMfServer;
import io.mfserve.server.testing.Requests;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** Scrapes {@code /metrics} over real HTTP after known traffic and checks what moved. */
class MetricsTest {
  private static final String PREDICT = "mfserve.v1.MatrixFactorization/Predict";
  private static final String FIT = "mfserve.v1.MatrixFactorization/Fit";
  private static final String SECRET = "secret-model-7f3a";

  @RegisterExtension
  final InProcessMfServer server = new InProcessMfServer();

  private final HttpClient http = HttpClient.newHttpClient();

  private MatrixFactorizationBlockingStub start(RepositoryConfig repository) {
    return server.start(InProcessMfServer.testConfig(), null, repository, new MetricsModule(0));
  }

  @Test
  void metrics_afterTraffic_callCountersMovedByExactlyTheCallsMade() throws Exception {
    MatrixFactorizationBlockingStub stub = start(RepositoryConfig.memory());
    stub.fit(Requests.fit("als", 2, Requests.seedMatrix(5, 6, 1)).setModelId(SECRET).build());
    for (int i = 0; i < 3; i++) {
      stub.predict(PredictRequest.newBuilder().setModelId(SECRET).addUserIds(1).addItemIds(2)
          .build());
    }
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> stub.predict(
        PredictRequest.newBuilder().setModelId(SECRET + "-missing").addUserIds(1)
            .addItemIds(2).build()));
    assertEquals(Status.Code.NOT_FOUND, e.getStatus().getCode());

    String text = scrape();
    assertEquals(3, Scrape.value(text, "grpc_server_call_duration_seconds_count",
        "grpc_method", PREDICT, "grpc_status", "OK"));
    assertEquals(1, Scrape.value(text, "grpc_server_call_duration_seconds_count",
        "grpc_method", PREDICT, "grpc_status", "NOT_FOUND"));
    assertEquals(1, Scrape.value(text, "grpc_server_call_duration_seconds_count",
        "grpc_method", FIT, "grpc_status", "OK"));
    // The histogram's last bucket holds every call.
    assertEquals(3, Scrape.value(text, "grpc_server_call_duration_seconds_bucket",
        "grpc_method", PREDICT, "grpc_status", "OK", "le", "+Inf"));
    assertEquals(1, Scrape.value(text, "mfserve_fits_finished_total", "result", "ok"));
    assertEquals(1, Scrape.value(text, "mfserve_fit_duration_seconds_count", "solver", "als",
        "result", "ok"));
    assertFalse(text.contains(SECRET), "a model id appears in the scrape");
  }

  @Test
  void metrics_fitsByResult_okInvalidCancelledCountedAndBudgetGaugesMatch() throws Exception {
    MatrixFactorizationBlockingStub stub = start(RepositoryConfig.memory());
    stub.fit(Requests.fit("als", 2, Requests.seedMatrix(5, 6, 1)).setModelId(SECRET).build());
    stub.fit(Requests.fit("sgd", 2, Requests.seedMatrix(5, 6, 2)).build());
    assertThrows(StatusRuntimeException.class, () -> stub.fit(Requests.fit("no-such-solver", 2,
        Requests.seedMatrix(5, 6, 1)).build()));
    assertThrows(StatusRuntimeException.class, () -> stub.fit(Requests.fit("als", 99,
        Requests.seedMatrix(5, 6, 1)).build()));
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> stub
        .withDeadlineAfter(300, TimeUnit.MILLISECONDS)
        .fit(Requests.fit("sgd", 20, Requests.sparseRatings(400, 300, 0.5, 1))
            .setMaxIterations(100000).setModelId(SECRET + "-slow").build()));
    assertEquals(Status.Code.DEADLINE_EXCEEDED, e.getStatus().getCode());

    String text = scrape();
    long deadline = System.nanoTime() + 10_000_000_000L;
    // The worker counts a fit finished before it leaves the running gauge: wait for both.
    while ((Scrape.value(text, "mfserve_fits_finished_total", "result", "cancelled") < 1
        || Scrape.value(text, "mfserve_fits_running") > 0) && System.nanoTime() < deadline) {
      Thread.sleep(20);
      text = scrape();
    }
    assertEquals(2, Scrape.value(text, "mfserve_fits_finished_total", "result", "ok"));
    assertEquals(2, Scrape.value(text, "mfserve_fits_finished_total", "result", "invalid"));
    assertEquals(1, Scrape.value(text, "mfserve_fits_finished_total", "result", "cancelled"));
    assertEquals(0, Scrape.value(text, "mfserve_fits_finished_total", "result", "failed"));
    assertEquals(0, Scrape.value(text, "mfserve_fits_finished_total", "result", "diverged"));
    assertEquals(1, Scrape.value(text, "mfserve_fit_duration_seconds_count", "solver", "als",
        "result", "ok"));
    assertEquals(1, Scrape.value(text, "mfserve_fit_duration_seconds_count", "solver", "sgd",
        "result", "ok"));
    assertEquals(1, Scrape.value(text, "mfserve_fit_duration_seconds_count", "solver", "sgd",
        "result", "cancelled"));
    assertEquals(0, Scrape.value(text, "mfserve_fits_running"));
    assertEquals(0, Scrape.value(text, "mfserve_fits_queued"));
    assertEquals(2, Scrape.value(text, "mfserve_models_resident"));

    MemoryBudget budget = server.injector().getInstance(MemoryBudget.class);
    assertEquals(budget.limitBytes(), Scrape.value(text, "mfserve_memory_budget_limit_bytes"));
    assertEquals(budget.usedBytes(), Scrape.value(text, "mfserve_memory_budget_used_bytes"));
    assertTrue(budget.usedBytes() > 0);
    // With no uploads, the models are all the budget holds.
    assertEquals(budget.usedBytes(), Scrape.value(text, "mfserve_models_resident_memory_bytes"));
    assertEquals(0, Scrape.value(text, "mfserve_uploads_held"));
    assertFalse(text.contains(SECRET), "a model id appears in the scrape");
    assertFalse(text.contains("no-such-solver"), "a request's solver name appears");
  }

  @Test
  void metrics_fileRepository_countsSavesAliasWritesDeletesAndLists(@TempDir Path dir)
      throws Exception {
    MatrixFactorizationBlockingStub stub = start(RepositoryConfig.at(dir.toUri().toString()));
    stub.fit(Requests.fit("als", 2, Requests.seedMatrix(5, 6, 1)).setModelId(SECRET).build());
    stub.fit(Requests.fit("als", 2, Requests.seedMatrix(5, 6, 2)).setModelId(SECRET + "-b")
        .build());
    stub.setAlias(SetAliasRequest.newBuilder().setAlias("prod").setModelId(SECRET).build());
    stub.deleteModel(DeleteModelRequest.newBuilder().setModelId(SECRET + "-b").build());
    String text = scrape();
    assertEquals(2, Scrape.value(text, "mfserve_repository_operation_duration_seconds_count",
        "operation", "save_new", "result", "ok"));
    assertEquals(1, Scrape.value(text, "mfserve_repository_operation_duration_seconds_count",
        "operation", "write_aliases", "result", "ok"));
    assertEquals(1, Scrape.value(text, "mfserve_repository_operation_duration_seconds_count",
        "operation", "delete", "result", "ok"));
    assertTrue(Scrape.value(text, "mfserve_repository_operation_duration_seconds_count",
        "operation", "list", "result", "ok") >= 1);
    assertEquals(0, Scrape.value(text, "mfserve_repository_damaged_snapshots"));
    assertFalse(text.contains(SECRET), "a model id appears in the scrape");
    assertFalse(text.contains("\"prod\""), "an alias appears in the scrape");
  }

  @Test
  void metrics_replicaPreloadsFromRepository_modelLoadsCounted(@TempDir Path dir)
      throws Exception {
    RepositoryConfig repo = RepositoryConfig.at(dir.toUri().toString());
    MatrixFactorizationBlockingStub first = server.start(InProcessMfServer.testConfig(), null,
        repo);
    first.fit(Requests.fit("als", 2, Requests.seedMatrix(5, 6, 1)).setModelId(SECRET).build());
    first.fit(Requests.fit("als", 2, Requests.seedMatrix(5, 6, 2)).setModelId(SECRET + "-b")
        .build());
    start(repo);  // a replica with metrics: preloads both before SERVING
    String text = scrape();
    assertEquals(2, Scrape.value(text, "mfserve_model_load_duration_seconds_count",
        "result", "ok"));
    assertEquals(2, Scrape.value(text, "mfserve_repository_operation_duration_seconds_count",
        "operation", "load", "result", "ok"));
    assertEquals(2, Scrape.value(text, "mfserve_models_resident"));
    assertEquals(0, Scrape.value(text, "mfserve_fits_finished_total", "result", "ok"));
    assertFalse(text.contains(SECRET), "a model id appears in the scrape");
  }

  @Test
  void metrics_jvmMetersAndEndpoint_servedAsPrometheusText() throws Exception {
    start(RepositoryConfig.memory());
    HttpResponse<String> r = get("/metrics");
    assertEquals(200, r.statusCode());
    assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/plain"));
    String text = r.body();
    for (String name : new String[] {"jvm_memory_used_bytes", "jvm_threads_live_threads",
        "jvm_gc_memory_allocated_bytes_total", "system_cpu_count", "process_uptime_seconds",
        "mfserve_memory_budget_limit_bytes"}) {
      assertTrue(text.contains("\n" + name), name + " missing");
    }
    assertEquals(404, get("/other").statusCode());
  }

  private String scrape() throws IOException, InterruptedException {
    HttpResponse<String> r = get("/metrics");
    assertEquals(200, r.statusCode());
    return r.body();
  }

  private HttpResponse<String> get(String path) throws IOException, InterruptedException {
    int port = server.server().metrics().port();
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .build(), HttpResponse.BodyHandlers.ofString());
  }
}
