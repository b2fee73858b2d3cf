package io.mfserve.server.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.UnknownFieldSet;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.mfserve.proto.v1.DenseMatrix;
import io.mfserve.proto.v1.FitRequest;
import io.mfserve.proto.v1.FitWithProgressRequest;
import io.mfserve.proto.v1.Matrix;
import io.mfserve.proto.v1.SparseMatrix;
import io.mfserve.proto.v1.TuneRange;
import io.mfserve.proto.v1.TuneSpec;
import io.mfserve.server.model.matrix.SparseChunk;
import java.io.ByteArrayInputStream;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * What {@link FitMessageMarshaller} reads must be the request protobuf reads, for Fit and
 * FitWithProgress, whether the matrix was decoded or the whole request went through protobuf.
 */
class FitMessageMarshallerTest {
  private static final FitMessageMarshaller[] BOTH = {FitMessageMarshaller.FIT,
      FitMessageMarshaller.FIT_WITH_PROGRESS};

  private static long id(Random random) {
    return switch (random.nextInt(5)) {
      case 0 -> random.nextInt(128);
      case 1 -> random.nextInt(1 << 14);
      case 2 -> random.nextLong();
      case 3 -> -1 - random.nextInt(1000);
      default -> random.nextInt(1 << 30);
    };
  }

  private static SparseMatrix.Builder sparse(Random random, int n) {
    SparseMatrix.Builder s = SparseMatrix.newBuilder();
    for (int e = 0; e < n; e++) {
      s.addRowIds(id(random)).addColIds(id(random)).addValues((float) random.nextGaussian());
    }
    return s;
  }

  /** A request with a random choice of every other field set, and an id-keyed sparse matrix. */
  private static FitRequest request(Random random, int n) {
    FitRequest.Builder r = FitRequest.newBuilder()
        .setMatrix(Matrix.newBuilder().setSparse(sparse(random, n)));
    if (random.nextBoolean()) {
      r.setSolver(random.nextBoolean() ? "nmf" : "als");
    }
    if (random.nextBoolean()) {
      r.setNumFactors(random.nextInt(200) - 10);
    }
    if (random.nextBoolean()) {
      r.setModelId("model-" + random.nextInt(1000));
    }
    if (random.nextBoolean()) {
      r.setMaxIterations(random.nextInt(50)).setRegularization(random.nextDouble());
    }
    if (random.nextBoolean()) {
      r.setLearningRate(random.nextDouble()).setSeed(random.nextLong());
    }
    for (int p = random.nextInt(3); p > 0; p--) {
      r.putParams("p" + random.nextInt(10), Integer.toString(random.nextInt()));
    }
    if (random.nextBoolean()) {
      r.setAbsentEntriesValue(random.nextInt(4)).setValidationFraction(random.nextDouble());
    }
    if (random.nextInt(4) == 0) {
      r.setWarmStartModelId("warm").setTune(TuneSpec.newBuilder().setK(5)
          .addRanges(TuneRange.newBuilder().setName("regularization").setMin(0.01).setMax(1)));
    }
    if (random.nextInt(8) == 0) {
      r.setUnknownFields(UnknownFieldSet.newBuilder().addField(99,
          UnknownFieldSet.Field.newBuilder().addVarint(random.nextLong()).build()).build());
    }
    return r.build();
  }

  private static byte[] bytes(FitMessageMarshaller m, FitRequest r) {
    return m == FitMessageMarshaller.FIT ? r.toByteArray()
        : FitWithProgressRequest.newBuilder().setFit(r).build().toByteArray();
  }

  private static FitMessage parse(FitMessageMarshaller m, byte[] bytes) {
    return m.parse(new ByteArrayInputStream(bytes));
  }

  /** The FitRequest a message stands for: its decoded matrix, if any, put back. */
  private static FitRequest whole(FitMessage message) {
    SparseChunk c = message.matrix();
    if (c == null) {
      return message.request();
    }
    assertNull(c.rowKeys());
    assertNull(c.colKeys());
    SparseMatrix.Builder s = SparseMatrix.newBuilder();
    Arrays.stream(c.rowIds()).forEach(s::addRowIds);
    Arrays.stream(c.colIds()).forEach(s::addColIds);
    for (float v : c.values()) {
      s.addValues(v);
    }
    return message.request().toBuilder().setMatrix(Matrix.newBuilder().setSparse(s)).build();
  }

  private static void assertSameAsProtobuf(FitMessageMarshaller m, byte[] bytes, String what) {
    FitRequest expected;
    try {
      expected = m == FitMessageMarshaller.FIT ? FitRequest.parseFrom(bytes)
          : FitWithProgressRequest.parseFrom(bytes).getFit();
    } catch (InvalidProtocolBufferException e) {
      StatusRuntimeException thrown = assertThrows(StatusRuntimeException.class,
          () -> parse(m, bytes), what);
      assertEquals(Status.Code.INTERNAL, thrown.getStatus().getCode(), what);
      return;
    }
    FitMessage got = parse(m, bytes);
    assertEquals(expected, whole(got), what);
    assertEquals(m == FitMessageMarshaller.FIT ? "" : "fit.", got.field(), what);
  }

