package io.mfserve.server.grpc;

import io.mfserve.proto.v1.UploadMatrixRequest;
import io.mfserve.server.model.matrix.SparseChunk;

/**
 * One UploadMatrix message as the server reads it ({@link UploadChunkMarshaller}): an id-keyed
 * sparse chunk decoded straight from the wire into arrays, or, for every other form, the parsed
 * request. Exactly one of the two is set.
 *
 * @param request the parsed request, or null when {@code sparse} is set
 * @param sparse the decoded entries (ids, no keys, one value each, at least one), or null
 */
record UploadChunk(UploadMatrixRequest request, SparseChunk sparse) {
  UploadChunk {
    if ((request == null) == (sparse == null)) {
      throw new IllegalArgumentException("give exactly one of request and sparse");
    }
  }

  /** A chunk in the parsed form. */
  static UploadChunk of(UploadMatrixRequest request) {
    return new UploadChunk(request, null);
  }

  /** The chunk's entries: values in the decoded form; see RequestLimits for the parsed one. */
  int decodedEntries() {
    return sparse.values().length;
  }
}
