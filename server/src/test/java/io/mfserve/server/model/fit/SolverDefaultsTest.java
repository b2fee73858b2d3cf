package io.mfserve.server.model.fit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mfserve.proto.v1.ListSolversRequest;
import io.mfserve.proto.v1.MatrixFactorizationGrpc.MatrixFactorizationBlockingStub;
import io.mfserve.proto.v1.ModelInfo;
import io.mfserve.proto.v1.ParameterInfo;
import io.mfserve.proto.v1.SolverInfo;
import io.mfserve.server.testing.InProcessMfServer;
import io.mfserve.server.testing.Requests;
import io.mfserve.solver.SolverProvider;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.List;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The operator's launch-time parameter defaults: parsing, checking, and through the service. */
class SolverDefaultsTest {
  @RegisterExtension
  final InProcessMfServer server = new InProcessMfServer();

  private static List<SolverProvider> classpathSolvers() {
    return ServiceLoader.load(SolverProvider.class).stream().map(ServiceLoader.Provider::get)
        .map(SolverProvider.class::cast).toList();
  }

  private static String message(List<String> entries) {
    return assertThrows(IllegalArgumentException.class,
        () -> SolverDefaults.parse(entries).apply(classpathSolvers())).getMessage();
  }

  @Test
  void parse_badShapesAndRepeats_areRefusedNamingTheFlag() {
    for (String bad : List.of("als", "als=3", ".x=1", "als.=1", "alsmax_iterations=3")) {
      String m = message(List.of(bad));
      assertTrue(m.contains("--solver-default") && m.contains(bad), m);
    }
    String twice = message(List.of("als.max_iterations=3", "als.max_iterations=4"));
    assertTrue(twice.contains("als.max_iterations twice"), twice);
  }

  @Test
  void apply_unknownSolverParameterOrValue_isRefusedNamingIt() {
    String solver = message(List.of("spark-als.master=yarn"));
    assertTrue(solver.contains("'spark-als'") && solver.contains("als, "), solver);
    String param = message(List.of("als.master=yarn"));
    assertTrue(param.contains("'master'") && param.contains("max_iterations"), param);
    String value = message(List.of("als.max_iterations=0"));
    assertTrue(value.contains("--solver-default als.max_iterations") && value.contains("[1,"),
        value);
  }

  @Test
  void apply_givenDefaultIsDeclared_otherSolversUntouched_loaderSeenThrough() {
    List<SolverProvider> in = classpathSolvers();
    List<SolverProvider> out = SolverDefaults.parse(List.of("als.confidence=log",
        "sgd.max_iterations=7")).apply(in);
    SolverProvider als = out.stream().filter(p -> p.name().equals("als")).findFirst().get();
    assertEquals("log", als.parameters().stream()
        .filter(s -> s.name().equals("confidence")).findFirst().get().defaultValue());
    SolverProvider nmf = out.stream().filter(p -> p.name().equals("nmf")).findFirst().get();
    assertSame(in.stream().filter(p -> p.name().equals("nmf")).findFirst().get(), nmf);
    SolverProvider plain = in.stream().filter(p -> p.name().equals("als")).findFirst().get();
    assertSame(plain.getClass().getClassLoader(), SolverDefaults.pluginLoader(als));
    assertTrue(SolverDefaults.parse(List.of()).isEmpty());
  }

  @Test
  void wrapper_overridesEveryMethodOfTheSpi() throws Exception {
    // A default method of the SPI that the wrapper did not override would silently replace a
    // plugin's own implementation by the interface's.
    for (Method m : SolverProvider.class.getMethods()) {
      if (Modifier.isStatic(m.getModifiers())) {
        continue;
      }
      Method own = DefaultedSolverProvider.class.getDeclaredMethod(m.getName(),
          m.getParameterTypes());
      assertEquals(DefaultedSolverProvider.class, own.getDeclaringClass(), m.getName());
    }
  }

  @Test
  void service_listSolversShowsTheDefault_aFitWithoutTheParameterUsesIt_oneWithItOverrides() {
    MatrixFactorizationBlockingStub stub = server.start(InProcessMfServer.testConfig(),
        SolverDefaults.parse(List.of("als.max_iterations=3", "als.regularization=0.5"))
            .apply(classpathSolvers()));

    SolverInfo als = stub.listSolvers(ListSolversRequest.getDefaultInstance()).getSolversList()
        .stream().filter(s -> s.getName().equals("als")).findFirst().get();
    ParameterInfo iterations = als.getParametersList().stream()
        .filter(p -> p.getName().equals("max_iterations")).findFirst().get();
    assertEquals("3", iterations.getDefaultValue());

    ModelInfo unset = stub.fit(Requests.fit("als", 2, Requests.sparseRatings(30, 20, 0.3, 1))
        .build()).getModel();
    assertEquals(3, unset.getIterations());
    assertEquals("0.5", unset.getParamsMap().get("regularization"));
    ModelInfo set = stub.fit(Requests.fit("als", 2, Requests.sparseRatings(30, 20, 0.3, 1))
        .setMaxIterations(5).setRegularization(0.1).build()).getModel();
    assertEquals(5, set.getIterations());
    assertEquals("0.1", set.getParamsMap().get("regularization"));
  }
}
