package io.mfserve.server.model.errors;

/**
 * A request went over one of the server's explicit limits (see {@code Limits}): a size limit
 * is RESOURCE_EXHAUSTED, a length limit on a name or key INVALID_ARGUMENT. The message names
 * the field, the limit and the flag that raises it.
 */
public final class LimitExceededException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String field;
  private final String limit;
  private final String flag;
  private final long value;
  private final boolean invalidArgument;

  /**
   * Creates the exception.
   *
   * @param field the request field, e.g. {@code user_ids}
   * @param actual what the request asked for
   * @param limit the limit's name, e.g. {@code max_ids_per_request}
   * @param flag the server flag that sets it, e.g. {@code --max-ids-per-request}
   * @param value the limit's value
   * @param invalidArgument true for a length limit (INVALID_ARGUMENT), false for a size limit
   *     (RESOURCE_EXHAUSTED)
   */
  public LimitExceededException(String field, long actual, String limit, String flag,
      long value, boolean invalidArgument) {
    super(field + ": " + (limit.endsWith("_length") ? "is " + actual + " characters long"
        : "is " + actual) + ", over " + limit + " = " + value + " (server flag " + flag + ")");
    this.field = field;
    this.limit = limit;
    this.flag = flag;
    this.value = value;
    this.invalidArgument = invalidArgument;
  }

  /** Returns the request field. */
  public String field() {
    return field;
  }

  /** Returns the limit's name. */
  public String limit() {
    return limit;
  }

  /** Returns the flag that sets the limit. */
  public String flag() {
    return flag;
  }

  /** Returns the limit's value. */
  public long value() {
    return value;
  }

  /** Returns whether this is INVALID_ARGUMENT (a length) rather than RESOURCE_EXHAUSTED. */
  public boolean invalidArgument() {
    return invalidArgument;
  }
}
