package io.mfserve.server.grpc;

import com.google.protobuf.InvalidProtocolBufferException;
import io.grpc.MethodDescriptor;
import io.mfserve.proto.v1.MatrixFactorizationGrpc;
import io.mfserve.proto.v1.UploadMatrixRequest;
import io.mfserve.proto.v1.UploadMatrixResponse;
import io.mfserve.server.model.matrix.SparseChunk;
import java.io.InputStream;

/**
 * Reads UploadMatrix messages into {@link UploadChunk}s. The large case, a chunk of an id-keyed
 * sparse matrix in the form every protobuf library writes (the request holds only its chunk,
 * the chunk only its sparse matrix, and that only its three packed lists, each once, of one
 * length), is decoded from the wire straight into the arrays the matrix is built from ({@link
 * SparseMatrixDecoder}). Any other message, including any that is malformed, goes through
 * protobuf's parser, so that its errors and every other form behave exactly as before.
 *
 * <p>Why: protobuf's parse of these lists was about half of the server's work in an upload of
 * synth-10M (JFR), and the upload is bound by that one thread per stream.
 */
final class UploadChunkMarshaller implements MethodDescriptor.Marshaller<UploadChunk> {
  static final UploadChunkMarshaller INSTANCE = new UploadChunkMarshaller();

  private static final int CHUNK_TAG = SparseMatrixDecoder.tag(
      UploadMatrixRequest.CHUNK_FIELD_NUMBER);

  private UploadChunkMarshaller() { }

  /** UploadMatrix as the generated binding describes it, with its requests read by this. */
  static MethodDescriptor<UploadChunk, UploadMatrixResponse> method() {
    var generated = MatrixFactorizationGrpc.getUploadMatrixMethod();
    return generated.toBuilder(INSTANCE, generated.getResponseMarshaller()).build();
  }

  @Override
  public InputStream stream(UploadChunk value) {
    // Only the server reads UploadChunks; tests that write one get the request's bytes.
    if (value.request() == null) {
      throw new UnsupportedOperationException("a decoded chunk is not written back");
    }
    return value.request().toByteString().newInput();
  }

  @Override
  public UploadChunk parse(InputStream stream) {
    byte[] bytes = SparseMatrixDecoder.readAll(stream, "an UploadMatrix message");
    SparseChunk decoded = decode(bytes);
    if (decoded != null) {
      return new UploadChunk(null, decoded);
    }
    try {
      return UploadChunk.of(UploadMatrixRequest.parseFrom(bytes));
    } catch (InvalidProtocolBufferException e) {
      throw SparseMatrixDecoder.invalid(e);
    }
  }

  /**
   * Decodes the serialized UploadMatrixRequest in {@code bytes} when it is exactly
   * {chunk: {sparse: {row_ids, col_ids, values}}} in the form {@link SparseMatrixDecoder#matrix}
   * reads; returns null for anything else.
   */
  static SparseChunk decode(byte[] bytes) {
    int[] chunk = new SparseMatrixDecoder.Cursor(bytes, 0, bytes.length).only(CHUNK_TAG);
    return chunk == null ? null : SparseMatrixDecoder.matrix(bytes, chunk[0], chunk[1]);
  }
}
