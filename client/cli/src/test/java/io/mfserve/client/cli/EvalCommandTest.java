package io.mfserve.client.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import com.google.protobuf.util.JsonFormat;
import io.mfserve.client.FakeMfServer;
import io.mfserve.proto.v1.FitRequest;
import io.mfserve.proto.v1.RecommendRequest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** {@code mfctl eval} end to end against the in-process fake server. */
class EvalCommandTest {
  @TempDir
  Path dir;

  private final FakeMfServer fake = new FakeMfServer();
  @RegisterExtension
  final MfctlHarness cli = MfctlHarness.direct(fake);

  /** 20 ratings: users 1..5 each rate items 1..4, ratings 1..5. */
  private Path ratings() throws IOException {
    StringBuilder sb = new StringBuilder();
    for (int u = 1; u <= 5; u++) {
      for (int i = 1; i <= 4; i++) {
        sb.append(u).append('\t').append(i).append('\t').append((u + i) % 5 + 1).append('\n');
      }
    }
    return Files.writeString(dir.resolve("u.data"), sb.toString());
  }

  private static Struct json(String text) throws InvalidProtocolBufferException {
    Struct.Builder b = Struct.newBuilder();
    JsonFormat.parser().merge(text, b);
    return b.build();
  }

  private static List<Value> list(Struct s, String field) {
    return s.getFieldsOrThrow(field).getListValue().getValuesList();
  }

  private static Struct obj(Value v) {
    return v.getStructValue();
  }

  /** Uploads, deletes, fits and models line up: one upload per fold, nothing left behind. */
  private void assertOneUploadPerFoldAndCleanedUp(int folds, int settings) {
    assertEquals(folds, fake.uploads.size());
    assertEquals(folds * settings, fake.fits.size());
    Set<String> used = new HashSet<>();
    for (FitRequest f : fake.fits) {
      assertEquals(FitRequest.InputCase.MATRIX_ID, f.getInputCase());
      used.add(f.getMatrixId());
    }
    assertEquals(folds, used.size());
    assertEquals(used, new HashSet<>(fake.deletedMatrices));
    assertTrue(fake.models.isEmpty(), "models left: " + fake.models.keySet());
  }

  @Test
  void eval_kFoldGrid_uploadsOncePerFoldAndPrintsRankedTable() throws IOException {
    int code = cli.mfctl("eval", ratings().toString(), "--folds", "4", "--grid",
        "regularization=0.05,0.1 factors=2,3", "--iterations", "3");

    assertEquals(0, code, cli.err());
    assertOneUploadPerFoldAndCleanedUp(4, 4);
    for (int fold = 0; fold < 4; fold++) {
      // Every setting of one fold fits the same upload, in grid order.
      List<FitRequest> perFold = fake.fits.subList(fold * 4, fold * 4 + 4);
      assertEquals(1, perFold.stream().map(FitRequest::getMatrixId).distinct().count());
      assertEquals(List.of(0.05, 0.05, 0.1, 0.1),
          perFold.stream().map(FitRequest::getRegularization).toList());
      assertEquals(List.of(2, 3, 2, 3), perFold.stream().map(FitRequest::getNumFactors).toList());
      perFold.forEach(f -> assertEquals(3, f.getMaxIterations()));
    }
    List<String> lines = cli.out().lines().toList();
    String header = lines.get(0);
    for (String column : List.of("rank", "regularization", "factors", "fit s", "RMSE", "MAE")) {
      assertTrue(header.contains(column), column + " missing from: " + header);
    }
    // The baseline is the first row, then the settings, best first.
    assertTrue(lines.get(1).contains("baseline (biases)"), cli.out());
    assertTrue(lines.get(2).startsWith("*"), cli.out());
    assertEquals(1, lines.stream().filter(l -> l.startsWith("*")).count(), cli.out());
    assertTrue(lines.subList(1, 6).stream().allMatch(l -> l.contains(" ± ")), cli.out());
    assertTrue(lines.get(lines.size() - 1).startsWith("best by RMSE: regularization=0.05 "
        + "factors=2: RMSE "), cli.out());
    assertTrue(lines.get(lines.size() - 2).startsWith("baseline (user + item biases"),
        cli.out());
    // The ± signs of one column line up, the baseline's too.
    assertEquals(1, lines.subList(1, 6).stream().map(l -> l.indexOf('±')).distinct().count());
    assertTrue(cli.err().contains("fold 1/4, baseline: fit"), cli.err());
    assertTrue(cli.err().contains("fold 4/4"), cli.err());
  }

