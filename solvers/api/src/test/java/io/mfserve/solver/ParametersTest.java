package io.mfserve.solver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ParametersTest {
  private static final List<ParameterSpec> SPECS = List.of(
      ParameterSpec.ofInt("max_iterations", 10, 1, 1000, "sweeps"),
      ParameterSpec.ofDouble("regularization", 0.1, 0, Double.POSITIVE_INFINITY, "lambda"),
      ParameterSpec.ofPositiveDouble("alpha", 1, 1e6, "confidence"),
      ParameterSpec.ofBool("biases", false, "use biases"),
      ParameterSpec.ofChoice("method", "hals", List.of("hals", "mu"), "update rule"));

  @Test
  void resolve_noValues_givesDefaults() {
    Parameters p = Parameters.resolve(SPECS, Map.of());
    assertEquals(10, p.getInt("max_iterations"));
    assertEquals(0.1, p.getDouble("regularization"));
    assertEquals(false, p.getBool("biases"));
    assertEquals("hals", p.getChoice("method"));
    assertEquals("10", p.asText().get("max_iterations"));
  }

  @Test
  void resolve_validText_isParsed() {
    Parameters p = Parameters.resolve(SPECS, Map.of("max_iterations", " 25", "biases", "TRUE",
        "method", "MU", "regularization", "0"));
    assertEquals(25, p.getInt("max_iterations"));
    assertEquals(true, p.getBool("biases"));
    assertEquals("mu", p.getChoice("method"));
    assertEquals(0.0, p.getDouble("regularization"));
  }

  @Test
  void resolve_unknownName_namesItAndTheKnownOnes() {
    InvalidParameterException e = assertThrows(InvalidParameterException.class,
        () -> Parameters.resolve(SPECS, Map.of("rank", "3")));
    assertEquals("rank", e.parameter());
    assertTrue(e.getMessage().contains("max_iterations"), e.getMessage());
  }

  @Test
  void resolve_badValues_nameTheParameter() {
    for (Map<String, String> bad : List.of(Map.of("max_iterations", "0"),
        Map.of("max_iterations", "ten"), Map.of("regularization", "-1"),
        Map.of("regularization", "NaN"), Map.of("alpha", "0"), Map.of("biases", "yes"),
        Map.of("method", "sgd"))) {
      InvalidParameterException e = assertThrows(InvalidParameterException.class,
          () -> Parameters.resolve(SPECS, bad));
      assertEquals(bad.keySet().iterator().next(), e.parameter());
    }
  }

  @Test
  void rangeText_showsInclusivity() {
    assertEquals("[1, 1000]", SPECS.get(0).rangeText());
    assertEquals("[0, inf)", SPECS.get(1).rangeText());
    assertEquals("(0, 1000000]", SPECS.get(2).rangeText());
    assertEquals("", SPECS.get(3).rangeText());
  }

  @Test
  void spec_defaultOutOfRange_failsWhenDeclared() {
    assertThrows(InvalidParameterException.class,
        () -> ParameterSpec.ofInt("k", 0, 1, 10, "bad default"));
  }

  @Test
  void withDerived_unsetParameter_replacesValueAndStaysNotGiven() {
    Parameters p = Parameters.resolve(SPECS, Map.of("alpha", "2"));
    assertTrue(p.isGiven("alpha"));
    assertEquals(false, p.isGiven("regularization"));

    Parameters q = p.withDerived("regularization", 13.5).withDerived("biases", true);

    assertEquals(13.5, q.getDouble("regularization"));
    assertEquals(true, q.getBool("biases"));
    assertEquals(2.0, q.getDouble("alpha"));
    assertEquals(false, q.isGiven("regularization"));
    assertEquals(0.1, p.getDouble("regularization"));
    assertEquals("13.5", q.asText().get("regularization"));
  }

  @Test
  void withDerived_givenOrWrongType_refused() {
    Parameters p = Parameters.resolve(SPECS, Map.of("alpha", "2"));
    assertThrows(IllegalArgumentException.class, () -> p.withDerived("alpha", 3.0));
    assertThrows(IllegalArgumentException.class, () -> p.withDerived("regularization", 1));
    assertThrows(IllegalArgumentException.class, () -> p.withDerived("nope", 1.0));
  }

  @Test
  void withDefault_changesOnlyTheDefault_andIsWhatResolutionUsesAndReports() {
    List<ParameterSpec> specs = List.of(SPECS.get(0).withDefault("25"),
        ParameterSpec.ofString("conf", "", 64, "settings").withDefault("a=1;b=2"));
    assertEquals(25, specs.get(0).defaultValue());
    assertEquals("[1, 1000]", specs.get(0).rangeText());
    assertEquals("sweeps", specs.get(0).doc());
    Parameters unset = Parameters.resolve(specs, Map.of());
    assertEquals(25, unset.getInt("max_iterations"));
    assertEquals(false, unset.isGiven("max_iterations"));
    assertEquals("a=1;b=2", unset.getString("conf"));
    Parameters set = Parameters.resolve(specs, Map.of("max_iterations", "3", "conf", "b=5"));
    assertEquals(3, set.getInt("max_iterations"));
    assertEquals("b=5", set.getString("conf"));
    assertEquals("a=1;b=2", set.defaultValue("conf"), "the default in effect stays visible");
    assertEquals(25, set.defaultValue("max_iterations"));
    assertEquals(10, Parameters.resolve(SPECS, Map.of()).defaultValue("max_iterations"));
  }

  @Test
  void withDefault_outOfRange_isRefusedNamingTheParameter() {
    InvalidParameterException e = assertThrows(InvalidParameterException.class,
        () -> SPECS.get(0).withDefault("0"));
    assertEquals("max_iterations", e.parameter());
    assertThrows(InvalidParameterException.class, () -> SPECS.get(4).withDefault("als"));
  }
}
