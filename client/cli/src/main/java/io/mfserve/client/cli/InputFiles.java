package io.mfserve.client.cli;

import static io.mfserve.client.cli.InputParsing.clip;
import static io.mfserve.client.cli.InputParsing.isNumber;
import static io.mfserve.client.cli.InputParsing.splitAny;

import io.mfserve.proto.v1.Matrix;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Reads training matrices from the files people have at hand, one reader per format.
 *
 * <ul>
 *   <li>{@code movielens}: {@code user item rating [timestamp]} per line, integer ids
 *       ({@link MovieLensReader}).
 *   <li>{@code csv}: a header line naming the columns, then one rating per line
 *       ({@link RatingsCsvReader}).
 *   <li>{@code dense-csv}: numbers only, one matrix row per line ({@link DenseCsvReader}).
 *   <li>{@code mtx}: MatrixMarket coordinate format ({@link MatrixMarketReader}).
 *   <li>{@code bow}: a bag of words, {@code doc term count} per line ({@link BagOfWordsReader}).
 *   <li>{@code auto}: a file starting with {@code %%MatrixMarket} is {@code mtx}; a first line
 *       with a non-numeric field is a header ({@code csv}); a line with tabs or {@code ::} is
 *       {@code movielens}; a headerless line of three numbers whose first two are integers (or
 *       four, the last a Unix time) is refused, since it reads as well as entries as a dense
 *       row: {@code --format movielens} or {@code --format dense-csv} says which; anything else
 *       is {@code dense-csv}. A bag of words needs {@code --format bow}.
 * </ul>
 *
 * <p>A vocabulary ({@code --vocab}, {@link Vocabulary}) names the integer term ids of an
 * {@code mtx} or {@code bow} file, whose columns are then sent as string keys (the words).
 *
 * <p>Blank lines and lines starting with {@code #} are skipped. Every error names the file and
 * the line number; the shared parsing is in {@link InputParsing}.
 */
final class InputFiles {
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
        case MOVIELENS -> MovieLensReader.read(source);
        case CSV -> RatingsCsvReader.read(source);
        case DENSE_CSV -> DenseCsvReader.read(source);
        case MTX -> MatrixMarketReader.read(source, words);
        case BOW -> BagOfWordsReader.read(source, words);
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

  /**
   * Chooses the format of an {@code auto} file from its first data line, as the class comment
   * describes.
   *
   * @throws InputException if the file is empty or its first line reads two ways
   */
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
}
