package io.mfserve.client.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mfserve.proto.v1.FitRequest;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Grid text, its cartesian product, and how a setting lands in a FitRequest. */
class GridTest {
  @Test
  void parse_twoNames_cartesianProductFirstNameSlowest() {
    Grid g = Grid.parse(List.of("regularization=0.01,0.05,0.1 factors=10,20,50"));

    List<Map<String, String>> s = g.settings();
    assertEquals(List.of("regularization", "factors"), g.names());
    assertEquals(9, s.size());
    assertEquals(Map.of("regularization", "0.01", "factors", "10"), s.get(0));
    assertEquals(Map.of("regularization", "0.01", "factors", "20"), s.get(1));
    assertEquals(Map.of("regularization", "0.1", "factors", "50"), s.get(8));
  }

  @Test
  void parse_severalTextsAndExtraSpaces_readAsOne() {
    Grid g = Grid.parse(List.of("  factors=2,3 ", "alpha=1"));

    assertEquals(List.of("factors", "alpha"), g.names());
    assertEquals(2, g.settings().size());
  }

  @Test
  void parse_nothing_isOneEmptySetting() {
    Grid g = Grid.parse(List.of());

    assertTrue(g.isEmpty());
    assertEquals(List.of(Map.of()), g.settings());
    assertEquals(List.of(Map.of()), Grid.none().settings());
  }

  @Test
  void apply_fitOptionsOnFieldsOthersAsParams() {
    FitRequest r = Grid.apply(Map.of("factors", "20", "max_iterations", "5",
        "regularization", "0.05", "learning-rate", "0.01", "seed", "7", "solver", "sgd",
        "alpha", "40"), FitRequest.newBuilder().setNumFactors(3)).build();

    assertEquals(20, r.getNumFactors());
    assertEquals(5, r.getMaxIterations());
    assertEquals(0.05, r.getRegularization());
    assertEquals(0.01, r.getLearningRate());
    assertEquals(7, r.getSeed());
    assertEquals("sgd", r.getSolver());
    assertEquals(Map.of("alpha", "40"), r.getParamsMap());
  }

  @ParameterizedTest
  @ValueSource(strings = {"factors", "factors=", "=5", "factors=10,,20", "factors=10,",
      "factors=ten", "regularization=x", "learning_rate=NaN", "seed=-1", "absent=zero",
      "9lives=1"})
  void parse_badToken_errorNamesIt(String token) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Grid.parse(List.of("alpha=1 " + token)));

    assertTrue(e.getMessage().contains("'" + token + "'"), e.getMessage());
  }

  @Test
  void parse_repeatedNameUnderAlias_errorNamesTheSecondToken() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Grid.parse(List.of("factors=1,2 num_factors=3")));

    assertTrue(e.getMessage().contains("'num_factors=3'"), e.getMessage());
  }
}
