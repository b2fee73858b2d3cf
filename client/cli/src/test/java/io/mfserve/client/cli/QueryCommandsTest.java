package io.mfserve.client.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Struct;
import com.google.protobuf.util.JsonFormat;
import io.grpc.protobuf.services.HealthStatusManager;
import io.mfserve.client.FakeMfServer;
import io.mfserve.client.Ratings;
import io.mfserve.proto.v1.FitRequest;
import io.mfserve.proto.v1.RecommendRequest;
import io.mfserve.proto.v1.Similarity;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** mfctl recommend (filters, paging, history, batch), similar, predict --row and loadtest. */
class QueryCommandsTest {
  @TempDir
  Path dir;

  private final FakeMfServer fake = new FakeMfServer();
  // Not direct: loadtest's calls then complete on other threads, as over a network.
  @RegisterExtension
  final MfctlHarness cli =
      MfctlHarness.threaded(fake, new HealthStatusManager().getHealthService());

  @BeforeEach
  void model() {
    fake.models.put("m", FakeMfServer.info("m", FitRequest.newBuilder().setNumFactors(2).build(),
        new Ratings().add(1, 10, 5f).add(2, 20, 3f).toMatrix()));
  }

  private static Struct json(String text) throws InvalidProtocolBufferException {
    Struct.Builder b = Struct.newBuilder();
    JsonFormat.parser().merge(text, b);
    return b.build();
  }

  private void assertUsageError() {
    assertEquals(1, cli.err().lines().count(), cli.err());
    assertTrue(cli.out().isEmpty(), cli.out());
  }

  @Test
  void recommend_filtersAndOffset_areSentAndRanksStartAfterTheOffset() {
    assertEquals(0, cli.mfctl("recommend", "m", "--user", "1", "-k", "2", "--allow", "10", "20",
        "--deny", "30", "--offset", "2", "--no-exclude-seen"), cli.err());
    RecommendRequest sent = fake.recommends.get(0);
    assertEquals(List.of(10L, 20L), sent.getAllowedItemIdsList());
    assertEquals(List.of(30L), sent.getDeniedItemIdsList());
    assertEquals(2, sent.getOffset());
    assertEquals(2, sent.getK());
    assertTrue(sent.hasExcludeSeen());
    assertFalse(sent.getExcludeSeen());
    assertEquals(List.of("RANK  ITEM   SCORE", "   3     3  0.9000", "   4     1  0.5000"),
        cli.out().lines().toList());
  }

  @Test
  void recommend_noExcludeSeenOption_leavesTheServersDefault() {
    assertEquals(0, cli.mfctl("recommend", "m", "-u", "2"), cli.err());
    assertFalse(fake.recommends.get(0).hasExcludeSeen());
    assertEquals(0, cli.mfctl("recommend", "m", "-u", "2", "--exclude-seen"), cli.err());
    assertTrue(fake.recommends.get(1).getExcludeSeen());
  }

  @Test
  void recommend_history_sendsTheFileAsANewUser() throws IOException {
    Path h = Files.writeString(dir.resolve("me.txt"), "# my ratings\n10 5\n\n20,3.5\n");
    assertEquals(0, cli.mfctl("--json", "recommend", "m", "--history", h.toString(), "-k", "1"),
        cli.err());
    RecommendRequest sent = fake.recommends.get(0);
    assertEquals(List.of(10L, 20L), sent.getUserHistory().getItemIdsList());
    assertEquals(List.of(5f, 3.5f), sent.getUserHistory().getValuesList());
    assertEquals(2, (int) json(cli.out()).getFieldsOrThrow("history_entries").getNumberValue());
  }

  @Test
  void recommend_historyWithABadValue_isAUsageErrorNamingTheLine() throws IOException {
    Path h = Files.writeString(dir.resolve("bad.txt"), "10 5\n20 lots\n");
    assertEquals(Mfctl.EXIT_USAGE, cli.mfctl("recommend", "m", "--history", h.toString()));
    assertUsageError();
    assertTrue(cli.err().contains("bad.txt line 2: value 'lots' is not a number"), cli.err());
  }

  @Test
  void recommend_userAndHistoryTogether_isAUsageError() throws IOException {
    Path h = Files.writeString(dir.resolve("h.txt"), "10 5\n");
    assertEquals(Mfctl.EXIT_USAGE, cli.mfctl("recommend", "m", "-u", "1", "--history",
        h.toString()));
    assertUsageError();
    assertEquals(Mfctl.EXIT_USAGE, cli.mfctl("recommend", "m"));
    assertUsageError();
  }

