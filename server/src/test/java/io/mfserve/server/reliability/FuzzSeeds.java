package io.mfserve.server.reliability;

import com.google.protobuf.ByteString;
import com.google.protobuf.MessageLite;
import io.mfserve.proto.v1.AbsentEntries;
import io.mfserve.proto.v1.DeleteAliasRequest;
import io.mfserve.proto.v1.DeleteMatrixRequest;
import io.mfserve.proto.v1.DeleteModelRequest;
import io.mfserve.proto.v1.DenseMatrix;
import io.mfserve.proto.v1.ExportModelRequest;
import io.mfserve.proto.v1.ExportModelResponse;
import io.mfserve.proto.v1.FitRequest;
import io.mfserve.proto.v1.FitWithProgressRequest;
import io.mfserve.proto.v1.FoldInRequest;
import io.mfserve.proto.v1.GetAliasRequest;
import io.mfserve.proto.v1.GetFactorsRequest;
import io.mfserve.proto.v1.GetFactorsResponse;
import io.mfserve.proto.v1.GetModelRequest;
import io.mfserve.proto.v1.GetServerInfoRequest;
import io.mfserve.proto.v1.GetTopicsRequest;
import io.mfserve.proto.v1.ImportFactorsHeader;
import io.mfserve.proto.v1.ImportFactorsRequest;
import io.mfserve.proto.v1.ImportModelRequest;
import io.mfserve.proto.v1.ListAliasesRequest;
import io.mfserve.proto.v1.ListModelsRequest;
import io.mfserve.proto.v1.ListSolversRequest;
import io.mfserve.proto.v1.Matrix;
import io.mfserve.proto.v1.PredictRequest;
import io.mfserve.proto.v1.PredictRowRequest;
import io.mfserve.proto.v1.RecommendBatchRequest;
import io.mfserve.proto.v1.RecommendRequest;
import io.mfserve.proto.v1.SetAliasRequest;
import io.mfserve.proto.v1.SimilarItemsRequest;
import io.mfserve.proto.v1.SimilarUsersRequest;
import io.mfserve.proto.v1.SparseMatrix;
import io.mfserve.proto.v1.UnknownIdPolicy;
import io.mfserve.proto.v1.UploadMatrixRequest;
import io.mfserve.proto.v1.UserHistory;
import io.mfserve.server.testing.InProcessMfServer;
import io.mfserve.server.testing.Requests;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Random;

/**
 * Writes {@link RequestFuzzTest}'s seed corpus: a valid request of every RPC, against the
 * fuzz server's base models, and the malformed requests of {@code MalformedRequestTest} and
 * {@code LimitsSocketTest}, each as the RPC's name and its length-delimited messages. Run it
 * when the API changes (any way that puts the server's test class path on the JVM, from the
 * repository root), and commit what it writes.
 */
public final class FuzzSeeds {
  static final String DIR = "src/test/resources/io/mfserve/server/reliability/"
      + "RequestFuzzTestInputs/anyRequest_endsWithAMappedStatus_andLeavesNothingBehind";
  private static Path dir;

  private FuzzSeeds() { }

  /** The base model with int64 ids: 30 users (0..29) × 20 items (100..119). */
  static FitRequest.Builder intsFit() {
    Random rnd = new Random(5);
    SparseMatrix.Builder s = SparseMatrix.newBuilder();
    for (int u = 0; u < 30; u++) {
      for (int i = 0; i < 20; i++) {
        if (u % 20 == i || rnd.nextInt(3) == 0) {
          s.addRowIds(u).addColIds(100 + i).addValues(1 + rnd.nextInt(5));
        }
      }
    }
    return FitRequest.newBuilder().setSolver("als").setNumFactors(3).setModelId("ints")
        .setMaxIterations(3).setMatrix(Matrix.newBuilder().setSparse(s));
  }

  /** The base model with string keys: documents d0..d19 × terms t0..t14, NMF. */
  static FitRequest.Builder keysFit() {
    Random rnd = new Random(6);
    SparseMatrix.Builder s = SparseMatrix.newBuilder();
    for (int d = 0; d < 20; d++) {
      for (int t = 0; t < 15; t++) {
        if (d % 15 == t || rnd.nextInt(3) == 0) {
          s.addRowKeys("d" + d).addColKeys("t" + t).addValues(1 + rnd.nextInt(3));
        }
      }
    }
    return FitRequest.newBuilder().setSolver("nmf").setNumFactors(3).setModelId("keys")
        .setMaxIterations(3).setAbsentEntries(AbsentEntries.ABSENT_ENTRIES_ZERO)
        .setMatrix(Matrix.newBuilder().setSparse(s));
  }

