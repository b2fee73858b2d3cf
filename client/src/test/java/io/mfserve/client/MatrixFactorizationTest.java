package io.mfserve.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ManagedChannel;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.mfserve.proto.v1.AbsentEntries;
import io.mfserve.proto.v1.FitRequest;
import io.mfserve.proto.v1.ModelInfo;
import java.io.IOException;
import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class MatrixFactorizationTest {
  @RegisterExtension
  final GrpcCleanupExtension grpc = new GrpcCleanupExtension();

  private final FakeMfServer fake = new FakeMfServer();

  private ManagedChannel inProcess() throws IOException {
    String name = InProcessServerBuilder.generateName();
    grpc.register(InProcessServerBuilder.forName(name).directExecutor().addService(fake).build()
        .start());
    return grpc.register(InProcessChannelBuilder.forName(name).directExecutor().build());
  }

  @Test
  void seedSnippet_denseMatrix_fitsAndReturnsFactorsOfTheRightShape() throws IOException {
    float[][] ratings = {{5, 3, 0, 1}, {4, 0, 0, 1}, {1, 1, 0, 5}};
    MatrixFactorization model = new MatrixFactorization(inProcess(), ratings, 2);
    assertNull(model.modelId());

    ModelInfo info = model.fit();
    Factors factors = model.getFactors();

    assertEquals(info.getModelId(), model.modelId());
    assertEquals(3, factors.userFactors().length);
    assertEquals(2, factors.userFactors()[0].length);
    assertEquals(4, factors.itemFactors().length);
    FitRequest sent = fake.fits.get(0);
    assertEquals("als", sent.getSolver());
    assertEquals(2, sent.getNumFactors());
    assertEquals(12, sent.getMatrix().getDense().getValuesCount());
    assertTrue(fake.methodsWithoutDeadline.isEmpty());
  }

  @Test
  void options_areSentInTheFitRequest() throws IOException {
    MatrixFactorization model = new MatrixFactorization(inProcess(),
        new Ratings().add("ann", "sku-1", 1f).add("bob", "sku-2", 2f), 3)
        .solver("sgd").maxIterations(7).regularization(0.5).learningRate(0.01).seed(-1L)
        .param("momentum", "0.9").absentEntries(AbsentEntries.ABSENT_ENTRIES_IMPLICIT)
        .validationFraction(0.2).modelId("mine");

    model.fit();

    FitRequest sent = fake.fits.get(0);
    assertEquals("sgd", sent.getSolver());
    assertEquals(7, sent.getMaxIterations());
    assertEquals(0.5, sent.getRegularization());
    assertEquals(0.01, sent.getLearningRate());
    assertEquals(-1L, sent.getSeed());
    assertEquals("0.9", sent.getParamsOrThrow("momentum"));
    assertEquals(AbsentEntries.ABSENT_ENTRIES_IMPLICIT, sent.getAbsentEntries());
    assertEquals(0.2, sent.getValidationFraction());
    assertEquals("mine", model.modelId());
    assertEquals(2, sent.getMatrix().getSparse().getRowKeysCount());
    assertEquals("c", model.recommend("ann", 1, false).get(0).itemKey());
    assertArrayEquals(new float[] {3.5f}, model.predict(new String[] {"ann"},
        new String[] {"sku-1"}));
  }

  @Test
  void predict_beforeFit_throwsIllegalState() throws IOException {
    MatrixFactorization model = new MatrixFactorization(inProcess(), new double[][] {{1}}, 1);

    assertThrows(IllegalStateException.class,
        () -> model.predict(new long[] {0}, new long[] {0}));
  }

  @Test
  void raggedMatrix_isRejectedBeforeAnyCall() throws IOException {
    ManagedChannel channel = inProcess();
    assertThrows(IllegalArgumentException.class,
        () -> new MatrixFactorization(channel, new float[][] {{1, 2}, {3}}, 1));
  }

  /**
   * Over a real HTTP/2 transport with the default 4 MiB message limit, from a "host:port" target:
   * a 5 MiB matrix must go through UploadMatrix, and the owned channel closes.
   */
  @Test
  void targetConstructor_overNettyWithDefaultLimits_fitsALargeMatrix() throws IOException {
    var server = grpc.register(NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .addService(fake).build().start());
    float[][] ratings = new float[1200][1100];
    for (int i = 0; i < ratings.length; i++) {
      ratings[i][i % 1100] = 1;
    }

    try (MatrixFactorization model =
        new MatrixFactorization("127.0.0.1:" + server.getPort(), ratings, 2)) {
      ModelInfo info = model.fit();

      assertEquals(1200, info.getNumUsers());
      assertEquals(1, fake.uploads.size());
      assertArrayEquals(new float[] {2f}, model.predict(new long[] {1}, new long[] {10}));
    }
  }
}
