package io.mfserve.client.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mfserve.client.cli.InputFiles.Format;
import io.mfserve.client.cli.InputFiles.InputException;
import io.mfserve.client.cli.InputFiles.Parsed;
import io.mfserve.proto.v1.DenseMatrix;
import io.mfserve.proto.v1.SparseMatrix;
import java.util.List;
import org.junit.jupiter.api.Test;

class InputFilesTest {
  private static Parsed read(String text, Format format) {
    return InputFiles.read(InputFiles.text("in.txt", text), format);
  }

  private static String error(String text, Format format) {
    return assertThrows(InputException.class, () -> read(text, format)).getMessage();
  }

  @Test
  void movieLens_tabSeparatedWithTimestamps_readsIdsAndRatings() {
    Parsed p = read("196\t242\t3\t881250949\n186\t302\t3.5\t891717742\n\n22\t377\t1\t878887116\n",
        Format.MOVIELENS);

    SparseMatrix m = p.matrix().getSparse();
    assertEquals(List.of(196L, 186L, 22L), m.getRowIdsList());
    assertEquals(List.of(242L, 302L, 377L), m.getColIdsList());
    assertEquals(List.of(3f, 3.5f, 1f), m.getValuesList());
    assertEquals(3, p.entries());
  }

  @Test
  void movieLens_doubleColonSeparated_isReadLikeRatingsDat() {
    Parsed p = read("1::1193::5::978300760\n1::661::3::978302109\n", Format.AUTO);

    assertEquals(Format.MOVIELENS, p.format());
    assertEquals(List.of(1193L, 661L), p.matrix().getSparse().getColIdsList());
  }

  @Test
  void movieLens_badLine_namesTheLineNumber() {
    String message = error("1\t2\t3\n1\t2\n", Format.MOVIELENS);

    assertTrue(message.startsWith("in.txt line 2: expected 'user item rating [timestamp]'"),
        message);
  }

  @Test
  void movieLens_nonIntegerId_namesLineAndSuggestsCsv() {
    String message = error("1\t2\t3\n# comment\nann\t2\t3\n", Format.MOVIELENS);

    assertTrue(message.startsWith("in.txt line 3: user id 'ann' is not an integer"), message);
    assertTrue(message.contains("--format csv"), message);
  }

  @Test
  void csv_movieLensHeader_findsColumnsByName() {
    Parsed p = read("userId,movieId,rating,timestamp\n1,31,2.5,1260759144\n1,1029,3.0,1260759179\n",
        Format.AUTO);

    assertEquals(Format.CSV, p.format());
    SparseMatrix m = p.matrix().getSparse();
    assertEquals(List.of(1L, 1L), m.getRowIdsList());
    assertEquals(List.of(31L, 1029L), m.getColIdsList());
    assertEquals(List.of(2.5f, 3.0f), m.getValuesList());
  }

  @Test
  void csv_columnsInAnotherOrder_areFoundByName() {
    Parsed p = read("timestamp,score,item_id,user_id\n99,4.5,7,3\n", Format.CSV);

    SparseMatrix m = p.matrix().getSparse();
    assertEquals(List.of(3L), m.getRowIdsList());
    assertEquals(List.of(7L), m.getColIdsList());
    assertEquals(List.of(4.5f), m.getValuesList());
  }

  @Test
  void csv_unrecognisedHeader_takesTheFirstThreeColumns() {
    Parsed p = read("a,b,c,d\n5,6,1.5,x\n", Format.CSV);

    assertEquals(List.of(5L), p.matrix().getSparse().getRowIdsList());
    assertEquals(List.of(1.5f), p.matrix().getSparse().getValuesList());
  }

  @Test
  void csv_nonIntegerIds_areSentAsStringKeysPerSide() {
    Parsed p = read("user,item,rating\n1,sku-9,1\n2,\"sku,10\",0.5\n007,sku-9,2\n", Format.CSV);

    SparseMatrix m = p.matrix().getSparse();
    // "007" is not a canonical integer, so users become keys too, as written.
    assertEquals(List.of("1", "2", "007"), m.getRowKeysList());
    assertEquals(List.of("sku-9", "sku,10", "sku-9"), m.getColKeysList());
    assertEquals(0, m.getRowIdsCount());
  }