  @Test
  void parse_inlineIdKeyedSparseMatrices_decodedToTheRequestProtobufReads() {
    Random random = new Random(5);
    for (FitMessageMarshaller m : BOTH) {
      for (int trial = 0; trial < 300; trial++) {
        byte[] bytes = bytes(m, request(random, 1 + random.nextInt(trial < 150 ? 20 : 3000)));

        FitMessage got = parse(m, bytes);
        assertNotNull(got.matrix(), "trial " + trial);
        assertEquals(FitRequest.InputCase.INPUT_NOT_SET, got.request().getInputCase());
        assertSameAsProtobuf(m, bytes, "trial " + trial);
      }
    }
  }

  @Test
  void parse_otherForms_goThroughProtobufWhole() {
    Random random = new Random(7);
    FitRequest base = request(random, 4);
    Matrix sparse = base.getMatrix();
    FitRequest keyed = base.toBuilder().setMatrix(Matrix.newBuilder().setSparse(
        SparseMatrix.newBuilder().addRowKeys("u").addColIds(3).addValues(1f))).build();
    FitRequest dense = base.toBuilder().setMatrix(Matrix.newBuilder().setDense(
        DenseMatrix.newBuilder().setRows(1).setCols(2).addValues(1f).addValues(2f))).build();
    FitRequest empty = base.toBuilder().setMatrix(Matrix.newBuilder()
        .setSparse(SparseMatrix.getDefaultInstance())).build();
    FitRequest unset = base.toBuilder().setMatrix(Matrix.getDefaultInstance()).build();
    FitRequest uploaded = base.toBuilder().setMatrixId("m-1").build();
    FitRequest none = base.toBuilder().clearInput().build();
    for (FitMessageMarshaller m : BOTH) {
      for (FitRequest r : new FitRequest[] {keyed, dense, empty, unset, uploaded, none,
          FitRequest.getDefaultInstance()}) {
        FitMessage got = parse(m, bytes(m, r));

        assertEquals(r, got.request());
        assertNull(got.matrix());
      }
      // Both inputs on the wire, in either order: the later one wins, as protobuf decides.
      byte[] matrixThenId = concat(bytes(FitMessageMarshaller.FIT, base),
          bytes(FitMessageMarshaller.FIT, FitRequest.newBuilder().setMatrixId("m-2").build()));
      byte[] idThenMatrix = concat(
          bytes(FitMessageMarshaller.FIT, FitRequest.newBuilder().setMatrixId("m-2").build()),
          bytes(FitMessageMarshaller.FIT, base));
      // The matrix field twice: protobuf merges the two matrices.
      byte[] twice = concat(bytes(FitMessageMarshaller.FIT, base), bytes(FitMessageMarshaller.FIT,
          FitRequest.newBuilder().setMatrix(sparse).build()));
      for (byte[] fit : new byte[][] {matrixThenId, idThenMatrix, twice}) {
        byte[] b = m == FitMessageMarshaller.FIT ? fit : wrapInFitField(fit);

        assertNull(parse(m, b).matrix());
        assertSameAsProtobuf(m, b, Arrays.toString(fit));
      }
    }
  }

  @Test
  void parse_mutatedBytes_eitherTheSameAsProtobufOrTheSameError() {
    Random random = new Random(19);
    for (FitMessageMarshaller m : BOTH) {
      for (int trial = 0; trial < 3000; trial++) {
        byte[] bytes = WireMutations.mutate(random,
            bytes(m, request(random, 1 + random.nextInt(8))));

        assertSameAsProtobuf(m, bytes, "trial " + trial + ": " + Arrays.toString(bytes));
      }
    }
  }

  @Test
  void stream_parsedFormWritesTheRequestBack_decodedFormIsNotWritten() throws Exception {
    FitRequest r = request(new Random(11), 3).toBuilder().clearInput().setMatrixId("m").build();
    for (FitMessageMarshaller m : BOTH) {
      FitMessage parsed = parse(m, bytes(m, r));

      assertEquals(r, parse(m, m.stream(parsed).readAllBytes()).request());
      FitMessage decoded = parse(m, bytes(m, request(new Random(13), 3)));
      assertThrows(UnsupportedOperationException.class, () -> m.stream(decoded));
    }
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] out = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  private static byte[] wrapInFitField(byte[] fit) {
    return FitWithProgressRequest.newBuilder().setUnknownFields(UnknownFieldSet.newBuilder()
        .addField(FitWithProgressRequest.FIT_FIELD_NUMBER, UnknownFieldSet.Field.newBuilder()
            .addLengthDelimited(ByteString.copyFrom(fit)).build()).build()).build().toByteArray();
  }
}
