package io.mfserve.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.mfserve.proto.v1.AbsentEntries;
import io.mfserve.proto.v1.Alias;
import io.mfserve.proto.v1.DamagedModel;
import io.mfserve.proto.v1.FitRequest;
import io.mfserve.proto.v1.GetFactorsResponse;
import io.mfserve.proto.v1.IdForm;
import io.mfserve.proto.v1.ImportFactorsHeader;
import io.mfserve.proto.v1.ImportFactorsRequest;
import io.mfserve.proto.v1.ImportModelRequest;
import io.mfserve.proto.v1.ListModelsRequest;
import io.mfserve.proto.v1.ListModelsResponse;
import io.mfserve.proto.v1.ModelInfo;
import io.mfserve.proto.v1.SetAliasRequest;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Aliases, ExportModel / ImportModel and ImportFactors through MfClient, against the fake. */
class ModelRepositoryClientTest {
  private static final int MIB = 1 << 20;

  @RegisterExtension
  final GrpcCleanupExtension grpc = new GrpcCleanupExtension();

  private FakeMfServer fake;
  private ManagedChannel channel;
  private MfClient client;

  @BeforeEach
  void start() throws IOException {
    fake = new FakeMfServer();
    String name = InProcessServerBuilder.generateName();
    grpc.register(InProcessServerBuilder.forName(name).directExecutor().addService(fake).build()
        .start());
    channel = grpc.register(InProcessChannelBuilder.forName(name).directExecutor().build());
    client = new MfClient(channel);
  }

  private void model(String id) {
    client.fit(FitRequest.newBuilder().setModelId(id).setNumFactors(3)
        .setMatrix(new Ratings().add(1, 2, 5f).add(2, 3, 4f).toMatrix()).build());
  }

  // ---------------------------------------------------------------------------------------
  // Aliases

  @Test
  void aliases_setGetListDelete_mapTheResponses() {
    model("m1");
    model("m2");

    assertEquals("", client.setAlias("prod", "m1").getPreviousModelId());
    assertEquals("m1", client.setAlias("prod", "m2").getPreviousModelId());
    client.setAlias("canary", "m1");

    assertEquals("m2", client.getAlias("prod").getModelId());
    assertEquals(List.of(Alias.newBuilder().setAlias("canary").setModelId("m1").build(),
        Alias.newBuilder().setAlias("prod").setModelId("m2").build()), client.listAliases());
    assertEquals("m2", client.deleteAlias("prod").getPreviousModelId());
    assertEquals(Status.Code.NOT_FOUND,
        assertThrows(MfServeException.class, () -> client.getAlias("prod")).code());
    assertTrue(fake.methodsWithoutDeadline.isEmpty(), fake.methodsWithoutDeadline.toString());
  }

  @Test
  void setAlias_expectation_sentOnlyWhenGivenAndEmptyMeansCreateOnly() {
    model("m1");
    model("m2");

    client.setAlias("prod", "m1");
    client.setAlias("prod", "m2", null);
    client.setAlias("new", "m1", "");
    client.setAlias("prod", "m1", "m2");

    List<SetAliasRequest> sent = fake.setAliasRequests;
    assertFalse(sent.get(0).hasExpectedModelId());
    assertFalse(sent.get(1).hasExpectedModelId());
    assertTrue(sent.get(2).hasExpectedModelId());
    assertEquals("", sent.get(2).getExpectedModelId());
    assertEquals("m2", sent.get(3).getExpectedModelId());
    assertEquals("m1", client.getAlias("prod").getModelId());
  }

  @Test
  void setAlias_casMismatch_throwsFailedPreconditionAndLeavesTheAlias() {
    model("m1");
    model("m2");
    client.setAlias("prod", "m1");

    MfServeException moved = assertThrows(MfServeException.class,
        () -> client.setAlias("prod", "m2", "m2"));
    MfServeException exists = assertThrows(MfServeException.class,
        () -> client.setAlias("prod", "m2", ""));
    MfServeException delete = assertThrows(MfServeException.class,
        () -> client.deleteAlias("prod", "m2"));

    assertEquals(Status.Code.FAILED_PRECONDITION, moved.code());
    assertEquals(Status.Code.FAILED_PRECONDITION, exists.code());
    assertEquals(Status.Code.FAILED_PRECONDITION, delete.code());
    assertEquals("m1", client.getAlias("prod").getModelId());
    assertTrue(fake.deleteAliasRequests.get(0).hasExpectedModelId());
  }

