package io.mfserve.client.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.util.JsonFormat;
import io.mfserve.client.FakeMfServer;
import io.mfserve.client.Ratings;
import io.mfserve.proto.v1.DamagedModel;
import io.mfserve.proto.v1.FitRequest;
import io.mfserve.proto.v1.GetFactorsResponse;
import io.mfserve.proto.v1.IdForm;
import io.mfserve.proto.v1.ImportFactorsHeader;
import io.mfserve.proto.v1.ImportFactorsRequest;
import io.mfserve.proto.v1.ListAliasesResponse;
import io.mfserve.proto.v1.ListModelsResponse;
import io.mfserve.proto.v1.ModelInfo;
import io.mfserve.proto.v1.SetAliasResponse;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** mfctl alias, export, import, import-factors, fit --warm-start and models, against the fake. */
class RepositoryCommandsTest {
  @TempDir
  Path dir;

  private final FakeMfServer fake = new FakeMfServer();
  @RegisterExtension
  final MfctlHarness cli = MfctlHarness.direct(fake);

  @AfterEach
  void resetProgress() {
    Progress.forcedWidth = 0;
    Progress.readBarAfter = Duration.ofMillis(500);
  }

  private void model(String id) {
    fake.models.put(id, FakeMfServer.info(id, FitRequest.newBuilder().setNumFactors(2).build(),
        new Ratings().add(1, 10, 5f).add(2, 20, 3f).toMatrix()));
  }

  private void assertOneErrorLine() {
    assertEquals(1, cli.err().lines().count(), cli.err());
    assertTrue(cli.out().isEmpty(), cli.out());
  }

  @Test
  void help_listsTheNewCommands_andAliasItsSubcommands() {
    assertEquals(0, cli.mfctl("--help"));
    for (String c : List.of("alias", "export", "import", "import-factors")) {
      assertTrue(cli.out().contains("\n  " + c + " "), c + " missing from:\n" + cli.out());
    }
    assertEquals(0, cli.mfctl("alias", "--help"));
    for (String c : List.of("set", "get", "list", "delete")) {
      assertTrue(cli.out().contains("\n  " + c + " "), c + " missing from:\n" + cli.out());
    }
    assertEquals(0, cli.mfctl("fit", "--help"));
    assertTrue(cli.out().contains("--warm-start=MODEL"), cli.out());
  }

  // ---------------------------------------------------------------------------------------
  // alias

  @Test
  void alias_setGetListDelete_humanOutput() {
    model("m1");
    model("m2");

    assertEquals(0, cli.mfctl("alias", "set", "prod", "m1"), cli.err());
    assertEquals("alias prod -> m1 (new)", cli.out().strip());
    assertEquals(0, cli.mfctl("alias", "set", "prod", "m2", "--expect", "m1"), cli.err());
    assertEquals("alias prod -> m2 (was m1)", cli.out().strip());
    assertEquals(0, cli.mfctl("alias", "set", "canary", "m1", "--expect-absent"), cli.err());

    assertEquals(0, cli.mfctl("alias", "get", "prod"), cli.err());
    assertEquals("m2", cli.out().strip());
    assertEquals(0, cli.mfctl("alias", "list"), cli.err());
    assertEquals(List.of("ALIAS   MODEL", "canary  m1", "prod    m2"),
        cli.out().lines().toList());
    assertEquals(0, cli.mfctl("alias", "delete", "prod", "--expect", "m2"), cli.err());
    assertEquals("deleted alias prod (it pointed at m2)", cli.out().strip());

    assertFalse(fake.setAliasRequests.get(0).hasExpectedModelId());
    assertEquals("m1", fake.setAliasRequests.get(1).getExpectedModelId());
    assertTrue(fake.setAliasRequests.get(2).hasExpectedModelId());
    assertEquals("", fake.setAliasRequests.get(2).getExpectedModelId());
    assertEquals("m2", fake.deleteAliasRequests.get(0).getExpectedModelId());
  }

