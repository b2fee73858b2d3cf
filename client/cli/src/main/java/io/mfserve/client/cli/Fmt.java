package io.mfserve.client.cli;

import com.google.protobuf.Timestamp;
import io.mfserve.proto.v1.AbsentEntries;
import io.mfserve.proto.v1.IdForm;
import io.mfserve.proto.v1.ParameterType;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;

/** Number and name formatting for human-readable output; locale-independent. */
final class Fmt {
  private static final DateTimeFormatter TIME =
      DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss'Z'").withZone(ZoneOffset.UTC);

  private Fmt() {}

  /** A count with thousands separators: 100,000. */
  static String count(long n) {
    return String.format(Locale.ROOT, "%,d", n);
  }

  /** A score or factor: 4 decimals. */
  static String score(double v) {
    return Double.isNaN(v) ? "NaN" : String.format(Locale.ROOT, "%.4f", v);
  }

  /**
   * A loss or other value of any magnitude: 4 significant digits (whole numbers from 10,000 to
   * a million, scientific notation beyond).
   */
  static String sig(double v) {
    if (Double.isNaN(v) || Double.isInfinite(v)) {
      return Double.toString(v);
    }
    double a = Math.abs(v);
    if (a != 0 && (a >= 1e6 || a < 1e-3)) {
      return String.format(Locale.ROOT, "%.3e", v);
    }
    if (a >= 9999.5) {
      // %.4g would switch to 1.235e+04 here: whole numbers read better below a million.
      return String.format(Locale.ROOT, "%.0f", v);
    }
    String s = String.format(Locale.ROOT, "%.4g", v);
    if (s.contains(".") && !s.contains("e")) {
      s = s.replaceAll("0+$", "").replaceAll("\\.$", "");
    }
    return s;
  }

  static String seconds(double s) {
    return s < 10 ? String.format(Locale.ROOT, "%.2f s", s)
        : String.format(Locale.ROOT, "%.1f s", s);
  }

  static String bytes(long b) {
    if (b < 1024) {
      return b + " B";
    }
    String[] units = {"KiB", "MiB", "GiB", "TiB"};
    double v = b;
    int u = -1;
    while (v >= 1024 && u < units.length - 1) {
      v /= 1024;
      u++;
    }
    return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
  }

  static String time(Timestamp t) {
    if (t.getSeconds() == 0 && t.getNanos() == 0) {
      return "-";
    }
    return TIME.format(Instant.ofEpochSecond(t.getSeconds(), t.getNanos()));
  }

  /** Values per iteration, compactly: all of up to 8, else the first 4, "...", the last 3. */
  static String series(List<Double> values) {
    StringBuilder sb = new StringBuilder();
    int n = values.size();
    for (int i = 0; i < n; i++) {
      if (n > 8 && i == 4) {
        sb.append(" ...");
        i = n - 4;
        continue;
      }
      if (sb.length() > 0) {
        sb.append(' ');
      }
      sb.append(sig(values.get(i)));
    }
    return sb.toString();
  }

  static String absent(AbsentEntries a) {
    return switch (a) {
      case ABSENT_ENTRIES_UNKNOWN -> "unknown";
      case ABSENT_ENTRIES_ZERO -> "zero";
      case ABSENT_ENTRIES_IMPLICIT -> "implicit";
      case ABSENT_ENTRIES_UNSPECIFIED, UNRECOGNIZED -> "unspecified";
    };
  }

  static String idForm(IdForm f) {
    return switch (f) {
      case ID_FORM_INT64 -> "int64 ids";
      case ID_FORM_STRING -> "string keys";
      case ID_FORM_UNSPECIFIED, UNRECOGNIZED -> "unspecified";
    };
  }

  static String type(ParameterType t) {
    return switch (t) {
      case PARAMETER_TYPE_INT -> "int";
      case PARAMETER_TYPE_DOUBLE -> "double";
      case PARAMETER_TYPE_BOOL -> "bool";
      case PARAMETER_TYPE_CHOICE -> "choice";
      case PARAMETER_TYPE_STRING -> "string";
      case PARAMETER_TYPE_UNSPECIFIED, UNRECOGNIZED -> "?";
    };
  }
}
