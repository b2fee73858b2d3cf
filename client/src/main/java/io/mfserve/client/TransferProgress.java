package io.mfserve.client;

/**
 * How far a model snapshot has travelled, reported after each chunk by {@link
 * MfClient#exportModel(String, java.io.OutputStream, java.util.function.Consumer)} (bytes
 * received and written) and {@link MfClient#importModel(java.io.InputStream, String, long,
 * java.util.function.Consumer)} (bytes read and sent).
 *
 * @param chunks the chunks so far, from 1
 * @param bytes the snapshot bytes so far
 * @param totalBytes the snapshot's size: from the server's first export chunk, or as given to an
 *     import; -1 when unknown
 * @param done whether this was the last chunk
 */
public record TransferProgress(int chunks, long bytes, long totalBytes, boolean done) {
  /**
   * The fraction transferred.
   *
   * @return bytes / totalBytes in [0, 1]; 1 once done; 0 while the total is unknown
   */
  public double fraction() {
    if (done) {
      return 1.0;
    }
    return totalBytes <= 0 ? 0.0 : Math.min(1.0, (double) bytes / totalBytes);
  }
}
