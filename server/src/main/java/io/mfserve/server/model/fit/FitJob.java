package io.mfserve.server.model.fit;

import io.mfserve.server.logging.LogEvent;
import io.mfserve.server.model.errors.ResourceExhaustedException;
import io.mfserve.server.model.matrix.PreparedMatrix;
import io.mfserve.server.model.store.MemoryBudget;
import io.mfserve.server.model.store.ModelMetadata;
import io.mfserve.server.model.store.Popularity;
import io.mfserve.server.model.store.ScanIndex;
import io.mfserve.server.model.store.SeenItems;
import io.mfserve.server.model.store.ServedModel;
import io.mfserve.server.model.store.ServerEvents;
import io.mfserve.server.model.tune.TrialMemory;
import io.mfserve.server.model.tune.TuneMetric;
import io.mfserve.server.model.tune.TuneReport;
import io.mfserve.server.model.tune.TuneSpec;
import io.mfserve.server.model.tune.Tuner;
import io.mfserve.solver.FactorModel;
import io.mfserve.solver.FitCancelledException;
import io.mfserve.solver.Solver;
import io.mfserve.solver.SolverConfig;
import io.mfserve.solver.SolverProvider;
import io.mfserve.solver.TrainingMatrix;
import io.mfserve.solver.WarmStart;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.function.BooleanSupplier;
import java.util.logging.Level;

/**
 * One fit of a matrix, run on a coordinator thread of the {@link FitExecutor}: builds the
 * training matrix, runs the search a request asks for, fits, and completes the served model.
 */
final class FitJob implements Runnable {
  private final FitRuntime rt;
  private final String id;
  private final SolverProvider provider;
  private final Solver solver;
  private final SolverConfig config;
  private final PreparedMatrix matrix;
  private final FitCommand cmd;
  private final double validationFraction;
  private final MemoryBudget.Reservation reservation;
  private final ServedModel warmFrom;
  private final BooleanSupplier cancelled;
  private final FitListener listener;
  private final CompletableFuture<ServedModel> result;
  /** The config the fit runs with: {@code config} with the data-derived defaults settled. */
  private SolverConfig used;
  /** A tuned fit's trials; null without tuning. */
  private TuneReport tuneReport;

  FitJob(FitRuntime rt, String id, SolverProvider provider, Solver solver, SolverConfig config,
      PreparedMatrix matrix, FitCommand cmd, double validationFraction,
      MemoryBudget.Reservation reservation, ServedModel warmFrom, BooleanSupplier cancelled,
      FitListener listener, CompletableFuture<ServedModel> result) {
    this.rt = rt;
    this.id = id;
    this.provider = provider;
    this.solver = solver;
    this.config = config;
    this.matrix = matrix;
    this.cmd = cmd;
    this.validationFraction = validationFraction;
    this.reservation = reservation;
    this.warmFrom = warmFrom;
    this.cancelled = cancelled;
    this.listener = listener;
    this.result = result;
    this.used = config;
  }

