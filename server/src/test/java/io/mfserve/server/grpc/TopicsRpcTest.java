package io.mfserve.server.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.rpc.BadRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.mfserve.proto.v1.AbsentEntries;
import io.mfserve.proto.v1.FitRequest;
import io.mfserve.proto.v1.FoldInRequest;
import io.mfserve.proto.v1.GetTopicsRequest;
import io.mfserve.proto.v1.GetTopicsResponse;
import io.mfserve.proto.v1.Matrix;
import io.mfserve.proto.v1.MatrixFactorizationGrpc.MatrixFactorizationBlockingStub;
import io.mfserve.proto.v1.ScoredItem;
import io.mfserve.proto.v1.SparseMatrix;
import io.mfserve.proto.v1.Topic;
import io.mfserve.proto.v1.UserHistory;
import io.mfserve.server.testing.InProcessMfServer;
import io.mfserve.server.testing.Requests;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class TopicsRpcTest {
  /** Topic "pets" and topic "space": each document draws its words from one of them. */
  private static final List<String> PETS = List.of("cat", "dog", "fur", "leash", "kitten");
  private static final List<String> SPACE = List.of("orbit", "rocket", "moon", "comet", "nasa");
  /** Words every document uses a little: they must not top either topic. */
  private static final List<String> COMMON = List.of("the", "and");

  @RegisterExtension
  final InProcessMfServer server = new InProcessMfServer();

  private MatrixFactorizationBlockingStub stub;

  /** A document × term count matrix with string keys on both sides. */
  private static Matrix corpus() {
    Random rnd = new Random(3);
    SparseMatrix.Builder s = SparseMatrix.newBuilder();
    for (int d = 0; d < 40; d++) {
      List<String> topic = d % 2 == 0 ? PETS : SPACE;
      for (int w = 0; w < topic.size(); w++) {
        // Earlier words are more frequent, so the order within a topic is known too.
        s.addRowKeys("doc" + d).addColKeys(topic.get(w)).addValues(12 - 2 * w + rnd.nextInt(2));
      }
      for (String c : COMMON) {
        s.addRowKeys("doc" + d).addColKeys(c).addValues(1);
      }
    }
    return Matrix.newBuilder().setSparse(s).build();
  }

  private void fit(String... params) {
    stub = server.start();
    FitRequest.Builder req = Requests.fit("nmf", 2, corpus()).setModelId("topics")
        .setAbsentEntries(AbsentEntries.ABSENT_ENTRIES_ZERO);
    for (int n = 0; n < params.length; n += 2) {
      req.putParams(params[n], params[n + 1]);
    }
    stub.fit(req.build());
  }

  private static Set<String> keys(Topic t) {
    Set<String> out = new HashSet<>();
    for (ScoredItem s : t.getTermsList()) {
      out.add(s.getItemKey());
    }
    return out;
  }

  @Test
  void getTopics_plantedTwoTopicCorpus_topTermsAreEachTopicsWordsWithKeys() {
    for (String loss : List.of("frobenius", "kl")) {
      fit("loss", loss);
      GetTopicsResponse r = stub.getTopics(GetTopicsRequest.newBuilder().setModelId("topics")
          .setNumTerms(5).build());
      assertEquals(2, r.getTopicsCount(), loss);
      Topic a = r.getTopics(0);
      Topic b = r.getTopics(1);
      assertEquals(0, a.getIndex());
      assertEquals(1, b.getIndex());
      Set<String> pets = Set.copyOf(PETS);
      Set<String> space = Set.copyOf(SPACE);
      Topic petsTopic = keys(a).equals(pets) ? a : b;
      Topic spaceTopic = petsTopic == a ? b : a;
      assertEquals(pets, keys(petsTopic), loss + ": " + r);
      assertEquals(space, keys(spaceTopic), loss + ": " + r);
      // Heaviest first, the most frequent word on top, weights are shares of the topic.
      assertEquals("cat", petsTopic.getTerms(0).getItemKey(), loss);
      assertEquals("orbit", spaceTopic.getTerms(0).getItemKey(), loss);
      float total = 0;
      for (int n = 0; n < 5; n++) {
        float w = petsTopic.getTerms(n).getScore();
        assertTrue(w > 0 && w <= 1, "weight " + w);
        if (n > 0) {
          assertTrue(petsTopic.getTerms(n - 1).getScore() >= w);
        }
        total += w;
      }
      assertTrue(total > 0.9 && total <= 1.0001, loss + ": the five words carry the topic, "
          + total);
      stub.deleteModel(io.mfserve.proto.v1.DeleteModelRequest.newBuilder().setModelId("topics")
          .build());
    }
  }

  @Test
  void getTopics_selectedTopicsAndDefaultCount_inRequestOrder() {
    fit();
    GetTopicsResponse r = stub.getTopics(GetTopicsRequest.newBuilder().setModelId("topics")
        .addTopics(1).addTopics(0).build());
    assertEquals(2, r.getTopicsCount());
    assertEquals(1, r.getTopics(0).getIndex());
    assertEquals(0, r.getTopics(1).getIndex());
    // 0 terms asked means 10, and the corpus has 12 terms.
    assertEquals(10, r.getTopics(0).getTermsCount());
    GetTopicsResponse all = stub.getTopics(GetTopicsRequest.newBuilder().setModelId("topics")
        .setNumTerms(1000).build());
    assertEquals(12, all.getTopics(0).getTermsCount());
  }

  @Test
  void foldIn_newDocumentFromOneTopic_mixtureIsThatTopic() {
    fit();
    GetTopicsResponse r = stub.getTopics(GetTopicsRequest.newBuilder().setModelId("topics")
        .setNumTerms(1).build());
    int spaceTopic = r.getTopics(0).getTerms(0).getItemKey().equals("orbit") ? 0 : 1;
    List<Float> mixture = stub.foldIn(FoldInRequest.newBuilder().setModelId("topics")
        .setUserHistory(UserHistory.newBuilder().addItemKeys("rocket").addValues(3)
            .addItemKeys("moon").addValues(2).addItemKeys("the").addValues(1))
        .build()).getFactorsList();
    assertEquals(2, mixture.size());
    assertTrue(mixture.get(spaceTopic) > 0);
    assertTrue(mixture.get(1 - spaceTopic) < 0.25 * mixture.get(spaceTopic), "" + mixture);
  }

  @Test
  void getTopics_badRequests_invalidArgumentOrNotFound() throws Exception {
    fit();
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
        () -> stub.getTopics(GetTopicsRequest.newBuilder().setModelId("topics")
            .setNumTerms(-1).build()));
    assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
    assertEquals("num_terms", violatedField(e));
    e = assertThrows(StatusRuntimeException.class,
        () -> stub.getTopics(GetTopicsRequest.newBuilder().setModelId("topics")
            .addTopics(0).addTopics(2).build()));
    assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
    assertEquals("topics[1]", violatedField(e));
    e = assertThrows(StatusRuntimeException.class,
        () -> stub.getTopics(GetTopicsRequest.newBuilder().setModelId("nope").build()));
    assertEquals(Status.Code.NOT_FOUND, e.getStatus().getCode());
    e = assertThrows(StatusRuntimeException.class,
        () -> stub.getTopics(GetTopicsRequest.newBuilder().build()));
    assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
  }

  @Test
  void fit_klWithHals_invalidArgumentNamingMethod() throws Exception {
    stub = server.start();
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
        () -> stub.fit(Requests.fit("nmf", 2, corpus()).putParams("loss", "kl")
            .putParams("method", "hals").build()));
    assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
    assertEquals("params.method", violatedField(e));
    e = assertThrows(StatusRuntimeException.class,
        () -> stub.getTopics(GetTopicsRequest.newBuilder().setModelId("nope")
            .setNumTerms(-1).build()));
    assertEquals(Status.Code.NOT_FOUND, e.getStatus().getCode());
  }

  private static String violatedField(StatusRuntimeException e) throws Exception {
    com.google.rpc.Status s = StatusProto.fromThrowable(e);
    for (com.google.protobuf.Any any : s.getDetailsList()) {
      if (any.is(BadRequest.class)) {
        return any.unpack(BadRequest.class).getFieldViolations(0).getField();
      }
    }
    return null;
  }
}