  @Test
  void alias_casFailure_isAServerErrorOnOneLineWithAHint() {
    model("m1");
    model("m2");
    fake.aliases.put("prod", "m1");

    assertEquals(Mfctl.EXIT_SERVER, cli.mfctl("alias", "set", "prod", "m2", "--expect", "m2"));

    assertOneErrorLine();
    assertTrue(cli.err().startsWith("mfctl alias set: FAILED_PRECONDITION: alias 'prod' points"
        + " at 'm1'"), cli.err());
    assertTrue(cli.err().strip().endsWith("see where it points now with: mfctl alias get ALIAS"),
        cli.err());
    assertEquals("m1", fake.aliases.get("prod"));
  }

  @Test
  void alias_bothExpectations_isAUsageError() {
    assertEquals(Mfctl.EXIT_USAGE, cli.mfctl("alias", "set", "prod", "m1", "--expect", "m0",
        "--expect-absent"));
    assertOneErrorLine();
    assertTrue(cli.err().startsWith("mfctl alias set: "), cli.err());
    assertTrue(fake.setAliasRequests.isEmpty());
  }

  @Test
  void alias_withoutSubcommand_isAUsageError() {
    assertEquals(Mfctl.EXIT_USAGE, cli.mfctl("alias"));
    assertOneErrorLine();
    assertTrue(cli.err().contains("set, get, list, delete"), cli.err());
  }

  @Test
  void alias_json_isTheProtoMapping() throws IOException {
    model("m1");

    assertEquals(0, cli.mfctl("--json", "alias", "set", "prod", "m1"), cli.err());
    SetAliasResponse.Builder set = SetAliasResponse.newBuilder();
    JsonFormat.parser().merge(cli.out(), set);
    assertEquals("m1", set.getAlias().getModelId());

    assertEquals(0, cli.mfctl("alias", "list", "--json"), cli.err());
    ListAliasesResponse.Builder list = ListAliasesResponse.newBuilder();
    JsonFormat.parser().merge(cli.out(), list);
    assertEquals("prod", list.getAliases(0).getAlias());
  }

  // ---------------------------------------------------------------------------------------
  // export / import

  private static byte[] snapshot(String modelId, int size) {
    byte[] b = new byte[size];
    new Random(modelId.hashCode()).nextBytes(b);
    return b;
  }

  @Test
  void export_toFile_writesTheSnapshotAndLeavesNoPartFile() throws IOException {
    model("m1");
    fake.snapshotBytes = 200_000;
    Path file = dir.resolve("m1.mfsnap");

    assertEquals(0, cli.mfctl("export", "m1", "-o", file.toString()), cli.err());

    assertArrayEquals(snapshot("m1", 200_000), Files.readAllBytes(file));
    assertEquals("exported model m1 (195.3 KiB) to " + file, cli.out().strip());
    try (var files = Files.list(dir)) {
      assertEquals(List.of(file), files.toList());
    }
  }

  @Test
  void export_toStdout_writesOnlyTheSnapshot() {
    model("m1");
    fake.snapshotBytes = 70_000;

    assertEquals(0, cli.mfctl("export", "m1", "-o", "-"), cli.err());

    assertArrayEquals(snapshot("m1", 70_000), cli.outBytes());
  }

  @Test
  void export_failure_leavesNoFile() throws IOException {
    model("m1");
    fake.snapshotBytes = 10_000;
    fake.truncateExport = true;
    Path file = dir.resolve("m1.mfsnap");

    assertEquals(Mfctl.EXIT_SERVER, cli.mfctl("export", "m1", "-o", file.toString()));

    assertOneErrorLine();
    assertTrue(cli.err().contains("INTERNAL"), cli.err());
    try (var files = Files.list(dir)) {
      assertEquals(0, files.count());
    }
  }

  @Test
  void export_withoutOutput_isAUsageError() {
    assertEquals(Mfctl.EXIT_USAGE, cli.mfctl("export", "m1"));
    assertOneErrorLine();
  }

