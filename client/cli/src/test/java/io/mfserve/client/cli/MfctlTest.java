package io.mfserve.client.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import com.google.protobuf.util.JsonFormat;
import io.mfserve.client.FakeMfServer;
import io.mfserve.client.Ratings;
import io.mfserve.proto.v1.FitRequest;
import io.mfserve.proto.v1.IdForm;
import io.mfserve.proto.v1.ListSolversResponse;
import io.mfserve.proto.v1.ModelInfo;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

class MfctlTest {
  @TempDir
  Path dir;

  private final FakeMfServer fake = new FakeMfServer();
  @RegisterExtension
  final MfctlHarness cli = MfctlHarness.direct(fake);

  private Path uData() throws IOException {
    return Files.writeString(dir.resolve("u.data"),
        "1\t10\t5\t881250949\n1\t20\t3\t881250950\n2\t10\t4\t881250951\n"
            + "3\t30\t1\t881250952\n4\t20\t2\t881250953\n");
  }

  private void model(String id) {
    fake.models.put(id, FakeMfServer.info(id, FitRequest.newBuilder().setNumFactors(2).build(),
        new Ratings().add(1, 10, 5f).add(2, 20, 3f).toMatrix()));
  }

  private static Struct json(String text) throws InvalidProtocolBufferException {
    Struct.Builder b = Struct.newBuilder();
    JsonFormat.parser().merge(text, b);
    return b.build();
  }

  /** A "key   value" line of the model description, keys padded to one width. */
  private void assertLine(String key, String value) {
    assertTrue(cli.out().lines().anyMatch(
        l -> l.matches(java.util.regex.Pattern.quote(key) + " {2,}"
        + java.util.regex.Pattern.quote(value))), key + " = " + value + " not in:\n" + cli.out());
  }

  private void assertOneErrorLine() {
    assertEquals(1, cli.err().lines().count(), cli.err());
    assertTrue(cli.out().isEmpty(), cli.out());
  }

  @Test
  void help_listsTheCommands() {
    assertEquals(0, cli.mfctl("--help"));
    for (String c : List.of("fit", "factors", "predict", "recommend", "models", "model",
        "delete", "solvers", "similar", "loadtest")) {
      assertTrue(cli.out().contains("\n  " + c + " "), c + " missing from:\n" + cli.out());
    }
  }

  @Test
  void fit_movieLensFile_sendsOptionsAndPrintsModelInfo() throws IOException {
    int code = cli.mfctl("fit", uData().toString(), "--factors", "4", "--model-id", "ml",
        "--iterations", "3", "--param", "alpha=2", "--seed", "7", "--absent", "implicit",
        "--regularization", "0.05", "--solver", "als");

    assertEquals(0, code, cli.err());
    assertEquals("", cli.err());
    FitRequest sent = fake.fits.get(0);
    assertEquals(4, sent.getNumFactors());
    assertEquals("2", sent.getParamsOrThrow("alpha"));
    assertEquals(7, sent.getSeed());
    assertEquals(0.05, sent.getRegularization());
    assertEquals(5, sent.getMatrix().getSparse().getValuesCount());
    assertTrue(cli.out().startsWith("read 5 entries from "), cli.out());
    assertLine("model", "ml");
    assertLine("shape", "4 users x 3 items, 5 entries (int64 ids)");
    assertLine("training RMSE", "0.5000");
    assertLine("loss", "100 50 33.33 (per iteration)");
    assertLine("fit time", "1.25 s");
    assertLine("params", "alpha=2, lambda=0.1");
  }

  @Test
  void fit_json_printsModelInfoInTheProto3JsonMapping() throws IOException {
    assertEquals(0, cli.mfctl("--json", "fit", uData().toString(), "--model-id", "j"), cli.err());

    ModelInfo.Builder parsed = ModelInfo.newBuilder();
    JsonFormat.parser().merge(cli.out(), parsed);
    assertEquals("j", parsed.getModelId());
    assertEquals(4, parsed.getNumUsers());
    assertEquals(1, cli.out().lines().count());
  }

  @Test
  void jsonOption_afterTheSubcommand_appliesToo() throws IOException {
    assertEquals(0, cli.mfctl("fit", uData().toString(), "--json"), cli.err());

    assertEquals("als", json(cli.out()).getFieldsOrThrow("solver").getStringValue());
  }

  @Test
  void fit_badFactors_exitsOneWithTheFieldViolation() throws IOException {
    int code = cli.mfctl("fit", uData().toString(), "--factors", "0");

    assertEquals(Mfctl.EXIT_SERVER, code);
    assertOneErrorLine();
    assertTrue(cli.err().startsWith("mfctl fit: INVALID_ARGUMENT: num_factors is 0; it must be at "
        + "least 1 (field num_factors); check the arguments"), cli.err());
  }