  @Override
  public void run() {
    long start = System.nanoTime();
    try {
      if (cancelled.getAsBoolean()) {
        throw new FitCancelledException(0);
      }
      TrainingMatrix full = matrix.toTrainingMatrix(config.absentEntries(), "matrix");
      SolverConfig base = config;
      if (cmd.tune() != null) {
        base = tune(full);
      }
      TrainingMatrix.Split split = full.split(validationFraction, config.seed());
      SeenItems seen = SeenItems.of(full);
      Popularity popularity = Popularity.of(full);
      full = null; // the split's training part is all the solver needs from here on
      used = provider.resolveForData(base, split.train());
      Solver fitter = used == config ? solver : provider.create(used);
      WarmStart warm = warmFrom == null ? null
          : WarmStarts.of(warmFrom, matrix.rowIndex(), matrix.colIndex());
      ServerFitContext context = new ServerFitContext(rt.executor().workers(), split.validation(),
          cancelled, p -> {
            FitRuntime.logProgress(id, p);
            if (listener != null) {
              listener.onIteration(id, FitRuntime.maxIterations(used), p);
            }
          }, warm, reservation);
      warm = null;
      TrainingMatrix train = split.train();
      FactorModel factors = FitRuntime.inPluginLoader(provider, () -> fitter.fit(train, context));
      double rmse = factors.rmse(split.train());
      double seconds = (System.nanoTime() - start) / 1e9;
      ModelMetadata meta = new ModelMetadata(id, provider.name(), used.numFactors(),
          FitRuntime.provenanceParams(used), config.seed(), config.absentEntries(),
          split.train().nnz(),
          split.validation().size(), split.train().mean(), rmse, seconds, rt.clock().instant(),
          rt.version(), matrix.fingerprint(), cmd.requestFingerprint(),
          warmFrom == null ? "" : warmFrom.id(), tuneReport);
      ScanIndex scanIndex = ScanIndex.of(factors);
      long exact = factors.memoryBytes() + seen.memoryBytes() + matrix.rowIndex().memoryBytes()
          + matrix.colIndex().memoryBytes() + scanIndex.memoryBytes()
          + popularity.memoryBytes();
      reservation.shrink(reservation.bytes() - Math.min(exact, reservation.bytes()));
      ServedModel model = new ServedModel(factors, matrix.rowIndex(), matrix.colIndex(), seen,
          scanIndex, popularity, meta, used, reservation);
      ServedModel served = rt.models().complete(model);
      double total = (System.nanoTime() - start) / 1e9;
      rt.events().fitFinished(provider.name(), ServerEvents.FitResult.OK, total);
      line(ServerEvents.FitResult.OK, total).put("iterations", factors.iterations())
          .put("rmse", rmse).log(FitRuntime.LOG);
      releaseInline();
      result.complete(served);
    } catch (Throwable t) {
      reservation.close();
      rt.models().abandon(id, t);
      double total = (System.nanoTime() - start) / 1e9;
      ServerEvents.FitResult r = FitRuntime.failure(t);
      rt.events().fitFinished(provider.name(), r, total);
      LogEvent line = line(r, total).put("error", t.getMessage() == null ? t.toString()
          : t.getMessage());
      if (t instanceof OutOfMemoryError) {
        line.put("hint", "ran out of memory despite its budget check; lower --memory-budget"
            + " or raise -Xmx").level(Level.SEVERE).thrown(t);
      }
      line.log(FitRuntime.LOG);
      releaseInline();
      result.completeExceptionally(t);
    } finally {
      releaseInline();
    }
  }

  /**
   * Gives back the inline matrix's memory. Called before the caller hears how the fit ended,
   * so that a client that fits again at once finds the budget as it will be (the fuzz test
   * found the release after the reply); idempotent.
   */
  private void releaseInline() {
    if (cmd.inlineMatrix() != null) {
      cmd.inlineMatrix().release();
    }
  }

  /**
   * Runs the request's search on a seeded split of {@code full} and returns the config of
   * the best setting (the request's own when every trial failed); keeps the report.
   */
  private SolverConfig tune(TrainingMatrix full) {
    TuneSpec spec = cmd.tune();
    TuneMetric metric = spec.metric() != null ? spec.metric()
        : config.absentEntries() == io.mfserve.solver.AbsentEntries.IMPLICIT ? TuneMetric.NDCG
            : TuneMetric.RMSE;
    // Another stream than the final fit's validation split, so the two are independent.
    TrainingMatrix.Split split = full.split(spec.validationFraction(),
        config.seed() ^ 0x7E57_5EEDL);
    Tuner.Base base = new Tuner.Base(provider, cmd.params(), config.numFactors(),
        config.seed(), config.absentEntries());
    tuneReport = new Tuner(spec, metric).run(base, split.train(), split.validation(),
        rt.executor().workers(), cancelled, new TrialMemory() {
          @Override
          public boolean tryHold(long bytes, String what) {
            try {
              reservation.grow(bytes, what + " of model '" + id + "'");
              return true;
            } catch (ResourceExhaustedException e) {
              return false;
            }
          }

          @Override
          public void release(long bytes) {
            reservation.shrink(bytes);
          }
        }, t -> {
          FitRuntime.LOG.fine(() -> "model " + id + ": trial " + t.number() + " " + t.setting()
              + " " + t.metric());
          if (listener != null) {
            listener.onTrial(id, t);
          }
        });
    if (tuneReport.best().isEmpty()) {
      return config;
    }
    return Tuner.config(base, tuneReport.best(), 0);
  }

  /** Returns this fit's structured log line: solver, shape, parameters, seconds, result. */
  private LogEvent line(ServerEvents.FitResult r, double seconds) {
    return LogEvent.of("fit").put("model", id).put("solver", provider.name())
        .put("rows", matrix.rows()).put("cols", matrix.cols()).put("nnz", matrix.entries())
        .put("k", config.numFactors()).put("seed", config.seed())
        .put("absent", config.absentEntries().name().toLowerCase(Locale.ROOT))
        .put("params", new java.util.TreeMap<>(used.parameters().asText()).toString())
        .put("trials", tuneReport == null ? null : tuneReport.trials().size())
        .put("warm_start", warmFrom == null ? null : warmFrom.id())
        .put("result", r.name().toLowerCase(Locale.ROOT)).put("seconds", seconds);
  }
}

