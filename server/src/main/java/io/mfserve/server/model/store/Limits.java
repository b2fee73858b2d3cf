package io.mfserve.server.model.store;

import io.mfserve.server.model.errors.LimitExceededException;
import java.util.EnumMap;
import java.util.Map;

/**
 * The server's explicit limits on what one request, one upload or the whole server may hold,
 * each set by a flag (see {@code Main}) and listed by {@code GetServerInfo}. They sit beside
 * the memory budget, which bounds bytes: these bound counts and lengths, so that a request is
 * refused by a clear rule before the budget is ever asked, and so that no single request can
 * hold a thread for long (a million ids to resolve, a k of a billion to sort). Immutable.
 */
public final class Limits {
  /** One limit: its name, flag, default and bounds, and the status a request over it gets. */
  public enum Limit {
    /** Rows of one matrix (distinct row ids or keys), and user rows of an imported model. */
    ROWS("max_rows", "--max-rows", 50_000_000L, Integer.MAX_VALUE - 16L, false,
        "rows (users, documents) of one matrix, or users of an imported model"),
    /** Columns of one matrix, and item rows of an imported model. */
    COLS("max_cols", "--max-cols", 50_000_000L, Integer.MAX_VALUE - 16L, false,
        "columns (items, terms) of one matrix, or items of an imported model"),
    /** Entries of one inline matrix or one upload chunk. */
    REQUEST_ENTRIES("max_request_entries", "--max-request-entries", 16_777_216L,
        Integer.MAX_VALUE - 16L, false,
        "entries of an inline matrix, of one UploadMatrix chunk or one ImportFactors message"),
    /** Entries of one uploaded matrix over all its chunks (and seen pairs of one import). */
    UPLOAD_ENTRIES("max_upload_entries", "--max-upload-entries", 1_000_000_000L,
        Integer.MAX_VALUE - 16L, false,
        "entries of one uploaded matrix, all chunks together (seen pairs of one ImportFactors)"),
    /** The rank of a fit or an imported model. */
    FACTORS("max_factors", "--max-factors", 1024, 1024, true,
        "num_factors of a fit or an imported model"),
    /** Results of one query. */
    K("max_k", "--max-k", 10_000, Integer.MAX_VALUE, false,
        "results of one query: k + offset (Recommend, RecommendBatch, Similar*),"
            + " num_terms (GetTopics)"),
    /** Ids or keys in one query request. */
    IDS("max_ids_per_request", "--max-ids-per-request", 1_000_000, Integer.MAX_VALUE, false,
        "ids and keys in one query request, all lists together (Predict pairs, RecommendBatch"
            + " users, allowed and denied items, a user history, GetTopics topics)"),
    /** Characters of one string key. */
    KEY_LENGTH("max_key_length", "--max-key-length", 1024, 1 << 20, true,
        "characters of one string key (a user, item, row or column key) and of a params name"
            + " or value"),
    /** Characters of a model id, alias, matrix id or solver name. */
    NAME_LENGTH("max_name_length", "--max-name-length", 128, 128, true,
        "characters of a model id, alias, matrix id or solver name (at most 128: they name"
            + " files in the repository)"),
    /** Entries of one request's params map. */
    PARAMS("max_params", "--max-params", 64, 1 << 16, false,
        "entries of a fit's or an import's params map"),
    /** Client streams that bring data in, open at once. */
    UPLOADS("max_concurrent_uploads", "--max-concurrent-uploads", 16, 1 << 16, false,
        "UploadMatrix, ImportModel and ImportFactors streams open at once"),
    /** Models this server holds. */
    MODELS("max_models", "--max-models", 1000, 1 << 24, false,
        "models held by this server (serving, loading or being fitted); a fit or import of a"
            + " new model beyond it is refused");

    private final String id;
    private final String flag;
    private final long defaultValue;
    private final long max;
    private final boolean invalidArgument;
    private final String description;

    Limit(String id, String flag, long defaultValue, long max, boolean invalidArgument,
        String description) {
      this.id = id;
      this.flag = flag;
      this.defaultValue = defaultValue;
      this.max = max;
      this.invalidArgument = invalidArgument;
      this.description = description;
    }

    /** Returns the name GetServerInfo and error details use, e.g. {@code max_rows}. */
    public String id() {
      return id;
    }

    /** Returns the server flag that sets it, e.g. {@code --max-rows}. */
    public String flag() {
      return flag;
    }

    /** Returns its value when no flag sets it. */
    public long defaultValue() {
      return defaultValue;
    }

    /** Returns the largest value it may be set to. */
    public long max() {
      return max;
    }

    /** Returns whether a request over it is INVALID_ARGUMENT (else RESOURCE_EXHAUSTED). */
    public boolean invalidArgument() {
      return invalidArgument;
    }

    /** Returns what it bounds, in a phrase. */
    public String description() {
      return description;
    }
  }

  private final Map<Limit, Long> values;

  private Limits(Map<Limit, Long> values) {
    this.values = values;
  }

  /** Returns every limit at its default. */
  public static Limits defaults() {
    Map<Limit, Long> m = new EnumMap<>(Limit.class);
    for (Limit l : Limit.values()) {
      m.put(l, l.defaultValue);
    }
    return new Limits(m);
  }

  /**
   * Returns a copy with {@code limit} set to {@code value}.
   *
   * @throws IllegalArgumentException if {@code value} is below 1 or above the limit's maximum,
   *     with a message naming the flag
   */
  public Limits with(Limit limit, long value) {
    if (value < 1 || value > limit.max) {
      throw new IllegalArgumentException(limit.flag + " must be in [1, " + limit.max
          + "], got " + value);
    }
    Map<Limit, Long> m = new EnumMap<>(values);
    m.put(limit, value);
    return new Limits(m);
  }

  /** Returns the value of {@code limit}. */
  public long get(Limit limit) {
    return values.get(limit);
  }

  /** Returns the value of {@code limit} as an int (every limit fits one but the entries). */
  public int getInt(Limit limit) {
    return (int) Math.min(Integer.MAX_VALUE, values.get(limit));
  }

  /**
   * Refuses {@code actual} if it is over {@code limit}.
   *
   * @param field the request field, for the message
   * @throws LimitExceededException naming the field, the limit and its flag
   */
  public void check(Limit limit, String field, long actual) {
    long v = values.get(limit);
    if (actual > v) {
      throw new LimitExceededException(field, actual, limit.id, limit.flag, v,
          limit.invalidArgument);
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Limits l && l.values.equals(values);
  }

  @Override
  public int hashCode() {
    return values.hashCode();
  }

  @Override
  public String toString() {
    return "Limits" + values;
  }
}
