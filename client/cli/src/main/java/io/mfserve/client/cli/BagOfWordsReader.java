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

/**
 * Reads the {@code bow} format, a bag of words: {@code doc term count} per line, separated by
 * spaces or tabs, optionally after UCI's three header lines (documents, words, entries; each a
 * single integer). Integer document and term ids are sent as int64 ids, anything else as string
 * keys.
 */
final class BagOfWordsReader {
  private BagOfWordsReader() {}

  static Parsed read(Source source, Vocabulary vocab) throws IOException {
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
}