  @Test
  void exportThenImport_underANewId_servesTheCopy() throws IOException {
    model("m1");
    fake.snapshotBytes = 2_500_000;
    Path file = dir.resolve("m1.mfsnap");
    assertEquals(0, cli.mfctl("export", "m1", "-o", file.toString()), cli.err());

    assertEquals(0, cli.mfctl("import", file.toString(), "--model-id", "copy"), cli.err());

    assertTrue(cli.out().startsWith("imported " + file + " (2.4 MiB) as model copy\n"),
        cli.out());
    assertTrue(cli.out().lines().anyMatch(l -> l.matches("model +copy")), cli.out());
    assertTrue(fake.models.containsKey("copy"));
    assertEquals(3, fake.importModelCalls.get(0).size());
    assertEquals("copy", fake.importModelCalls.get(0).get(0).getModelId());

    assertEquals(0, cli.mfctl("--json", "import", file.toString(), "--model-id", "copy2"),
        cli.err());
    ModelInfo.Builder parsed = ModelInfo.newBuilder();
    JsonFormat.parser().merge(cli.out(), parsed);
    assertEquals("copy2", parsed.getModelId());
  }

  @Test
  void import_missingFile_isAUsageError() {
    assertEquals(Mfctl.EXIT_USAGE, cli.mfctl("import", dir.resolve("nope").toString()));
    assertOneErrorLine();
    assertTrue(cli.err().contains("no such file"), cli.err());
  }

  @Test
  void export_onATerminal_drawsATransferBar() throws IOException {
    model("m1");
    fake.snapshotBytes = 300_000;
    Progress.forcedWidth = 120;

    assertEquals(0, cli.mfctl("export", "m1", "-o", dir.resolve("s").toString()), cli.err());

    assertTrue(cli.err().contains("export m1 100%"), cli.err());
    assertTrue(cli.out().startsWith("exported model m1"), cli.out());
  }

  // ---------------------------------------------------------------------------------------
  // factors -o, then import-factors

  /** A model with string user keys (one looks like a number), int item ids, biases. */
  private void keyedBiasedModel(String id) {
    ModelInfo info = ModelInfo.newBuilder().setModelId(id).setNumFactors(2).setNumUsers(2)
        .setNumItems(2).setHasBiases(true).setSolver("sgd")
        .setUserIdForm(IdForm.ID_FORM_STRING).setItemIdForm(IdForm.ID_FORM_INT64).build();
    fake.models.put(id, info);
    GetFactorsResponse.Builder c = GetFactorsResponse.newBuilder().setModel(info)
        .setGlobalBias(3.5294117647058822).addUserKeys("ann, \"the\" 1st").addUserKeys("42")
        .addUserBiases(0.1f).addUserBiases(-0.0f).addItemIds(-7).addItemIds(1L << 50)
        .addItemBiases(1e-30f).addItemBiases(-2.5f);
    c.getUserFactorsBuilder().setRows(2).setCols(2).addValues(0.1f).addValues(-0.0f)
        .addValues(Float.MAX_VALUE).addValues(1.0000001f);
    c.getItemFactorsBuilder().setRows(2).setCols(2).addValues(Float.MIN_VALUE).addValues(2)
        .addValues(-3.25f).addValues(6e-39f);
    fake.factorChunks = List.of(c.build());
  }

  @Test
  void factorsThenImportFactors_roundTripsBitForBit() throws IOException {
    keyedBiasedModel("src");
    Path csv = dir.resolve("f.csv");
    assertEquals(0, cli.mfctl("factors", "src", "-o", csv.toString()), cli.err());
    List<String> lines = Files.readAllLines(csv);
    assertEquals("side,id,f0,f1,bias", lines.get(0));
    assertEquals("global,,,,3.5294117647058822", lines.get(1));
    assertEquals("user,\"ann, \"\"the\"\" 1st\",0.1,-0.0,0.1", lines.get(2));
    assertEquals("user,\"42\",3.4028235E38,1.0000001,-0.0", lines.get(3));
    assertEquals("item,-7,1.4E-45,2.0,1.0E-30", lines.get(4));

    assertEquals(0, cli.mfctl("import-factors", csv.toString(), "--model-id", "copy"),
        cli.err());

    assertTrue(cli.out().startsWith("read 2 user and 2 item rows of 2 factors with biases "
        + "(global mean 3.5294117647058822)\n"), cli.out());
    List<ImportFactorsRequest> sent = fake.importFactorsCalls.get(0);
    ImportFactorsHeader h = sent.get(0).getHeader();
    assertEquals("copy", h.getModelId());
    assertEquals(2, h.getNumFactors());
    assertTrue(h.getHasBiases());
    assertEquals(3.5294117647058822, h.getGlobalMean());
    GetFactorsResponse source = fake.factorChunks.get(0);
    GetFactorsResponse users = sent.get(1).getRows();
    GetFactorsResponse items = sent.get(2).getRows();
    assertEquals(source.getUserKeysList(), users.getUserKeysList());
    assertEquals(source.getItemIdsList(), items.getItemIdsList());
    assertBits(source.getUserFactors().getValuesList(), users.getUserFactors().getValuesList());
    assertBits(source.getItemFactors().getValuesList(), items.getItemFactors().getValuesList());
    assertBits(source.getUserBiasesList(), users.getUserBiasesList());
    assertBits(source.getItemBiasesList(), items.getItemBiasesList());
  }

