package io.mfserve.client.cli;

import io.mfserve.client.cli.InputFiles.InputException;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * The data lines of a text input: each line stripped, blank lines and {@code #} comments
 * skipped, with the 1-based number of the physical line for error messages. One place for the
 * loop every line-oriented reader of mfctl shares. Not thread-safe; does not close the reader.
 */
final class DataLines {
  private final BufferedReader reader;
  private int number;

  /** Reads data lines from {@code reader}, which the caller closes. */
  DataLines(BufferedReader reader) {
    this.reader = reader;
  }

  /** Returns the next data line, stripped, or null at the end of the input. */
  String next() throws IOException {
    String line;
    while ((line = reader.readLine()) != null) {
      number++;
      String t = line.strip();
      if (!t.isEmpty() && !t.startsWith("#")) {
        return t;
      }
    }
    return null;
  }

  /** Returns the 1-based line number of the line {@link #next()} last returned. */
  int number() {
    return number;
  }

  /** Receives one data line of a file. */
  interface Visitor {
    /** Called with the 1-based line number and the stripped line. */
    void accept(int number, String line);
  }

  /**
   * Hands each data line of the UTF-8 {@code file} to {@code each}, in order.
   *
   * @throws InputException naming the file when it is missing or cannot be read
   */
  static void forEach(Path file, Visitor each) {
    try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      DataLines lines = new DataLines(r);
      String t;
      while ((t = lines.next()) != null) {
        each.accept(lines.number(), t);
      }
    } catch (NoSuchFileException e) {
      throw new InputException("cannot read " + file + ": no such file");
    } catch (IOException e) {
      throw new InputException("cannot read " + file + ": " + e.getMessage());
    }
  }
}