  @Test
  void fit_malformedFile_exitsTwoNamingTheLine() throws IOException {
    Path bad = Files.writeString(dir.resolve("bad.data"), "1\t2\t3\n1\t2\tfive\n");

    int code = cli.mfctl("fit", bad.toString(), "--format", "movielens");

    assertEquals(Mfctl.EXIT_USAGE, code);
    assertOneErrorLine();
    assertTrue(cli.err().contains("bad.data line 2: rating 'five' is not a number"), cli.err());
    assertTrue(fake.fits.isEmpty());
  }

  @Test
  void fit_missingFile_exitsTwo() {
    assertEquals(Mfctl.EXIT_USAGE, cli.mfctl("fit", dir.resolve("nope.csv").toString()));
    assertOneErrorLine();
    assertTrue(cli.err().contains("no such file"), cli.err());
  }

  @Test
  void fit_noFile_sendsNoMatrix_forASolverThatReadsItsOwnInput() {
    int code = cli.mfctl("fit", "--solver", "spark-als", "--param",
        "source_uri=hdfs://nn/ratings.parquet", "--param", "user_col=uid", "--model-id", "s");

    assertEquals(0, code, cli.err());
    FitRequest sent = fake.fits.get(0);
    assertEquals(FitRequest.InputCase.INPUT_NOT_SET, sent.getInputCase());
    assertEquals("spark-als", sent.getSolver());
    assertEquals("hdfs://nn/ratings.parquet", sent.getParamsOrThrow("source_uri"));
    assertEquals("uid", sent.getParamsOrThrow("user_col"));
    assertTrue(cli.out().startsWith("trained on the solver's own input ("), cli.out());
    assertLine("model", "s");
  }

  @Test
  void fit_noFileAndNoParam_exitsTwoSayingWhatIsMissing() {
    assertEquals(Mfctl.EXIT_USAGE, cli.mfctl("fit", "--solver", "als"));
    assertTrue(cli.err().contains("Missing FILE") && cli.err().contains("source_uri"),
        cli.err());
    assertTrue(fake.fits.isEmpty());
    assertEquals(Mfctl.EXIT_USAGE, cli.mfctl("fit", "--param", "source_uri=x", "--vocab", "v"));
    assertTrue(cli.err().contains("--vocab needs a FILE"), cli.err());
  }

  @Test
  void recommend_human_printsAnAlignedRankedTable() {
    model("m");

    assertEquals(0, cli.mfctl("recommend", "m", "--user", "1", "-k", "2", "--exclude-seen"),
        cli.err());

    assertEquals(List.of("RANK  ITEM   SCORE", "   1     3  0.9000", "   2     1  0.5000"),
        cli.out().lines().toList());
  }

  @Test
  void recommend_json_listsItemsWithScores() throws IOException {
    model("m");

    assertEquals(0, cli.mfctl("--json", "recommend", "m", "-u", "1"), cli.err());

    Struct s = json(cli.out());
    assertEquals(1.0, s.getFieldsOrThrow("user").getNumberValue());
    List<Value> items = s.getFieldsOrThrow("items").getListValue().getValuesList();
    assertEquals(3, items.size());
    assertEquals(3.0, items.get(0).getStructValue().getFieldsOrThrow("item").getNumberValue());
    assertEquals(0.9, items.get(0).getStructValue().getFieldsOrThrow("score").getNumberValue(),
        1e-6);
  }

  @Test
  void recommend_missingUser_isAUsageErrorOnOneLine() {
    assertEquals(Mfctl.EXIT_USAGE, cli.mfctl("recommend", "m"));

    assertOneErrorLine();
    assertTrue(cli.err().startsWith("mfctl recommend: give exactly one of --user USER, --history"
        + " FILE or --users FILE"), cli.err());
  }

  @Test
  void unknownOption_isAUsageError() {
    assertEquals(Mfctl.EXIT_USAGE, cli.mfctl("models", "--bogus"));
    assertOneErrorLine();
  }

  @Test
  void unknownModel_isAServerErrorOnOneLineWithAHint() {
    assertEquals(Mfctl.EXIT_SERVER, cli.mfctl("model", "nope"));

    assertOneErrorLine();
    assertEquals("mfctl model: NOT_FOUND: no model 'nope'; list the models with: mfctl models",
        cli.err().strip());
  }

