package io.mfserve.solver.nmf;

import io.mfserve.solver.FactorModel;
import io.mfserve.solver.Parameters;
import io.mfserve.solver.SolverConfig;
import io.mfserve.solver.TrainingMatrix;
import io.mfserve.solver.testing.TestFitContext;
import java.util.HashMap;
import java.util.Map;

/** Fits with the nmf solver from parameter key-value pairs, for this module's tests. */
final class NmfFits {
  private static final NmfSolverProvider PROVIDER = new NmfSolverProvider();

  private NmfFits() { }

  /** Fits {@code m} at rank {@code k} with {@code seed}, on {@code context}. */
  static FactorModel fit(TrainingMatrix m, int k, long seed, TestFitContext context,
      String... keyValues) {
    Map<String, String> given = new HashMap<>();
    for (int n = 0; n < keyValues.length; n += 2) {
      given.put(keyValues[n], keyValues[n + 1]);
    }
    Parameters params = Parameters.resolve(PROVIDER.parameters(), given);
    return PROVIDER.create(new SolverConfig(k, seed, m.absentEntries(), params))
        .fit(m, context);
  }

  /** Fits {@code m} at rank {@code k} with {@code seed}, on a context of two threads. */
  static FactorModel fit(TrainingMatrix m, int k, long seed, String... keyValues) {
    try (TestFitContext context = new TestFitContext(2)) {
      return fit(m, k, seed, context, keyValues);
    }
  }
}
