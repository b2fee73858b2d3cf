package io.mfserve.client.cli;

import static io.mfserve.client.cli.InputParsing.at;
import static io.mfserve.client.cli.InputParsing.clip;
import static io.mfserve.client.cli.InputParsing.parseValue;
import static io.mfserve.client.cli.InputParsing.splitAny;

import io.mfserve.client.Ratings;
import io.mfserve.client.cli.InputFiles.Format;
import io.mfserve.client.cli.InputFiles.InputException;
import io.mfserve.client.cli.InputFiles.Parsed;
import io.mfserve.client.cli.InputFiles.Source;
import java.io.BufferedReader;
import java.io.IOException;

/**
 * Reads the {@code movielens} format: one entry per line, {@code user item rating [timestamp]},
 * separated by tabs (MovieLens {@code u.data}), {@code ::} ({@code ratings.dat}), commas or
 * spaces; integer ids.
 */
final class MovieLensReader {
  private MovieLensReader() {}

  static Parsed read(Source source) throws IOException {
    Ratings ratings = new Ratings();
    try (BufferedReader r = source.open()) {
      DataLines lines = new DataLines(r);
      String t;
      while ((t = lines.next()) != null) {
        int n = lines.number();
        String[] f = splitAny(t);
        if (f.length < 3) {
          throw new InputException(at(source, n) + "expected 'user item rating [timestamp]' but "
              + "found " + f.length + " field" + (f.length == 1 ? "" : "s") + ": '" + clip(t)
              + "'");
        }
        long user = parseId(source, n, "user id", f[0]);
        long item = parseId(source, n, "item id", f[1]);
        float value = parseValue(source, n, "rating", f[2]);
        ratings.add(user, item, value);
      }
    }
    if (ratings.size() == 0) {
      throw new InputException(source.name() + " holds no ratings");
    }
    return new Parsed(ratings.toMatrix(), Format.MOVIELENS, ratings.size());
  }

  private static long parseId(Source source, int n, String what, String s) {
    try {
      return Long.parseLong(s.strip());
    } catch (NumberFormatException e) {
      throw new InputException(at(source, n) + what + " '" + clip(s)
          + "' is not an integer; movielens files hold integer ids (use --format csv for "
          + "string ids)");
    }
  }
}
