package io.mfserve.client.cli;

import static io.mfserve.client.cli.InputParsing.at;
import static io.mfserve.client.cli.InputParsing.canonicalLong;
import static io.mfserve.client.cli.InputParsing.clip;
import static io.mfserve.client.cli.InputParsing.isNumber;
import static io.mfserve.client.cli.InputParsing.parseValue;

import io.mfserve.client.Ratings;
import io.mfserve.client.cli.InputFiles.Format;
import io.mfserve.client.cli.InputFiles.InputException;
import io.mfserve.client.cli.InputFiles.Parsed;
import io.mfserve.client.cli.InputFiles.Source;
import java.io.BufferedReader;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Reads the {@code csv} format: a header line, then one entry per line, comma-separated
 * (tab-separated when the header has tabs and no commas). The user, item and rating columns are
 * found by name ({@code userId,movieId,rating,timestamp}, {@code user_id,item_id,score}, ...) or
 * else are the first three columns. Ids that are all canonical integers are sent as int64 ids,
 * anything else as string keys.
 */
final class RatingsCsvReader {
  private static final String[] USER_NAMES = {"user", "customer", "row", "doc"};
  private static final String[] ITEM_NAMES = {"item", "movie", "product", "track", "song",
      "artist", "book", "sku", "term", "word", "col"};
  private static final String[] VALUE_NAMES = {"rating", "score", "value", "count", "weight",
      "plays", "preference", "clicks", "stars"};

  private RatingsCsvReader() {}

  /** Thrown inside one pass when a side turns out not to be all integers. */
  private static final class NeedKeys extends RuntimeException {
    private static final long serialVersionUID = 1L;
    final boolean user;

    NeedKeys(boolean user) {
      super(null, null, false, false);
      this.user = user;
    }
  }

  static Parsed read(Source source) throws IOException {
    boolean userKeys = false;
    boolean itemKeys = false;
    while (true) {
      try {
        return readCsvPass(source, userKeys, itemKeys);
      } catch (NeedKeys e) {
        // A non-integer id: read again with that side as string keys. At most two restarts.
        if (e.user) {
          userKeys = true;
        } else {
          itemKeys = true;
        }
      }
    }
  }

  private static Parsed readCsvPass(Source source, boolean userKeys, boolean itemKeys)
      throws IOException {
    Ratings ratings = new Ratings();
    try (BufferedReader r = source.open()) {
      DataLines lines = new DataLines(r);
      int[] cols = null;
      char delimiter = ',';
      String t;
      while ((t = lines.next()) != null) {
        int n = lines.number();
        if (cols == null && t.indexOf(',') < 0 && t.indexOf('\t') >= 0) {
          delimiter = '\t';
        }
        List<String> f = splitCsv(source, n, t, delimiter);
        if (cols == null) {
          cols = columns(source, n, f);
          continue;
        }
        int needed = Math.max(cols[0], Math.max(cols[1], cols[2])) + 1;
        if (f.size() < needed) {
          throw new InputException(at(source, n) + "expected at least " + needed
              + " fields (user, item, rating) but found " + f.size() + ": '" + clip(t) + "'");
        }
        String u = f.get(cols[0]);
        String i = f.get(cols[1]);
        float value = parseValue(source, n, "rating", f.get(cols[2]));
        if (u.isEmpty() || i.isEmpty()) {
          throw new InputException(at(source, n) + "empty " + (u.isEmpty() ? "user" : "item")
              + " field: '" + clip(t) + "'");
        }
        Long uid = userKeys ? null : canonicalLong(u);
        Long iid = itemKeys ? null : canonicalLong(i);
        if (!userKeys && uid == null) {
          throw new NeedKeys(true);
        }
        if (!itemKeys && iid == null) {
          throw new NeedKeys(false);
        }
        if (userKeys && itemKeys) {
          ratings.add(u, i, value);
        } else if (userKeys) {
          ratings.add(u, iid, value);
        } else if (itemKeys) {
          ratings.add(uid, i, value);
        } else {
          ratings.add(uid, iid, value);
        }
      }
      if (cols == null) {
        throw new InputException(source.name() + " is empty: expected a header line such as "
            + "userId,movieId,rating,timestamp and one line per rating");
      }
    }
    if (ratings.size() == 0) {
      throw new InputException(source.name() + " has a header but no ratings");
    }
    return new Parsed(ratings.toMatrix(), Format.CSV, ratings.size());
  }

  /** Finds the user, item and rating columns of a header line. */
  private static int[] columns(Source source, int n, List<String> header) {
    boolean numeric = true;
    for (String h : header) {
      numeric &= isNumber(h);
    }
    if (numeric) {
      throw new InputException(at(source, n) + "expected a header line such as "
          + "userId,movieId,rating,timestamp but found numbers; for a file without a header use "
          + "--format movielens (user item rating per line) or --format dense-csv");
    }
    if (header.size() < 3) {
      throw new InputException(at(source, n) + "the header has " + header.size()
          + " column(s); a ratings csv needs user, item and rating columns");
    }
    int user = find(header, USER_NAMES, -1);
    int item = find(header, ITEM_NAMES, user);
    int value = find(header, VALUE_NAMES, -1);
    if (user < 0 || item < 0 || value < 0 || value == user || value == item) {
      return new int[] {0, 1, 2};
    }
    return new int[] {user, item, value};
  }

  private static int find(List<String> header, String[] names, int skip) {
    for (int c = 0; c < header.size(); c++) {
      if (c == skip) {
        continue;
      }
      String h = header.get(c).toLowerCase(Locale.ROOT);
      for (String name : names) {
        if (h.contains(name)) {
          return c;
        }
      }
    }
    return -1;
  }

  /**
   * Splits one csv line at the delimiter (a comma, or a tab for tab-separated files), with double
   * quotes around fields that hold delimiters or quotes.
   */
  static List<String> splitCsv(Source source, int n, String line, char delimiter) {
    List<String> out = new ArrayList<>();
    StringBuilder field = new StringBuilder();
    boolean quoted = false;
    boolean wasQuoted = false;
    for (int i = 0; i < line.length(); i++) {
      char c = line.charAt(i);
      if (quoted) {
        if (c == '"') {
          if (i + 1 < line.length() && line.charAt(i + 1) == '"') {
            field.append('"');
            i++;
          } else {
            quoted = false;
          }
        } else {
          field.append(c);
        }
      } else if (c == '"' && field.toString().isBlank()) {
        field.setLength(0);
        quoted = true;
        wasQuoted = true;
      } else if (c == delimiter) {
        out.add(wasQuoted ? field.toString() : field.toString().strip());
        field.setLength(0);
        wasQuoted = false;
      } else {
        field.append(c);
      }
    }
    if (quoted) {
      throw new InputException(at(source, n) + "a quoted field is not closed: '" + clip(line)
          + "'");
    }
    out.add(wasQuoted ? field.toString() : field.toString().strip());
    return out;
  }
}
