package io.mfserve.solver.spark;

import io.mfserve.solver.AbsentEntries;
import io.mfserve.solver.InvalidParameterException;
import io.mfserve.solver.ParameterSpec;
import io.mfserve.solver.Parameters;
import io.mfserve.solver.SolverConfig;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * One spark-als fit's settings, parsed and checked from its {@link SolverConfig}: the ALS
 * hyper-parameters, where Spark runs, and where the data comes from.
 */
record AlsSettings(int rank, int maxIterations, double regularization, boolean implicit,
    double alpha, boolean nonnegative, long seed, int numBlocks, int checkpointInterval,
    String master, Map<String, String> sparkConf, Source source) {

  /** The master when neither the fit nor the server's launch names one. */
  static final String DEFAULT_MASTER = "local[*]";

  private static final Pattern MASTER = Pattern.compile(
      "local(\\[(\\*|[1-9][0-9]*)(,[1-9][0-9]*)?\\])?|spark://[^\\s]+|yarn|k8s://[^\\s]+"
          + "|mesos://[^\\s]+");
  private static final Pattern CONF_KEY = Pattern.compile("spark\\.[A-Za-z0-9._-]+");

  /**
   * Where a fit's data comes from when it names files.
   *
   * @param uris the paths, as Spark reads them (file:, hdfs:, s3a: ...)
   * @param format csv or parquet
   * @param userCol the user id column
   * @param itemCol the item id column
   * @param ratingCol the value column, or "" for implicit data without values (each row 1)
   * @param stringIds whether ids are strings (else int64)
   * @param csvHeader whether CSV files start with a header row
   * @param csvSeparator the CSV field separator
   * @param collectSeen whether to bring back each user's items for exclude_seen
   */
  record Source(String[] uris, String format, String userCol, String itemCol,
      String ratingCol, boolean stringIds, boolean csvHeader, String csvSeparator,
      boolean collectSeen) {
    /** Returns the URIs as one string, for the model's provenance. */
    String describe() {
      return String.join(",", uris);
    }
  }

  /**
   * Parses a fit's configuration.
   *
   * @throws InvalidParameterException naming the parameter whose text cannot be used
   */
  static AlsSettings of(SolverConfig config) {
    Parameters p = config.parameters();
    String master = p.getString(SparkAlsProvider.MASTER).trim();
    if (master.isEmpty()) {
      master = DEFAULT_MASTER;
    }
    if (!MASTER.matcher(master).matches()) {
      throw new InvalidParameterException(SparkAlsProvider.MASTER, "parameter 'master' is '"
          + master + "'; use local[*], local[N], spark://HOST:PORT, yarn or k8s://URL");
    }
    int checkpoint = p.getInt(SparkAlsProvider.CHECKPOINT_INTERVAL);
    return new AlsSettings(config.numFactors(), p.getInt(ParameterSpec.MAX_ITERATIONS),
        p.getDouble(ParameterSpec.REGULARIZATION),
        config.absentEntries() == AbsentEntries.IMPLICIT, p.getDouble(SparkAlsProvider.ALPHA),
        p.getBool(SparkAlsProvider.NONNEGATIVE), config.seed(),
        p.getInt(SparkAlsProvider.NUM_BLOCKS), checkpoint == 0 ? -1 : checkpoint, master,
        sparkConf(p), source(p));
  }

  /**
   * The Spark settings of a fit: the server's (the parameter's default in effect, which the
   * operator sets with {@code --solver-default spark-als.spark_conf=...}), then the fit's own
   * on top, key by key, so that a fit adds or changes a setting without repeating the rest.
   */
  static Map<String, String> sparkConf(Parameters p) {
    Map<String, String> conf = new LinkedHashMap<>(
        sparkConf((String) p.defaultValue(SparkAlsProvider.SPARK_CONF)));
    if (p.isGiven(SparkAlsProvider.SPARK_CONF)) {
      conf.putAll(sparkConf(p.getString(SparkAlsProvider.SPARK_CONF)));
    }
    return Collections.unmodifiableMap(conf);
  }

  /** Parses "key=value" settings separated by ';' or new lines. */
  static Map<String, String> sparkConf(String text) {
    Map<String, String> conf = new LinkedHashMap<>();
    for (String entry : text.split("[;\n]")) {
      String e = entry.trim();
      if (e.isEmpty()) {
        continue;
      }
      int eq = e.indexOf('=');
      String key = eq < 0 ? e : e.substring(0, eq).trim();
      if (eq < 0 || !CONF_KEY.matcher(key).matches()) {
        throw new InvalidParameterException(SparkAlsProvider.SPARK_CONF, "parameter 'spark_conf'"
            + " holds '" + e + "'; give spark.* settings as key=value, separated by ';'");
      }
      if (key.equals("spark.master")) {
        throw new InvalidParameterException(SparkAlsProvider.SPARK_CONF, "parameter 'spark_conf'"
            + " sets spark.master; use the 'master' parameter");
      }
      conf.put(key, e.substring(eq + 1).trim());
    }
    return Collections.unmodifiableMap(conf);
  }

  private static Source source(Parameters p) {
    String uri = p.getString(SparkAlsProvider.SOURCE_URI).trim();
    if (uri.isEmpty()) {
      return null;
    }
    String[] uris = uri.split("\\s*,\\s*");
    String format = p.getChoice(SparkAlsProvider.SOURCE_FORMAT);
    if (format.equals("auto")) {
      format = uris[0].toLowerCase(Locale.ROOT).replaceAll("/+$", "").endsWith(".parquet")
          ? "parquet" : "csv";
    }
    String sep = p.getString(SparkAlsProvider.CSV_SEPARATOR);
    if (sep.equals("\\t") || sep.equalsIgnoreCase("tab")) {
      sep = "\t";
    }
    if (sep.length() != 1) {
      throw new InvalidParameterException(SparkAlsProvider.CSV_SEPARATOR, "parameter"
          + " 'csv_separator' is '" + sep + "'; give one character (or \\t)");
    }
    return new Source(uris, format, column(p, SparkAlsProvider.USER_COL, false),
        column(p, SparkAlsProvider.ITEM_COL, false), column(p, SparkAlsProvider.RATING_COL, true),
        p.getChoice(SparkAlsProvider.ID_TYPE).equals("string"),
        p.getBool(SparkAlsProvider.CSV_HEADER), sep, p.getBool(SparkAlsProvider.COLLECT_SEEN));
  }

  private static String column(Parameters p, String name, boolean mayBeEmpty) {
    String c = p.getString(name).trim();
    if (c.isEmpty() && !mayBeEmpty) {
      throw new InvalidParameterException(name, "parameter '" + name + "' is empty; name the"
          + " column");
    }
    return c;
  }
}
