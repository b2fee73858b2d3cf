package io.mfserve.solver.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mfserve.solver.AbsentEntries;
import io.mfserve.solver.InvalidParameterException;
import io.mfserve.solver.Parameters;
import io.mfserve.solver.SolverConfig;
import io.mfserve.solver.SolverProvider;
import java.util.Map;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;

/** The provider and its parameters, without starting Spark. */
class SparkAlsProviderTest {
  private final SparkAlsProvider provider = new SparkAlsProvider();

  private SolverConfig config(Map<String, String> params, AbsentEntries absent) {
    return new SolverConfig(8, 3, absent, Parameters.resolve(provider.parameters(), params));
  }

  @Test
  void serviceLoader_findsSparkAls() {
    assertTrue(ServiceLoader.load(SolverProvider.class).stream()
        .anyMatch(p -> p.get().name().equals("spark-als")));
  }

  @Test
  void settings_sourceUri_readsOwnInputWithItsColumns() {
    Map<String, String> p = Map.of("source_uri", "hdfs://nn/r/part-1.parquet, hdfs://nn/r/x",
        "user_col", "uid", "id_type", "string", "csv_separator", "\\t",
        "max_iterations", "7", "alpha", "40", "checkpoint_interval", "0");
    assertTrue(provider.readsOwnInput(Parameters.resolve(provider.parameters(), p)));
    AlsSettings s = AlsSettings.of(config(p, AbsentEntries.IMPLICIT));
    assertEquals(8, s.rank());
    assertEquals(7, s.maxIterations());
    assertTrue(s.implicit());
    assertEquals(40.0, s.alpha());
    assertEquals(-1, s.checkpointInterval(), "0 turns checkpoints off: Spark's -1");
    assertEquals(3, s.seed());
    assertEquals("parquet", s.source().format());
    assertEquals(2, s.source().uris().length);
    assertEquals("hdfs://nn/r/x", s.source().uris()[1]);
    assertEquals("uid", s.source().userCol());
    assertEquals("item", s.source().itemCol());
    assertTrue(s.source().stringIds());
    assertEquals("\t", s.source().csvSeparator());
  }

  @Test
  void settings_noSourceUri_trainsOnTheRequestsMatrix() {
    assertFalse(provider.readsOwnInput(Parameters.resolve(provider.parameters(), Map.of())));
    AlsSettings s = AlsSettings.of(config(Map.of("master", "spark://10.0.0.1:7077",
        "spark_conf", "spark.executor.memory=4g; spark.executor.cores = 2"),
        AbsentEntries.UNKNOWN));
    assertNull(s.source());
    assertFalse(s.implicit());
    assertEquals("spark://10.0.0.1:7077", s.master());
    assertEquals(Map.of("spark.executor.memory", "4g", "spark.executor.cores", "2"),
        s.sparkConf());
  }

  @Test
  void settings_badMasterOrConf_nameTheParameter() {
    InvalidParameterException master = assertThrows(InvalidParameterException.class,
        () -> AlsSettings.of(config(Map.of("master", "localhost:7077"), AbsentEntries.UNKNOWN)));
    assertEquals("master", master.parameter());
    InvalidParameterException conf = assertThrows(InvalidParameterException.class,
        () -> AlsSettings.of(config(Map.of("spark_conf", "executor.memory=4g"),
            AbsentEntries.UNKNOWN)));
    assertEquals("spark_conf", conf.parameter());
    InvalidParameterException sneaky = assertThrows(InvalidParameterException.class,
        () -> AlsSettings.of(config(Map.of("spark_conf", "spark.master=yarn"),
            AbsentEntries.UNKNOWN)));
    assertEquals("spark_conf", sneaky.parameter());
    InvalidParameterException column = assertThrows(InvalidParameterException.class,
        () -> AlsSettings.of(config(Map.of("source_uri", "/data/r.csv", "item_col", " "),
            AbsentEntries.UNKNOWN)));
    assertEquals("item_col", column.parameter());
  }

  @Test
  void settings_serverDefaults_masterReplacedAndConfLaidOverKeyByKey() {
    // What the server does with --solver-default spark-als.master=... and .spark_conf=...
    java.util.List<io.mfserve.solver.ParameterSpec> launch = provider.parameters().stream()
        .map(p -> p.name().equals("master") ? p.withDefault("spark://10.0.0.9:7077")
            : p.name().equals("spark_conf")
                ? p.withDefault("spark.executor.memory=8g;spark.cores.max=32") : p)
        .toList();
    AlsSettings unset = AlsSettings.of(new SolverConfig(8, 3, AbsentEntries.UNKNOWN,
        Parameters.resolve(launch, Map.of())));
    assertEquals("spark://10.0.0.9:7077", unset.master());
    assertEquals(Map.of("spark.executor.memory", "8g", "spark.cores.max", "32"),
        unset.sparkConf());
    AlsSettings set = AlsSettings.of(new SolverConfig(8, 3, AbsentEntries.UNKNOWN,
        Parameters.resolve(launch, Map.of("master", "local[2]",
            "spark_conf", "spark.cores.max=4;spark.executor.cores=2"))));
    assertEquals("local[2]", set.master());
    assertEquals(Map.of("spark.executor.memory", "8g", "spark.cores.max", "4",
        "spark.executor.cores", "2"), set.sparkConf());
    assertEquals("local[*]", AlsSettings.of(config(Map.of(), AbsentEntries.UNKNOWN)).master());
  }
}
