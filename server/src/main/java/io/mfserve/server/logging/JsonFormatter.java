package io.mfserve.server.logging;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Instant;
import java.util.Map;
import java.util.logging.Formatter;
import java.util.logging.LogRecord;

/**
 * Formats each log record as one JSON object on one line, for log shippers
 * ({@code --log-format json}): {@code timestamp} (ISO-8601, UTC), {@code level},
 * {@code logger}, {@code message}, then the fields of a {@link LogEvent} as members of their
 * own (numbers and booleans unquoted), and {@code exception} with the stack trace when there is
 * one. Newlines inside values are escaped, so a record is always exactly one line.
 */
public final class JsonFormatter extends Formatter {
  private static final java.util.Set<String> RESERVED =
      java.util.Set.of("timestamp", "level", "logger", "message", "exception");

  @Override
  public String format(LogRecord record) {
    StringBuilder b = new StringBuilder(256).append('{');
    member(b, "timestamp", Instant.ofEpochMilli(record.getMillis()).toString());
    b.append(',');
    member(b, "level", record.getLevel().getName());
    b.append(',');
    member(b, "logger", record.getLoggerName());
    b.append(',');
    Object[] params = record.getParameters();
    LogEvent.Fields fields = params != null && params.length == 1
        && params[0] instanceof LogEvent.Fields f ? f : null;
    member(b, "message", fields != null ? record.getMessage() : formatMessage(record));
    if (fields != null) {
      for (Map.Entry<String, Object> e : fields.values().entrySet()) {
        String key = RESERVED.contains(e.getKey()) ? "field_" + e.getKey() : e.getKey();
        b.append(',');
        string(b, key);
        b.append(':');
        value(b, e.getValue());
      }
    }
    if (record.getThrown() != null) {
      StringWriter w = new StringWriter();
      record.getThrown().printStackTrace(new PrintWriter(w));
      b.append(',');
      member(b, "exception", w.toString());
    }
    return b.append('}').append('\n').toString();
  }

  private static void member(StringBuilder b, String key, String value) {
    string(b, key);
    b.append(':');
    string(b, value);
  }

  private static void value(StringBuilder b, Object v) {
    if (v instanceof Boolean
        || (v instanceof Number n && !(n instanceof Double d && !Double.isFinite(d))
            && !(n instanceof Float f && !Float.isFinite(f)))) {
      b.append(v instanceof java.math.BigDecimal d ? d.toPlainString() : v);
    } else {
      string(b, String.valueOf(v));
    }
  }

  /** Appends {@code s} as a JSON string (RFC 8259 escapes; null as the empty string). */
  static void string(StringBuilder b, String s) {
    b.append('"');
    if (s != null) {
      for (int i = 0; i < s.length(); i++) {
        char c = s.charAt(i);
        switch (c) {
          case '"' -> b.append("\\\"");
          case '\\' -> b.append("\\\\");
          case '\n' -> b.append("\\n");
          case '\r' -> b.append("\\r");
          case '\t' -> b.append("\\t");
          default -> {
            if (c < 0x20 || c == 0x2028 || c == 0x2029) {
              b.append(String.format("\\u%04x", (int) c));
            } else {
              b.append(c);
            }
          }
        }
      }
    }
    b.append('"');
  }
}