  @Test
  void solvers_human_printsEachSolverWithAParameterTable() {
    assertEquals(0, cli.mfctl("solvers"), cli.err());

    List<String> lines = cli.out().lines().toList();
    assertEquals("als: Alternating least squares.", lines.get(0));
    assertEquals("  absent entries: unknown (default), implicit", lines.get(1));
    assertEquals("  PARAMETER       TYPE    DEFAULT  RANGE       DESCRIPTION", lines.get(2));
    assertEquals("  max_iterations  int          10  [1, 10000]  Number of sweeps.", lines.get(3));
    assertTrue(cli.out().contains("random|nndsvd"), cli.out());
  }

  @Test
  void solvers_json_isTheListSolversResponse() throws IOException {
    assertEquals(0, cli.mfctl("solvers", "--json"), cli.err());

    ListSolversResponse.Builder parsed = ListSolversResponse.newBuilder();
    JsonFormat.parser().merge(cli.out(), parsed);
    assertEquals("nmf", parsed.getSolvers(1).getName());
    assertEquals("nndsvd", parsed.getSolvers(1).getParameters(0).getAllowedValues(1));
  }

  @Test
  void predict_pairsFromOptionsAndFile_printsOneRowPerPair() throws IOException {
    model("m");
    Path pairs = Files.writeString(dir.resolve("pairs.txt"), "# user item\n3 4\n5,6\n");

    assertEquals(0, cli.mfctl("predict", "m", "--user", "1", "--item", "2", "--pairs",
        pairs.toString()), cli.err());

    assertEquals(List.of("USER  ITEM   SCORE", "   1     2  1.2000", "   3     4  3.4000",
        "   5     6  5.6000"), cli.out().lines().toList());
  }

  @Test
  void predict_unevenPairs_isAUsageError() {
    assertEquals(Mfctl.EXIT_USAGE, cli.mfctl("predict", "m", "--user", "1"));
    assertOneErrorLine();
  }

  @Test
  void factors_modelsAndDelete_humanOutput() throws IOException {
    model("m");

    assertEquals(0, cli.mfctl("factors", "m"), cli.err());
    assertTrue(cli.out().contains("USER      F0      F1"), cli.out());
    assertTrue(cli.out().contains("   0  0.0000  0.1000"), cli.out());

    Path csv = dir.resolve("f.csv");
    assertEquals(0, cli.mfctl("factors", "m", "--output", csv.toString()), cli.err());
    List<String> lines = Files.readAllLines(csv);
    assertEquals("side,id,f0,f1", lines.get(0));
    assertEquals("user,1,1.0,1.1", lines.get(2));
    assertEquals("item,0,-0.0,-0.1", lines.get(3));

    assertEquals(0, cli.mfctl("models"), cli.err());
    assertTrue(cli.out().startsWith("MODEL  SOLVER  USERS  ITEMS"), cli.out());

    assertEquals(0, cli.mfctl("delete", "m"), cli.err());
    assertEquals("deleted model m (freed 2.0 KiB)", cli.out().strip());
    assertEquals(0, cli.mfctl("models"), cli.err());
    assertTrue(cli.out().startsWith("no models"), cli.out());
  }

  @Test
  void stringKeyedModel_recommendSendsTheUserAsAKey() throws IOException {
    fake.models.put("s", ModelInfo.newBuilder().setModelId("s").setNumFactors(1)
        .setUserIdForm(IdForm.ID_FORM_STRING).setItemIdForm(IdForm.ID_FORM_STRING).build());

    assertEquals(0, cli.mfctl("--json", "recommend", "s", "--user", "ann", "-k", "1"), cli.err());

    assertEquals("c", json(cli.out()).getFieldsOrThrow("items").getListValue().getValues(0)
        .getStructValue().getFieldsOrThrow("item").getStringValue());
  }

  @Test
  void closedPort_exitsThreeSayingHowToStartTheServer() throws IOException {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    ByteArrayOutputStream e = new ByteArrayOutputStream();

    int code = Mfctl.run(new String[] {"--target", "127.0.0.1:" + port, "models"},
        new PrintStream(new ByteArrayOutputStream()), new PrintStream(e, true,
            StandardCharsets.UTF_8));

    assertEquals(Mfctl.EXIT_UNREACHABLE, code);
    String message = e.toString(StandardCharsets.UTF_8);
    assertEquals(1, message.lines().count(), message);
    assertTrue(message.startsWith("mfctl: cannot reach mfserve at 127.0.0.1:" + port), message);
    assertTrue(message.contains("is the server running? start it with: java -jar "
        + "server/target/mfserve-server.jar"), message);
  }
}