  @Test
  void eval_holdoutGrid_printsValuesWithoutSpread() throws IOException {
    int code = cli.mfctl("eval", ratings().toString(), "--split", "0.25", "--grid", "factors=2,3",
        "-q");

    assertEquals(0, code, cli.err());
    assertOneUploadPerFoldAndCleanedUp(1, 2);
    assertFalse(cli.out().contains("±"), cli.out());
    assertTrue(cli.out().lines().reduce((a, b) -> b).orElseThrow()
        .matches("best by RMSE: factors=2: RMSE \\d\\.\\d{4}"), cli.out());
  }

  @Test
  void eval_json_hasPerFoldAndAggregatedResults() throws IOException {
    int code = cli.mfctl("--json", "eval", ratings().toString(), "--folds", "5", "--grid",
        "factors=2,3", "--quiet");

    assertEquals(0, code, cli.err());
    assertEquals("", cli.err());
    Struct doc = json(cli.out());
    assertEquals("kfold", obj(doc.getFieldsOrThrow("protocol")).getFieldsOrThrow("kind")
        .getStringValue());
    List<Value> folds = list(doc, "folds");
    assertEquals(5, folds.size());
    double tested = 0;
    for (Value f : folds) {
      tested += obj(f).getFieldsOrThrow("test_entries").getNumberValue();
      assertEquals(20, obj(f).getFieldsOrThrow("test_entries").getNumberValue()
          + obj(f).getFieldsOrThrow("train_entries").getNumberValue());
    }
    assertEquals(20, tested);
    List<Value> results = list(doc, "results");
    assertEquals(2, results.size());
    Struct first = obj(results.get(0));
    assertTrue(first.getFieldsOrThrow("best").getBoolValue());
    assertEquals(5, list(first, "folds").size());
    for (String m : List.of("fit_seconds", "rmse", "mae")) {
      assertTrue(obj(first.getFieldsOrThrow("mean")).containsFields(m), m);
      assertTrue(obj(first.getFieldsOrThrow("std")).containsFields(m), m);
      assertTrue(obj(list(first, "folds").get(0)).containsFields(m), m);
    }
    assertEquals("rmse", doc.getFieldsOrThrow("primary").getStringValue());
    assertEquals(obj(first.getFieldsOrThrow("setting")),
        obj(obj(doc.getFieldsOrThrow("best")).getFieldsOrThrow("setting")));
    assertOneUploadPerFoldAndCleanedUp(5, 2);
  }

  @Test
  void eval_trainTestFiles_countsColdPairsAndScoresThemByTheBaselinePolicy() throws IOException {
    Path train = Files.writeString(dir.resolve("train"), "1\t1\t5\n1\t2\t3\n2\t1\t4\n");
    Path test = Files.writeString(dir.resolve("test"), "2\t2\t2\n9\t1\t1\n1\t7\t4\n");

    int code = cli.mfctl("--json", "eval", "--train", train.toString(), "--test", test.toString(),
        "-q");

    assertEquals(0, code, cli.err());
    Struct fold = obj(list(json(cli.out()), "folds").get(0));
    assertEquals(2, fold.getFieldsOrThrow("cold_test_pairs").getNumberValue());
    assertEquals(1, fake.predicts.size());
    assertEquals(io.mfserve.proto.v1.UnknownIdPolicy.UNKNOWN_ID_POLICY_BASELINE,
        fake.predicts.get(0).getUnknownIds());
    assertEquals(List.of(2L, 9L, 1L), fake.predicts.get(0).getUserIdsList());
    // The fake scores user + item / 10: errors 0.2, 8.1, -2.3.
    double rmse = Math.sqrt((0.2 * 0.2 + 8.1 * 8.1 + 2.3 * 2.3) / 3);
    double got = obj(list(obj(list(json(cli.out()), "results").get(0)), "folds").get(0))
        .getFieldsOrThrow("rmse").getNumberValue();
    assertEquals(rmse, got, 1e-5);
    assertOneUploadPerFoldAndCleanedUp(1, 1);
    // The baseline on the same split: μ = 4 and the biases of Surprise's BaselineOnly; the
    // unknown user 9 and item 7 add no bias.
    Struct baseline = obj(json(cli.out()).getFieldsOrThrow("baseline"));
    assertEquals("biases", baseline.getFieldsOrThrow("name").getStringValue());
    double baseRmse = obj(list(baseline, "folds").get(0)).getFieldsOrThrow("rmse")
        .getNumberValue();
    io.mfserve.client.eval.Interactions data = io.mfserve.client.eval.Interactions.concat(
        ratingsOf(new long[] {1, 1, 2}, new long[] {1, 2, 1}, new float[] {5, 3, 4}),
        ratingsOf(new long[] {2, 9, 1}, new long[] {2, 1, 7}, new float[] {2, 1, 4}));
    io.mfserve.client.eval.Baselines.BiasModel b =
        io.mfserve.client.eval.Baselines.fitBiases(data, new int[] {0, 1, 2});
    double e1 = b.predict(data.userIndex(2), data.itemIndex(2)) - 2;
    double e2 = 4 + b.itemBias()[data.itemIndex(1)] - 1;
    double e3 = 4 + b.userBias()[data.userIndex(1)] - 4;
    assertEquals(Math.sqrt((e1 * e1 + e2 * e2 + e3 * e3) / 3), baseRmse, 1e-9);
  }

