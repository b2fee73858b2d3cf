package io.mfserve.client.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Struct;
import com.google.protobuf.util.JsonFormat;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.mfserve.client.FakeMfServer;
import io.mfserve.client.GrpcCleanupExtension;
import io.mfserve.client.Ratings;
import io.mfserve.proto.v1.FitRequest;
import io.mfserve.proto.v1.RecommendRequest;
import io.mfserve.proto.v1.Similarity;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** mfctl recommend (filters, paging, history, batch), similar, predict --row and loadtest. */
class QueryCommandsTest {
  @RegisterExtension
  final GrpcCleanupExtension grpc = new GrpcCleanupExtension();

  @TempDir
  Path dir;

  private final FakeMfServer fake = new FakeMfServer();
  private String serverName;
  private String out;
  private String err;

  @BeforeEach
  void start() throws IOException {
    serverName = InProcessServerBuilder.generateName();
    // Not direct: loadtest's calls then complete on other threads, as over a network.
    grpc.register(InProcessServerBuilder.forName(serverName).addService(fake)
        .addService(new HealthStatusManager().getHealthService()).build().start());
    fake.models.put("m", FakeMfServer.info("m", FitRequest.newBuilder().setNumFactors(2).build(),
        new Ratings().add(1, 10, 5f).add(2, 20, 3f).toMatrix()));
  }

  private int mfctl(String... args) {
    ByteArrayOutputStream o = new ByteArrayOutputStream();
    ByteArrayOutputStream e = new ByteArrayOutputStream();
    int code = Mfctl.run(args, new PrintStream(o, true, StandardCharsets.UTF_8),
        new PrintStream(e, true, StandardCharsets.UTF_8),
        target -> InProcessChannelBuilder.forName(serverName).build());
    out = o.toString(StandardCharsets.UTF_8);
    err = e.toString(StandardCharsets.UTF_8);
    return code;
  }

  private static Struct json(String text) throws InvalidProtocolBufferException {
    Struct.Builder b = Struct.newBuilder();
    JsonFormat.parser().merge(text, b);
    return b.build();
  }

  private void assertUsageError() {
    assertEquals(1, err.lines().count(), err);
    assertTrue(out.isEmpty(), out);
  }

  @Test
  void recommend_filtersAndOffset_areSentAndRanksStartAfterTheOffset() {
    assertEquals(0, mfctl("recommend", "m", "--user", "1", "-k", "2", "--allow", "10", "20",
        "--deny", "30", "--offset", "2", "--no-exclude-seen"), err);
    RecommendRequest sent = fake.recommends.get(0);
    assertEquals(List.of(10L, 20L), sent.getAllowedItemIdsList());
    assertEquals(List.of(30L), sent.getDeniedItemIdsList());
    assertEquals(2, sent.getOffset());
    assertEquals(2, sent.getK());
    assertTrue(sent.hasExcludeSeen());
    assertFalse(sent.getExcludeSeen());
    assertEquals(List.of("RANK  ITEM   SCORE", "   3     3  0.9000", "   4     1  0.5000"),
        out.lines().toList());
  }

  @Test
  void recommend_noExcludeSeenOption_leavesTheServersDefault() {
    assertEquals(0, mfctl("recommend", "m", "-u", "2"), err);
    assertFalse(fake.recommends.get(0).hasExcludeSeen());
    assertEquals(0, mfctl("recommend", "m", "-u", "2", "--exclude-seen"), err);
    assertTrue(fake.recommends.get(1).getExcludeSeen());
  }

  @Test
  void recommend_history_sendsTheFileAsANewUser() throws IOException {
    Path h = Files.writeString(dir.resolve("me.txt"), "# my ratings\n10 5\n\n20,3.5\n");
    assertEquals(0, mfctl("--json", "recommend", "m", "--history", h.toString(), "-k", "1"),
        err);
    RecommendRequest sent = fake.recommends.get(0);
    assertEquals(List.of(10L, 20L), sent.getUserHistory().getItemIdsList());
    assertEquals(List.of(5f, 3.5f), sent.getUserHistory().getValuesList());
    assertEquals(2, (int) json(out).getFieldsOrThrow("history_entries").getNumberValue());
  }

  @Test
  void recommend_historyWithABadValue_isAUsageErrorNamingTheLine() throws IOException {
    Path h = Files.writeString(dir.resolve("bad.txt"), "10 5\n20 lots\n");
    assertEquals(Mfctl.EXIT_USAGE, mfctl("recommend", "m", "--history", h.toString()));
    assertUsageError();
    assertTrue(err.contains("bad.txt line 2: value 'lots' is not a number"), err);
  }

  @Test
  void recommend_userAndHistoryTogether_isAUsageError() throws IOException {
    Path h = Files.writeString(dir.resolve("h.txt"), "10 5\n");
    assertEquals(Mfctl.EXIT_USAGE, mfctl("recommend", "m", "-u", "1", "--history",
        h.toString()));
    assertUsageError();
    assertEquals(Mfctl.EXIT_USAGE, mfctl("recommend", "m"));
    assertUsageError();
  }

  @Test
  void recommend_usersFile_oneBatchCallInFileOrder() throws Exception {
    fake.serveRecommendBatch = true;
    Path users = Files.writeString(dir.resolve("users.txt"), "2\n1\n");
    assertEquals(0, mfctl("recommend", "m", "--users", users.toString(), "-k", "1"), err);
    assertEquals(List.of(2L, 1L), fake.recommendBatches.get(0).getUserIdsList());
    assertEquals(List.of("USER  RANK  ITEM   SCORE", "   2     1     3  0.9000",
        "   1     1     3  0.9000"), out.lines().toList());
    assertEquals(0, mfctl("--json", "recommend", "m", "--users", users.toString()), err);
    assertEquals(2, json(out).getFieldsOrThrow("users").getListValue().getValuesCount());
  }

