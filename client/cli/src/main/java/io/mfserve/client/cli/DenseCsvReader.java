package io.mfserve.client.cli;

import static io.mfserve.client.cli.InputParsing.WHITESPACE;
import static io.mfserve.client.cli.InputParsing.at;
import static io.mfserve.client.cli.InputParsing.clip;
import static io.mfserve.client.cli.InputParsing.isNumber;
import static io.mfserve.client.cli.InputParsing.parseValue;

import io.mfserve.client.cli.InputFiles.Format;
import io.mfserve.client.cli.InputFiles.InputException;
import io.mfserve.client.cli.InputFiles.Parsed;
import io.mfserve.client.cli.InputFiles.Source;
import io.mfserve.proto.v1.DenseMatrix;
import io.mfserve.proto.v1.Matrix;
import java.io.BufferedReader;
import java.io.IOException;

/**
 * Reads the {@code dense-csv} format: numbers only, one matrix row per line (users), separated by
 * commas or spaces; ids are positions.
 */
final class DenseCsvReader {
  private DenseCsvReader() {}

  static Parsed read(Source source) throws IOException {
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
}
