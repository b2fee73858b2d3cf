package io.mfserve.server.logging;

import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * One structured log line: an event name and key=value fields, logged through
 * java.util.logging as a {@link LogRecord} whose message is the {@code key=value} text (what
 * the text format prints) and whose only parameter is the field map (what
 * {@link JsonFormatter} prints as JSON members).
 *
 * <pre>{@code
 * LogEvent.of("fit").put("model", id).put("solver", "als").put("seconds", 1.25).log(LOG);
 * }</pre>
 *
 * <p>Not thread-safe: build and log one on one thread.
 */
public final class LogEvent {
  private final String event;
  private final Map<String, Object> fields = new LinkedHashMap<>();
  private Level level = Level.INFO;
  private Throwable thrown;

  private LogEvent(String event) {
    this.event = event;
    fields.put("event", event);
  }

  /** Starts an event named {@code event} (lower case, no spaces), at level INFO. */
  public static LogEvent of(String event) {
    return new LogEvent(event);
  }

  /** Adds a field; a null value is left out. Numbers and booleans stay numbers in JSON. */
  public LogEvent put(String key, Object value) {
    if (value != null) {
      fields.put(key, value);
    }
    return this;
  }

  /** Adds a whole-number field (a count, a shape). */
  public LogEvent put(String key, long value) {
    fields.put(key, value);
    return this;
  }

  /** Adds a field rounded to 4 significant figures (at most 6 decimals: microseconds). */
  public LogEvent put(String key, double value) {
    if (!Double.isFinite(value) || value == 0) {
      fields.put(key, value);
    } else {
      BigDecimal d = new BigDecimal(value).round(new MathContext(4));
      fields.put(key, d.scale() > 6 ? d.setScale(6, RoundingMode.HALF_EVEN).stripTrailingZeros()
          : d.stripTrailingZeros());
    }
    return this;
  }

  /** Logs at {@code level} instead of INFO. */
  public LogEvent level(Level newLevel) {
    this.level = newLevel;
    return this;
  }

  /** Attaches a throwable (its stack trace follows the line). */
  public LogEvent thrown(Throwable t) {
    this.thrown = t;
    return this;
  }

  /** Returns the fields, {@code event} first. */
  public Map<String, Object> fields() {
    return Collections.unmodifiableMap(fields);
  }

  /** Returns the text form: {@code event=fit model=ml solver=als ...}. */
  public String text() {
    StringBuilder b = new StringBuilder();
    for (Map.Entry<String, Object> e : fields.entrySet()) {
      if (b.length() > 0) {
        b.append(' ');
      }
      Object v = e.getValue();
      b.append(e.getKey()).append('=').append(quote(v instanceof BigDecimal d
          ? d.toPlainString() : String.valueOf(v)));
    }
    return b.toString();
  }

  /** Logs the event to {@code logger} (nothing is built when the level is off). */
  public void log(Logger logger) {
    if (!logger.isLoggable(level)) {
      return;
    }
    LogRecord r = new LogRecord(level, text());
    r.setLoggerName(logger.getName());
    r.setSourceClassName(logger.getName());
    r.setSourceMethodName(null);
    r.setParameters(new Object[] {new Fields(fields())});
    r.setThrown(thrown);
    logger.log(r);
  }

  /** Quotes a value that is empty or holds a space, a quote, '=' or a control character. */
  static String quote(String v) {
    boolean plain = !v.isEmpty();
    for (int i = 0; i < v.length() && plain; i++) {
      char c = v.charAt(i);
      plain = c > ' ' && c != '"' && c != '=' && c != '\\' && c < 0x7f;
    }
    if (plain) {
      return v;
    }
    StringBuilder b = new StringBuilder(v.length() + 2).append('"');
    for (int i = 0; i < v.length(); i++) {
      char c = v.charAt(i);
      switch (c) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        case '\n' -> b.append("\\n");
        case '\r' -> b.append("\\r");
        case '\t' -> b.append("\\t");
        default -> {
          // Other control characters and the bidirectional overrides come from requests (an
          // id or key echoed in an error): escaped, so that no request can forge a log line,
          // reorder one on a terminal or send the terminal escape sequences.
          if (c < ' ' || c == 0x7f || (c >= 0x202a && c <= 0x202e)
              || (c >= 0x2066 && c <= 0x2069)) {
            b.append(String.format(java.util.Locale.ROOT, "\\u%04x", (int) c));
          } else {
            b.append(c);
          }
        }
      }
    }
    return b.append('"').toString();
  }

  /**
   * The structured fields of a record, carried as its only parameter. The message already
   * holds the text form, so a formatter that ignores parameters prints the same line.
   */
  public record Fields(Map<String, Object> values) {
    @Override
    public String toString() {
      return values.toString();
    }
  }
}
