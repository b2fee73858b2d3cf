package io.mfserve.client;

import io.mfserve.proto.v1.TuneRange;
import io.mfserve.proto.v1.TuneSpec;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Reads the text form of a server-side search ({@code FitRequest.tune}): whitespace-separated
 * tokens, each a numeric range {@code NAME=MIN:MAX} (add {@code :log} to draw on a log scale)
 * or a list {@code NAME=V1,V2,...}, for example
 * {@code "regularization=0.01:100:log factors=5:50 biases=true,false"}. A name is a fit
 * option — {@code factors} (or {@code num_factors}, {@code rank}), {@code iterations} (or
 * {@code max_iterations}), {@code regularization}, {@code learning_rate} — or any parameter the
 * solver declares; the server checks names and ranges against the solver.
 *
 * <p>Stateless.
 */
public final class TuneSpecs {
  private static final Pattern NAME = Pattern.compile("[A-Za-z][A-Za-z0-9_.-]*");
  private static final Pattern WHITESPACE = Pattern.compile("\\s+");

  private TuneSpecs() {}

  /**
   * Parses the ranges of a search; several texts are read as one.
   *
   * @param texts texts of {@code NAME=MIN:MAX[:log]} and {@code NAME=V1,V2,...} tokens
   * @return a spec holding the ranges (budget and metric unset: the server's defaults)
   * @throws IllegalArgumentException naming the bad token
   */
  public static TuneSpec.Builder parse(List<String> texts) {
    TuneSpec.Builder spec = TuneSpec.newBuilder();
    Set<String> names = new HashSet<>();
    for (String text : texts) {
      for (String token : WHITESPACE.split(text.strip())) {
        if (token.isEmpty()) {
          continue;
        }
        int eq = token.indexOf('=');
        if (eq <= 0 || eq == token.length() - 1) {
          throw bad(token, "expected NAME=MIN:MAX[:log] or NAME=V1,V2,...");
        }
        String raw = token.substring(0, eq);
        if (!NAME.matcher(raw).matches()) {
          throw bad(token, "'" + raw + "' is not a parameter name");
        }
        String name = canonical(raw);
        if (!names.add(name)) {
          throw bad(token, "'" + name + "' is given twice");
        }
        String value = token.substring(eq + 1);
        TuneRange.Builder r = TuneRange.newBuilder().setName(name);
        if (value.contains(":")) {
          String[] parts = value.split(":", -1);
          if (parts.length > 3 || parts.length == 3 && !parts[2].equalsIgnoreCase("log")) {
            throw bad(token, "a range is MIN:MAX or MIN:MAX:log");
          }
          r.setMin(number(token, parts[0])).setMax(number(token, parts[1]))
              .setLogScale(parts.length == 3);
        } else {
          for (String v : value.split(",", -1)) {
            if (v.isEmpty()) {
              throw bad(token, "an empty value");
            }
            r.addValues(v);
          }
        }
        spec.addRanges(r);
      }
    }
    if (spec.getRangesCount() == 0) {
      throw new IllegalArgumentException("no ranges: give NAME=MIN:MAX[:log] or NAME=V1,V2,...");
    }
    return spec;
  }

  /** The server's name of a fit option given by its mfctl name; other names unchanged. */
  static String canonical(String name) {
    String n = name.toLowerCase(Locale.ROOT).replace('-', '_');
    return switch (n) {
      case "factors", "num_factors", "rank" -> "num_factors";
      case "iterations", "max_iterations" -> "max_iterations";
      case "regularization", "learning_rate" -> n;
      default -> name;
    };
  }

  private static double number(String token, String text) {
    try {
      double v = Double.parseDouble(text);
      if (Double.isFinite(v)) {
        return v;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw bad(token, "'" + text + "' is not a finite number");
  }

  private static IllegalArgumentException bad(String token, String why) {
    return new IllegalArgumentException("'" + token + "': " + why);
  }
}
