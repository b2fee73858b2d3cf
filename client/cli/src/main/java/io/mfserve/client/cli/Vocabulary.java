package io.mfserve.client.cli;

import static io.mfserve.client.cli.InputParsing.WHITESPACE;
import static io.mfserve.client.cli.InputParsing.at;
import static io.mfserve.client.cli.InputParsing.canonicalLong;
import static io.mfserve.client.cli.InputParsing.clip;

import io.mfserve.client.cli.InputFiles.InputException;
import io.mfserve.client.cli.InputFiles.Source;
import java.io.BufferedReader;
import java.io.IOException;
import java.util.HashMap;
import java.util.Map;

/**
 * Term id → word, from {@code --vocab}: names the integer term ids of an {@code mtx} or
 * {@code bow} file, whose columns are then sent as string keys (the words). Either one word per
 * line, line n naming term n (UCI's {@code vocab.*.txt}, 1-based like its word ids), or
 * {@code id word} per line. A term id the vocabulary lacks is an error.
 */
final class Vocabulary {
  private final Source source;
  private final Map<Long, String> words;

  private Vocabulary(Source source, Map<Long, String> words) {
    this.source = source;
    this.words = words;
  }

  /** Reads one word per line (line n is id n) or {@code id word} per line. */
  static Vocabulary read(Source source) throws IOException {
    Map<Long, String> words = new HashMap<>();
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