  private static void assertBits(List<Float> expected, List<Float> actual) {
    assertEquals(expected.size(), actual.size());
    for (int i = 0; i < expected.size(); i++) {
      assertEquals(Float.floatToRawIntBits(expected.get(i)),
          Float.floatToRawIntBits(actual.get(i)), "value " + i);
    }
  }

  @Test
  void importFactors_splitFilesWithSeenPairs_sendsIdsAndSeenInOrder() throws IOException {
    Path users = Files.writeString(dir.resolve("users.csv"),
        "side,id,f0,f1\n# trained in spark\nuser,10,1,0\nuser,20,0,1\n");
    Path items = Files.writeString(dir.resolve("items.csv"),
        "side,id,f0,f1\nitem,sku-1,1,1\nitem,sku-2,2,0\n");
    Path seen = Files.writeString(dir.resolve("seen.txt"), "10 sku-1\n20,sku-2\n");

    assertEquals(0, cli.mfctl("import-factors", items.toString(), users.toString(), "--seen",
        seen.toString(), "--absent", "implicit", "--fold-in", "als", "--regularization", "0.5",
        "--param", "trainer=spark-mllib"), cli.err());

    List<ImportFactorsRequest> sent = fake.importFactorsCalls.get(0);
    ImportFactorsHeader h = sent.get(0).getHeader();
    assertEquals(io.mfserve.proto.v1.AbsentEntries.ABSENT_ENTRIES_IMPLICIT, h.getAbsentEntries());
    assertEquals(0.5, h.getRegularization());
    assertEquals("spark-mllib", h.getParamsOrThrow("trainer"));
    assertFalse(h.getHasBiases());
    assertEquals(List.of(10L, 20L), sent.get(1).getRows().getUserIdsList());
    assertEquals(List.of("sku-1", "sku-2"), sent.get(2).getRows().getItemKeysList());
    assertEquals(List.of(10L, 20L), sent.get(3).getSeen().getRowIdsList());
    assertEquals(List.of("sku-1", "sku-2"), sent.get(3).getSeen().getColKeysList());
    assertTrue(cli.out().startsWith("read 2 user and 2 item rows of 2 factors and 2 seen pairs"),
        cli.out());
  }

  @Test
  void importFactors_forcedKeys_sendsIntegersAsKeys() throws IOException {
    Path f = Files.writeString(dir.resolve("f.csv"), "side,id,f0\nuser,1,1\nitem,2,1\n");

    assertEquals(0, cli.mfctl("import-factors", f.toString(), "--user-keys"), cli.err());

    GetFactorsResponse users = fake.importFactorsCalls.get(0).get(1).getRows();
    GetFactorsResponse items = fake.importFactorsCalls.get(0).get(2).getRows();
    assertEquals(List.of("1"), users.getUserKeysList());
    assertEquals(List.of(2L), items.getItemIdsList());
  }

