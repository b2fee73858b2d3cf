package io.mfserve.client.cli;

import io.mfserve.client.cli.InputFiles.InputException;
import io.mfserve.client.cli.InputFiles.Source;
import java.util.regex.Pattern;

/**
 * The parsing every input reader shares: splitting a line into fields, reading numbers and
 * canonical integer ids, and the {@code file line n: } prefix and clipped quotes of the error
 * messages.
 */
final class InputParsing {
  static final Pattern WHITESPACE = Pattern.compile("\\s+");

  private InputParsing() {}

  /** Splits on {@code ::}, tabs, commas or runs of spaces, whichever the line uses. */
  static String[] splitAny(String t) {
    if (t.contains("::")) {
      return t.split("::", -1);
    }
    if (t.contains("\t")) {
      return trimAll(t.split("\t", -1));
    }
    if (t.contains(",")) {
      return trimAll(t.split(",", -1));
    }
    return WHITESPACE.split(t);
  }

  private static String[] trimAll(String[] f) {
    for (int i = 0; i < f.length; i++) {
      f[i] = f[i].strip();
    }
    return f;
  }

  static float parseValue(Source source, int n, String what, String s) {
    float v;
    try {
      v = Float.parseFloat(s.strip());
    } catch (NumberFormatException e) {
      throw new InputException(at(source, n) + what + " '" + clip(s) + "' is not a number");
    }
    if (!Float.isFinite(v)) {
      throw new InputException(at(source, n) + what + " '" + clip(s)
          + "' is not a finite float32 number");
    }
    return v;
  }

  /** The value of an integer written in canonical form ("7", not "007" or "+7"), else null. */
  static Long canonicalLong(String s) {
    try {
      long v = Long.parseLong(s);
      return Long.toString(v).equals(s) ? v : null;
    } catch (NumberFormatException e) {
      return null;
    }
  }

  static boolean isNumber(String s) {
    String t = s.strip();
    if (t.isEmpty()) {
      return false;
    }
    char c = t.charAt(t.length() - 1);
    // Float.parseFloat accepts "1f" and "1d"; a header "id" is not a number.
    if (!(Character.isDigit(c) || c == '.' || c == 'N' || c == 'y')) {
      return false;
    }
    try {
      Float.parseFloat(t);
      return true;
    } catch (NumberFormatException e) {
      return false;
    }
  }

  /** The start of an error message about line {@code line} of {@code source}. */
  static String at(Source source, int line) {
    return source.name() + " line " + line + ": ";
  }

  /** A field or line quoted in an error message, cut to 60 characters. */
  static String clip(String s) {
    return s.length() <= 60 ? s : s.substring(0, 57) + "...";
  }
}
