package io.mfserve.server.model.errors;

import java.util.List;

/** The request is malformed whatever the server's state: INVALID_ARGUMENT. */
public final class InvalidRequestException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final transient List<FieldViolation> violations;

  /** One violation of one field. */
  public InvalidRequestException(String field, String description) {
    this(List.of(new FieldViolation(field, description)));
  }

  /** Several violations; the message joins them. */
  public InvalidRequestException(List<FieldViolation> violations) {
    super(join(violations));
    this.violations = List.copyOf(violations);
  }

  private static String join(List<FieldViolation> violations) {
    StringBuilder sb = new StringBuilder();
    for (FieldViolation v : violations) {
      if (sb.length() > 0) {
        sb.append("; ");
      }
      sb.append(v.field()).append(": ").append(v.description());
    }
    return sb.toString();
  }

  /** Returns the violations, at least one. */
  public List<FieldViolation> violations() {
    return violations;
  }
}
