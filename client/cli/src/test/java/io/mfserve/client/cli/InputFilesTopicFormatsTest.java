package io.mfserve.client.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mfserve.client.cli.InputFiles.Format;
import io.mfserve.client.cli.InputFiles.InputException;
import io.mfserve.client.cli.InputFiles.Parsed;
import io.mfserve.proto.v1.SparseMatrix;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The document × term formats of {@link InputFiles}: MatrixMarket and bags of words. */
class InputFilesTopicFormatsTest {
  private static final String MTX = "%%MatrixMarket matrix coordinate real general\n"
      + "% a comment\n"
      + "3 4 3\n"
      + "1 1 2.5\n"
      + "2 4 1\n"
      + "3 2 7\n";

  private static Parsed read(String text, Format format) {
    return InputFiles.read(InputFiles.text("in.txt", text), format);
  }

  private static Parsed read(String text, Format format, String vocab) {
    return InputFiles.read(InputFiles.text("in.txt", text), format,
        InputFiles.text("vocab.txt", vocab));
  }

  private static InputException error(String text, Format format) {
    return assertThrows(InputException.class, () -> read(text, format));
  }

  @Test
  void mtx_coordinateReal_readsOneBasedIdsAndValues() {
    Parsed p = read(MTX, Format.MTX);
    SparseMatrix m = p.matrix().getSparse();
    assertEquals(List.of(1L, 2L, 3L), m.getRowIdsList());
    assertEquals(List.of(1L, 4L, 2L), m.getColIdsList());
    assertEquals(List.of(2.5f, 1f, 7f), m.getValuesList());
    assertEquals(3, p.entries());
    assertEquals(Format.MTX, p.format());
  }

  @Test
  void mtx_auto_isDetectedByItsBanner() {
    assertEquals(Format.MTX, read(MTX, Format.AUTO).format());
  }

  @Test
  void mtx_integerAndPattern_read() {
    Parsed ints = read("%%MatrixMarket matrix coordinate integer general\n2 2 1\n2 1 5\n",
        Format.MTX);
    assertEquals(List.of(5f), ints.matrix().getSparse().getValuesList());
    Parsed pattern = read("%%MatrixMarket matrix coordinate pattern general\n2 2 2\n1 1\n2 2\n",
        Format.MTX);
    assertEquals(List.of(1f, 1f), pattern.matrix().getSparse().getValuesList());
  }

  @Test
  void mtx_withVocabulary_columnsBecomeWords() {
    Parsed p = read(MTX, Format.MTX, "apple\nbanana\ncherry\ndate\n");
    SparseMatrix m = p.matrix().getSparse();
    assertEquals(List.of(1L, 2L, 3L), m.getRowIdsList());
    assertEquals(List.of("apple", "date", "banana"), m.getColKeysList());
  }

  @Test
  void mtx_malformed_rejectedWithFileAndLine() {
    // Unsupported kinds, an index outside the size line, a wrong count, a bad banner.
    String[] bad = {
        "%%MatrixMarket matrix array real general\n2 2\n1\n2\n3\n4\n",
        "%%MatrixMarket matrix coordinate complex general\n1 1 1\n1 1 1 0\n",
        "%%MatrixMarket matrix coordinate real symmetric\n2 2 1\n1 1 1\n",
        "%%MatrixMarket matrix coordinate real general\n2 2 1\n3 1 1\n",
        "%%MatrixMarket matrix coordinate real general\n2 2 2\n1 1 1\n",
        "1 1 1\n",
        "%%MatrixMarket matrix coordinate real general\n2 2 1\n1 1 x\n"};
    for (String text : bad) {
      InputException e = error(text, Format.MTX);
      assertTrue(e.getMessage().startsWith("in.txt"), e.getMessage());
    }
  }

  @Test
  void bow_ucIHeaderAndIntegerIds_readAsIds() {
    Parsed p = read("3\n5\n4\n1 1 2\n1 3 1\n2 5 4\n3 2 1\n", Format.BOW);
    SparseMatrix m = p.matrix().getSparse();
    assertEquals(List.of(1L, 1L, 2L, 3L), m.getRowIdsList());
    assertEquals(List.of(1L, 3L, 5L, 2L), m.getColIdsList());
    assertEquals(List.of(2f, 1f, 4f, 1f), m.getValuesList());
    assertEquals(Format.BOW, p.format());
  }

  @Test
  void bow_withVocabulary_columnsAreWordsInEitherVocabularyForm() {
    Parsed lines = read("1 1 2\n2 3 1\n", Format.BOW, "cat\ndog\nmoon\n");
    assertEquals(List.of("cat", "moon"), lines.matrix().getSparse().getColKeysList());
    Parsed pairs = read("1 10 2\n2 30 1\n", Format.BOW, "10 cat\n30 moon\n");
    assertEquals(List.of("cat", "moon"), pairs.matrix().getSparse().getColKeysList());
  }

  @Test
  void bow_wordsAndDocumentNames_sentAsKeys() {
    Parsed p = read("intro.txt the 3\nintro.txt cat 1\nch2.txt moon 2\n", Format.BOW);
    SparseMatrix m = p.matrix().getSparse();
    assertEquals(List.of("intro.txt", "intro.txt", "ch2.txt"), m.getRowKeysList());
    assertEquals(List.of("the", "cat", "moon"), m.getColKeysList());
  }

  @Test
  void bow_malformed_rejected() {
    error("1 2\n", Format.BOW);
    error("1 2 x\n", Format.BOW);
    error("", Format.BOW);
    // A term id the vocabulary lacks, and a vocabulary for a format without term ids.
    assertThrows(InputException.class, () -> read("1 4 2\n", Format.BOW, "cat\ndog\n"));
    assertThrows(InputException.class, () -> read("1\t2\t3\n", Format.MOVIELENS, "cat\n"));
  }
}