  private static io.mfserve.client.eval.Interactions ratingsOf(long[] users, long[] items,
      float[] values) {
    io.mfserve.proto.v1.SparseMatrix.Builder m = io.mfserve.proto.v1.SparseMatrix.newBuilder();
    for (int e = 0; e < users.length; e++) {
      m.addRowIds(users[e]).addColIds(items[e]).addValues(values[e]);
    }
    return io.mfserve.client.eval.Interactions.of(m.build());
  }

  @Test
  void eval_singleSettingFolds_printsSurpriseStyleFoldTable() throws IOException {
    int code = cli.mfctl("eval", ratings().toString(), "--folds", "3", "-q");

    assertEquals(0, code, cli.err());
    List<String> lines = cli.out().lines().toList();
    assertTrue(lines.get(0).matches("\\s+fold 1\\s+fold 2\\s+fold 3\\s+mean\\s+std"), cli.out());
    assertTrue(lines.get(1).startsWith("baseline fit s"), cli.out());
    assertTrue(lines.get(2).startsWith("baseline RMSE"), cli.out());
    assertTrue(lines.get(3).startsWith("baseline MAE"), cli.out());
    assertTrue(lines.get(4).startsWith("fit s"), cli.out());
    assertTrue(lines.get(5).startsWith("RMSE"), cli.out());
    assertTrue(lines.get(6).startsWith("MAE"), cli.out());
    assertTrue(lines.get(lines.size() - 2).matches("baseline \\(user \\+ item biases.*RMSE "
        + "\\d\\.\\d{4} ± \\d\\.\\d{4} \\(model \\d+\\.\\d% (better|worse)\\).*"), cli.out());
    assertTrue(lines.get(lines.size() - 1).startsWith("RMSE "), cli.out());
    assertTrue(lines.get(lines.size() - 1).endsWith("(mean ± std over 3 folds)"), cli.out());
  }

  @Test
  void eval_ranking_excludesSeenAndFallsBackToRecommendWithoutBatch() throws IOException {
    int code = cli.mfctl("--json", "eval", ratings().toString(), "--split", "0.25", "--ranking",
        "-k", "2", "--relevant-threshold", "3", "-q");

    assertEquals(0, code, cli.err());
    assertFalse(fake.recommends.isEmpty());
    for (RecommendRequest r : fake.recommends) {
      assertTrue(r.getExcludeSeen());
      assertEquals(2, r.getK());
    }
    Struct doc = json(cli.out());
    assertEquals("ndcg", doc.getFieldsOrThrow("primary").getStringValue());
    Struct mean = obj(obj(list(doc, "results").get(0)).getFieldsOrThrow("mean"));
    for (String m : List.of("rmse", "precision", "recall", "map", "ndcg")) {
      assertTrue(mean.containsFields(m), m);
    }
    Struct baseline = obj(doc.getFieldsOrThrow("baseline"));
    assertEquals("biases+popularity", baseline.getFieldsOrThrow("name").getStringValue());
    Struct baseMean = obj(baseline.getFieldsOrThrow("mean"));
    for (String m : List.of("rmse", "precision", "recall", "map", "ndcg")) {
      assertTrue(baseMean.containsFields(m), m);
    }
  }

