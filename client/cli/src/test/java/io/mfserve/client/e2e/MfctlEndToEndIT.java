package io.mfserve.client.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.mfserve.client.Factors;
import io.mfserve.client.MatrixFactorization;
import io.mfserve.client.MfClient;
import io.mfserve.client.MfServeException;
import io.mfserve.client.Ratings;
import io.mfserve.proto.v1.ModelInfo;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Black box: the built server jar on a free port, driven by the built mfctl jar as a separate
 * process and by the Java library over a real socket.
 */
class MfctlEndToEndIT {
  private static ServerProcess server;

  @TempDir
  Path dir;

  @BeforeAll
  static void startServer() throws Exception {
    server = ServerProcess.start("--shutdown-grace", "5s", "--max-k", "5000");
  }

  @AfterAll
  static void stopServer() {
    if (server != null) {
      server.close();
    }
  }

  private record Run(int exit, String out, String err) { }

  private Run mfctl(String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of(ServerProcess.java(), "-jar",
        ServerProcess.jar("mfserve.mfctl.jar").toString(), "--target", server.target()));
    cmd.addAll(List.of(args));
    Path out = Files.createTempFile(dir, "out", ".txt");
    Path err = Files.createTempFile(dir, "err", ".txt");
    Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile())
        .start();
    assertTrue(p.waitFor(120, TimeUnit.SECONDS), "mfctl " + String.join(" ", args));
    return new Run(p.exitValue(), Files.readString(out), withoutJvmWarnings(
        Files.readString(err)));
  }

  /**
   * Drops the JVM's own start-up warnings (Java 24+ prints one when protobuf and Netty touch
   * sun.misc.Unsafe); they are not mfctl's output, and mfctl's stderr is what is checked.
   */
  static String withoutJvmWarnings(String stderr) {
    StringBuilder sb = new StringBuilder();
    for (String line : stderr.split("\\R", -1)) {
      if (!line.startsWith("WARNING: ")) {
        sb.append(line).append('\n');
      }
    }
    return sb.toString().strip().isEmpty() ? "" : sb.toString().strip() + "\n";
  }

  private Run ok(String... args) throws IOException, InterruptedException {
    Run r = mfctl(args);
    assertEquals(0, r.exit(), "mfctl " + String.join(" ", args) + "\nstdout: " + r.out()
        + "\nstderr: " + r.err() + "\nserver log:\n" + server.logText());
    return r;
  }

  /** The seed example as a dense CSV: 10 × 20 random integers 0..5. */
  private Path seedCsv() throws IOException {
    Random rnd = new Random(1);
    StringBuilder sb = new StringBuilder();
    for (int r = 0; r < 10; r++) {
      for (int c = 0; c < 20; c++) {
        sb.append(c == 0 ? "" : ",").append(rnd.nextInt(6));
      }
      sb.append('\n');
    }
    Path f = dir.resolve("seed.csv");
    Files.writeString(f, sb.toString(), StandardCharsets.UTF_8);
    return f;
  }

  @Test
  void mfctl_seedExample_everySolver_fitsAndReturnsFactorsOfTheRightShape() throws Exception {
    Path csv = seedCsv();
    for (String solver : List.of("als", "sgd", "nmf")) {
      String id = "seed-" + solver;
      Run fit = ok("fit", csv.toString(), "--format", "dense-csv", "--solver", solver,
          "--factors", "5", "--model-id", id);
      assertTrue(fit.out().contains(id), fit.out());
      Run factors = ok("--json", "factors", id);
      assertTrue(factors.out().contains("\"user_factors\"") || factors.out().contains("user"),
          factors.out());
      Path csvOut = dir.resolve(id + ".csv");
      ok("factors", id, "-o", csvOut.toString());
      assertTrue(Files.size(csvOut) > 0);
    }
    Run models = ok("models");
    for (String solver : List.of("als", "sgd", "nmf")) {
      assertTrue(models.out().contains("seed-" + solver), models.out());
    }
  }

  /**
   * Needs the server side of the model repository (issue #15): factors written with
   * {@code factors -o} come back from {@code import-factors} unchanged, an alias moves only by
   * compare-and-set when asked, and a snapshot exported through the alias imports as the same
   * model.
   */
  @Test
  void mfctl_repository_factorsCsvRoundTrip_aliasCompareAndSet_exportImport() throws Exception {
    ok("fit", seedCsv().toString(), "--format", "dense-csv", "--solver", "sgd", "--factors",
        "3", "--model-id", "repo-src");
    Path original = dir.resolve("src.csv");
    ok("factors", "repo-src", "-o", original.toString());
    ok("import-factors", original.toString(), "--model-id", "repo-copy");
    Path copied = dir.resolve("copy.csv");
    ok("factors", "repo-copy", "-o", copied.toString());
    assertEquals(Files.readString(original), Files.readString(copied));

    ok("alias", "set", "repo-prod", "repo-src", "--expect-absent");
    Run stale = mfctl("alias", "set", "repo-prod", "repo-copy", "--expect", "repo-copy");
    assertEquals(1, stale.exit(), stale.err());
    assertTrue(stale.err().contains("FAILED_PRECONDITION"), stale.err());
    ok("alias", "set", "repo-prod", "repo-copy", "--expect", "repo-src");
    assertEquals("repo-copy", ok("alias", "get", "repo-prod").out().strip());
    assertTrue(ok("models").out().lines().anyMatch(l -> l.startsWith("repo-copy ")
        && l.endsWith("repo-prod")), "models lists the alias");

    Path snapshot = dir.resolve("prod.mfsnap");
    ok("export", "repo-prod", "-o", snapshot.toString());
    assertTrue(Files.size(snapshot) > 0);
    ok("import", snapshot.toString(), "--model-id", "repo-restored");
    Path restored = dir.resolve("restored.csv");
    ok("factors", "repo-restored", "-o", restored.toString());
    assertEquals(Files.readString(original), Files.readString(restored));

    ok("alias", "delete", "repo-prod", "--expect", "repo-copy");
    for (String m : List.of("repo-src", "repo-copy", "repo-restored")) {
      ok("delete", m);
    }
  }

  /**
   * Writes a MovieLens-style ratings file (user, item, rating 1-5, timestamp; tab-separated) of
   * {@code users} × {@code items} with each pair rated with probability {@code density}.
   */
  private Path ratings(String name, long seed, int users, int items, double density)
      throws IOException {
    StringBuilder sb = new StringBuilder();
    Random rnd = new Random(seed);
    for (int u = 1; u <= users; u++) {
      for (int i = 1; i <= items; i++) {
        if (rnd.nextDouble() < density) {
          sb.append(u).append('\t').append(i).append('\t').append(1 + rnd.nextInt(5))
              .append('\t').append(880000000 + u * i).append('\n');
        }
      }
    }
    Path data = dir.resolve(name);
    Files.writeString(data, sb.toString());
    return data;
  }

  @Test
  void mfctl_ratingsFile_predictRecommendDelete() throws Exception {
    Path data = ratings("u.data", 2, 60, 40, 0.3);
    ok("fit", data.toString(), "--factors", "4", "--model-id", "ml", "--iterations", "5");
    Run predict = ok("predict", "ml", "--user", "1", "--item", "2");
    assertFalse(predict.out().isBlank());
    Run rec = ok("--json", "recommend", "ml", "--user", "3", "-k", "5", "--exclude-seen");
    assertTrue(rec.out().contains("score"), rec.out());
    ok("model", "ml");
    ok("solvers");
    // A limit set by a server flag is shown by mfctl limits and named when a request is over it.
    Run limits = ok("limits");
    assertTrue(limits.out().lines().anyMatch(l -> l.startsWith("max_k ")
        && l.contains(" 5000 ") && l.contains("--max-k")), limits.out());
    Run overK = mfctl("recommend", "ml", "--user", "3", "-k", "5001");
    assertEquals(1, overK.exit(), overK.err());
    assertTrue(overK.err().contains("RESOURCE_EXHAUSTED") && overK.err().contains("--max-k"),
        overK.err());
    ok("delete", "ml");
    Run gone = mfctl("model", "ml");
    assertEquals(1, gone.exit(), gone.err());
    assertTrue(gone.err().contains("NOT_FOUND"), gone.err());
    assertEquals(1, gone.err().strip().lines().count(), "one-line error: " + gone.err());
  }

  @Test
  void mfctl_recall_withoutAnIndex_bothPathsAgreeOnEverySampledUser() throws Exception {
    Path data = ratings("recall.data", 4, 80, 50, 0.3);
    ok("fit", data.toString(), "--factors", "4", "--model-id", "recall", "--iterations", "3");
    // 50 items: far below --ann-min-rows, so both answers come from the exact scan.
    Run text = ok("recall", "recall", "--users", "30", "--similar");
    assertTrue(text.out().contains("has no approximate index"), text.out());
    Run json = ok("--json", "recall", "recall", "--users", "30", "--similar", "-k", "5");
    assertTrue(json.out().contains("\"recommend\":{\"queries\":30,\"recall\":1.0,"),
        json.out());
    assertTrue(json.out().contains("\"similar_items\":{\"queries\":30,\"recall\":1.0,"),
        json.out());
    ok("delete", "recall");
  }

  @Test
  void mfctl_evalTune_reportsEachFoldsChosenSetting() throws Exception {
    Path data = ratings("u.data", 3, 60, 40, 0.4);
    String[] args = {"eval", data.toString(), "--folds", "2", "--iterations", "6", "--tune",
        "factors=2:6 regularization=1:30:log", "--tune-fits", "8", "--tune-method", "halving"};
    Run text = ok(args);
    for (int fold = 1; fold <= 2; fold++) {
      String prefix = "tuned on fold " + fold + ": num_factors=";
      assertTrue(text.out().lines().anyMatch(l -> l.startsWith(prefix)
          && l.contains(" regularization=") && l.contains("best of ")), text.out());
    }
    List<String> json = new ArrayList<>(List.of("--json"));
    json.addAll(List.of(args));
    Run j = ok(json.toArray(new String[0]));
    // Every fold of the one setting carries what its search chose.
    assertEquals(2, j.out().split("\"tuned\":", -1).length - 1, j.out());
    assertTrue(j.out().contains("\"held_out\":"), j.out());
  }

  @Test
  void mfctl_loadtest_overRealChannels_closedAndOpenLoopsCompleteEveryCall() throws Exception {
    ok("fit", seedCsv().toString(), "--format", "dense-csv", "--factors", "3", "--model-id",
        "load");
    // Closed loop: every call of the window succeeds.
    Run closed = ok("--json", "loadtest", "--rpc", "similar", "--model", "load",
        "--concurrency", "4", "--channels", "2", "--duration", "1s", "--warmup", "0s");
    assertTrue(closed.out().contains("\"mode\":\"closed\""), closed.out());
    assertTrue(closed.out().contains("\"failed\":0,"), closed.out());
    // Open loop, started from the channels' own event loops: 200 calls/s for 1 s is 200 calls,
    // all answered.
    Run open = ok("--json", "loadtest", "--rpc", "predict", "--model", "load", "--rate", "200",
        "--concurrency", "8", "--channels", "3", "--duration", "1s", "--warmup", "200ms");
    assertTrue(open.out().contains("\"calls\":200,\"ok\":200,\"failed\":0,"), open.out());
    Run health = ok("loadtest", "--rpc", "health", "--rate", "100", "--duration", "500ms",
        "--warmup", "0s");
    assertTrue(health.out().contains("50 (50 ok, 0 failed)"), health.out());
  }

  @Test
  void mfctl_badInput_failsWithOneLineAndTheServerKeepsServing() throws Exception {
    Path csv = seedCsv();
    Run bad = mfctl("fit", csv.toString(), "--format", "dense-csv", "--factors", "50");
    assertEquals(1, bad.exit());
    assertTrue(bad.err().contains("num_factors"), bad.err());
    Run unknownSolver = mfctl("fit", csv.toString(), "--format", "dense-csv", "--solver",
        "nope");
    assertEquals(1, unknownSolver.exit());
    assertTrue(unknownSolver.err().contains("solver"), unknownSolver.err());
    ok("fit", csv.toString(), "--format", "dense-csv", "--factors", "2");
  }

  @Test
  void javaLibrary_seedSnippetAndSparseRatings_overARealSocket() throws Exception {
    float[][] ratings = new float[10][20];
    Random rnd = new Random(3);
    for (float[] row : ratings) {
      for (int i = 0; i < row.length; i++) {
        row[i] = rnd.nextInt(6);
      }
    }
    try (MatrixFactorization model = new MatrixFactorization(server.target(), ratings, 5)) {
      model.fit();
      Factors f = model.getFactors();
      assertEquals(10, f.userFactors().length);
      assertEquals(5, f.userFactors()[0].length);
      assertEquals(20, f.itemFactors().length);
      float[][] rec = f.reconstruct();
      double err = 0;
      double base = 0;
      double mean = 0;
      for (float[] row : ratings) {
        for (float v : row) {
          mean += v / 200.0;
        }
      }
      for (int u = 0; u < 10; u++) {
        for (int i = 0; i < 20; i++) {
          err += Math.pow(ratings[u][i] - rec[u][i], 2);
          base += Math.pow(ratings[u][i] - mean, 2);
        }
      }
      assertTrue(err < base);
    }
    ManagedChannel ch = ManagedChannelBuilder.forTarget(server.target()).usePlaintext().build();
    try {
      Ratings r = new Ratings();
      for (int u = 0; u < 30; u++) {
        for (int i = 0; i < 20; i++) {
          if ((u * 7 + i * 3) % 4 == 0) {
            r.add("user-" + u, "sku-" + i, 1 + (u + i) % 5);
          }
        }
      }
      try (MatrixFactorization model = new MatrixFactorization(ch, r, 3).solver("sgd")) {
        ModelInfo info = model.fit();
        assertEquals(30, info.getNumUsers());
        assertEquals("sku-", model.recommend("user-1", 3, true).get(0).itemKey()
            .substring(0, 4));
      }
      MfClient client = new MfClient(ch);
      MfServeException e = org.junit.jupiter.api.Assertions.assertThrows(
          MfServeException.class, () -> client.getModel("no-such-model"));
      assertEquals(io.grpc.Status.Code.NOT_FOUND, e.code());
    } finally {
      ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void fitWithProgressThenPlot_realServer_everyIterationArrivesAndPngsAreWritten()
      throws Exception {
    Ratings r = new Ratings();
    Random rnd = new Random(3);
    for (int u = 0; u < 80; u++) {
      for (int i = 0; i < 50; i++) {
        if (rnd.nextDouble() < 0.3) {
          r.add(u, i, 1 + rnd.nextInt(5));
        }
      }
    }
    ManagedChannel ch = ManagedChannelBuilder.forTarget(server.target()).usePlaintext().build();
    List<io.mfserve.proto.v1.FitProgress> events = new ArrayList<>();
    try (MatrixFactorization model = new MatrixFactorization(ch, r, 3).maxIterations(6)
        .validationFraction(0.2).modelId("curves")) {
      ModelInfo info = model.fit(events::add);
      assertEquals(info.getIterations(), events.size());
      for (int i = 0; i < events.size(); i++) {
        assertEquals(i + 1, events.get(i).getIteration());
        assertTrue(events.get(i).hasValidationRmse());
      }
    } finally {
      ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    Path loss = dir.resolve("loss.png");
    Path items = dir.resolve("items.png");
    Run plot = ok("plot", "curves", "--loss", loss.toString(), "--embedding", items.toString());
    assertEquals("", plot.err());
    for (Path png : List.of(loss, items)) {
      byte[] bytes = Files.readAllBytes(png);
      assertTrue(bytes.length > 5_000, png + ": " + bytes.length + " bytes");
      assertEquals("PNG", new String(bytes, 1, 3, StandardCharsets.US_ASCII));
    }
    // Not a terminal: fit draws no progress bars, stderr stays empty.
    assertEquals("", ok("fit", seedCsv().toString(), "--format", "dense-csv").err());
  }

  @Test
  void largeUpload_aMillionRatings_goThroughTheDefaultMessageLimit() throws Exception {
    Ratings r = new Ratings();
    for (int n = 0; n < 1_000_000; n++) {
      // Distinct pairs: n -> (n mod 20000, 100 * (n div 20000) + n mod 100).
      int user = n % 20_000;
      r.add(user, 100L * (n / 20_000) + user % 100, 1 + n % 5);
    }
    ManagedChannel ch = ManagedChannelBuilder.forTarget(server.target()).usePlaintext().build();
    try (MatrixFactorization model = new MatrixFactorization(new MfClient(ch), r.toMatrix(), 4)
        .maxIterations(1).modelId("big")) {
      ModelInfo info = model.fit();
      assertEquals(1_000_000, info.getNumEntries());
      assertEquals(20_000, info.getNumUsers());
    } finally {
      ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }
}