  @Test
  void recommend_usersFile_oneBatchCallInFileOrder() throws Exception {
    fake.serveRecommendBatch = true;
    Path users = Files.writeString(dir.resolve("users.txt"), "2\n1\n");
    assertEquals(0, cli.mfctl("recommend", "m", "--users", users.toString(), "-k", "1"), cli.err());
    assertEquals(List.of(2L, 1L), fake.recommendBatches.get(0).getUserIdsList());
    assertEquals(List.of("USER  RANK  ITEM   SCORE", "   2     1     3  0.9000",
        "   1     1     3  0.9000"), cli.out().lines().toList());
    assertEquals(0, cli.mfctl("--json", "recommend", "m", "--users", users.toString()), cli.err());
    assertEquals(2, json(cli.out()).getFieldsOrThrow("users").getListValue().getValuesCount());
  }

  @Test
  void similar_itemCosineByDefault_dotWhenAsked_usersToo() throws Exception {
    assertEquals(0, cli.mfctl("similar", "m", "--item", "10", "-k", "2"), cli.err());
    assertEquals(Similarity.SIMILARITY_COSINE, fake.similarItemRequests.get(0).getSimilarity());
    assertEquals(10, fake.similarItemRequests.get(0).getItemId());
    assertEquals(List.of("RANK  ITEM  COSINE", "   1     2  0.7500", "   2     0  0.5000"),
        cli.out().lines().toList());
    assertEquals(0, cli.mfctl("similar", "m", "--item", "10", "--dot"), cli.err());
    assertEquals(Similarity.SIMILARITY_DOT, fake.similarItemRequests.get(1).getSimilarity());
    assertEquals(0, cli.mfctl("--json", "similar", "m", "--user", "1"), cli.err());
    Struct s = json(cli.out());
    assertEquals("cosine", s.getFieldsOrThrow("similarity").getStringValue());
    assertEquals(7, (int) s.getFieldsOrThrow("users").getListValue().getValues(0)
        .getStructValue().getFieldsOrThrow("user").getNumberValue());
  }

  @Test
  void explain_sendsUserAndItem_printsTheShares() throws Exception {
    assertEquals(0, cli.mfctl("explain", "m", "--user", "1", "--item", "10", "-k", "2"),
        cli.err());
    assertEquals(1, fake.explainRequests.get(0).getUserId());
    assertEquals(10, fake.explainRequests.get(0).getItemId());
    assertEquals(2, fake.explainRequests.get(0).getK());
    assertEquals(List.of("score 3.5000 of item 10 for user 1: base 3.0000 + the shares of 2"
        + " entries = 3.5000", "RANK  ITEM   VALUE    SHARE", "   1     4  5.0000   0.7500",
        "   2     1  2.0000  -0.2500"), cli.out().lines().toList());
    assertEquals(0, cli.mfctl("--json", "explain", "m", "-u", "1", "-i", "10"), cli.err());
    Struct s = json(cli.out());
    assertEquals("least_squares", s.getFieldsOrThrow("method").getStringValue());
    assertEquals(0.75, s.getFieldsOrThrow("contributions").getListValue().getValues(0)
        .getStructValue().getFieldsOrThrow("contribution").getNumberValue());
    assertEquals(Mfctl.EXIT_USAGE, cli.mfctl("explain", "m", "--user", "1"));
  }

  @Test
  void similar_bothOrNeitherQuery_isAUsageError() {
    assertEquals(Mfctl.EXIT_USAGE, cli.mfctl("similar", "m"));
    assertUsageError();
    assertEquals(Mfctl.EXIT_USAGE, cli.mfctl("similar", "m", "--item", "1", "--user", "2"));
    assertUsageError();
  }

  @Test
  void predictRow_knownUserOrHistory_printsEveryItem() throws Exception {
    assertEquals(0, cli.mfctl("predict", "m", "--row", "--user", "1"), cli.err());
    assertEquals(1, fake.predictRows.get(0).getUserId());
    assertEquals(List.of("ITEM   SCORE", "   0  0.0000", "   1  0.1000"),
        cli.out().lines().toList());
    Path h = Files.writeString(dir.resolve("h.txt"), "20 4\n");
    assertEquals(0, cli.mfctl("--json", "predict", "m", "--row", "--history", h.toString()),
        cli.err());
    assertEquals(List.of(20L), fake.predictRows.get(1).getUserHistory().getItemIdsList());
    assertEquals(2,
        json(cli.out()).getFieldsOrThrow("predictions").getListValue().getValuesCount());
  }

