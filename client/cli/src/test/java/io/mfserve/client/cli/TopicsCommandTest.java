package io.mfserve.client.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.mfserve.proto.v1.DenseMatrix;
import io.mfserve.proto.v1.FoldInRequest;
import io.mfserve.proto.v1.FoldInResponse;
import io.mfserve.proto.v1.GetFactorsRequest;
import io.mfserve.proto.v1.GetFactorsResponse;
import io.mfserve.proto.v1.GetModelRequest;
import io.mfserve.proto.v1.GetModelResponse;
import io.mfserve.proto.v1.GetTopicsRequest;
import io.mfserve.proto.v1.GetTopicsResponse;
import io.mfserve.proto.v1.IdForm;
import io.mfserve.proto.v1.MatrixFactorizationGrpc;
import io.mfserve.proto.v1.ModelInfo;
import io.mfserve.proto.v1.ScoredItem;
import io.mfserve.proto.v1.Topic;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

class TopicsCommandTest {
  private static final List<String> WORDS = List.of("cat", "dog", "orbit", "moon");

  @TempDir
  Path dir;

  private final TopicServer fake = new TopicServer();
  @RegisterExtension
  final MfctlHarness cli = MfctlHarness.direct(fake);

  /** A two-topic model over four words: the server side of GetTopics, GetFactors and FoldIn. */
  static final class TopicServer extends MatrixFactorizationGrpc.MatrixFactorizationImplBase {
    FoldInRequest lastFoldIn;

    private static ModelInfo info() {
      return ModelInfo.newBuilder().setModelId("lda").setSolver("nmf").setNumFactors(2)
          .setNumUsers(1).setNumItems(4).setUserIdForm(IdForm.ID_FORM_INT64)
          .setItemIdForm(IdForm.ID_FORM_STRING).build();
    }

    @Override
    public void getModel(GetModelRequest request, StreamObserver<GetModelResponse> response) {
      if (!request.getModelId().equals("lda")) {
        response.onError(Status.NOT_FOUND.withDescription("no model").asRuntimeException());
        return;
      }
      response.onNext(GetModelResponse.newBuilder().setModel(info()).build());
      response.onCompleted();
    }

    @Override
    public void getTopics(GetTopicsRequest request, StreamObserver<GetTopicsResponse> response) {
      if (!request.getModelId().equals("lda")) {
        response.onError(Status.NOT_FOUND.withDescription("no model").asRuntimeException());
        return;
      }
      int n = Math.min(request.getNumTerms(), 2);
      GetTopicsResponse.Builder b = GetTopicsResponse.newBuilder();
      Topic.Builder pets = b.addTopicsBuilder().setIndex(0);
      Topic.Builder space = b.addTopicsBuilder().setIndex(1);
      float[] weights = {0.6f, 0.4f};
      for (int t = 0; t < n; t++) {
        pets.addTerms(ScoredItem.newBuilder().setItemKey(WORDS.get(t)).setScore(weights[t]));
        space.addTerms(ScoredItem.newBuilder().setItemKey(WORDS.get(2 + t))
            .setScore(weights[t]));
      }
      response.onNext(b.build());
      response.onCompleted();
    }

    @Override
    public void getFactors(GetFactorsRequest request,
        StreamObserver<GetFactorsResponse> response) {
      GetFactorsResponse.Builder b = GetFactorsResponse.newBuilder().setModel(info())
          .addUserIds(0).addAllItemKeys(WORDS);
      b.setUserFactors(DenseMatrix.newBuilder().setRows(1).setCols(2).addValues(1)
          .addValues(1));
      b.setItemFactors(DenseMatrix.newBuilder().setRows(4).setCols(2).addValues(1).addValues(0)
          .addValues(1).addValues(0).addValues(0).addValues(1).addValues(0).addValues(1));
      response.onNext(b.build());
      response.onCompleted();
    }

    @Override
    public void foldIn(FoldInRequest request, StreamObserver<FoldInResponse> response) {
      lastFoldIn = request;
      response.onNext(FoldInResponse.newBuilder().addFactors(0.5f).addFactors(1.5f).build());
      response.onCompleted();
    }
  }

  @Test
  void topics_model_printsEachTopicAsWeightedTerms() {
    assertEquals(Mfctl.EXIT_OK, cli.mfctl("topics", "lda", "-n", "2"), cli.err());
    assertEquals("topic 0: 0.600*\"cat\" + 0.400*\"dog\"\n"
        + "topic 1: 0.600*\"orbit\" + 0.400*\"moon\"\n", cli.out());
  }

  @Test
  void topics_document_foldsInKnownTermsAndPrintsTheMixture() throws IOException {
    Path doc = Files.writeString(dir.resolve("doc.txt"),
        "orbit 2\nmoon\nmoon\n# a comment\nunicorn 4\ncat,1\n");
    assertEquals(Mfctl.EXIT_OK, cli.mfctl("topics", "lda", "-n", "2", "--document", doc.toString()),
        cli.err());
    // Known terms only, repeated ones added up, in first-seen order.
    assertEquals(List.of("orbit", "moon", "cat"),
        fake.lastFoldIn.getUserHistory().getItemKeysList());
    assertEquals(List.of(2f, 2f, 1f), fake.lastFoldIn.getUserHistory().getValuesList());
    assertTrue(
        cli.out().contains("document " + doc + ": 3 terms, 1 not in the model left out"),
        cli.out());
    String[] lines = cli.out().strip().split("\n");
    // Heaviest topic first: 1.5 of 2.0 is topic 1.
    assertTrue(lines[lines.length - 2].strip().matches("1\\s+0\\.750\\s+1\\.5\\d*\\s+orbit, moon"),
        lines[lines.length - 2]);
    assertTrue(lines[lines.length - 1].strip().matches("0\\s+0\\.250\\s+0\\.5\\d*\\s+cat, dog"),
        lines[lines.length - 1]);
  }

  @Test
  void topics_json_listsTopicsAndMixture() throws IOException {
    Path doc = Files.writeString(dir.resolve("doc.txt"), "moon 3\n");
    assertEquals(Mfctl.EXIT_OK, cli.mfctl("--json", "topics", "lda", "-n", "1", "--document",
        doc.toString()), cli.err());
    assertTrue(cli.out().startsWith("{\"model_id\":\"lda\",\"topics\":[{\"index\":0,\"terms\":"
        + "[{\"term\":\"cat\",\"weight\":0.6"), cli.out());
    assertTrue(cli.out().contains("\"shares\":[0.25,0.75]"), cli.out());
  }

  @Test
  void topics_badInput_usageOrServerErrors() throws IOException {
    assertEquals(Mfctl.EXIT_USAGE, cli.mfctl("topics", "lda", "-n", "0"));
    assertEquals(Mfctl.EXIT_SERVER, cli.mfctl("topics", "nope"));
    Path unknown = Files.writeString(dir.resolve("u.txt"), "unicorn 2\n");
    assertEquals(Mfctl.EXIT_USAGE, cli.mfctl("topics", "lda", "--document", unknown.toString()));
    assertEquals(Mfctl.EXIT_USAGE, cli.mfctl("topics", "lda", "--document",
        dir.resolve("missing.txt").toString()));
    Path bad = Files.writeString(dir.resolve("b.txt"), "moon -1\n");
    assertEquals(Mfctl.EXIT_USAGE, cli.mfctl("topics", "lda", "--document", bad.toString()));
  }
}
