package io.mfserve.server.model.fit;

import io.mfserve.server.model.store.ModelStore;
import io.mfserve.server.model.store.ServerEvents;
import io.mfserve.solver.FitCancelledException;
import io.mfserve.solver.FitDivergedException;
import io.mfserve.solver.IterationProgress;
import io.mfserve.solver.ParameterSpec;
import io.mfserve.solver.SolverConfig;
import io.mfserve.solver.SolverProvider;
import java.time.Clock;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;
import java.util.logging.Logger;

/**
 * What a running fit job reaches beyond its own request: the store it completes the model in,
 * the executor's workers, the observer of how fits end, the clock and the server's version.
 */
record FitRuntime(ModelStore models, FitExecutor executor, ServerEvents events, Clock clock,
    String version) {
  /** Fit jobs log under the orchestrator's name, as before the split. */
  static final Logger LOG = Logger.getLogger(FitOrchestrator.class.getName());

  /**
   * Runs {@code body} with the thread's context class loader set to the plugin's own: libraries
   * that load classes by name through it (Spark, Hadoop, logging back-ends) then find the
   * plugin's copies, not the server's.
   */
  static <T> T inPluginLoader(SolverProvider provider, Supplier<T> body) {
    Thread t = Thread.currentThread();
    ClassLoader before = t.getContextClassLoader();
    t.setContextClassLoader(SolverDefaults.pluginLoader(provider));
    try {
      return body.get();
    } finally {
      t.setContextClassLoader(before);
    }
  }

  /** How a fit that started ended, from what it threw. */
  static ServerEvents.FitResult failure(Throwable t) {
    if (t instanceof FitCancelledException) {
      return ServerEvents.FitResult.CANCELLED;
    }
    if (t instanceof FitDivergedException) {
      return ServerEvents.FitResult.DIVERGED;
    }
    return ServerEvents.FitResult.FAILED;
  }

  static int maxIterations(SolverConfig config) {
    return config.parameters().has(ParameterSpec.MAX_ITERATIONS)
        ? config.parameters().getInt(ParameterSpec.MAX_ITERATIONS) : 0;
  }

  /** The parameters a model shows in ModelInfo: the solver's, plus rank and absent entries. */
  static Map<String, String> provenanceParams(SolverConfig config) {
    Map<String, String> p = new HashMap<>(config.parameters().asText());
    p.put("num_factors", Integer.toString(config.numFactors()));
    p.put("absent_entries", config.absentEntries().name().toLowerCase(Locale.ROOT));
    return p;
  }

  static void logProgress(String id, IterationProgress p) {
    LOG.fine(() -> String.format("model %s: iteration %d, loss %.6g%s", id, p.iteration(),
        p.loss(), p.hasValidation() ? String.format(", validation RMSE %.4f",
            p.validationRmse()) : ""));
  }
}
