package io.mfserve.client;

/**
 * How far an upload of a large matrix has got, reported after each chunk is handed to the
 * transport (see
 * {@link MfClient#uploadMatrix(io.mfserve.proto.v1.Matrix, java.util.function.Consumer)}
 * and {@link FitListener#onUpload}).
 *
 * <p>Bytes count the serialized matrix: {@code totalBytes} is the size of the whole matrix
 * message, and {@code bytesSent} the chunks sent so far, capped at {@code totalBytes} (each chunk
 * repeats a few bytes of framing) and equal to it on the last chunk.
 *
 * @param chunksSent the chunks sent so far, from 1
 * @param bytesSent the bytes sent so far, 0 ≤ bytesSent ≤ totalBytes
 * @param totalBytes the size of the whole matrix, serialized
 * @param done whether this was the last chunk
 */
public record UploadProgress(int chunksSent, long bytesSent, long totalBytes, boolean done) {
  /**
   * The fraction sent.
   *
   * @return bytesSent / totalBytes, in [0, 1]; 1 for an empty matrix
   */
  public double fraction() {
    return totalBytes <= 0 ? 1.0 : Math.min(1.0, (double) bytesSent / totalBytes);
  }
}
