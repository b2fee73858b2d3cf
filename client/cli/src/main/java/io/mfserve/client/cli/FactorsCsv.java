package io.mfserve.client.cli;

import io.mfserve.client.Factors;
import io.mfserve.client.cli.InputFiles.InputException;
import io.mfserve.proto.v1.IdForm;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The CSV layout of a model's factors, written by {@code mfctl factors MODEL -o FILE} and read
 * back by {@code mfctl import-factors FILE}, so that the two round-trip exactly.
 *
 * <pre>
 * side,id,f0,f1,...,f{k-1}[,bias]
 * global,,,...,,MEAN                 (models with biases: the global mean, in the bias column)
 * user,ID,...                        (one line per user, in the model's order)
 * item,ID,...                        (one line per item)
 * </pre>
 *
 * <p>Ids of a side named by int64 ids are written as integers; keys of a side named by string
 * keys are always written in double quotes ({@code "ann"}, quotes inside doubled), so that a
 * reader tells the two forms apart even for keys that look like numbers. Factors and biases are
 * written with {@link Float#toString}, which parses back to the same float32 bits.
 *
 * <p>Reading accepts the rows of a model spread over several files with the same header (users
 * in one, items in another, in any order of files); blank lines and {@code #} comment lines are
 * skipped. A side is read as string keys when any of its ids is quoted or is not an integer in
 * canonical form ({@code 7}, not {@code 007}), or when the caller forces keys. Stateless.
 */
final class FactorsCsv {
  private FactorsCsv() {}

  // ---------------------------------------------------------------------------------------
  // Writing

  /**
   * Writes the factors to {@code file}.
   *
   * @throws InputException if the file cannot be created (no such directory, permission)
   */
  static void write(Factors f, Path file) throws IOException {
    int k = f.numFactors();
    try (BufferedWriter w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
      StringBuilder line = new StringBuilder("side,id");
      for (int c = 0; c < k; c++) {
        line.append(",f").append(c);
      }
      if (f.hasBiases()) {
        line.append(",bias");
      }
      w.write(line.toString());
      w.newLine();
      if (f.hasBiases()) {
        line.setLength(0);
        line.append("global,").append(",".repeat(k)).append(',').append(f.globalBias());
        w.write(line.toString());
        w.newLine();
      }
      writeSide(w, f, true);
      writeSide(w, f, false);
    } catch (NoSuchFileException e) {
      throw new InputException("cannot write " + file + ": no such directory");
    } catch (AccessDeniedException e) {
      throw new InputException("cannot write " + file + ": permission denied");
    }
  }

  private static void writeSide(BufferedWriter w, Factors f, boolean users) throws IOException {
    int k = f.numFactors();
    int rows = users ? f.numUsers() : f.numItems();
    float[] flat = users ? f.userFactorsFlat() : f.itemFactorsFlat();
    float[] biases = users ? f.userBiases() : f.itemBiases();
    boolean keys = (users ? f.userIdForm() : f.itemIdForm()) == IdForm.ID_FORM_STRING;
    StringBuilder sb = new StringBuilder();
    for (int r = 0; r < rows; r++) {
      sb.setLength(0);
      String name = users ? f.userName(r) : f.itemName(r);
      sb.append(users ? "user" : "item").append(',').append(keys ? quote(name) : name);
      for (int c = 0; c < k; c++) {
        sb.append(',').append(flat[r * k + c]);
      }
      if (f.hasBiases()) {
        sb.append(',').append(biases[r]);
      }
      w.write(sb.toString());
      w.newLine();
    }
  }

  private static String quote(String s) {
    return '"' + s.replace("\"", "\"\"") + '"';
  }

  // ---------------------------------------------------------------------------------------
  // Reading

  /** One side's rows as read, in file order. */
  private static final class SideRows {
    final List<String> ids = new ArrayList<>();
    final List<float[]> factors = new ArrayList<>();
    final List<Float> biases = new ArrayList<>();
    boolean keys;

    float[][] factorArray() {
      return factors.toArray(new float[0][]);
    }

    float[] biasArray() {
      float[] out = new float[biases.size()];
      for (int i = 0; i < out.length; i++) {
        out[i] = biases.get(i);
      }
      return out;
    }
  }

  /** What {@link #read} found, with the shape of each file's header. */
  record Read(Factors factors, boolean biasColumn, boolean globalRow) {}

  /**
   * Reads the factors of one model from one or more files.
   *
   * @param globalMean the global mean to use (overriding a {@code global} row), or null
   * @param userKeys read user ids as string keys whatever they look like
   * @param itemKeys read item ids as string keys whatever they look like
   * @throws InputException naming the file and line of anything malformed, a missing file, or
   *     a bias column without a global mean
   */
  static Read read(List<Path> files, Double globalMean, boolean userKeys, boolean itemKeys) {
    SideRows users = new SideRows();
    SideRows items = new SideRows();
    users.keys = userKeys;
    items.keys = itemKeys;
    int[] k = {-1};
    Boolean[] bias = {null};
    Double[] global = {null};
    for (Path file : files) {
      boolean[] header = {false};
      DataLines.forEach(file, (n, line) -> {
        List<Field> f = split(file, n, line);
        if (!header[0]) {
          header[0] = true;
          readHeader(file, n, f, k, bias);
          return;
        }
        int columns = k[0] + 2 + (bias[0] ? 1 : 0);
        if (f.size() != columns) {
          throw new InputException(at(file, n) + "expected " + columns + " fields as in the"
              + " header, found " + f.size());
        }
        String side = f.get(0).text;
        switch (side) {
          case "user" -> row(file, n, f, k[0], bias[0], users);
          case "item" -> row(file, n, f, k[0], bias[0], items);
          case "global" -> {
            if (!bias[0]) {
              throw new InputException(at(file, n) + "a 'global' line needs a bias column");
            }
            double mean = parseDouble(file, n, "global mean", f.get(columns - 1).text);
            if (global[0] != null && Double.compare(global[0], mean) != 0) {
              throw new InputException(at(file, n) + "a second, different global mean " + mean
                  + " (first " + global[0] + ")");
            }
            global[0] = mean;
          }
          default -> throw new InputException(at(file, n) + "side '" + clip(side)
              + "' is not user, item or global");
        }
      });
      if (!header[0]) {
        throw new InputException(file + ": empty; expected a header 'side,id,f0,...[,bias]'");
      }
    }
    if (users.ids.isEmpty() && items.ids.isEmpty()) {
      throw new InputException(String.join(", ", files.stream().map(Path::toString).toList())
          + ": no user or item rows");
    }
    if (globalMean != null && !bias[0]) {
      throw new InputException("--global-mean needs biases: the files have no bias column");
    }
    Factors.Builder b = Factors.builder();
    side(users, true, b);
    side(items, false, b);
    if (bias[0]) {
      Double mean = globalMean != null ? globalMean : global[0];
      if (mean == null) {
        throw new InputException("the files have a bias column but no 'global' line: give the"
            + " global mean with --global-mean MEAN (0 if the biases already include it)");
      }
      b.biases(mean, users.biasArray(), items.biasArray());
    }
    try {
      return new Read(b.build(), bias[0], global[0] != null);
    } catch (IllegalArgumentException | IllegalStateException e) {
      throw new InputException(e.getMessage());
    }
  }

  private static void readHeader(Path file, int n, List<Field> f, int[] k, Boolean[] bias) {
    boolean hasBias = f.size() > 2 && f.get(f.size() - 1).text.equals("bias");
    int factors = f.size() - 2 - (hasBias ? 1 : 0);
    boolean ok = f.size() >= 3 && f.get(0).text.equals("side") && f.get(1).text.equals("id")
        && factors >= 1;
    for (int c = 0; ok && c < factors; c++) {
      ok = f.get(2 + c).text.equals("f" + c);
    }
    if (!ok) {
      throw new InputException(at(file, n) + "expected a header 'side,id,f0,...,f{k-1}[,bias]'"
          + " as 'mfctl factors MODEL -o FILE' writes, found '" + clip(join(f)) + "'");
    }
    if (k[0] >= 0 && (k[0] != factors || bias[0] != hasBias)) {
      throw new InputException(at(file, n) + "the header has " + factors + " factors"
          + (hasBias ? " and biases" : "") + "; an earlier file had " + k[0]
          + (bias[0] ? " and biases" : ""));
    }
    k[0] = factors;
    bias[0] = hasBias;
  }

  private static void row(Path file, int n, List<Field> f, int k, boolean hasBias,
      SideRows side) {
    Field id = f.get(1);
    if (id.text.isEmpty()) {
      throw new InputException(at(file, n) + "the id is empty");
    }
    if (id.quoted || InputParsing.canonicalLong(id.text) == null) {
      side.keys = true;
    }
    side.ids.add(id.text);
    float[] v = new float[k];
    for (int c = 0; c < k; c++) {
      v[c] = parseFloat(file, n, "f" + c, f.get(2 + c).text);
    }
    side.factors.add(v);
    if (hasBias) {
      side.biases.add(parseFloat(file, n, "bias", f.get(2 + k).text));
    }
  }

  private static void side(SideRows rows, boolean users, Factors.Builder b) {
    float[][] factors = rows.factorArray();
    if (rows.keys) {
      String[] keys = rows.ids.toArray(new String[0]);
      if (users) {
        b.users(keys, factors);
      } else {
        b.items(keys, factors);
      }
    } else {
      long[] ids = new long[rows.ids.size()];
      for (int i = 0; i < ids.length; i++) {
        ids[i] = Long.parseLong(rows.ids.get(i));
      }
      if (users) {
        b.users(ids, factors);
      } else {
        b.items(ids, factors);
      }
    }
  }

  /** A CSV field and whether it was written in quotes. */
  private record Field(String text, boolean quoted) {}

  /** Splits at commas, with double quotes around fields that hold commas or quotes. */
  private static List<Field> split(Path file, int n, String line) {
    List<Field> out = new ArrayList<>();
    StringBuilder field = new StringBuilder();
    boolean inQuotes = false;
    boolean quoted = false;
    for (int i = 0; i < line.length(); i++) {
      char c = line.charAt(i);
      if (inQuotes) {
        if (c == '"') {
          if (i + 1 < line.length() && line.charAt(i + 1) == '"') {
            field.append('"');
            i++;
          } else {
            inQuotes = false;
          }
        } else {
          field.append(c);
        }
      } else if (c == '"' && field.toString().isBlank()) {
        field.setLength(0);
        inQuotes = true;
        quoted = true;
      } else if (c == ',') {
        out.add(new Field(quoted ? field.toString() : field.toString().strip(), quoted));
        field.setLength(0);
        quoted = false;
      } else {
        field.append(c);
      }
    }
    if (inQuotes) {
      throw new InputException(at(file, n) + "a quoted field is not closed: '" + clip(line)
          + "'");
    }
    out.add(new Field(quoted ? field.toString() : field.toString().strip(), quoted));
    return out;
  }

  private static float parseFloat(Path file, int n, String what, String s) {
    float v;
    try {
      v = Float.parseFloat(s);
    } catch (NumberFormatException e) {
      throw new InputException(at(file, n) + what + " '" + clip(s) + "' is not a number");
    }
    if (!Float.isFinite(v)) {
      throw new InputException(at(file, n) + what + " '" + clip(s)
          + "' is not a finite float32 number");
    }
    return v;
  }

  private static double parseDouble(Path file, int n, String what, String s) {
    double v;
    try {
      v = Double.parseDouble(s);
    } catch (NumberFormatException e) {
      throw new InputException(at(file, n) + what + " '" + clip(s) + "' is not a number");
    }
    if (!Double.isFinite(v)) {
      throw new InputException(at(file, n) + what + " '" + clip(s) + "' is not finite");
    }
    return v;
  }

  private static String join(List<Field> f) {
    return String.join(",", f.stream().map(Field::text).toList());
  }

  private static String at(Path file, int n) {
    return file + " line " + n + ": ";
  }

  private static String clip(String s) {
    return s.length() <= 60 ? s : s.substring(0, 57) + "...";
  }
}
