package io.mfserve.server.grpc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.WireFormat;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.mfserve.proto.v1.Matrix;
import io.mfserve.proto.v1.SparseMatrix;
import io.mfserve.proto.v1.UploadMatrixRequest;
import io.mfserve.server.model.matrix.SparseChunk;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class UploadChunkMarshallerTest {
  private static long id(Random random) {
    return switch (random.nextInt(7)) {
      case 0 -> random.nextInt(128);
      case 1 -> random.nextInt(1 << 14);
      case 2 -> random.nextInt(1 << 21);
      case 3 -> random.nextLong();
      case 4 -> -1 - random.nextInt(1000);
      case 5 -> random.nextBoolean() ? Long.MAX_VALUE : Long.MIN_VALUE;
      default -> random.nextInt(1 << 30);
    };
  }

  private static UploadMatrixRequest request(Random random, int n) {
    SparseMatrix.Builder s = SparseMatrix.newBuilder();
    for (int e = 0; e < n; e++) {
      s.addRowIds(id(random)).addColIds(id(random)).addValues((float) random.nextGaussian());
    }
    return UploadMatrixRequest.newBuilder().setChunk(Matrix.newBuilder().setSparse(s)).build();
  }

  private static UploadChunk parse(byte[] bytes) {
    return UploadChunkMarshaller.INSTANCE.parse(new ByteArrayInputStream(bytes));
  }

  /** What the server reads must be what protobuf reads, whichever way the bytes went. */
  private static void assertSameAsProtobuf(byte[] bytes, String what) {
    UploadMatrixRequest expected;
    try {
      expected = UploadMatrixRequest.parseFrom(bytes);
    } catch (InvalidProtocolBufferException e) {
      StatusRuntimeException thrown = assertThrows(StatusRuntimeException.class,
          () -> parse(bytes), what);
      assertEquals(Status.Code.INTERNAL, thrown.getStatus().getCode(), what);
      return;
    }
    UploadChunk got = parse(bytes);
    if (got.request() != null) {
      assertEquals(expected, got.request(), what);
      return;
    }
    SparseMatrix s = expected.getChunk().getSparse();
    assertTrue(s.getRowKeysCount() == 0 && s.getColKeysCount() == 0, what);
    SparseChunk c = got.sparse();
    assertArrayEquals(s.getRowIdsList().stream().mapToLong(Long::longValue).toArray(),
        c.rowIds(), what);
    assertArrayEquals(s.getColIdsList().stream().mapToLong(Long::longValue).toArray(),
        c.colIds(), what);
    float[] values = new float[s.getValuesCount()];
    for (int e = 0; e < values.length; e++) {
      values[e] = s.getValues(e);
    }
    assertArrayEquals(values, c.values(), what);
    assertNull(c.rowKeys());
    assertNull(c.colKeys());
  }

  @Test
  void parse_idKeyedSparseChunks_decodedToTheSameEntriesAsProtobuf() {
    Random random = new Random(3);
    for (int trial = 0; trial < 200; trial++) {
      byte[] bytes = request(random, 1 + random.nextInt(trial < 100 ? 20 : 3000)).toByteArray();

      assertNotNull(parse(bytes).sparse(), "trial " + trial);
      assertSameAsProtobuf(bytes, "trial " + trial);
    }
  }

  @Test
  void parse_otherForms_goThroughProtobufUnchanged() {
    UploadMatrixRequest keyed = UploadMatrixRequest.newBuilder().setChunk(Matrix.newBuilder()
        .setSparse(SparseMatrix.newBuilder().addRowKeys("u").addColIds(3).addValues(1f)))
        .build();
    UploadMatrixRequest uneven = UploadMatrixRequest.newBuilder().setChunk(Matrix.newBuilder()
        .setSparse(SparseMatrix.newBuilder().addRowIds(1).addRowIds(2).addColIds(3)
            .addValues(1f))).build();
    UploadMatrixRequest empty = UploadMatrixRequest.newBuilder().setChunk(Matrix.newBuilder()
        .setSparse(SparseMatrix.getDefaultInstance())).build();
    for (UploadMatrixRequest r : new UploadMatrixRequest[] {keyed, uneven, empty,
        UploadMatrixRequest.getDefaultInstance()}) {
      UploadChunk got = parse(r.toByteArray());

      assertEquals(r, got.request());
      assertNull(got.sparse());
    }
  }

  @Test
  void parse_unpackedRepeatedAndReorderedFields_sameAsProtobuf() throws IOException {
    // row_ids unpacked (one tag per id), as the format allows and some writers do.
    byte[] unpacked = sparse(out -> {
      out.writeInt64(SparseMatrix.ROW_IDS_FIELD_NUMBER, 5);
      out.writeInt64(SparseMatrix.ROW_IDS_FIELD_NUMBER, -7);
      packed(out, SparseMatrix.COL_IDS_FIELD_NUMBER, 1, 2);
      packedFloats(out, 1f, 2f);
    });
    // col_ids in two packed runs, which protobuf concatenates.
    byte[] split = sparse(out -> {
      packed(out, SparseMatrix.ROW_IDS_FIELD_NUMBER, 5, 6);
      packed(out, SparseMatrix.COL_IDS_FIELD_NUMBER, 1);
      packed(out, SparseMatrix.COL_IDS_FIELD_NUMBER, 2);
      packedFloats(out, 1f, 2f);
    });
    // values first, then the ids: any order is the same message.
    byte[] reordered = sparse(out -> {
      packedFloats(out, 1f, 2f);
      packed(out, SparseMatrix.COL_IDS_FIELD_NUMBER, 300, Long.MIN_VALUE);
      packed(out, SparseMatrix.ROW_IDS_FIELD_NUMBER, 1L << 40, 0);
    });

    assertNull(parse(unpacked).sparse());
    assertNull(parse(split).sparse());
    assertNotNull(parse(reordered).sparse());
    for (byte[] b : new byte[][] {unpacked, split, reordered}) {
      assertSameAsProtobuf(b, Arrays.toString(b));
    }
  }

  @Test
  void parse_mutatedBytes_eitherTheSameAsProtobufOrTheSameError() {
    Random random = new Random(17);
    for (int trial = 0; trial < 3000; trial++) {
      byte[] bytes = WireMutations.mutate(random,
          request(random, 1 + random.nextInt(12)).toByteArray());

      assertSameAsProtobuf(bytes, "trial " + trial + ": " + Arrays.toString(bytes));
    }
  }

  /** An UploadMatrixRequest around a SparseMatrix whose fields {@code body} writes. */
  private static byte[] sparse(Body body) throws IOException {
    ByteArrayOutputStream inner = new ByteArrayOutputStream();
    CodedOutputStream out = CodedOutputStream.newInstance(inner);
    body.write(out);
    out.flush();
    byte[] sparse = inner.toByteArray();
    byte[] matrix = wrap(Matrix.SPARSE_FIELD_NUMBER, sparse);
    return wrap(UploadMatrixRequest.CHUNK_FIELD_NUMBER, matrix);
  }

  private static byte[] wrap(int field, byte[] body) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    CodedOutputStream out = CodedOutputStream.newInstance(bytes);
    out.writeByteArray(field, body);
    out.flush();
    return bytes.toByteArray();
  }

  private static void packed(CodedOutputStream out, int field, long... ids) throws IOException {
    int size = 0;
    for (long id : ids) {
      size += CodedOutputStream.computeInt64SizeNoTag(id);
    }
    out.writeTag(field, WireFormat.WIRETYPE_LENGTH_DELIMITED);
    out.writeUInt32NoTag(size);
    for (long id : ids) {
      out.writeInt64NoTag(id);
    }
  }

  private static void packedFloats(CodedOutputStream out, float... values) throws IOException {
    out.writeTag(SparseMatrix.VALUES_FIELD_NUMBER, WireFormat.WIRETYPE_LENGTH_DELIMITED);
    out.writeUInt32NoTag(4 * values.length);
    for (float v : values) {
      out.writeFloatNoTag(v);
    }
  }

  @FunctionalInterface
  private interface Body {
    void write(CodedOutputStream out) throws IOException;
  }
}