  @Test
  void listModels_request_returnsAliasesResidentAndDamagedSnapshots() {
    model("m1");
    client.setAlias("prod", "m1");
    fake.damaged.add(DamagedModel.newBuilder().setModelId("old").setReason("factors section:"
        + " checksum mismatch").build());

    ListModelsResponse r = client.listModels(ListModelsRequest.getDefaultInstance());

    assertEquals(List.of("prod"), r.getModels(0).getAliasesList());
    assertTrue(r.getModels(0).getResident());
    assertEquals("old", r.getDamagedModels(0).getModelId());
  }

  // ---------------------------------------------------------------------------------------
  // ExportModel / ImportModel

  @Test
  void exportModel_manyChunks_writesEveryByteInOrderAndReportsProgress() throws IOException {
    model("m1");
    fake.snapshotBytes = 300_000;
    fake.exportChunkBytes = 64 * 1024;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    List<TransferProgress> progress = new ArrayList<>();

    long written = client.exportModel("m1", out, progress::add);

    assertEquals(300_000, written);
    byte[] expected = new byte[300_000];
    new Random("m1".hashCode()).nextBytes(expected);
    assertArrayEquals(expected, out.toByteArray());
    assertEquals(5, progress.size());
    assertEquals(new TransferProgress(1, 65_536, 300_000, false), progress.get(0));
    assertEquals(new TransferProgress(5, 300_000, 300_000, true), progress.get(4));
    assertTrue(fake.methodsWithoutDeadline.isEmpty(), fake.methodsWithoutDeadline.toString());
  }

  @Test
  void exportModel_byAlias_resolvesOnTheServer() throws IOException {
    model("m1");
    client.setAlias("prod", "m1");
    ByteArrayOutputStream out = new ByteArrayOutputStream();

    assertEquals(100, client.exportModel("prod", out));
  }

  @Test
  void exportModel_streamShorterThanAnnounced_throwsInternal() {
    model("m1");
    fake.snapshotBytes = 10_000;
    fake.truncateExport = true;

    MfServeException e = assertThrows(MfServeException.class,
        () -> client.exportModel("m1", new ByteArrayOutputStream()));

    assertEquals(Status.Code.INTERNAL, e.code());
    assertTrue(e.getMessage().contains("5000 of the 10000 bytes"), e.getMessage());
  }

  @Test
  void exportModel_unknownModel_throwsNotFound() {
    assertEquals(Status.Code.NOT_FOUND, assertThrows(MfServeException.class,
        () -> client.exportModel("nope", new ByteArrayOutputStream())).code());
  }

  @Test
  void exportModel_outputFails_throwsTheIOException() {
    model("m1");
    OutputStream broken = new OutputStream() {
      @Override
      public void write(int b) throws IOException {
        throw new IOException("disk full");
      }

      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        throw new IOException("disk full");
      }
    };

    IOException e = assertThrows(IOException.class, () -> client.exportModel("m1", broken));

