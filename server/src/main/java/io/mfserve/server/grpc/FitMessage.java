package io.mfserve.server.grpc;

import io.mfserve.proto.v1.FitRequest;
import io.mfserve.server.model.matrix.SparseChunk;

/**
 * One Fit or FitWithProgress request as the server reads it ({@link FitMessageMarshaller}): the
 * FitRequest, and, when it carried an id-keyed sparse matrix inline in the form every protobuf
 * library writes, that matrix decoded straight from the wire into arrays, in which case the
 * request holds everything but the matrix.
 *
 * @param request the FitRequest; without its matrix when {@code matrix} is set
 * @param matrix the inline matrix, decoded (ids, no keys, one value each, at least one), or null
 *     when {@code request} holds its input, if any, itself
 * @param field where the FitRequest sits in its message, as error messages name its fields: ""
 *     in a Fit, "fit." in a FitWithProgress
 */
record FitMessage(FitRequest request, SparseChunk matrix, String field) {
  FitMessage {
    if (matrix != null && request.getInputCase() != FitRequest.InputCase.INPUT_NOT_SET) {
      throw new IllegalArgumentException("a decoded matrix and the request's own input");
    }
  }

  /** A request in the parsed form. */
  static FitMessage of(FitRequest request, String field) {
    return new FitMessage(request, null, field);
  }
}