  @Test
  void predict_historyWithoutRow_isAUsageError() throws IOException {
    Path h = Files.writeString(dir.resolve("h.txt"), "20 4\n");
    assertEquals(Mfctl.EXIT_USAGE, cli.mfctl("predict", "m", "--history", h.toString()));
    assertUsageError();
  }

  @Test
  void loadtest_healthAndPredict_reportThroughputLatencyAndErrors() throws Exception {
    assertEquals(0, cli.mfctl("--json", "loadtest", "--rpc", "health", "--duration", "2s",
        "--warmup", "0s", "--concurrency", "8", "--channels", "2"), cli.err());
    Struct health = json(cli.out());
    assertEquals("closed", health.getFieldsOrThrow("mode").getStringValue());
    assertTrue(health.getFieldsOrThrow("ok").getNumberValue() > 0, cli.out());
    assertEquals(0, health.getFieldsOrThrow("failed").getNumberValue());
    assertTrue(health.getFieldsOrThrow("throughput_per_s").getNumberValue() > 0);
    Struct latency = health.getFieldsOrThrow("latency_ms").getStructValue();
    for (String p : List.of("p50", "p90", "p99", "p99_9", "max", "mean")) {
      assertTrue(latency.containsFields(p), p + " missing from " + cli.out());
    }
    assertTrue(latency.getFieldsOrThrow("p50").getNumberValue()
        <= latency.getFieldsOrThrow("max").getNumberValue());
    assertFalse(health.containsFields("start_lag_ms"), "a closed loop has no schedule to lag");

    assertEquals(0, cli.mfctl("loadtest", "--rpc", "predict", "--model", "m", "--duration", "2s",
        "--warmup", "0s", "--concurrency", "4", "--seed", "3"), cli.err());
    List<String> lines = cli.out().lines().toList();
    assertTrue(lines.get(0).startsWith("loadtest predict on model m: 4 channels, closed loop, 4"
        + " in flight"), cli.out());
    assertTrue(lines.stream().anyMatch(l -> l.matches("  latency \\(ms\\)  p50 [0-9.]+  p90"
        + " [0-9.]+  p99 [0-9.]+  p99\\.9 [0-9.]+  max [0-9.]+")), cli.out());
    assertTrue(lines.contains("  errors        none"), cli.out());
    assertTrue(fake.predicts.size() > 10);
  }

  @Test
  void loadtest_openLoop_startsCallsOnSchedule() throws Exception {
    assertEquals(0, cli.mfctl("--json", "loadtest", "--rpc", "similar", "--model", "m",
        "--warmup", "0s", "--rate", "200", "--duration", "1s"), cli.err());
    Struct s = json(cli.out());
    assertEquals("open", s.getFieldsOrThrow("mode").getStringValue());
    assertEquals(200, s.getFieldsOrThrow("rate").getNumberValue());
    double calls = s.getFieldsOrThrow("calls").getNumberValue();
    assertTrue(calls > 100 && calls <= 200, cli.out());
    assertEquals(10, fake.similarItemRequests.get(0).getK());
    Struct lag = s.getFieldsOrThrow("start_lag_ms").getStructValue();
    for (String p : List.of("p50", "p90", "p99", "p99_9", "max", "mean")) {
      assertTrue(lag.containsFields(p), p + " missing from " + cli.out());
    }
    assertTrue(lag.getFieldsOrThrow("max").getNumberValue()
        <= s.getFieldsOrThrow("latency_ms").getStructValue().getFieldsOrThrow("max")
            .getNumberValue(), "a call's lag is part of its latency: " + cli.out());

    assertEquals(0, cli.mfctl("loadtest", "--rpc", "health", "--warmup", "0s", "--rate", "200",
        "--duration", "1s"), cli.err());
    assertTrue(cli.out().lines().anyMatch(l -> l.matches("  start lag \\(ms\\)  p50 [0-9.]+  p90"
        + " [0-9.]+  p99 [0-9.]+  p99\\.9 [0-9.]+  max [0-9.]+")), cli.out());
  }

  @Test
  void loadtest_modelRpcWithoutModel_isAUsageError() {
    assertEquals(Mfctl.EXIT_USAGE, cli.mfctl("loadtest", "--rpc", "recommend", "--duration", "1s"));
    assertUsageError();
    assertEquals(Mfctl.EXIT_USAGE, cli.mfctl("loadtest", "--rpc", "fit", "--duration", "1s"));
    assertUsageError();
  }
}