  private static Matrix dense(int rows, int cols, float... values) {
    DenseMatrix.Builder d = DenseMatrix.newBuilder().setRows(rows).setCols(cols);
    for (float v : values) {
      d.addValues(v);
    }
    return Matrix.newBuilder().setDense(d).build();
  }

  private static byte[] seed(String rpc, MessageLite... messages) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] name = rpc.getBytes(StandardCharsets.US_ASCII);
    out.write(name.length);
    out.write(name);
    for (MessageLite m : messages) {
      m.writeDelimitedTo(out);
    }
    return out.toByteArray();
  }

  private static int count;

  private static void write(String label, String rpc, MessageLite... messages)
      throws IOException {
    Files.write(dir.resolve(String.format("seed-%03d-%s", count++, label)),
        seed(rpc, messages));
  }

  /**
   * Writes the corpus into {@link #DIR} under the server module ({@code args[0]}, default
   * {@code server}), replacing the seeds; crash files are kept.
   */
  public static void main(String[] args) throws Exception {
    dir = Path.of(args.length > 0 ? args[0] : "server").resolve(DIR);
    Files.createDirectories(dir);
    try (var files = Files.list(dir)) {
      for (Path p : files.toList()) {
        if (p.getFileName().toString().startsWith("seed-")) {
          Files.delete(p);
        }
      }
    }
    InProcessMfServer server = new InProcessMfServer();
    var stub = server.start(RequestFuzzTest.fuzzConfig(), null);
    stub.fit(intsFit().build());
    stub.fit(keysFit().build());
    ByteArrayOutputStream snapshot = new ByteArrayOutputStream();
    Iterator<ExportModelResponse> export = stub.exportModel(ExportModelRequest.newBuilder()
        .setModelId("ints").build());
    while (export.hasNext()) {
      export.next().getData().writeTo(snapshot);
    }
    List<GetFactorsResponse> factors = new java.util.ArrayList<>();
    stub.getFactors(GetFactorsRequest.newBuilder().setModelId("ints").build())
        .forEachRemaining(factors::add);
    server.afterEach(null);

    FitRequest good = Requests.fit("als", 2, Requests.seedMatrix(4, 5, 1)).build();
    write("fit-dense", "Fit", good);
    write("fit-sparse-ids", "Fit", intsFit().setModelId("").build());
    write("fit-sparse-keys-nmf", "Fit", keysFit().setModelId("k2").build());
    write("fit-upload-id", "Fit", good.toBuilder().setMatrixId("nope").build());
    write("fit-warm-start", "Fit", intsFit().setModelId("warm").setWarmStartModelId("ints")
        .build());
    write("fit-validation", "Fit", intsFit().setModelId("v").setValidationFraction(0.2)
        .build());
    write("fit-params", "Fit", good.toBuilder().putParams("alpha", "2").build());
    write("fit-sgd", "Fit", good.toBuilder().setSolver("sgd").setLearningRate(0.01).build());
    write("fit-no-matrix", "Fit", FitRequest.newBuilder().setSolver("als").build());
    write("fit-empty-oneof", "Fit", good.toBuilder().setMatrix(Matrix.getDefaultInstance())
        .build());
    write("fit-dense-zero-rows", "Fit", good.toBuilder().setMatrix(dense(0, 3)).build());
    write("fit-dense-negative-cols", "Fit", good.toBuilder().setMatrix(dense(2, -3, 1, 2))
        .build());
    write("fit-dense-few-values", "Fit", good.toBuilder().setMatrix(dense(2, 2, 1, 2, 3))
        .build());
    write("fit-dense-nan", "Fit", good.toBuilder().setMatrix(dense(2, 2, 1, Float.NaN, 3, 4))
        .build());
    write("fit-sparse-mismatch", "Fit", good.toBuilder().setMatrix(Matrix.newBuilder()
        .setSparse(SparseMatrix.newBuilder().addRowIds(1).addRowIds(2).addColIds(1)
            .addValues(1))).build());
    write("fit-sparse-duplicate", "Fit", good.toBuilder().setNumFactors(1)
        .setMatrix(Matrix.newBuilder().setSparse(SparseMatrix.newBuilder().addRowIds(1)
            .addRowIds(1).addColIds(1).addColIds(1).addValues(1).addValues(2))).build());
    write("fit-sparse-both-forms", "Fit", good.toBuilder().setMatrix(Matrix.newBuilder()
        .setSparse(SparseMatrix.newBuilder().addRowIds(1).addRowKeys("a").addColIds(1)
            .addValues(1))).build());
    write("fit-factors-huge", "Fit", good.toBuilder().setNumFactors(Integer.MAX_VALUE)
        .build());
    write("fit-factors-zero", "Fit", good.toBuilder().setNumFactors(0).build());
    write("fit-unknown-solver", "Fit", good.toBuilder().setSolver("svdpp").build());
    write("fit-bad-param", "Fit", good.toBuilder().putParams("lambda", "x").build());
    write("fit-param-twice", "Fit", good.toBuilder().setMaxIterations(3)
        .putParams("max_iterations", "4").build());
    write("fit-iterations-negative", "Fit", good.toBuilder().setMaxIterations(-1).build());
    write("fit-validation-two", "Fit", good.toBuilder().setValidationFraction(2).build());
    write("fit-model-id-bad", "Fit", good.toBuilder().setModelId("a/../b").build());
    write("fit-model-id-taken", "Fit", good.toBuilder().setModelId("ints").build());
    write("fit-absent-99", "Fit", good.toBuilder().setAbsentEntriesValue(99).build());
    write("fit-nmf-negative", "Fit", good.toBuilder().setSolver("nmf")
        .setMatrix(dense(2, 2, 1, -1, 2, 3)).setNumFactors(1).build());
    write("fit-warm-unknown", "Fit", good.toBuilder().setWarmStartModelId("nope").build());
    write("fit-progress", "FitWithProgress", FitWithProgressRequest.newBuilder().setFit(good)
        .build());
    write("fit-progress-bad", "FitWithProgress", FitWithProgressRequest.newBuilder()
        .setFit(good.toBuilder().setNumFactors(-2)).build());

    write("upload-two-dense", "UploadMatrix",
        UploadMatrixRequest.newBuilder().setChunk(dense(2, 3, 1, 2, 3, 4, 5, 6)).build(),
        UploadMatrixRequest.newBuilder().setChunk(dense(1, 3, 7, 8, 9)).build());
    write("upload-sparse", "UploadMatrix", UploadMatrixRequest.newBuilder()
        .setChunk(intsFit().getMatrix()).build());
    write("upload-width-changes", "UploadMatrix",
        UploadMatrixRequest.newBuilder().setChunk(dense(1, 3, 1, 2, 3)).build(),
        UploadMatrixRequest.newBuilder().setChunk(dense(1, 2, 1, 2)).build());
    write("upload-dense-then-sparse", "UploadMatrix",
        UploadMatrixRequest.newBuilder().setChunk(dense(1, 2, 1, 2)).build(),
        UploadMatrixRequest.newBuilder().setChunk(intsFit().getMatrix()).build());
    write("upload-empty-chunk", "UploadMatrix", UploadMatrixRequest.getDefaultInstance());
    write("delete-matrix", "DeleteMatrix", DeleteMatrixRequest.newBuilder()
        .setMatrixId("m-1").build());

    for (String model : List.of("ints", "keys", "nope", "")) {
      write("factors-" + model, "GetFactors", GetFactorsRequest.newBuilder()
          .setModelId(model).build());
      write("model-" + model, "GetModel", GetModelRequest.newBuilder().setModelId(model)
          .build());
      write("export-" + model, "ExportModel", ExportModelRequest.newBuilder()
          .setModelId(model).build());
    }
    write("predict", "Predict", PredictRequest.newBuilder().setModelId("ints")
        .addUserIds(1).addUserIds(2).addItemIds(100).addItemIds(101).build());
    write("predict-keys", "Predict", PredictRequest.newBuilder().setModelId("keys")
        .addUserKeys("d1").addItemKeys("t2").build());
    write("predict-unknown-mean", "Predict", PredictRequest.newBuilder().setModelId("ints")
        .addUserIds(999).addItemIds(100).setUnknownIds(UnknownIdPolicy
            .UNKNOWN_ID_POLICY_GLOBAL_MEAN).build());
    write("predict-unknown-nan", "Predict", PredictRequest.newBuilder().setModelId("ints")
        .addUserIds(1).addItemIds(9).setUnknownIds(UnknownIdPolicy.UNKNOWN_ID_POLICY_NAN)
        .build());
    write("predict-unknown-error", "Predict", PredictRequest.newBuilder().setModelId("ints")
        .addUserIds(999).addItemIds(100).build());
    write("predict-mismatch", "Predict", PredictRequest.newBuilder().setModelId("ints")
        .addUserIds(1).addUserIds(2).addItemIds(100).build());
    write("predict-policy-9", "Predict", PredictRequest.newBuilder().setModelId("ints")
        .addUserIds(1).addItemIds(100).setUnknownIdsValue(9).build());
    write("predict-wrong-form", "Predict", PredictRequest.newBuilder().setModelId("ints")
        .addUserKeys("d1").addItemKeys("t1").build());
    write("recommend", "Recommend", RecommendRequest.newBuilder().setModelId("ints")
        .setUserId(3).setK(5).build());
    write("recommend-keys", "Recommend", RecommendRequest.newBuilder().setModelId("keys")
        .setUserKey("d3").setK(5).setExcludeSeen(false).build());
    write("recommend-history", "Recommend", RecommendRequest.newBuilder().setModelId("ints")
        .setUserHistory(UserHistory.newBuilder().addItemIds(100).addItemIds(101)
            .addValues(5).addValues(1)).setK(3).build());
    write("recommend-filters", "Recommend", RecommendRequest.newBuilder().setModelId("ints")
        .setUserId(3).addAllowedItemIds(100).addAllowedItemIds(101).addDeniedItemIds(101)
        .setOffset(1).setK(2).build());
    write("recommend-k-negative", "Recommend", RecommendRequest.newBuilder()
        .setModelId("ints").setUserId(3).setK(-1).build());
    write("recommend-offset-negative", "Recommend", RecommendRequest.newBuilder()
        .setModelId("ints").setUserId(3).setOffset(-4).build());
    write("recommend-k-over-limit", "Recommend", RecommendRequest.newBuilder()
        .setModelId("ints").setUserId(3).setK(201).build());
    write("recommend-no-user", "Recommend", RecommendRequest.newBuilder().setModelId("ints")
        .build());
    write("recommend-history-nan", "Recommend", RecommendRequest.newBuilder()
        .setModelId("ints").setUserHistory(UserHistory.newBuilder().addItemIds(100)
            .addValues(Float.NaN)).build());
    write("recommend-alias", "Recommend", RecommendRequest.newBuilder().setModelId("prod")
        .setUserId(1).build());
    write("batch", "RecommendBatch", RecommendBatchRequest.newBuilder().setModelId("ints")
        .addUserIds(1).addUserIds(2).addUserIds(3).setK(4).build());
    write("batch-keys", "RecommendBatch", RecommendBatchRequest.newBuilder()
        .setModelId("keys").addUserKeys("d1").addUserKeys("zz").build());
    write("similar-items", "SimilarItems", SimilarItemsRequest.newBuilder().setModelId("ints")
        .setItemId(100).setK(3).build());
    write("similar-items-dot", "SimilarItems", SimilarItemsRequest.newBuilder()
        .setModelId("keys").setItemKey("t1").setSimilarity(io.mfserve.proto.v1.Similarity
            .SIMILARITY_DOT).build());
    write("similar-items-similarity-7", "SimilarItems", SimilarItemsRequest.newBuilder()
        .setModelId("ints").setItemId(100).setSimilarityValue(7).build());
    write("similar-users", "SimilarUsers", SimilarUsersRequest.newBuilder().setModelId("ints")
        .setUserId(2).setK(3).build());
    write("predict-row", "PredictRow", PredictRowRequest.newBuilder().setModelId("ints")
        .setUserId(4).build());
    write("predict-row-history", "PredictRow", PredictRowRequest.newBuilder()
        .setModelId("keys").setUserHistory(UserHistory.newBuilder().addItemKeys("t1")
            .addValues(2)).build());
    write("fold-in", "FoldIn", FoldInRequest.newBuilder().setModelId("ints")
        .setUserHistory(UserHistory.newBuilder().addItemIds(100).addItemIds(102)
            .addValues(4).addValues(2)).build());
    write("fold-in-empty", "FoldIn", FoldInRequest.newBuilder().setModelId("ints").build());
    write("fold-in-mismatch", "FoldIn", FoldInRequest.newBuilder().setModelId("ints")
        .setUserHistory(UserHistory.newBuilder().addItemIds(100).addValues(4).addValues(2))
        .build());
    write("topics", "GetTopics", GetTopicsRequest.newBuilder().setModelId("keys")
        .setNumTerms(3).build());
    write("topics-out-of-range", "GetTopics", GetTopicsRequest.newBuilder().setModelId("keys")
        .addTopics(7).addTopics(-1).build());
    write("list-models", "ListModels", ListModelsRequest.getDefaultInstance());
    write("list-solvers", "ListSolvers", ListSolversRequest.getDefaultInstance());
    write("server-info", "GetServerInfo", GetServerInfoRequest.getDefaultInstance());
    write("delete-model", "DeleteModel", DeleteModelRequest.newBuilder().setModelId("ints")
        .build());
    write("delete-model-unknown", "DeleteModel", DeleteModelRequest.newBuilder()
        .setModelId("nope").build());
    write("set-alias", "SetAlias", SetAliasRequest.newBuilder().setAlias("prod")
        .setModelId("ints").build());
    write("set-alias-cas", "SetAlias", SetAliasRequest.newBuilder().setAlias("prod")
        .setModelId("keys").setExpectedModelId("ints").build());
    write("set-alias-model-name", "SetAlias", SetAliasRequest.newBuilder().setAlias("ints")
        .setModelId("keys").build());
    write("set-alias-bad", "SetAlias", SetAliasRequest.newBuilder().setAlias("a b")
        .setModelId("ints").build());
    write("get-alias", "GetAlias", GetAliasRequest.newBuilder().setAlias("prod").build());
    write("list-aliases", "ListAliases", ListAliasesRequest.getDefaultInstance());
    write("delete-alias", "DeleteAlias", DeleteAliasRequest.newBuilder().setAlias("prod")
        .setExpectedModelId("ints").build());
    byte[] snap = snapshot.toByteArray();
    write("import-model", "ImportModel", ImportModelRequest.newBuilder().setModelId("copy")
        .setData(ByteString.copyFrom(snap, 0, snap.length / 2)).build(),
        ImportModelRequest.newBuilder().setData(ByteString.copyFrom(snap, snap.length / 2,
            snap.length - snap.length / 2)).build());
    write("import-model-truncated", "ImportModel", ImportModelRequest.newBuilder()
        .setModelId("cut").setData(ByteString.copyFrom(snap, 0, snap.length - 9)).build());
    write("import-model-garbage", "ImportModel", ImportModelRequest.newBuilder()
        .setData(ByteString.copyFromUtf8("MFSNAP not really")).build());
    ImportFactorsRequest.Builder first = ImportFactorsRequest.newBuilder().setHeader(
        ImportFactorsHeader.newBuilder().setModelId("imported").setNumFactors(3)
            .setHasBiases(factors.get(0).getUserBiasesCount() > 0));
    MessageLite[] rows = new MessageLite[factors.size() + 1];
    rows[0] = first.build();
    for (int n = 0; n < factors.size(); n++) {
      rows[n + 1] = ImportFactorsRequest.newBuilder().setRows(factors.get(n).toBuilder()
          .clearModel()).build();
    }
    write("import-factors", "ImportFactors", rows);
    write("import-factors-no-header", "ImportFactors", rows[1]);
    write("import-factors-k-zero", "ImportFactors", ImportFactorsRequest.newBuilder()
        .setHeader(ImportFactorsHeader.newBuilder().setNumFactors(0)).build());
    write("explain", "Explain", io.mfserve.proto.v1.ExplainRequest.newBuilder()
        .setModelId("ints").setUserId(2).setItemId(100).setK(3).build());
    System.out.println("wrote " + count + " seeds to " + dir);
  }
}