  @Test
  void importFactors_biasColumnWithoutGlobalMean_isAUsageErrorUnlessGiven() throws IOException {
    Path f = Files.writeString(dir.resolve("f.csv"),
        "side,id,f0,bias\nuser,1,1,0.5\nitem,2,1,-0.5\n");

    assertEquals(Mfctl.EXIT_USAGE, cli.mfctl("import-factors", f.toString()));
    assertOneErrorLine();
    assertTrue(cli.err().contains("--global-mean"), cli.err());
    assertTrue(fake.importFactorsCalls.isEmpty());

    assertEquals(0, cli.mfctl("import-factors", f.toString(), "--global-mean", "3.5"),
        cli.err());
    assertEquals(3.5, fake.importFactorsCalls.get(0).get(0).getHeader().getGlobalMean());
  }

  @Test
  void importFactors_malformedRow_namesTheFileAndLine() throws IOException {
    Path f = Files.writeString(dir.resolve("f.csv"), "side,id,f0,f1\nuser,1,1,x\n");

    assertEquals(Mfctl.EXIT_USAGE, cli.mfctl("import-factors", f.toString()));

    assertOneErrorLine();
    assertTrue(cli.err().contains("f.csv line 2: f1 'x' is not a number"), cli.err());
  }

  @Test
  void importFactors_notAFactorsFile_explainsTheHeader() throws IOException {
    Path f = Files.writeString(dir.resolve("u.data"), "1\t10\t5\n");

    assertEquals(Mfctl.EXIT_USAGE, cli.mfctl("import-factors", f.toString()));

    assertOneErrorLine();
    assertTrue(cli.err().contains("expected a header 'side,id,f0,...,f{k-1}[,bias]'"),
        cli.err());
  }

  // ---------------------------------------------------------------------------------------
  // fit --warm-start, models, model

  @Test
  void fit_warmStart_isSent() throws IOException {
    Path data = Files.writeString(dir.resolve("u.data"), "1\t10\t5\n2\t20\t3\n");

    assertEquals(0, cli.mfctl("fit", data.toString(), "--warm-start", "prod"), cli.err());

    assertEquals("prod", fake.fits.get(0).getWarmStartModelId());
  }

  @Test
  void models_showAliasesResidentAndDamagedSnapshots() throws IOException {
    model("m1");
    model("m2");
    fake.aliases.put("prod", "m1");
    fake.aliases.put("canary", "m1");
    fake.damaged.add(DamagedModel.newBuilder().setModelId("old")
        .setReason("factors section: checksum mismatch").build());

    assertEquals(0, cli.mfctl("models"), cli.err());

    List<String> lines = cli.out().lines().toList();
    assertTrue(lines.get(0).startsWith("MODEL  SOLVER"), cli.out());
    assertTrue(lines.get(0).endsWith("RESIDENT  CREATED  ALIASES"), cli.out());
    assertTrue(lines.get(1).startsWith("m1     als"), cli.out());
    assertTrue(lines.get(1).matches(".*  yes +-  canary,prod"), cli.out());
    assertTrue(lines.get(2).matches(".*  yes +-"), cli.out());
    assertTrue(cli.out().contains("damaged snapshots"), cli.out());
    assertTrue(cli.out().contains("old    factors section: checksum mismatch"), cli.out());

    assertEquals(0, cli.mfctl("--json", "models"), cli.err());
    ListModelsResponse.Builder parsed = ListModelsResponse.newBuilder();
    JsonFormat.parser().merge(cli.out(), parsed);
    assertEquals("old", parsed.getDamagedModels(0).getModelId());
    assertEquals(List.of("canary", "prod"), parsed.getModels(0).getAliasesList());
  }

  @Test
  void model_showsAliasesAndWarmStart() {
    fake.models.put("m", FakeMfServer.info("m", FitRequest.newBuilder().build(),
        new Ratings().add(1, 1, 1f).toMatrix()).toBuilder().addAliases("prod")
        .setWarmStartModelId("m-old").build());

    assertEquals(0, cli.mfctl("model", "m"), cli.err());

    assertTrue(cli.out().lines().anyMatch(l -> l.matches("aliases +prod")), cli.out());
    assertTrue(cli.out().lines().anyMatch(l -> l.matches("warm start +from m-old")), cli.out());
  }
}
