package io.mfserve.client.cli;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;

/**
 * A text table with aligned columns: numeric columns right-aligned, others left-aligned, two
 * spaces between columns, no trailing spaces.
 */
final class Table {
  private final List<String> headers;
  private final List<List<String>> rows = new ArrayList<>();

  Table(String... headers) {
    this.headers = List.of(headers);
  }

  Table add(Object... cells) {
    List<String> row = new ArrayList<>(cells.length);
    for (Object c : cells) {
      row.add(c == null ? "" : c.toString());
    }
    rows.add(row);
    return this;
  }

  int size() {
    return rows.size();
  }

  void print(PrintStream out, String indent) {
    int n = headers.size();
    int[] width = new int[n];
    boolean[] numeric = new boolean[n];
    for (int c = 0; c < n; c++) {
      width[c] = headers.get(c).length();
      numeric[c] = !rows.isEmpty();
    }
    for (List<String> row : rows) {
      for (int c = 0; c < n; c++) {
        String cell = c < row.size() ? row.get(c) : "";
        width[c] = Math.max(width[c], cell.length());
        numeric[c] &= cell.isEmpty() || looksNumeric(cell);
      }
    }
    print(out, indent, headers, width, numeric);
    for (List<String> row : rows) {
      print(out, indent, row, width, numeric);
    }
  }

  private static void print(PrintStream out, String indent, List<String> row, int[] width,
      boolean[] numeric) {
    StringBuilder sb = new StringBuilder(indent);
    for (int c = 0; c < width.length; c++) {
      String cell = c < row.size() ? row.get(c) : "";
      int pad = width[c] - cell.length();
      boolean last = c == width.length - 1;
      if (numeric[c]) {
        sb.append(" ".repeat(pad)).append(cell);
      } else {
        sb.append(cell);
        if (!last) {
          sb.append(" ".repeat(pad));
        }
      }
      if (!last) {
        sb.append("  ");
      }
    }
    out.println(sb.toString().stripTrailing());
  }

  private static boolean looksNumeric(String s) {
    return s.matches("[-+]?(\\d[\\d,]*)?(\\.\\d+)?([eE][-+]?\\d+)?( ?[KMGT]?i?B| s)?")
        || s.equals("NaN") || s.equals("-");
  }
}
