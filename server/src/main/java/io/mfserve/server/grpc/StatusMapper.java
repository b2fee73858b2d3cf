package io.mfserve.server.grpc;

import com.google.protobuf.Any;
import com.google.rpc.BadRequest;
import com.google.rpc.Code;
import com.google.rpc.ErrorInfo;
import com.google.rpc.ResourceInfo;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.mfserve.server.model.errors.AlreadyExistsException;
import io.mfserve.server.model.errors.FieldViolation;
import io.mfserve.server.model.errors.InvalidRequestException;
import io.mfserve.server.model.errors.LimitExceededException;
import io.mfserve.server.model.errors.ModelDamagedException;
import io.mfserve.server.model.errors.NotFoundException;
import io.mfserve.server.model.errors.NotReadyException;
import io.mfserve.server.model.errors.PreconditionFailedException;
import io.mfserve.server.model.errors.RepositoryUnavailableException;
import io.mfserve.server.model.errors.ResourceExhaustedException;
import io.mfserve.server.model.errors.UnsupportedQueryException;
import io.mfserve.solver.FitCancelledException;
import io.mfserve.solver.FitDivergedException;
import io.mfserve.solver.InvalidParameterException;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The one place domain failures become gRPC statuses. Bad input becomes INVALID_ARGUMENT with
 * {@code google.rpc.BadRequest} field violations; anything unexpected becomes INTERNAL with a
 * generic message (and is logged), never a stack trace on the wire.
 */
final class StatusMapper {
  private static final Logger LOG = Logger.getLogger(StatusMapper.class.getName());
  private static final String DOMAIN = "mfserve.io";

  private StatusMapper() { }

  static StatusRuntimeException toStatus(Throwable t) {
    Throwable e = unwrap(t);
    if (e instanceof StatusRuntimeException sre) {
      return sre;
    }
    if (e instanceof io.grpc.StatusException se) {
      return se.getStatus().asRuntimeException(se.getTrailers());
    }
    if (e instanceof InvalidRequestException ire) {
      BadRequest.Builder br = BadRequest.newBuilder();
      for (FieldViolation v : ire.violations()) {
        br.addFieldViolations(BadRequest.FieldViolation.newBuilder()
            .setField(v.field()).setDescription(v.description()));
      }
      return build(Code.INVALID_ARGUMENT, ire.getMessage(), Any.pack(br.build()));
    }
    if (e instanceof LimitExceededException lee) {
      return limit(lee);
    }
    if (e instanceof InvalidParameterException ipe) {
      // A solver refused something about the data itself (e.g. NMF given negative values).
      String field = ipe.parameter();
      return build(Code.INVALID_ARGUMENT, field + ": " + ipe.getMessage(),
          Any.pack(BadRequest.newBuilder().addFieldViolations(BadRequest.FieldViolation
              .newBuilder().setField(field).setDescription(ipe.getMessage())).build()));
    }
    if (e instanceof NotFoundException nfe) {
      return build(Code.NOT_FOUND, nfe.getMessage(), Any.pack(ResourceInfo.newBuilder()
          .setResourceType(nfe.resourceType()).setResourceName(nfe.resourceName()).build()));
    }
    if (e instanceof AlreadyExistsException) {
      return build(Code.ALREADY_EXISTS, e.getMessage(), null);
    }
    if (e instanceof PreconditionFailedException) {
      return build(Code.FAILED_PRECONDITION, e.getMessage(), null);
    }
    if (e instanceof ModelDamagedException) {
      return build(Code.DATA_LOSS, e.getMessage(), null);
    }
    if (e instanceof RepositoryUnavailableException) {
      LOG.log(Level.WARNING, e.getMessage(), e.getCause());
      return build(Code.UNAVAILABLE, e.getMessage(), null);
    }
    if (e instanceof NotReadyException) {
      return build(Code.FAILED_PRECONDITION, e.getMessage(), null);
    }
    if (e instanceof UnsupportedQueryException) {
      return build(Code.UNIMPLEMENTED, e.getMessage(), null);
    }
    if (e instanceof ResourceExhaustedException) {
      return build(Code.RESOURCE_EXHAUSTED, e.getMessage(), null);
    }
    if (e instanceof FitDivergedException) {
      return build(Code.FAILED_PRECONDITION, e.getMessage(), Any.pack(ErrorInfo.newBuilder()
          .setReason("FIT_DIVERGED").setDomain(DOMAIN).build()));
    }
    if (e instanceof FitCancelledException || e instanceof CancellationException) {
      return build(Code.CANCELLED, e.getMessage() == null ? "cancelled" : e.getMessage(), null);
    }
    if (e instanceof OutOfMemoryError) {
      return build(Code.RESOURCE_EXHAUSTED, "the server ran out of memory for this request;"
          + " lower --memory-budget below the JVM heap or send a smaller request", null);
    }
    LOG.log(Level.WARNING, "unexpected failure", e);
    return build(Code.INTERNAL, "internal error: " + e.getClass().getSimpleName()
        + " (see the server log)", null);
  }

  /**
   * A limit's status carries an ErrorInfo (reason LIMIT_EXCEEDED, with the limit, its value and
   * flag as metadata) so that clients can tell which limit without parsing the message; a
   * length limit is also a BadRequest field violation, like any other malformed field.
   */
  private static StatusRuntimeException limit(LimitExceededException e) {
    com.google.rpc.Status.Builder s = com.google.rpc.Status.newBuilder()
        .setCode(e.invalidArgument() ? Code.INVALID_ARGUMENT.getNumber()
            : Code.RESOURCE_EXHAUSTED.getNumber())
        .setMessage(e.getMessage())
        .addDetails(Any.pack(ErrorInfo.newBuilder().setReason("LIMIT_EXCEEDED")
            .setDomain(DOMAIN).putMetadata("limit", e.limit()).putMetadata("flag", e.flag())
            .putMetadata("value", Long.toString(e.value())).putMetadata("field", e.field())
            .build()));
    if (e.invalidArgument()) {
      s.addDetails(Any.pack(BadRequest.newBuilder().addFieldViolations(
          BadRequest.FieldViolation.newBuilder().setField(e.field())
              .setDescription(e.getMessage())).build()));
    }
    return StatusProto.toStatusRuntimeException(s.build());
  }

  private static Throwable unwrap(Throwable t) {
    Throwable e = t;
    while ((e instanceof CompletionException || e instanceof ExecutionException)
        && e.getCause() != null) {
      e = e.getCause();
    }
    return e;
  }

  private static StatusRuntimeException build(Code code, String message, Any detail) {
    com.google.rpc.Status.Builder s = com.google.rpc.Status.newBuilder()
        .setCode(code.getNumber()).setMessage(message);
    if (detail != null) {
      s.addDetails(detail);
    }
    return StatusProto.toStatusRuntimeException(s.build());
  }
}
