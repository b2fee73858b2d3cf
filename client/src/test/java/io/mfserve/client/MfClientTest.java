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
import io.mfserve.proto.v1.DenseMatrix;
import io.mfserve.proto.v1.FitRequest;
import io.mfserve.proto.v1.GetFactorsResponse;
import io.mfserve.proto.v1.IdForm;
import io.mfserve.proto.v1.Matrix;
import io.mfserve.proto.v1.ModelInfo;
import io.mfserve.proto.v1.PredictRequest;
import io.mfserve.proto.v1.SparseMatrix;
import io.mfserve.proto.v1.UploadMatrixRequest;
import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class MfClientTest {
  private static final int MIB = 1 << 20;

  @RegisterExtension
  final GrpcCleanupExtension grpc = new GrpcCleanupExtension();

  private FakeMfServer fake;
  private MfClient client;

  @BeforeEach
  void start() throws IOException {
    fake = new FakeMfServer();
    String name = InProcessServerBuilder.generateName();
    grpc.register(InProcessServerBuilder.forName(name).directExecutor().addService(fake).build()
        .start());
    ManagedChannel channel = grpc.register(
        InProcessChannelBuilder.forName(name).directExecutor().build());
    client = new MfClient(channel);
  }

  private static ModelInfo.Builder info(String id, int users, int items, int k) {
    return ModelInfo.newBuilder().setModelId(id).setNumUsers(users).setNumItems(items)
        .setNumFactors(k).setUserIdForm(IdForm.ID_FORM_INT64).setItemIdForm(IdForm.ID_FORM_INT64);
  }

  private static DenseMatrix dense(int rows, int k, float... values) {
    DenseMatrix.Builder b = DenseMatrix.newBuilder().setRows(rows).setCols(k);
    for (float v : values) {
      b.addValues(v);
    }
    return b.build();
  }

  @Test
  void getFactors_threeChunksOneCarryingBothSides_concatenatesRowsInOrder() {
    ModelInfo info = info("m", 3, 4, 2).setHasBiases(true).build();
    fake.models.put("m", info);
    fake.factorChunks = List.of(
        GetFactorsResponse.newBuilder().setModel(info).setGlobalBias(3.5)
            .setUserFactors(dense(2, 2, 1, 2, 3, 4)).addUserIds(10).addUserIds(20)
            .addUserBiases(0.1f).addUserBiases(0.2f).build(),
        // The last user row and the first item row travel together.
        GetFactorsResponse.newBuilder()
            .setUserFactors(dense(1, 2, 5, 6)).addUserIds(30).addUserBiases(0.3f)
            .setItemFactors(dense(1, 2, -1, -2)).addItemIds(7).addItemBiases(-0.1f).build(),
        GetFactorsResponse.newBuilder()
            .setItemFactors(dense(3, 2, -3, -4, -5, -6, -7, -8)).addItemIds(8).addItemIds(9)
            .addItemIds(11).addItemBiases(-0.2f).addItemBiases(-0.3f).addItemBiases(-0.4f)
            .build());

    Factors f = client.getFactors("m");

    assertEquals(3, f.numUsers());
    assertEquals(4, f.numItems());
    assertEquals(2, f.numFactors());
    assertArrayEquals(new float[][] {{1, 2}, {3, 4}, {5, 6}}, f.userFactors());
    assertArrayEquals(new float[][] {{-1, -2}, {-3, -4}, {-5, -6}, {-7, -8}}, f.itemFactors());
    assertArrayEquals(new long[] {10, 20, 30}, f.userIds());
    assertArrayEquals(new long[] {7, 8, 9, 11}, f.itemIds());
    assertArrayEquals(new float[] {0.1f, 0.2f, 0.3f}, f.userBiases());
    assertArrayEquals(new float[] {-0.1f, -0.2f, -0.3f, -0.4f}, f.itemBiases());
    assertEquals(3.5, f.globalBias());
    assertEquals("m", f.info().getModelId());
    // reconstruct = U·Vᵀ + global + user bias + item bias
    float[][] r = f.reconstruct();
    assertEquals(1 * -1 + 2 * -2 + 3.5 + 0.1 - 0.1, r[0][0], 1e-5);
    assertEquals(5 * -7 + 6 * -8 + 3.5 + 0.3 - 0.4, r[2][3], 1e-5);
    assertTrue(fake.methodsWithoutDeadline.isEmpty());
  }

  @Test
  void getFactors_stringKeys_keepsKeysPerSide() {
    ModelInfo info = info("s", 2, 1, 1).setUserIdForm(IdForm.ID_FORM_STRING)
        .setItemIdForm(IdForm.ID_FORM_STRING).build();
    fake.models.put("s", info);
    fake.factorChunks = List.of(
        GetFactorsResponse.newBuilder().setModel(info).setUserFactors(dense(1, 1, 1))
            .addUserKeys("ann").build(),
        GetFactorsResponse.newBuilder().setUserFactors(dense(1, 1, 2)).addUserKeys("bob")
            .setItemFactors(dense(1, 1, 3)).addItemKeys("sku-1").build());

    Factors f = client.getFactors("s");

    assertArrayEquals(new String[] {"ann", "bob"}, f.userKeys());
    assertArrayEquals(new String[] {"sku-1"}, f.itemKeys());
    assertEquals(0, f.userIds().length);
    assertEquals("bob", f.userName(1));
    assertArrayEquals(new float[][] {{3}, {6}}, f.reconstruct());
  }

  @Test
  void getFactors_rowCountDisagreesWithModel_throwsInternal() {
    ModelInfo info = info("bad", 3, 1, 1).build();
    fake.models.put("bad", info);
    fake.factorChunks = List.of(GetFactorsResponse.newBuilder().setModel(info)
        .setUserFactors(dense(1, 1, 1)).addUserIds(1).build());

    MfServeException e = assertThrows(MfServeException.class, () -> client.getFactors("bad"));

    assertEquals(Status.Code.INTERNAL, e.code());
  }

  @Test
  void fit_smallMatrix_sendsItInline() {
    ModelInfo info = client.fit(FitRequest.newBuilder().setNumFactors(2)
        .setMatrix(new Ratings().add(1, 2, 5f).add(2, 3, 4f).toMatrix()).build());

    assertEquals(2, info.getNumUsers());
    assertTrue(fake.uploads.isEmpty());
    assertTrue(fake.fits.get(0).hasMatrix());
    assertTrue(fake.methodsWithoutDeadline.isEmpty());
  }

  @Test
  void fit_sparseMatrixOver3_5MiB_uploadsChunksUnder1MiBThenFitsByIdAndDeletes() {
    Ratings ratings = new Ratings();
    for (int i = 0; i < 400_000; i++) {
      ratings.add(i % 5000 + 1_000_000L, i / 5000 + 2_000_000L, (i % 5) + 1f);
    }
    Matrix matrix = ratings.toMatrix();
    FitRequest request = FitRequest.newBuilder().setNumFactors(4).setMatrix(matrix).build();
    assertTrue(request.getSerializedSize() > MfClient.INLINE_FIT_LIMIT_BYTES);

    ModelInfo info = client.fit(request);

    assertEquals(1, fake.uploads.size());
    List<Integer> sizes = fake.uploads.get(0);
    assertTrue(sizes.size() >= 4, "chunks: " + sizes);
    for (int size : sizes) {
      assertTrue(size <= MIB, "chunk of " + size + " bytes");
    }
    FitRequest sent = fake.fits.get(0);
    assertFalse(sent.hasMatrix());
    assertEquals("matrix-1", sent.getMatrixId());
    assertEquals(List.of("matrix-1"), fake.deletedMatrices);
    assertEquals(matrix, fake.uploaded("matrix-1"));
    assertEquals(400_000, info.getNumEntries());
    assertTrue(fake.methodsWithoutDeadline.isEmpty(), fake.methodsWithoutDeadline.toString());
  }

  @Test
  void fit_denseMatrixOver3_5MiB_uploadsBlocksOfWholeRows() {
    float[][] rows = new float[1000][1000];
    for (int i = 0; i < rows.length; i++) {
      rows[i][i] = i;
    }
    Matrix matrix = Matrices.dense(rows);

    client.fit(FitRequest.newBuilder().setMatrix(matrix).build());

    List<Integer> sizes = fake.uploads.get(0);
    assertTrue(sizes.size() >= 4, "chunks: " + sizes);
    sizes.forEach(s -> assertTrue(s <= MIB, "chunk of " + s + " bytes"));
    assertEquals(matrix, fake.uploaded("matrix-1"));
    assertEquals(List.of("matrix-1"), fake.deletedMatrices);
  }

  @Test
  void fit_failsAfterUpload_stillDeletesTheUploadedMatrix() {
    float[][] rows = new float[1000][1000];
    FitRequest request = FitRequest.newBuilder().setNumFactors(0)
        .setMatrix(Matrices.dense(rows)).build();

    MfServeException e = assertThrows(MfServeException.class, () -> client.fit(request));

    assertEquals(Status.Code.INVALID_ARGUMENT, e.code());
    assertEquals(List.of("matrix-1"), fake.deletedMatrices);
  }

  @Test
  void chunks_stringKeyedSparseMatrix_splitsIntoRunsThatConcatenateToTheOriginal() {
    Ratings ratings = new Ratings();
    for (int i = 0; i < 20_000; i++) {
      ratings.add("user-" + (i % 300), "item-with-a-long-name-" + i, 1f);
    }
    SparseMatrix original = ratings.toProto();

    List<UploadMatrixRequest> chunks = MatrixUploader.chunks(ratings.toMatrix(), 64 * 1024);

    SparseMatrix.Builder joined = SparseMatrix.newBuilder();
    for (UploadMatrixRequest c : chunks) {
      assertTrue(c.getSerializedSize() <= 64 * 1024, "chunk of " + c.getSerializedSize());
      joined.mergeFrom(c.getChunk().getSparse());
    }
    assertTrue(chunks.size() > 5);
    assertEquals(original, joined.build());
  }

  @Test
  void fit_invalidArgument_throwsMfServeExceptionWithFieldViolations() {
    FitRequest request = FitRequest.newBuilder().setNumFactors(0)
        .setMatrix(new Ratings().add(1, 1, 1f).toMatrix()).build();

    MfServeException e = assertThrows(MfServeException.class, () -> client.fit(request));

    assertEquals(Status.Code.INVALID_ARGUMENT, e.code());
    assertEquals(List.of(new MfServeException.FieldViolation("num_factors",
        "num_factors is 0; it must be at least 1")), e.fieldViolations());
    assertEquals("INVALID_ARGUMENT: num_factors is 0; it must be at least 1 (field num_factors)",
        e.getMessage());
    assertFalse(e.isConnectionFailure());
  }

  @Test
  void isConnectionFailure_closedWithoutAWord_yes_serverShuttingDown_no() {
    assertTrue(MfServeException.from(Status.UNAVAILABLE
        .withDescription("Network closed for unknown reason").asRuntimeException())
        .isConnectionFailure());
    assertTrue(MfServeException.from(Status.UNAVAILABLE.withDescription("io exception")
        .withCause(new java.net.ConnectException("Connection refused")).asRuntimeException())
        .isConnectionFailure());
    assertFalse(MfServeException.from(Status.UNAVAILABLE
        .withDescription("the server is shutting down").asRuntimeException())
        .isConnectionFailure());
  }

  @Test
  void getModel_unknownModel_throwsNotFound() {
    MfServeException e = assertThrows(MfServeException.class, () -> client.getModel("nope"));

    assertEquals(Status.Code.NOT_FOUND, e.code());
    assertTrue(e.fieldViolations().isEmpty());
  }

  @Test
  void exceptionMessage_violationNotInDescription_appendsIt() {
    MfServeException e = new MfServeException(
        Status.INVALID_ARGUMENT.withDescription("bad request"),
        List.of(new MfServeException.FieldViolation("seed", "seed must be set"),
            new MfServeException.FieldViolation("solver", "")));

    assertEquals("INVALID_ARGUMENT: bad request; seed must be set (field seed) (field solver)",
        e.getMessage());
  }

  @Test
  void smallCalls_predictRecommendListDelete_carryDeadlinesAndMapResults() {
    client.fit(FitRequest.newBuilder().setModelId("m1")
        .setMatrix(new Ratings().add(1, 2, 5f).toMatrix()).build());

    assertArrayEquals(new float[] {1.2f, 3.4f},
        client.predict("m1", new long[] {1, 3}, new long[] {2, 4}));
    List<Recommendation> top = client.recommend("m1", 1, 2, true);
    assertEquals(List.of(new Recommendation(3, "", 0.9f), new Recommendation(1, "", 0.5f)), top);
    assertEquals(1, client.listModels().size());
    assertEquals(2, client.listSolvers().size());
    assertEquals(2048, client.deleteModel("m1").getFreedBytes());
    assertTrue(client.listModels().isEmpty());
    assertTrue(fake.methodsWithoutDeadline.isEmpty(), fake.methodsWithoutDeadline.toString());
  }

  @Test
  void predict_millionPairs_splitsIntoBatchesUnderTheLimitAndKeepsOrder() {
    client.fit(FitRequest.newBuilder().setModelId("m1")
        .setMatrix(new Ratings().add(1, 2, 5f).toMatrix()).build());
    int n = 1_000_000;
    long[] users = new long[n];
    long[] items = new long[n];
    for (int i = 0; i < n; i++) {
      users[i] = 100_000 + i % 200_000;
      items[i] = i % 20_000;
    }
    float[] scores = client.predict("m1", users, items);
    assertEquals(n, scores.length);
    assertTrue(fake.predicts.size() > 1, "batches: " + fake.predicts.size());
    for (PredictRequest r : fake.predicts) {
      assertTrue(r.getSerializedSize() <= MfClient.INLINE_FIT_LIMIT_BYTES,
          "batch of " + r.getSerializedSize() + " bytes");
    }
    for (int i = 0; i < n; i += 99_991) {
      assertEquals(users[i] + items[i] / 10f, scores[i], 1e-2f, "pair " + i);
    }
  }
}