  @Test
  void eval_ranking_usesRecommendBatchWhenServedWithTheSameScores() throws IOException {
    cli.mfctl("--json", "eval", ratings().toString(), "--split", "0.5", "--ranking", "-q");
    Struct fallback = obj(obj(list(json(cli.out()), "results").get(0)).getFieldsOrThrow("mean"));
    int perUser = fake.recommends.size();
    fake.recommends.clear();
    fake.serveRecommendBatch = true;

    int code = cli.mfctl("--json", "eval", ratings().toString(), "--split", "0.5", "--ranking",
        "-q");

    assertEquals(0, code, cli.err());
    assertEquals(1, fake.recommendBatches.size());
    assertTrue(fake.recommends.isEmpty());
    assertEquals(perUser, fake.recommendBatches.get(0).getUserIdsCount());
    assertTrue(fake.recommendBatches.get(0).getExcludeSeen());
    Struct batched = obj(obj(list(json(cli.out()), "results").get(0)).getFieldsOrThrow("mean"));
    for (String m : List.of("precision", "recall", "map", "ndcg")) {
      assertEquals(fallback.getFieldsOrThrow(m), batched.getFieldsOrThrow(m), m);
    }
  }

  @Test
  void eval_gridSettingRejected_isMarkedFailedAndTheSearchGoesOn() throws IOException {
    int code = cli.mfctl("eval", ratings().toString(), "--folds", "2", "--grid", "factors=0,2",
        "-q");

    assertEquals(0, code, cli.err());
    assertTrue(cli.out().lines().anyMatch(l -> l.contains("failed: INVALID_ARGUMENT")), cli.out());
    assertTrue(cli.out().lines().reduce((a, b) -> b).orElseThrow()
        .startsWith("best by RMSE: factors=2: "), cli.out());
    // The failed setting is skipped on fold 2: 2 fits for factors=2, 1 for factors=0.
    assertEquals(3, fake.fits.size());
    assertEquals(2, fake.deletedMatrices.size());
  }

  @Test
  void eval_fitRejectedWithoutGrid_exitsWithServerErrorAndDeletesTheUpload()
      throws IOException {
    int code = cli.mfctl("eval", ratings().toString(), "--folds", "2", "--factors", "0", "-q");

    assertEquals(Mfctl.EXIT_SERVER, code);
    assertEquals(1, cli.err().lines().count(), cli.err());
    assertEquals(1, fake.uploads.size());
    assertEquals(1, fake.deletedMatrices.size());
  }

  @Test
  void eval_badGridToken_isAUsageErrorNamingIt() throws IOException {
    int code = cli.mfctl("eval", ratings().toString(), "--grid", "factors=2 regularization");

    assertEquals(Mfctl.EXIT_USAGE, code);
    assertTrue(cli.err().contains("'regularization'"), cli.err());
    assertTrue(fake.uploads.isEmpty());
  }

  @Test
  void eval_inputErrors_areUsageErrors() throws IOException {
    String data = ratings().toString();
    List<List<String>> bad = List.of(
        List.of("eval"),
        List.of("eval", data, "--train", data, "--test", data),
        List.of("eval", "--train", data),
        List.of("eval", "--train", data, "--test", data, "--folds", "3"),
        List.of("eval", data, "--folds", "3", "--split", "0.2"),
        List.of("eval", data, "--folds", "1"),
        List.of("eval", data, "--split", "1.5"),
        List.of("eval", data, "--sort-by", "ndcg"),
        List.of("eval", data, "--sort-by", "auc"),
        List.of("eval", data, "-k", "0"),
        List.of("eval", data, "--absent", "sometimes"));
    for (List<String> args : bad) {
      assertEquals(Mfctl.EXIT_USAGE, cli.mfctl(args.toArray(new String[0])),
          args + ": " + cli.err());
      assertEquals(1, cli.err().lines().count(), args + ": " + cli.err());
    }
    assertTrue(fake.fits.isEmpty());
  }

  @Test
  void help_describesEval() {
    assertEquals(0, cli.mfctl("eval", "--help"));

    for (String flag : List.of("--folds", "--split", "--train", "--test", "--grid", "--ranking",
        "--relevant-threshold", "-k", "--keep-models", "--sort-by", "--seed")) {
      assertTrue(cli.out().contains(flag), flag + " missing from:\n" + cli.out());
    }
  }

  @Test
  void eval_keepModels_leavesOneModelPerSettingAndFold() throws IOException {
    int code = cli.mfctl("eval", ratings().toString(), "--folds", "2", "--grid", "factors=2,3",
        "--keep-models", "-q");

    assertEquals(0, code, cli.err());
    assertEquals(4, fake.fits.size());
    assertFalse(fake.models.isEmpty());
  }
}
