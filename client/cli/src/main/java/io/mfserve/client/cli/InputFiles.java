package io.mfserve.client.cli;

import io.mfserve.client.Ratings;
import io.mfserve.proto.v1.DenseMatrix;
import io.mfserve.proto.v1.Matrix;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Reads training matrices from the files people have at hand.
 *
 * <ul>
 *   <li>{@code movielens}: one entry per line, {@code user item rating [timestamp]}, separated by
 *       tabs (MovieLens {@code u.data}), {@code ::} ({@code ratings.dat}), commas or spaces;
 *       integer ids.
 *   <li>{@code csv}: a header line, then one entry per line, comma-separated (tab-separated when
 *       the header has tabs and no commas). The user, item and rating columns
 *       are found by name ({@code userId,movieId,rating,timestamp}, {@code user_id,item_id,score},
 *       ...) or else are the first three columns. Ids that are all canonical integers are sent
 *       as int64 ids, anything else as string keys.
 *   <li>{@code dense-csv}: numbers only, one matrix row per line (users), separated by commas or
 *       spaces; ids are positions.
 *   <li>{@code mtx}: MatrixMarket coordinate format ({@code %%MatrixMarket matrix coordinate
 *       real|integer|pattern general}), a size line {@code rows cols entries}, then
 *       {@code row col value} with 1-based indices, which are sent as the int64 ids.
 *   <li>{@code bow}: a bag of words, {@code doc term count} per line, separated by spaces or
 *       tabs, optionally after UCI's three header lines (documents, words, entries). Integer
 *       document and term ids are sent as int64 ids, anything else as string keys.
 *   <li>{@code auto}: a file starting with {@code %%MatrixMarket} is {@code mtx}; a first line
 *       with a non-numeric field is a header ({@code csv}); a line with tabs or {@code ::} is
 *       {@code movielens}; a headerless line of three numbers whose first two are integers (or
 *       four, the last a Unix time) is refused, since it reads as well as entries as a dense
 *       row: {@code --format movielens} or {@code --format dense-csv} says which; anything else
 *       is {@code dense-csv}. A bag of words needs {@code --format bow}.
 * </ul>
 *
 * <p>A vocabulary ({@code --vocab}) names the integer term ids of an {@code mtx} or {@code bow}
 * file, whose columns are then sent as string keys (the words): either one word per line, line
 * n naming term n (UCI's {@code vocab.*.txt}, 1-based like its word ids), or {@code id word}
 * per line. A term id the vocabulary lacks is an error.
 *
 * <p>Blank lines and lines starting with {@code #} are skipped. Every error names the file and
 * the line number.
 */
final class InputFiles {
  private static final Pattern WHITESPACE = Pattern.compile("\\s+");

  private InputFiles() {}

  /** The formats {@code mfctl fit --format} accepts. */
  enum Format {
    AUTO("auto"),
    MOVIELENS("movielens"),
    CSV("csv"),
    DENSE_CSV("dense-csv"),
    MTX("mtx"),
    BOW("bow");

    final String label;

    Format(String label) {
      this.label = label;
    }

    static Format parse(String s) {
      for (Format f : values()) {
        if (f.label.equalsIgnoreCase(s)) {
          return f;
        }
      }
      throw new IllegalArgumentException("unknown format '" + s
          + "'; expected one of auto, movielens, csv, dense-csv, mtx, bow");
    }
  }

  /** A file that cannot be read as a matrix; the message names the file and line. */
  static final class InputException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    InputException(String message) {
      super(message);
    }
  }

  /** Opens the text again from its start: the csv reader may need a second pass. */
  interface Source {
    String name();

    BufferedReader open() throws IOException;
  }

  /**
   * What was read.
   *
   * @param matrix the matrix, dense or sparse
   * @param format the format used (never AUTO)
   * @param entries the number of entries
   */
  record Parsed(Matrix matrix, Format format, long entries) {}

  static Source file(Path path) {
    return new Source() {
      @Override
      public String name() {
        return path.toString();
      }

      @Override
      public BufferedReader open() throws IOException {
        return Files.newBufferedReader(path, StandardCharsets.UTF_8);
      }
    };
  }

  static Source text(String name, String text) {
    return new Source() {
      @Override
      public String name() {
        return name;
      }

      @Override
      public BufferedReader open() {
        return new BufferedReader(new StringReader(text));
      }
    };
  }

  /**
   * Reads a file in the given format.
   *
   * @throws InputException if the file is missing, unreadable or malformed
   */
  static Parsed read(Source source, Format format) {
    return read(source, format, null);
  }

  /**
   * Reads a file in the given format, naming its term ids with a vocabulary.
   *
   * @param vocab the vocabulary of an mtx or bow file's columns, or null for none
   * @throws InputException if a file is missing, unreadable or malformed, or a vocabulary is
   *     given for a format that has no term ids
   */
  static Parsed read(Source source, Format format, Source vocab) {
    Source reading = source;
    try {
      Format f = format == Format.AUTO ? detect(source) : format;
      if (vocab != null && f != Format.MTX && f != Format.BOW) {
        throw new InputException("a vocabulary names the columns of an mtx or bow file; "
            + source.name() + " is read as " + f.label);
      }
      Vocabulary words = null;
      if (vocab != null) {
        reading = vocab;
        words = Vocabulary.read(vocab);
        reading = source;
      }
      return switch (f) {
        case MOVIELENS -> readMovieLens(source);
        case CSV -> readCsv(source);
        case DENSE_CSV -> readDense(source);
        case MTX -> readMtx(source, words);
        case BOW -> readBow(source, words);
        case AUTO -> throw new AssertionError();
      };
    } catch (NoSuchFileException e) {
      throw new InputException("cannot read " + reading.name() + ": no such file");
    } catch (java.nio.charset.MalformedInputException e) {
      throw new InputException("cannot read " + reading.name() + ": it is not UTF-8 text");
    } catch (IOException | UncheckedIOException e) {
      throw new InputException("cannot read " + reading.name() + ": " + e.getMessage());
    }
  }

  static Format detect(Source source) throws IOException {
    try (BufferedReader r = source.open()) {
      String line;
      while ((line = r.readLine()) != null) {
        String t = line.strip();
        if (t.startsWith("%%MatrixMarket")) {
          return Format.MTX;
        }
        if (t.isEmpty() || t.startsWith("#")) {
          continue;
        }
        String[] fields = splitAny(t);
        for (String field : fields) {
          if (!field.isEmpty() && !isNumber(field)) {
            return Format.CSV;
          }
        }
        if (t.contains("\t") || t.contains("::")) {
          return Format.MOVIELENS;
        }
        if (looksLikeEntries(fields)) {
          throw new InputException(source.name() + ": the first line '" + clip(t) + "' can be"
              + " read two ways: one entry per line (user item rating"
              + (fields.length == 4 ? " timestamp" : "") + ") with --format movielens, or a"
              + " dense matrix with " + fields.length + " columns with --format dense-csv; say"
              + " which (or add a header line such as user,item,rating)");
        }
        return Format.DENSE_CSV;
      }
    }
    throw new InputException(source.name() + " is empty: it holds no matrix");
  }

  /**
   * Whether a headerless comma- or space-separated line could as well be an entry as a row of
   * a dense matrix: three fields whose first two are integers (user item rating), or four
   * whose fourth is also a Unix time after 1973 (user item rating timestamp).
   */
  private static boolean looksLikeEntries(String[] fields) {
    if (fields.length != 3 && fields.length != 4) {
      return false;
    }
    if (!isInteger(fields[0]) || !isInteger(fields[1])) {
      return false;
    }
    return fields.length == 3 || isInteger(fields[3]) && Long.parseLong(fields[3]) > 100_000_000L;
  }

  private static boolean isInteger(String field) {
    return field.matches("\\d{1,18}");
  }

  // ---------------------------------------------------------------------------------------

  static Parsed readMovieLens(Source source) throws IOException {
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

  // ---------------------------------------------------------------------------------------

  private static final String[] USER_NAMES = {"user", "customer", "row", "doc"};
  private static final String[] ITEM_NAMES = {"item", "movie", "product", "track", "song",
      "artist", "book", "sku", "term", "word", "col"};
  private static final String[] VALUE_NAMES = {"rating", "score", "value", "count", "weight",
      "plays", "preference", "clicks", "stars"};

  /** Thrown inside one pass when a side turns out not to be all integers. */
  private static final class NeedKeys extends RuntimeException {
    private static final long serialVersionUID = 1L;
    final boolean user;

    NeedKeys(boolean user) {
      super(null, null, false, false);
      this.user = user;
    }
  }

  static Parsed readCsv(Source source) throws IOException {
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

  // ---------------------------------------------------------------------------------------

  static Parsed readDense(Source source) throws IOException {
    DenseMatrix.Builder b = DenseMatrix.newBuilder();
    int rows = 0;
    int cols = -1;
    int firstLine = 0;
    try (BufferedReader r = source.open()) {
      DataLines lines = new DataLines(r);
      String t;
      while ((t = lines.next()) != null) {
        int n = lines.number();
        String[] f = t.contains(",") ? t.split(",", -1) : WHITESPACE.split(t);
        if (cols < 0) {
          cols = f.length;
          firstLine = n;
        } else if (f.length != cols) {
          throw new InputException(at(source, n) + "row " + (rows + 1) + " has " + f.length
              + " values but line " + firstLine + " has " + cols
              + "; a dense matrix must be rectangular");
        }
        for (int c = 0; c < f.length; c++) {
          String v = f[c].strip();
          if (v.isEmpty()) {
            throw new InputException(at(source, n) + "column " + (c + 1) + " is empty; a dense "
                + "matrix needs every entry (for missing ratings use a sparse format: "
                + "--format csv or movielens)");
          }
          if (!isNumber(v)) {
            throw new InputException(at(source, n) + "column " + (c + 1) + ": '" + clip(v)
                + "' is not a number; a dense csv holds numbers only (for a file with a header "
                + "use --format csv)");
          }
          b.addValues(parseValue(source, n, "value", v));
        }
        rows++;
        if ((long) rows * cols > Integer.MAX_VALUE - 8) {
          throw new InputException(at(source, n) + "the matrix has more than 2^31 entries; "
              + "too large for a dense matrix");
        }
      }
    }
    if (rows == 0) {
      throw new InputException(source.name() + " is empty: it holds no matrix");
    }
    b.setRows(rows).setCols(cols);
    return new Parsed(Matrix.newBuilder().setDense(b).build(), Format.DENSE_CSV,
        (long) rows * cols);
  }

  // ---------------------------------------------------------------------------------------

  /**
   * Reads a MatrixMarket coordinate file (real, integer or pattern values, general symmetry).
   * Indices are checked against the size line, and the number of entries against it too.
   */
  static Parsed readMtx(Source source, Vocabulary vocab) throws IOException {
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

  /**
   * Reads a bag of words: {@code doc term count} per line, after UCI's optional three header
   * lines (each a single integer).
   */
  static Parsed readBow(Source source, Vocabulary vocab) throws IOException {
    Ratings ratings = new Ratings();
    try (BufferedReader r = source.open()) {
      DataLines lines = new DataLines(r);
      boolean entries = false;
      int header = 0;
      String t;
      while ((t = lines.next()) != null) {
        int n = lines.number();
        String[] f = WHITESPACE.split(t);
        if (!entries && f.length == 1 && header < 3 && canonicalLong(f[0]) != null) {
          header++;
          continue;
        }
        entries = true;
        if (f.length != 3) {
          throw new InputException(at(source, n) + "expected 'doc term count' but found "
              + f.length + " field" + (f.length == 1 ? "" : "s") + ": '" + clip(t) + "'");
        }
        float count = parseValue(source, n, "count", f[2]);
        Long doc = canonicalLong(f[0]);
        Long term = canonicalLong(f[1]);
        String word = null;
        if (vocab != null) {
          if (term == null) {
            throw new InputException(at(source, n) + "term '" + clip(f[1]) + "' is not an"
                + " integer id, so --vocab cannot name it");
          }
          word = vocab.word(source, n, term);
        } else if (term == null) {
          word = f[1];
        }
        if (doc != null && word != null) {
          ratings.add(doc, word, count);
        } else if (doc != null) {
          ratings.add(doc, term, count);
        } else if (word != null) {
          ratings.add(f[0], word, count);
        } else {
          ratings.add(f[0], term, count);
        }
      }
    }
    if (ratings.size() == 0) {
      throw new InputException(source.name() + " holds no 'doc term count' lines");
    }
    return new Parsed(ratings.toMatrix(), Format.BOW, ratings.size());
  }

  /** Term id → word, from {@code --vocab}. */
  static final class Vocabulary {
    private final Source source;
    private final java.util.Map<Long, String> words;

    private Vocabulary(Source source, java.util.Map<Long, String> words) {
      this.source = source;
      this.words = words;
    }

    /** Reads one word per line (line n is id n) or {@code id word} per line. */
    static Vocabulary read(Source source) throws IOException {
      java.util.Map<Long, String> words = new java.util.HashMap<>();
      try (BufferedReader r = source.open()) {
        String line;
        int n = 0;
        while ((line = r.readLine()) != null) {
          n++;
          String t = line.strip();
          if (t.isEmpty()) {
            continue;
          }
          String[] f = WHITESPACE.split(t, 2);
          long id = n;
          String word = t;
          if (f.length == 2 && canonicalLong(f[0]) != null) {
            id = canonicalLong(f[0]);
            word = f[1].strip();
          }
          String before = words.putIfAbsent(id, word);
          if (before != null) {
            throw new InputException(at(source, n) + "term id " + id + " is named twice ('"
                + clip(before) + "' and '" + clip(word) + "')");
          }
        }
      }
      if (words.isEmpty()) {
        throw new InputException(source.name() + " is empty: expected one word per line");
      }
      return new Vocabulary(source, words);
    }

    /** Returns the word of term {@code id}, met on line {@code n} of {@code file}. */
    String word(Source file, int n, long id) {
      String w = words.get(id);
      if (w == null) {
        throw new InputException(at(file, n) + "term id " + id + " is not in the vocabulary "
            + source.name() + " (" + words.size() + " words)");
      }
      return w;
    }
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

  /** Splits on {@code ::}, tabs, commas or runs of spaces, whichever the line uses. */
  private static String[] splitAny(String t) {
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

  private static long parseId(Source source, int n, String what, String s) {
    try {
      return Long.parseLong(s.strip());
    } catch (NumberFormatException e) {
      throw new InputException(at(source, n) + what + " '" + clip(s)
          + "' is not an integer; movielens files hold integer ids (use --format csv for "
          + "string ids)");
    }
  }

  private static float parseValue(Source source, int n, String what, String s) {
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
  private static Long canonicalLong(String s) {
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

  private static String at(Source source, int line) {
    return source.name() + " line " + line + ": ";
  }

  private static String clip(String s) {
    return s.length() <= 60 ? s : s.substring(0, 57) + "...";
  }
}