    assertEquals("disk full", e.getMessage());
  }

  @Test
  void exportThenImport_underANewId_sendsChunksUnder1MiBWithTheIdOnTheFirstOnly()
      throws IOException {
    model("m1");
    fake.snapshotBytes = 3 * MIB + 12_345;
    fake.exportChunkBytes = MIB;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    client.exportModel("m1", out);
    List<TransferProgress> progress = new ArrayList<>();

    ModelInfo imported = client.importModel(new ByteArrayInputStream(out.toByteArray()),
        "m1-copy", out.size(), progress::add);

    assertEquals("m1-copy", imported.getModelId());
    assertEquals(3, imported.getNumFactors());
    List<ImportModelRequest> chunks = fake.importModelCalls.get(0);
    assertEquals(4, chunks.size());
    assertEquals("m1-copy", chunks.get(0).getModelId());
    long total = 0;
    for (int i = 0; i < chunks.size(); i++) {
      assertTrue(chunks.get(i).getSerializedSize() <= MIB, "chunk " + i + " of "
          + chunks.get(i).getSerializedSize() + " bytes");
      assertTrue(i == 0 || chunks.get(i).getModelId().isEmpty(), "model_id on chunk " + i);
      total += chunks.get(i).getData().size();
    }
    assertEquals(out.size(), total);
    assertEquals(new TransferProgress(4, out.size(), out.size(), true), progress.get(3));
    assertFalse(progress.get(0).done());
    assertTrue(fake.methodsWithoutDeadline.isEmpty(), fake.methodsWithoutDeadline.toString());
  }

  @Test
  void importModel_emptyIdKeepsTheSnapshotsId_takenIdIsAlreadyExists() throws IOException {
    model("m1");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    client.exportModel("m1", out);
    client.deleteModel("m1");

    assertEquals("m1", client.importModel(new ByteArrayInputStream(out.toByteArray()), "")
        .getModelId());
    MfServeException again = assertThrows(MfServeException.class,
        () -> client.importModel(new ByteArrayInputStream(out.toByteArray()), ""));
    assertEquals(Status.Code.ALREADY_EXISTS, again.code());
  }

  @Test
  void importModel_emptyInput_sendsOneChunkSoTheServerReportsIt() {
    MfServeException e = assertThrows(MfServeException.class,
        () -> client.importModel(new ByteArrayInputStream(new byte[0]), "x"));

    assertEquals(Status.Code.INVALID_ARGUMENT, e.code());
    assertEquals(1, fake.importModelCalls.get(0).size());
    assertEquals("x", fake.importModelCalls.get(0).get(0).getModelId());
  }

  // ---------------------------------------------------------------------------------------
  // ImportFactors

  private static float[][] random(Random rnd, int rows, int k) {
    float[][] out = new float[rows][k];
    for (float[] row : out) {
      for (int f = 0; f < k; f++) {
        row[f] = (float) rnd.nextGaussian();
      }
    }
    return out;
  }

  @Test
  void importFactors_fromGetFactorsOfOneServerIntoAnother_comesBackBitForBit() {
    ModelInfo info = ModelInfo.newBuilder().setModelId("src").setNumFactors(2).setNumUsers(2)
        .setNumItems(3).setHasBiases(true).setSolver("sgd")
        .setAbsentEntries(AbsentEntries.ABSENT_ENTRIES_IMPLICIT)
        .setUserIdForm(IdForm.ID_FORM_STRING).setItemIdForm(IdForm.ID_FORM_INT64).build();
    fake.models.put("src", info);
    GetFactorsResponse.Builder chunk = GetFactorsResponse.newBuilder().setModel(info)
        .setGlobalBias(3.14159).addUserKeys("ann").addUserKeys("bob")
        .addUserBiases(0.25f).addUserBiases(-0.0f)
        .addItemIds(-5).addItemIds(1L << 40).addItemIds(0)
        .addItemBiases(Float.MIN_VALUE).addItemBiases(1e-30f).addItemBiases(-7.5f);
    chunk.getUserFactorsBuilder().setRows(2).setCols(2).addValues(0.1f).addValues(-0.0f)
        .addValues(Float.MAX_VALUE).addValues(1.0000001f);
    chunk.getItemFactorsBuilder().setRows(3).setCols(2).addValues(1).addValues(2).addValues(3)
        .addValues(4).addValues(5).addValues(6e-39f);
    fake.factorChunks = List.of(chunk.build());
    Factors source = client.getFactors("src");

    ModelInfo imported = client.importFactors(source,
        ImportFactorsHeader.newBuilder().setModelId("copy").build(), null);
    fake.factorChunks = null;
    Factors copy = client.getFactors("copy");

    assertEquals("copy", imported.getModelId());
    ImportFactorsHeader header = fake.importFactorsCalls.get(0).get(0).getHeader();
    assertEquals(2, header.getNumFactors());
    assertTrue(header.getHasBiases());
    assertEquals(3.14159, header.getGlobalMean());
    assertEquals(AbsentEntries.ABSENT_ENTRIES_IMPLICIT, header.getAbsentEntries());
    assertArrayEquals(source.userKeys(), copy.userKeys());
    assertArrayEquals(source.itemIds(), copy.itemIds());
    assertBits(source.userFactorsFlat(), copy.userFactorsFlat());
    assertBits(source.itemFactorsFlat(), copy.itemFactorsFlat());
    assertBits(source.userBiases(), copy.userBiases());
    assertBits(source.itemBiases(), copy.itemBiases());
    assertEquals(source.globalBias(), copy.globalBias());
  }

  private static void assertBits(float[] expected, float[] actual) {
    assertEquals(expected.length, actual.length);
    for (int i = 0; i < expected.length; i++) {
      assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(actual[i]),
          "value " + i + ": " + expected[i] + " vs " + actual[i]);
    }
  }

  @Test
  void importFactors_large_headerFirstThenUserRowsThenItemRowsThenSeen_allUnder1MiB() {
    Random rnd = new Random(3);
    int users = 9_000;
    int items = 5_000;
    int k = 40;
    String[] userKeys = new String[users];
    for (int u = 0; u < users; u++) {
      userKeys[u] = "user-" + u;
    }
    long[] itemIds = new long[items];
    for (int i = 0; i < items; i++) {
      itemIds[i] = 1_000_000_000_000L + 7L * i;
    }
    float[] ub = new float[users];
    float[] ib = new float[items];
    Factors factors = Factors.builder().users(userKeys, random(rnd, users, k))
        .items(itemIds, random(rnd, items, k)).biases(3.5, ub, ib).build();
    Ratings seen = new Ratings();
    for (int e = 0; e < 200_000; e++) {
      seen.add(userKeys[e % users], itemIds[e % items], 1f);
    }

    ModelInfo info = client.importFactors(factors, ImportFactorsHeader.newBuilder()
        .setModelId("big").setFoldInSolver("als").putParams("trainer", "test").build(),
        seen.toProto());

    assertEquals(users, info.getNumUsers());
    assertEquals(items, info.getNumItems());
    assertEquals(200_000, info.getNumEntries());
    List<ImportFactorsRequest> sent = fake.importFactorsCalls.get(0);
    assertTrue(sent.get(0).hasHeader());
    assertFalse(sent.get(0).hasRows());
    int phase = 0; // 0 header, 1 users, 2 items, 3 seen
    for (int n = 0; n < sent.size(); n++) {
      ImportFactorsRequest m = sent.get(n);
      assertTrue(m.getSerializedSize() <= MIB, "message " + n + ": " + m.getSerializedSize());
      int now = m.hasHeader() ? 0 : m.getRows().getUserFactors().getRows() > 0 ? 1
          : m.getRows().getItemFactors().getRows() > 0 ? 2 : 3;
      assertTrue(now >= phase, "message " + n + " goes back from phase " + phase + " to " + now);
      phase = now;
      if (now == 3) {
        assertEquals(0, m.getSeen().getValuesCount(), "seen values are not sent");
      }
    }
    assertEquals(3, phase);
    assertTrue(sent.size() >= 8, "messages: " + sent.size()); // 1 + 2 user + 1 item + 4 seen
    // Each chunk names and biases exactly its own rows.
    for (ImportFactorsRequest m : sent.subList(1, sent.size())) {
      GetFactorsResponse r = m.getRows();
      assertEquals(r.getUserFactors().getRows(), r.getUserKeysCount());
      assertEquals(r.getUserFactors().getRows(), r.getUserBiasesCount());
      assertEquals(r.getItemFactors().getRows(), r.getItemIdsCount());
      assertEquals((long) r.getItemFactors().getRows() * k, r.getItemFactors().getValuesCount());
    }
    Factors back = client.getFactors("big");
    assertArrayEquals(factors.userFactorsFlat(), back.userFactorsFlat());
    assertArrayEquals(factors.itemIds(), back.itemIds());
    assertTrue(fake.methodsWithoutDeadline.isEmpty(), fake.methodsWithoutDeadline.toString());
  }

  @Test
  void importFactors_headerContradictsTheFactors_failsBeforeAnyCall() {
    Factors plain = Factors.builder().users(new float[][] {{1, 2}})
        .items(new float[][] {{3, 4}}).build();

    assertThrows(IllegalArgumentException.class, () -> client.importFactors(plain,
        ImportFactorsHeader.newBuilder().setNumFactors(3).build(), null));
    assertThrows(IllegalArgumentException.class, () -> client.importFactors(plain,
        ImportFactorsHeader.newBuilder().setHasBiases(true).build(), null));
    assertThrows(IllegalArgumentException.class, () -> client.importFactors(plain,
        ImportFactorsHeader.newBuilder().setGlobalMean(3).build(), null));
    assertTrue(fake.importFactorsCalls.isEmpty());
  }

  @Test
  void builder_positionsByDefault_shapeInInfo_andChecksShapes() {
    Factors f = Factors.builder().users(new float[][] {{1, 2}, {3, 4}})
        .items(new String[] {"a"}, new float[][] {{5, 6}}).build();

    assertArrayEquals(new long[] {0, 1}, f.userIds());
    assertArrayEquals(new String[] {"a"}, f.itemKeys());
    assertEquals(IdForm.ID_FORM_STRING, f.itemIdForm());
    assertEquals("", f.modelId());
    assertEquals(2, f.info().getNumUsers());
    assertArrayEquals(new float[][] {{17}, {39}}, f.reconstruct());
    assertThrows(IllegalArgumentException.class, () -> Factors.builder()
        .users(new float[][] {{1, 2}, {3}}).items(new float[][] {{1, 2}}).build());
    assertThrows(IllegalArgumentException.class, () -> Factors.builder()
        .users(new long[] {1, 2}, new float[][] {{1}}).items(new float[][] {{1}}).build());
    assertThrows(IllegalArgumentException.class, () -> Factors.builder()
        .users(new float[][] {{1}}).items(new float[][] {{1}})
        .biases(1, new float[] {1}, new float[0]).build());
    assertThrows(IllegalStateException.class, () -> Factors.builder()
        .users(new float[][] {{1}}).build());
  }

  // ---------------------------------------------------------------------------------------
  // MatrixFactorization

  @Test
  void fromFactors_queriesTheImportedModel_andFitIsRefused() {
    Factors factors = Factors.builder()
        .users(new long[] {10, 20}, new float[][] {{1, 0}, {0, 1}})
        .items(new long[] {7, 8, 9}, new float[][] {{1, 1}, {2, 0}, {0, 2}})
        .build();
    Ratings seen = new Ratings().add(10, 7, 1f);

    try (MatrixFactorization model = MatrixFactorization.fromFactors(client, factors,
        ImportFactorsHeader.newBuilder().setModelId("spark")
            .setAbsentEntries(AbsentEntries.ABSENT_ENTRIES_IMPLICIT).build(), seen)) {
      assertEquals("spark", model.modelId());
      assertEquals(2, model.info().getNumFactors());
      assertEquals(List.of(new Recommendation(3, "", 0.9f)), model.recommend(10L, 1, true));
      assertArrayEquals(new float[] {10.7f}, model.predict(new long[] {10}, new long[] {7}));
      assertArrayEquals(factors.itemFactorsFlat(), model.getFactors().itemFactorsFlat());
      assertThrows(IllegalStateException.class, model::fit);
    }
    assertEquals("spark", fake.recommends.get(0).getModelId());
    List<ImportFactorsRequest> sent = fake.importFactorsCalls.get(0);
    assertEquals(List.of(10L), sent.get(sent.size() - 1).getSeen().getRowIdsList());
  }

  @Test
  void fromFactors_channel_serverMakesTheId() {
    Factors factors = Factors.builder().users(new float[][] {{1}}).items(new float[][] {{2}})
        .build();

    MatrixFactorization model = MatrixFactorization.fromFactors(channel, factors);

    assertEquals("imported-1", model.modelId());
    assertFalse(fake.importFactorsCalls.get(0).get(0).getHeader().hasRegularization());
  }

  @Test
  void warmStart_isSentWithTheFit() {
    model("yesterday");
    try (MatrixFactorization model = new MatrixFactorization(client,
        new Ratings().add(1, 2, 3f).toMatrix(), 3).warmStart("yesterday")) {
      model.fit();
    }

    assertEquals("yesterday", fake.fits.get(1).getWarmStartModelId());
    assertEquals("", fake.fits.get(0).getWarmStartModelId());
  }
}
