package io.mfserve.server.metrics;

/** Reads samples out of Prometheus text, enough for tests. */
final class Scrape {
  private Scrape() { }

  /**
   * Returns the value of the one sample of {@code name} whose labels include every given
   * {@code key, value} pair, or 0 when there is none.
   *
   * @throws AssertionError if several samples match
   */
  static double value(String text, String name, String... labels) {
    Double found = null;
    for (String line : text.split("\n")) {
      if (line.startsWith("#") || !line.startsWith(name)) {
        continue;
      }
      int brace = line.indexOf('{');
      int space = line.lastIndexOf(' ');
      String metric = brace >= 0 ? line.substring(0, brace) : line.substring(0, space);
      if (!metric.equals(name)) {
        continue;
      }
      String labelText = brace >= 0 ? line.substring(brace, line.lastIndexOf('}') + 1) : "";
      boolean all = true;
      for (int i = 0; i < labels.length; i += 2) {
        String pair = labels[i] + "=\"" + labels[i + 1] + "\"";
        all &= labelText.contains("{" + pair + ",") || labelText.contains("," + pair + ",")
            || labelText.contains("," + pair + "}") || labelText.contains("{" + pair + "}");
      }
      if (all) {
        if (found != null) {
          throw new AssertionError("several samples match " + name + " " + String.join(",",
              labels));
        }
        found = Double.parseDouble(line.substring(space + 1));
      }
    }
    return found == null ? 0 : found;
  }
}