  @Test
  void csv_tabSeparatedWithHeader_isRead() {
    Parsed p = read("user\titem\trating\n1\t2\t3\n", Format.AUTO);

    assertEquals(Format.CSV, p.format());
    assertEquals(List.of(2L), p.matrix().getSparse().getColIdsList());
  }

  @Test
  void csv_withoutHeader_explainsWhichFormatToUse() {
    String message = error("1,2,3\n", Format.CSV);

    assertTrue(message.startsWith("in.txt line 1: expected a header line"), message);
    assertTrue(message.contains("--format movielens"), message);
  }

  @Test
  void csv_badRating_namesTheLineNumber() {
    String message = error("userId,movieId,rating\n1,2,3\n1,3,good\n", Format.CSV);

    assertEquals("in.txt line 3: rating 'good' is not a number", message);
  }

  @Test
  void csv_shortLine_namesTheLineNumber() {
    String message = error("userId,movieId,rating\n1,2\n", Format.CSV);

    assertTrue(message.startsWith("in.txt line 2: expected at least 3 fields"), message);
  }

  @Test
  void denseCsv_numbersOnly_readsRowsAsUsers() {
    Parsed p = read("5,3,0,1\n4,0,0,1\n1,1,0,5\n", Format.AUTO);

    assertEquals(Format.DENSE_CSV, p.format());
    DenseMatrix d = p.matrix().getDense();
    assertEquals(3, d.getRows());
    assertEquals(4, d.getCols());
    assertEquals(5f, d.getValues(0));
    assertEquals(5f, d.getValues(11));
    assertEquals(12, p.entries());
  }

  @Test
  void auto_headerlessTriples_refusedNamingBothReadings() {
    String message = error("1,10,5\n2,10,3\n", Format.AUTO);

    assertTrue(message.contains("--format movielens"), message);
    assertTrue(message.contains("--format dense-csv"), message);
    assertTrue(message.contains("3 columns"), message);
    assertEquals(Format.MOVIELENS, read("1,10,5\n2,10,3\n", Format.MOVIELENS).format());
    assertEquals(2, read("1,10,5\n2,10,3\n", Format.DENSE_CSV).matrix().getDense().getRows());
  }

  @Test
  void auto_headerlessEntriesWithUnixTimes_refused() {
    String message = error("1 1193 5 978300760\n", Format.AUTO);

    assertTrue(message.contains("user item rating timestamp"), message);
  }

  @Test
  void auto_threeColumnsNotStartingWithIds_denseCsv() {
    assertEquals(Format.DENSE_CSV, read("0.5,1,2\n1,2,3\n", Format.AUTO).format());
  }

  @Test
  void denseCsv_spaceSeparated_isRead() {
    DenseMatrix d = read("1 2\n3 4\n", Format.DENSE_CSV).matrix().getDense();

    assertEquals(List.of(1f, 2f, 3f, 4f), d.getValuesList());
  }

  @Test
  void denseCsv_raggedRow_namesTheLineNumber() {
    String message = error("1,2,3\n4,5,6\n7,8\n", Format.DENSE_CSV);

    assertTrue(message.startsWith("in.txt line 3: row 3 has 2 values but line 1 has 3"), message);
  }

  @Test
  void denseCsv_emptyCell_namesLineAndColumn() {
    String message = error("1,2\n3,\n", Format.DENSE_CSV);

    assertTrue(message.startsWith("in.txt line 2: column 2 is empty"), message);
  }

  @Test
  void denseCsv_word_namesLineAndColumn() {
    String message = error("1,2\n3,x\n", Format.DENSE_CSV);

    assertTrue(message.startsWith("in.txt line 2: column 2: 'x' is not a number"), message);
  }

  @Test
  void emptyFile_isAnError() {
    String message = error("\n\n", Format.AUTO);

    assertTrue(message.contains("is empty"), message);
  }

  @Test
  void format_parse_acceptsLabelsAndRejectsOthers() {
    assertEquals(Format.DENSE_CSV, Format.parse("dense-csv"));
    assertThrows(IllegalArgumentException.class, () -> Format.parse("xml"));
  }
}
