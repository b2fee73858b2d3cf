package io.mfserve.client.cli;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.util.JsonFormat;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * A small streaming JSON writer for mfctl's {@code --json} output, compact (one line).
 *
 * <p>Proto messages are embedded with the proto3 JSON mapping ({@link JsonFormat}, proto field
 * names, fields with default values included), so ModelInfo and SolverInfo read the same as from
 * any gRPC JSON tool (int64 values as strings, enums by name). Numbers this writer emits itself
 * (scores, factors, ids) are JSON numbers; NaN and infinities become null.
 */
final class Json {
  private static final JsonFormat.Printer PROTO = JsonFormat.printer()
      .preservingProtoFieldNames()
      .alwaysPrintFieldsWithNoPresence()
      .omittingInsignificantWhitespace();

  private final StringBuilder sb = new StringBuilder();
  /** Per open container: whether it has an element yet. */
  private final Deque<boolean[]> open = new ArrayDeque<>();
  private boolean afterName;

  static String proto(MessageOrBuilder message) {
    try {
      return PROTO.print(message);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("cannot print " + message.getClass().getSimpleName(), e);
    }
  }

  Json beginObject() {
    separate();
    sb.append('{');
    open.push(new boolean[1]);
    return this;
  }

  Json endObject() {
    open.pop();
    sb.append('}');
    return this;
  }

  Json beginArray() {
    separate();
    sb.append('[');
    open.push(new boolean[1]);
    return this;
  }

  Json endArray() {
    open.pop();
    sb.append(']');
    return this;
  }

  Json name(String name) {
    separate();
    quote(name);
    sb.append(':');
    afterName = true;
    return this;
  }

  Json value(String s) {
    separate();
    if (s == null) {
      sb.append("null");
    } else {
      quote(s);
    }
    return this;
  }

  Json value(long v) {
    separate();
    sb.append(v);
    return this;
  }

  Json value(boolean v) {
    separate();
    sb.append(v);
    return this;
  }

  Json value(double v) {
    separate();
    sb.append(Double.isFinite(v) ? Double.toString(v) : "null");
    return this;
  }

  Json value(float v) {
    separate();
    sb.append(Float.isFinite(v) ? Float.toString(v) : "null");
    return this;
  }

  Json proto(String name, MessageOrBuilder message) {
    name(name);
    return raw(proto(message));
  }

  /** Appends text that is already JSON. */
  Json raw(String json) {
    separate();
    sb.append(json);
    return this;
  }

  Json field(String name, String v) {
    return name(name).value(v);
  }

  Json field(String name, long v) {
    return name(name).value(v);
  }

  Json field(String name, double v) {
    return name(name).value(v);
  }

  Json field(String name, boolean v) {
    return name(name).value(v);
  }

  @Override
  public String toString() {
    return sb.toString();
  }

  private void separate() {
    if (afterName) {
      afterName = false;
      return;
    }
    boolean[] top = open.peek();
    if (top != null) {
      if (top[0]) {
        sb.append(',');
      }
      top[0] = true;
    }
  }

  private void quote(String s) {
    sb.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        default -> {
          if (c < 0x20) {
            sb.append(String.format("\\u%04x", (int) c));
          } else {
            sb.append(c);
          }
        }
      }
    }
    sb.append('"');
  }
}
