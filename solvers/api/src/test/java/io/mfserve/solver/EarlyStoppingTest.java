package io.mfserve.solver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.mfserve.solver.EarlyStopping.Verdict;
import org.junit.jupiter.api.Test;

class EarlyStoppingTest {
  @Test
  void record_improvingThenFlat_stopsAfterRoundsWithoutImprovement() {
    EarlyStopping stopping = new EarlyStopping(2);

    assertEquals(Verdict.IMPROVED, stopping.record(1, 0.9));
    assertEquals(Verdict.IMPROVED, stopping.record(2, 0.8));
    assertEquals(Verdict.CONTINUE, stopping.record(3, 0.8));
    assertEquals(Verdict.STOP, stopping.record(4, 0.85));
    assertEquals(2, stopping.bestIteration());
    assertEquals(0.8, stopping.bestMetric());
  }

  @Test
  void record_improvementWithinPatience_resetsTheCount() {
    EarlyStopping stopping = new EarlyStopping(2);
    stopping.record(1, 1.0);
    assertEquals(Verdict.CONTINUE, stopping.record(2, 1.1));
    assertEquals(Verdict.IMPROVED, stopping.record(3, 0.5));
    assertEquals(Verdict.CONTINUE, stopping.record(4, 0.6));
    assertEquals(Verdict.STOP, stopping.record(5, 0.7));
    assertEquals(3, stopping.bestIteration());
  }

  @Test
  void record_nanMetric_neverCountsAsImprovement() {
    EarlyStopping stopping = new EarlyStopping(1);

    assertEquals(Verdict.STOP, stopping.record(1, Double.NaN));
    assertEquals(0, stopping.bestIteration());
  }

  @Test
  void constructor_nonPositiveRounds_isRefused() {
    assertThrows(IllegalArgumentException.class, () -> new EarlyStopping(0));
  }
}
