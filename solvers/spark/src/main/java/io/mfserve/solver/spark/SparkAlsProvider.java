package io.mfserve.solver.spark;

import io.mfserve.solver.AbsentEntries;
import io.mfserve.solver.ParameterSpec;
import io.mfserve.solver.Parameters;
import io.mfserve.solver.Solver;
import io.mfserve.solver.SolverConfig;
import io.mfserve.solver.SolverProvider;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * {@code spark-als}: Apache Spark MLlib's ALS (Zhou et al. 2008, weighted-λ regularisation;
 * Hu, Koren and Volinsky 2008 for implicit feedback) run on a Spark cluster, the factors brought
 * back into an ordinary mfserve model.
 *
 * <p>The data comes from the fit request (a matrix sent inline or uploaded: for small jobs) or,
 * when {@value #SOURCE_URI} is set, from CSV or Parquet files that Spark reads itself, so the
 * ratings never pass through the server. Spark reports no training objective, so progress
 * reports carry a NaN loss. Stateless and thread-safe; Spark fits run one at a time per server
 * (one SparkContext per JVM), later ones wait.
 */
public final class SparkAlsProvider implements SolverProvider {
  static final String ALPHA = "alpha";
  static final String NONNEGATIVE = "nonnegative";
  static final String NUM_BLOCKS = "num_blocks";
  static final String CHECKPOINT_INTERVAL = "checkpoint_interval";
  static final String MASTER = "master";
  static final String SPARK_CONF = "spark_conf";
  static final String SOURCE_URI = "source_uri";
  static final String SOURCE_FORMAT = "source_format";
  static final String USER_COL = "user_col";
  static final String ITEM_COL = "item_col";
  static final String RATING_COL = "rating_col";
  static final String ID_TYPE = "id_type";
  static final String CSV_HEADER = "csv_header";
  static final String CSV_SEPARATOR = "csv_separator";
  static final String COLLECT_SEEN = "collect_seen";

  private static final List<ParameterSpec> PARAMETERS = List.of(
      ParameterSpec.maxIterations(10, 1000, "ALS sweeps (Spark's maxIter); one sweep solves"
          + " every user, then every item."),
      ParameterSpec.regularization(0.1, "Spark's regParam: λ, multiplied by each user's and"
          + " item's number of ratings (weighted-λ ALS)."),
      ParameterSpec.ofDouble(ALPHA, 1.0, 0, Double.POSITIVE_INFINITY, "Implicit feedback"
          + " (absent_entries IMPLICIT): confidence is 1 + alpha × value."),
      ParameterSpec.ofBool(NONNEGATIVE, false, "Constrain the factors to be non-negative"
          + " (Spark's nonnegative least squares)."),
      ParameterSpec.ofInt(NUM_BLOCKS, 0, 0, 100_000, "Blocks the users and the items are each"
          + " cut into (Spark's numUserBlocks and numItemBlocks); 0 means Spark's default, 10."
          + " Set it near the cluster's cores; on a small machine fewer blocks are faster."),
      ParameterSpec.ofInt(CHECKPOINT_INTERVAL, 10, 0, 1000, "Checkpoint the factors every N"
          + " iterations to cut Spark's lineage (long lineages overflow the stack); 0 turns it"
          + " off."),
      ParameterSpec.ofString(MASTER, AlsSettings.DEFAULT_MASTER, 512, "Where Spark runs:"
          + " local[*], local[N], spark://HOST:PORT, yarn or k8s://URL (empty: local[*])."
          + " A server sets its own default with --solver-default spark-als.master=URL."),
      ParameterSpec.ofString(SPARK_CONF, "", 8192, "Extra Spark settings, key=value separated"
          + " by ';' (e.g. spark.executor.memory=4g;spark.executor.cores=4). A server sets"
          + " its own with --solver-default spark-als.spark_conf=...; a fit's are laid over"
          + " those key by key."),
      ParameterSpec.ofString(SOURCE_URI, "", 8192, "Read the ratings from these files"
          + " (comma-separated; file:, hdfs:, s3a: ... anything Spark reads) instead of the"
          + " request's matrix, which must then be absent. Ids from the file become the"
          + " model's ids."),
      ParameterSpec.ofChoice(SOURCE_FORMAT, "auto", List.of("auto", "csv", "parquet"),
          "The files' format; auto means parquet for a name ending .parquet, else csv."),
      ParameterSpec.ofString(USER_COL, "user", 256, "The user id column of source_uri."),
      ParameterSpec.ofString(ITEM_COL, "item", 256, "The item id column of source_uri."),
      ParameterSpec.ofString(RATING_COL, "rating", 256, "The value column of source_uri;"
          + " empty means every row counts 1 (implicit data without values)."),
      ParameterSpec.ofChoice(ID_TYPE, "long", List.of("long", "string"), "How source_uri's ids"
          + " are read: int64 ids or string keys."),
      ParameterSpec.ofBool(CSV_HEADER, true, "CSV files of source_uri start with a header"
          + " row naming the columns; without one the columns are _c0, _c1, ..."),
      ParameterSpec.ofString(CSV_SEPARATOR, ",", 8, "The CSV field separator (\\t for tab)."),
      ParameterSpec.ofBool(COLLECT_SEEN, true, "Bring back which items each user rated in"
          + " source_uri (4 bytes an entry in the server) so Recommend can exclude them;"
          + " false for data too large, and then nothing is excluded."));

  /** Creates the provider; called by ServiceLoader. */
  public SparkAlsProvider() {
  }

  @Override
  public String name() {
    return "spark-als";
  }

  @Override
  public String description() {
    return "Apache Spark MLlib's ALS (weighted-λ; implicit feedback after Hu, Koren and"
        + " Volinsky 2008) on a Spark cluster or local[*], reading the request's matrix or"
        + " files named by source_uri; reports no training loss.";
  }

  @Override
  public List<ParameterSpec> parameters() {
    return PARAMETERS;
  }

  @Override
  public Set<AbsentEntries> supportedAbsentEntries() {
    return EnumSet.of(AbsentEntries.UNKNOWN, AbsentEntries.IMPLICIT);
  }

  @Override
  public boolean readsOwnInput(Parameters parameters) {
    return !parameters.getString(SOURCE_URI).isBlank();
  }

  /**
   * Spark's own memory (local mode runs its executors in the server's JVM) is Spark's to
   * manage and not counted here; this is what the plugin holds itself while it brings an
   * inline matrix to Spark: one row object of about 64 bytes per entry.
   */
  @Override
  public long estimateWorkingBytes(int rows, int cols, long nnz, SolverConfig config) {
    return 64L * nnz + (1L << 20);
  }

  @Override
  public Solver create(SolverConfig config) {
    return new SparkAlsSolver(AlsSettings.of(config));
  }
}
