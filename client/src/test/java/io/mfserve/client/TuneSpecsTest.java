package io.mfserve.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mfserve.proto.v1.TuneSpec;
import java.util.List;
import org.junit.jupiter.api.Test;

class TuneSpecsTest {
  @Test
  void parse_rangesLogAndLists_canonicalNames() {
    TuneSpec s = TuneSpecs.parse(List.of("regularization=0.5:50:log factors=5:40",
        "biases=true,false iterations=10,20")).build();
    assertEquals(4, s.getRangesCount());
    assertEquals("regularization", s.getRanges(0).getName());
    assertTrue(s.getRanges(0).getLogScale());
    assertEquals(0.5, s.getRanges(0).getMin());
    assertEquals(50, s.getRanges(0).getMax());
    assertEquals("num_factors", s.getRanges(1).getName());
    assertEquals(List.of("true", "false"), s.getRanges(2).getValuesList());
    assertEquals("max_iterations", s.getRanges(3).getName());
    assertEquals(0, s.getMaxFits(), "unset: the server's default");
  }

  @Test
  void parse_badTokens_nameTheToken() {
    for (String bad : List.of("regularization", "=1:2", "x=1:2:ln", "x=a:2", "x=1,,2",
        "x=1:2 x=3:4", "")) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> TuneSpecs.parse(List.of(bad)), bad);
      assertTrue(bad.isEmpty() || e.getMessage().contains("'"), e.getMessage());
    }
  }
}
