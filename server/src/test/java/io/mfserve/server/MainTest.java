package io.mfserve.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class MainTest {
  @Test
  void parseSize_unitsAndPercentages() {
    Main m = new Main();
    assertEquals(512L << 20, m.parseSize("512m", "--x", 0));
    assertEquals(8L << 30, m.parseSize("8G", "--x", 0));
    assertEquals(4096, m.parseSize("4k", "--x", 0));
    assertEquals(1000, m.parseSize("1000", "--x", 0));
    assertEquals(500, m.parseSize("50%", "--x", 1000));
  }

  @Test
  void parseSize_garbage_isAParameterErrorNamingTheFlag() {
    Main m = new Main();
    CommandLine.ParameterException e = assertThrows(CommandLine.ParameterException.class,
        () -> m.parseSize("lots", "--memory-budget", 100));
    assertEquals(true, e.getMessage().contains("--memory-budget"));
    assertThrows(CommandLine.ParameterException.class, () -> m.parseSize("-5m", "--x", 0));
    assertThrows(CommandLine.ParameterException.class, () -> m.parseSize("150%", "--x", 10));
  }

  @Test
  void help_listsEveryFlag() {
    java.io.StringWriter out = new java.io.StringWriter();
    CommandLine cl = new CommandLine(new Main());
    cl.setOut(new java.io.PrintWriter(out));
    assertEquals(0, cl.execute("--help"));
    for (String flag : new String[] {"--port", "--plugins-dir", "--memory-budget",
        "--max-inbound-message-size", "--worker-threads", "--training-threads",
        "--max-concurrent-fits", "--upload-ttl", "--shutdown-grace", "--no-reflection",
        "--solver-default", "--ann-indexes", "MFSERVE_SOLVER_DEFAULTS", "MFSERVE_PORT"}) {
      assertEquals(true, out.toString().contains(flag), flag + " in\n" + out);
    }
  }

  @Test
  void help_everyDescriptionFormats() {
    // picocli formats each description (%n, %%); one it cannot format is printed raw, with a
    // warning on stderr: a bare '%' in a description does that.
    java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
    java.io.PrintStream before = System.err;
    System.setErr(new java.io.PrintStream(err, true, java.nio.charset.StandardCharsets.UTF_8));
    try {
      CommandLine cl = new CommandLine(new Main());
      cl.setOut(new java.io.PrintWriter(new java.io.StringWriter()));
      assertEquals(0, cl.execute("--help"));
    } finally {
      System.setErr(before);
    }
    String warnings = err.toString(java.nio.charset.StandardCharsets.UTF_8);
    assertEquals(false, warnings.contains("Could not format"), warnings);
  }

  @Test
  void limitFlags_defaultsAreTheLimitsOwn_andEachIsInHelp() {
    // The defaults are written twice (picocli needs them as strings for --help; Limits holds
    // them for in-process servers): this keeps the two from drifting apart.
    Main m = new Main();
    new CommandLine(m).parseArgs();
    io.mfserve.server.model.store.Limits parsed = m.toLimits();
    io.mfserve.server.model.store.Limits defaults =
        io.mfserve.server.model.store.Limits.defaults();
    java.io.StringWriter out = new java.io.StringWriter();
    CommandLine cl = new CommandLine(new Main());
    cl.setOut(new java.io.PrintWriter(out));
    assertEquals(0, cl.execute("--help"));
    for (io.mfserve.server.model.store.Limits.Limit l
        : io.mfserve.server.model.store.Limits.Limit.values()) {
      assertEquals(defaults.get(l), parsed.get(l), l.flag());
      assertEquals(true, out.toString().contains(l.flag()), l.flag() + " in --help");
    }
  }

  @Test
  void annIndexes_defaultIsEveryIndex_listParsed_unknownNameIsAParameterErrorNamingTheFlag() {
    Main m = new Main();
    new CommandLine(m).parseArgs();
    assertEquals(java.util.EnumSet.allOf(io.mfserve.server.model.ann.AnnTarget.class),
        m.toAnnSettings().targets());
    Main some = new Main();
    new CommandLine(some).parseArgs("--ann-indexes", " Recommend, similar-users ");
    assertEquals(java.util.EnumSet.of(io.mfserve.server.model.ann.AnnTarget.RECOMMEND,
        io.mfserve.server.model.ann.AnnTarget.SIMILAR_USERS), some.toAnnSettings().targets());
    for (String bad : new String[] {"recomend", ",", ""}) {
      Main b = new Main();
      new CommandLine(b).parseArgs("--ann-indexes", bad);
      CommandLine.ParameterException e = assertThrows(CommandLine.ParameterException.class,
          b::toAnnSettings);
      assertEquals(true, e.getMessage().startsWith("--ann-indexes"), e.getMessage());
      assertEquals(true, e.getMessage().contains("similar_items"), e.getMessage());
    }
  }

  @Test
  void solverDefaults_repeatedFlag_parsed_badOneIsAParameterErrorNamingTheFlag() {
    Main m = new Main();
    new CommandLine(m).parseArgs("--solver-default", "als.max_iterations=3",
        "--solver-default", "spark-als.spark_conf=spark.a=1;spark.b=x=y");
    assertEquals("{als={max_iterations=3}, spark-als={spark_conf=spark.a=1;spark.b=x=y}}",
        m.toSolverDefaults().toString());
    Main bad = new Main();
    new CommandLine(bad).parseArgs("--solver-default", "max_iterations=3");
    CommandLine.ParameterException e = assertThrows(CommandLine.ParameterException.class,
        bad::toSolverDefaults);
    assertEquals(true, e.getMessage().contains("--solver-default"), e.getMessage());
  }
}