  @Test
  void similar_itemCosineByDefault_dotWhenAsked_usersToo() throws Exception {
    assertEquals(0, mfctl("similar", "m", "--item", "10", "-k", "2"), err);
    assertEquals(Similarity.SIMILARITY_COSINE, fake.similarItemRequests.get(0).getSimilarity());
    assertEquals(10, fake.similarItemRequests.get(0).getItemId());
    assertEquals(List.of("RANK  ITEM  COSINE", "   1     2  0.7500", "   2     0  0.5000"),
        out.lines().toList());
    assertEquals(0, mfctl("similar", "m", "--item", "10", "--dot"), err);
    assertEquals(Similarity.SIMILARITY_DOT, fake.similarItemRequests.get(1).getSimilarity());
    assertEquals(0, mfctl("--json", "similar", "m", "--user", "1"), err);
    Struct s = json(out);
    assertEquals("cosine", s.getFieldsOrThrow("similarity").getStringValue());
    assertEquals(7, (int) s.getFieldsOrThrow("users").getListValue().getValues(0)
        .getStructValue().getFieldsOrThrow("user").getNumberValue());
  }

  @Test
  void similar_bothOrNeitherQuery_isAUsageError() {
    assertEquals(Mfctl.EXIT_USAGE, mfctl("similar", "m"));
    assertUsageError();
    assertEquals(Mfctl.EXIT_USAGE, mfctl("similar", "m", "--item", "1", "--user", "2"));
    assertUsageError();
  }

  @Test
  void predictRow_knownUserOrHistory_printsEveryItem() throws Exception {
    assertEquals(0, mfctl("predict", "m", "--row", "--user", "1"), err);
    assertEquals(1, fake.predictRows.get(0).getUserId());
    assertEquals(List.of("ITEM   SCORE", "   0  0.0000", "   1  0.1000"), out.lines().toList());
    Path h = Files.writeString(dir.resolve("h.txt"), "20 4\n");
    assertEquals(0, mfctl("--json", "predict", "m", "--row", "--history", h.toString()), err);
    assertEquals(List.of(20L), fake.predictRows.get(1).getUserHistory().getItemIdsList());
    assertEquals(2, json(out).getFieldsOrThrow("predictions").getListValue().getValuesCount());
  }

  @Test
  void predict_historyWithoutRow_isAUsageError() throws IOException {
    Path h = Files.writeString(dir.resolve("h.txt"), "20 4\n");
    assertEquals(Mfctl.EXIT_USAGE, mfctl("predict", "m", "--history", h.toString()));
    assertUsageError();
  }

  @Test
  void loadtest_healthAndPredict_reportThroughputLatencyAndErrors() throws Exception {
    assertEquals(0, mfctl("--json", "loadtest", "--rpc", "health", "--duration", "2s",
        "--concurrency", "8", "--channels", "2"), err);
    Struct health = json(out);
    assertEquals("closed", health.getFieldsOrThrow("mode").getStringValue());
    assertTrue(health.getFieldsOrThrow("ok").getNumberValue() > 0, out);
    assertEquals(0, health.getFieldsOrThrow("failed").getNumberValue());
    assertTrue(health.getFieldsOrThrow("throughput_per_s").getNumberValue() > 0);
    Struct latency = health.getFieldsOrThrow("latency_ms").getStructValue();
    for (String p : List.of("p50", "p90", "p99", "p99_9", "max", "mean")) {
      assertTrue(latency.containsFields(p), p + " missing from " + out);
    }
    assertTrue(latency.getFieldsOrThrow("p50").getNumberValue()
        <= latency.getFieldsOrThrow("max").getNumberValue());

    assertEquals(0, mfctl("loadtest", "--rpc", "predict", "--model", "m", "--duration", "2s",
        "--concurrency", "4", "--seed", "3"), err);
    List<String> lines = out.lines().toList();
    assertTrue(lines.get(0).startsWith("loadtest predict on model m: 4 channels, closed loop, 4"
        + " in flight"), out);
    assertTrue(lines.stream().anyMatch(l -> l.matches("  latency \\(ms\\)  p50 [0-9.]+  p90"
        + " [0-9.]+  p99 [0-9.]+  p99\\.9 [0-9.]+  max [0-9.]+")), out);
    assertTrue(lines.contains("  errors        none"), out);
    assertTrue(fake.predicts.size() > 10);
  }

  @Test
  void loadtest_openLoop_startsCallsOnSchedule() throws Exception {
    assertEquals(0, mfctl("--json", "loadtest", "--rpc", "similar", "--model", "m", "--rate",
        "200", "--duration", "1s"), err);
    Struct s = json(out);
    assertEquals("open", s.getFieldsOrThrow("mode").getStringValue());
    assertEquals(200, s.getFieldsOrThrow("rate").getNumberValue());
    double calls = s.getFieldsOrThrow("calls").getNumberValue();
    assertTrue(calls > 100 && calls <= 200, out);
    assertEquals(10, fake.similarItemRequests.get(0).getK());
  }

  @Test
  void loadtest_modelRpcWithoutModel_isAUsageError() {
    assertEquals(Mfctl.EXIT_USAGE, mfctl("loadtest", "--rpc", "recommend", "--duration", "1s"));
    assertUsageError();
    assertEquals(Mfctl.EXIT_USAGE, mfctl("loadtest", "--rpc", "fit", "--duration", "1s"));
    assertUsageError();
  }
}
