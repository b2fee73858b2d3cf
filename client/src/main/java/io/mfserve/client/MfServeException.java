package io.mfserve.client;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.BadRequest;
import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A failed call to an mfserve server: the gRPC status code, the server's description and the
 * field-level details it sent.
 *
 * <p>Every {@link MfClient} method turns a {@link StatusRuntimeException} into this unchecked
 * exception, so callers need no gRPC types to handle errors: {@link #code()} says what kind of
 * failure it was (see the service comment in {@code mfserve.proto}), {@link #fieldViolations()}
 * lists the request fields the server rejected (from {@code google.rpc.BadRequest}), and
 * {@link #getMessage()} is one line fit for a log or a terminal, for example {@code
 * INVALID_ARGUMENT: num_factors is 0; it must be at least 1 (field num_factors)}.
 *
 * <p>Instances are immutable.
 */
public final class MfServeException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /**
   * One request field the server rejected, from a {@code google.rpc.BadRequest} detail.
   *
   * @param field the path of the field, e.g. {@code num_factors} or {@code matrix.dense.values}
   * @param description why it was rejected
   */
  public record FieldViolation(String field, String description) {
    /**
     * Creates a violation.
     *
     * @param field the path of the field; null becomes empty
     * @param description why it was rejected; null becomes empty
     */
    public FieldViolation {
      field = field == null ? "" : field;
      description = description == null ? "" : description;
    }
  }

  /** The status code; kept apart from {@link #status}, which is not serializable. */
  private final Status.Code code;
  /** The status description, empty when there was none. */
  private final String description;
  private final transient Status status;
  /** The rejected fields. */
  private final List<FieldViolation> fieldViolations;

  /**
   * Creates an exception from a status and its field violations.
   *
   * @param status the gRPC status; its cause becomes this exception's cause
   * @param fieldViolations the rejected fields, possibly empty
   */
  public MfServeException(Status status, List<FieldViolation> fieldViolations) {
    this(status, fieldViolations, status.getCause());
  }

  private MfServeException(Status status, List<FieldViolation> fieldViolations, Throwable cause) {
    super(message(status, fieldViolations), cause);
    this.code = status.getCode();
    this.description = Objects.requireNonNullElse(status.getDescription(), "");
    this.status = status;
    this.fieldViolations = List.copyOf(fieldViolations);
  }

  /**
   * Wraps a failed gRPC call, reading the field violations from its {@code grpc-status-details-bin}
   * trailer.
   *
   * @param e the exception thrown by a stub
   * @return the wrapping exception, with {@code e} as its cause
   */
  public static MfServeException from(StatusRuntimeException e) {
    return fromThrowable(e);
  }

  /**
   * Wraps any throwable from a gRPC call. A {@link StatusRuntimeException} or {@link
   * StatusException} anywhere in the cause chain gives its status; anything else is {@code
   * UNKNOWN}.
   *
   * @param t the failure
   * @return the wrapping exception; {@code t} itself when it already is one
   */
  public static MfServeException fromThrowable(Throwable t) {
    if (t instanceof MfServeException m) {
      return m;
    }
    Status status = Status.fromThrowable(t);
    List<FieldViolation> violations = new ArrayList<>();
    com.google.rpc.Status details = StatusProto.fromThrowable(t);
    if (details != null) {
      for (Any any : details.getDetailsList()) {
        if (any.is(BadRequest.class)) {
          try {
            BadRequest bad = any.unpack(BadRequest.class);
            for (BadRequest.FieldViolation v : bad.getFieldViolationsList()) {
              violations.add(new FieldViolation(v.getField(), v.getDescription()));
            }
          } catch (InvalidProtocolBufferException ignored) {
            // A malformed detail must not hide the status itself.
          }
        }
      }
    }
    // The stub's exception is the cause: its stack shows where the call was made, and its own
    // cause is the transport failure, if any.
    return new MfServeException(status, violations, t);
  }

  /**
   * The gRPC status code.
   *
   * @return the code, e.g. {@link Status.Code#NOT_FOUND}
   */
  public Status.Code code() {
    return code;
  }

  /**
   * The server's description of the failure.
   *
   * @return the status description, empty when the server sent none
   */
  public String description() {
    return description;
  }

  /**
   * The request fields the server rejected.
   *
   * @return an unmodifiable list, empty when the server sent no {@code google.rpc.BadRequest}
   */
  public List<FieldViolation> fieldViolations() {
    return fieldViolations;
  }

  /**
   * The full gRPC status.
   *
   * @return the status, with the original exception as its cause
   */
  public Status status() {
    return status != null ? status : Status.fromCode(code).withDescription(description);
  }

  /**
   * Whether the call failed because no connection to the server could be made (refused, host
   * unknown, network down), as opposed to the server answering with an error.
   *
   * @return true for {@code UNAVAILABLE} caused by an I/O failure of the transport, or by the
   *     peer closing the connection without a word (a TLS server that a plaintext client
   *     reached, or one that refused the client's certificate, closes it so)
   */
  public boolean isConnectionFailure() {
    if (code() != Status.Code.UNAVAILABLE) {
      return false;
    }
    // grpc-netty's description when the connection ends with no GOAWAY and no I/O error: the
    // server never answered at the HTTP/2 level, so no call reached it.
    if (description != null && description.startsWith("Network closed for unknown reason")) {
      return true;
    }
    for (Throwable c = getCause(); c != null; c = c.getCause()) {
      if (c instanceof IOException) {
        return true;
      }
      if (c.getCause() == c) {
        break;
      }
    }
    return false;
  }

  private static String message(Status status, List<FieldViolation> violations) {
    String description = Objects.requireNonNullElse(status.getDescription(), "");
    if (description.isEmpty() && !violations.isEmpty()) {
      description = violations.get(0).description();
    }
    StringBuilder sb = new StringBuilder(status.getCode().name());
    if (!description.isEmpty()) {
      sb.append(": ").append(description);
    }
    for (FieldViolation v : violations) {
      boolean covered = v.description().isEmpty() || description.contains(v.description());
      if (!covered) {
        sb.append("; ").append(v.description());
      }
      if (!v.field().isEmpty()) {
        sb.append(" (field ").append(v.field()).append(')');
      }
    }
    // One line: a description with line breaks would break terminal and log output.
    return sb.toString().replace('\n', ' ').replace('\r', ' ');
  }
}
