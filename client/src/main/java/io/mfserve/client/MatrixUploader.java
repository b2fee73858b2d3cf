package io.mfserve.client;

import com.google.protobuf.InvalidProtocolBufferException;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.Deadline;
import io.grpc.MethodDescriptor;
import io.grpc.stub.ClientCalls;
import io.mfserve.proto.v1.DenseMatrix;
import io.mfserve.proto.v1.Matrix;
import io.mfserve.proto.v1.MatrixFactorizationGrpc;
import io.mfserve.proto.v1.UploadMatrixRequest;
import io.mfserve.proto.v1.UploadMatrixResponse;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.function.Consumer;

/**
 * Sends a matrix on one UploadMatrix client stream, cut into chunks that each serialize to at
 * most the chunk size (dense blocks of whole rows, or runs of sparse entries; see
 * {@link MatrixChunks}), reporting each chunk as it goes. The upload half of {@link MfClient},
 * which holds one; not part of the public API.
 */
final class MatrixUploader {
  /**
   * Room left in each chunk for the message wrappers (UploadMatrixRequest, Matrix, the sparse or
   * dense message) and the tags and lengths of the packed fields: a handful of bytes each.
   */
  static final int CHUNK_OVERHEAD_BYTES = 64;

  /** UploadMatrix with its requests sent as the bytes {@link #uploadChunks} wrote. */
  private static final MethodDescriptor<byte[], UploadMatrixResponse> UPLOAD =
      SerializedMessages.of(MatrixFactorizationGrpc.getUploadMatrixMethod());

  private final Channel channel;
  private final int chunkBytes;

  /** An uploader on {@code channel} whose chunks serialize to at most {@code chunkBytes}. */
  MatrixUploader(Channel channel, int chunkBytes) {
    this.channel = channel;
    this.chunkBytes = chunkBytes;
  }

  /**
   * Uploads {@code matrix} before {@code deadline}, calling {@code progress} (when not null) on
   * this thread after each chunk.
   *
   * @throws IllegalArgumentException if the matrix has neither form, or a dense matrix's values
   *     do not number rows × cols
   * @throws MfServeException if the server rejects the matrix or the call fails
   */
  UploadMatrixResponse upload(Matrix matrix, Deadline deadline,
      Consumer<UploadProgress> progress) {
    if (matrix.hasDense()) {
      DenseMatrix d = matrix.getDense();
      if ((long) d.getRows() * d.getCols() != d.getValuesCount() || d.getRows() < 0) {
        throw new IllegalArgumentException("the dense matrix has " + d.getValuesCount()
            + " values but rows x cols = " + d.getRows() + " x " + d.getCols()
            + "; it needs exactly rows x cols values, row by row");
      }
    }
    return stream(uploadChunks(matrix, chunkBytes), deadline, matrix.getSerializedSize(),
        progress);
  }

  /**
   * Sends the chunks (serialized UploadMatrix requests) on one UploadMatrix call, reporting each
   * to {@code progress}.
   */
  private UploadMatrixResponse stream(Iterator<byte[]> chunks, Deadline deadline,
      long totalBytes, Consumer<UploadProgress> progress) {
    int[] sent = new int[1];
    long[] bytes = new long[1];
    ClientStreams.Sent<byte[]> report = progress == null ? null : (chunk, last) -> {
      sent[0]++;
      bytes[0] += chunk.length;
      progress.accept(new UploadProgress(sent[0], last ? totalBytes
          : Math.min(bytes[0], totalBytes), totalBytes, last));
    };
    return ClientStreams.send("UploadMatrix", r -> ClientCalls.asyncClientStreamingCall(
        channel.newCall(UPLOAD, CallOptions.DEFAULT.withDeadline(deadline)), r), chunks, report);
  }

  /**
   * The matrix's chunks as serialized UploadMatrix requests, each at most {@code chunkBytes}.
   * An id-keyed sparse matrix, the large case, is written straight to bytes
   * ({@link MatrixChunks#sparseWire}); the other forms go through the builders.
   */
  private static Iterator<byte[]> uploadChunks(Matrix matrix, int chunkBytes) {
    int budget = chunkBytes - CHUNK_OVERHEAD_BYTES;
    return switch (matrix.getKindCase()) {
      case DENSE -> ClientStreams.map(MatrixChunks.dense(matrix.getDense(), budget),
          d -> UploadMatrixRequest.newBuilder().setChunk(Matrix.newBuilder().setDense(d)).build()
              .toByteArray());
      case SPARSE -> MatrixChunks.idKeyed(matrix.getSparse())
          ? MatrixChunks.sparseWire(matrix.getSparse(), budget,
              UploadMatrixRequest.CHUNK_FIELD_NUMBER, Matrix.SPARSE_FIELD_NUMBER)
          : ClientStreams.map(MatrixChunks.sparse(matrix.getSparse(), budget),
              s -> UploadMatrixRequest.newBuilder().setChunk(Matrix.newBuilder().setSparse(s))
                  .build().toByteArray());
      default -> throw new IllegalArgumentException(
          "the matrix has neither a dense nor a sparse form set");
    };
  }

  /** The chunks an upload would send, for tests that inspect the chunking without a server. */
  static List<UploadMatrixRequest> chunks(Matrix matrix, int chunkBytes) {
    List<UploadMatrixRequest> out = new ArrayList<>();
    uploadChunks(matrix, chunkBytes).forEachRemaining(bytes -> {
      try {
        out.add(UploadMatrixRequest.parseFrom(bytes));
      } catch (InvalidProtocolBufferException e) {
        throw new IllegalStateException("a chunk does not parse", e);
      }
    });
    return out;
  }
}
