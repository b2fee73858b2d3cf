package io.mfserve.client.cli;

import static io.mfserve.client.cli.InputParsing.WHITESPACE;
import static io.mfserve.client.cli.InputParsing.at;
import static io.mfserve.client.cli.InputParsing.canonicalLong;
import static io.mfserve.client.cli.InputParsing.clip;
import static io.mfserve.client.cli.InputParsing.parseValue;

import io.mfserve.client.Ratings;
import io.mfserve.client.cli.InputFiles.Format;
import io.mfserve.client.cli.InputFiles.InputException;
import io.mfserve.client.cli.InputFiles.Parsed;
import io.mfserve.client.cli.InputFiles.Source;
import java.io.BufferedReader;
import java.io.IOException;
import java.util.Locale;

/**
 * Reads the {@code mtx} format: MatrixMarket coordinate files ({@code %%MatrixMarket matrix
 * coordinate real|integer|pattern general}), a size line {@code rows cols entries}, then
 * {@code row col value} with 1-based indices, which are sent as the int64 ids. Indices are
 * checked against the size line, and the number of entries against it too.
 */
final class MatrixMarketReader {
  private MatrixMarketReader() {}

  static Parsed read(Source source, Vocabulary vocab) throws IOException {
    Ratings ratings = new Ratings();
    try (BufferedReader r = source.open()) {
      String line = r.readLine();
      int n = 1;
      String banner = line == null ? "" : line.strip().toLowerCase(Locale.ROOT);
      String[] h = WHITESPACE.split(banner);
      if (h.length < 5 || !h[0].equals("%%matrixmarket") || !h[1].equals("matrix")) {
        throw new InputException(at(source, 1) + "expected a MatrixMarket header such as "
            + "'%%MatrixMarket matrix coordinate real general'");
      }
      if (!h[2].equals("coordinate")) {
        throw new InputException(at(source, 1) + "'" + h[2] + "' format: only 'coordinate'"
            + " (sparse) MatrixMarket files are read; use --format dense-csv for a dense matrix");
      }
      boolean pattern = h[3].equals("pattern");
      if (!pattern && !h[3].equals("real") && !h[3].equals("integer")) {
        throw new InputException(at(source, 1) + "'" + h[3] + "' values: only real, integer and"
            + " pattern are read");
      }
      if (!h[4].equals("general")) {
        throw new InputException(at(source, 1) + "'" + h[4] + "' symmetry: only 'general' is"
            + " read; write every entry of the matrix");
      }
      long rows = -1;
      long cols = -1;
      long declared = -1;
      long count = 0;
      while ((line = r.readLine()) != null) {
        n++;
        String t = line.strip();
        if (t.isEmpty() || t.startsWith("%")) {
          continue;
        }
        String[] f = WHITESPACE.split(t);
        if (rows < 0) {
          if (f.length != 3) {
            throw new InputException(at(source, n) + "expected the size line 'rows cols entries'"
                + " but found '" + clip(t) + "'");
          }
          rows = parseCount(source, n, "rows", f[0]);
          cols = parseCount(source, n, "cols", f[1]);
          declared = parseCount(source, n, "entries", f[2]);
          continue;
        }
        if (f.length != (pattern ? 2 : 3)) {
          throw new InputException(at(source, n) + "expected 'row col" + (pattern ? "" : " value")
              + "' but found '" + clip(t) + "'");
        }
        long row = parseIndex(source, n, "row", f[0], rows);
        long col = parseIndex(source, n, "column", f[1], cols);
        float value = pattern ? 1f : parseValue(source, n, "value", f[2]);
        if (vocab != null) {
          ratings.add(row, vocab.word(source, n, col), value);
        } else {
          ratings.add(row, col, value);
        }
        count++;
      }
      if (rows < 0) {
        throw new InputException(source.name() + " has no size line 'rows cols entries'");
      }
      if (count != declared) {
        throw new InputException(source.name() + " declares " + declared + " entries but holds "
            + count);
      }
      if (count == 0) {
        throw new InputException(source.name() + " holds no entries");
      }
    }
    return new Parsed(ratings.toMatrix(), Format.MTX, ratings.size());
  }

  private static long parseCount(Source source, int n, String what, String s) {
    Long v = canonicalLong(s);
    if (v == null || v < 0) {
      throw new InputException(at(source, n) + what + " '" + clip(s)
          + "' is not a non-negative integer");
    }
    return v;
  }

  private static long parseIndex(Source source, int n, String what, String s, long max) {
    Long v = canonicalLong(s);
    if (v == null || v < 1 || v > max) {
      throw new InputException(at(source, n) + what + " index '" + clip(s) + "' is not in [1, "
          + max + "] (MatrixMarket indices are 1-based)");
    }
    return v;
  }
}
