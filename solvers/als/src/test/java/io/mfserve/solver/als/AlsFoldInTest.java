package io.mfserve.solver.als;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mfserve.solver.AbsentEntries;
import io.mfserve.solver.FactorModel;
import io.mfserve.solver.Parameters;
import io.mfserve.solver.SolverConfig;
import io.mfserve.solver.TrainingMatrix;
import io.mfserve.solver.testing.SyntheticData;
import io.mfserve.solver.testing.TestFitContext;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** ALS keeps the SPI's default fold-in; it must agree with how ALS trained its own users. */
class AlsFoldInTest {
  private static final AlsSolverProvider PROVIDER = new AlsSolverProvider();

  @Test
  void foldIn_trainingUsersEntries_givesFactorsCloseToTheTrainedOnes() {
    SyntheticData d = SyntheticData.lowRank(80, 60, 3, false, 0, 0.05, 21);
    TrainingMatrix train = d.sample(0.4, 0, AbsentEntries.UNKNOWN, 22).train();
    SolverConfig config = new SolverConfig(3, 5, AbsentEntries.UNKNOWN, Parameters.resolve(
        PROVIDER.parameters(), Map.of("max_iterations", "60", "regularization", "0.05")));
    FactorModel model;
    try (TestFitContext context = new TestFitContext(2)) {
      model = PROVIDER.create(config).fit(train, context);
    }
    float[] trained = new float[3];
    for (int u : new int[] {0, 13, 42, 79}) {
      int n = train.rowLength(u);
      int[] items = new int[n];
      float[] values = new float[n];
      for (int p = train.rowStart(u), j = 0; p < train.rowEnd(u); p++, j++) {
        items[j] = train.rowColumn(p);
        values[j] = train.rowValue(p);
      }
      float[] folded = PROVIDER.foldInUser(model, config, items, values).factors();
      model.userVector(u, trained);
      double diff = 0;
      double norm = 0;
      for (int f = 0; f < 3; f++) {
        diff += (folded[f] - trained[f]) * (folded[f] - trained[f]);
        norm += trained[f] * trained[f];
      }
      // The trained user was solved against the item factors of the last half-sweep but one;
      // at convergence those barely differ from the final ones.
      assertTrue(Math.sqrt(diff / norm) < 0.01, "user " + u + ": relative difference "
          + Math.sqrt(diff / norm));
    }
  }
}
