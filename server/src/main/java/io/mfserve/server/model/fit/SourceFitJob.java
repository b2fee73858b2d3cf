package io.mfserve.server.model.fit;

import io.mfserve.server.logging.LogEvent;
import io.mfserve.server.model.ids.IdIndex;
import io.mfserve.server.model.store.MemoryBudget;
import io.mfserve.server.model.store.ModelMetadata;
import io.mfserve.server.model.store.ScanIndex;
import io.mfserve.server.model.store.SeenItems;
import io.mfserve.server.model.store.ServedModel;
import io.mfserve.server.model.store.ServerEvents;
import io.mfserve.solver.ExternalIds;
import io.mfserve.solver.FactorModel;
import io.mfserve.solver.FitCancelledException;
import io.mfserve.solver.Solver;
import io.mfserve.solver.SolverConfig;
import io.mfserve.solver.SolverProvider;
import io.mfserve.solver.SourcedModel;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.BooleanSupplier;

/**
 * One fit whose solver reads its own data, run on a coordinator thread: the server builds the
 * id indexes from the ids the solver returns and settles the reservation on what is kept.
 */
final class SourceFitJob implements Runnable {
  private final FitRuntime rt;
  private final String id;
  private final SolverProvider provider;
  private final Solver solver;
  private final SolverConfig config;
  private final FitCommand cmd;
  private final MemoryBudget.Reservation reservation;
  private final BooleanSupplier cancelled;
  private final FitListener listener;
  private final CompletableFuture<ServedModel> result;

  SourceFitJob(FitRuntime rt, String id, SolverProvider provider, Solver solver,
      SolverConfig config, FitCommand cmd, MemoryBudget.Reservation reservation,
      BooleanSupplier cancelled, FitListener listener, CompletableFuture<ServedModel> result) {
    this.rt = rt;
    this.id = id;
    this.provider = provider;
    this.solver = solver;
    this.config = config;
    this.cmd = cmd;
    this.reservation = reservation;
    this.cancelled = cancelled;
    this.listener = listener;
    this.result = result;
  }

  @Override
  public void run() {
    long start = System.nanoTime();
    SourcedModel sourced = null;
    try {
      if (cancelled.getAsBoolean()) {
        throw new FitCancelledException(0);
      }
      ServerFitContext context = new ServerFitContext(rt.executor().workers(),
          io.mfserve.solver.ValidationSet.empty(), cancelled, p -> {
            FitRuntime.logProgress(id, p);
            if (listener != null) {
              listener.onIteration(id, FitRuntime.maxIterations(config), p);
            }
          }, null, reservation);
      sourced = FitRuntime.inPluginLoader(provider, () -> solver.fitFromSource(context));
      if (sourced == null) {
        throw new IllegalStateException("solver '" + provider.name() + "' returned no model");
      }
      FactorModel factors = sourced.model();
      if (factors.numFactors() != config.numFactors()) {
        throw new IllegalStateException("solver '" + provider.name() + "' returned "
            + factors.numFactors() + " factors; the fit asked for " + config.numFactors());
      }
      IdIndex users = indexOf(sourced.users());
      IdIndex items = indexOf(sourced.items());
      SeenItems seen = sourced.hasSeen()
          ? SeenItems.of(sourced.seenRowPtr(), sourced.seenCols(), factors.numUsers(),
              factors.numItems())
          : SeenItems.of(new int[factors.numUsers() + 1], new int[0], factors.numUsers(),
              factors.numItems());
      double seconds = (System.nanoTime() - start) / 1e9;
      Map<String, String> shown = FitRuntime.provenanceParams(config);
      shown.put("source", sourced.source());
      ModelMetadata meta = new ModelMetadata(id, provider.name(), config.numFactors(), shown,
          config.seed(), config.absentEntries(), sourced.entries(), 0, sourced.mean(),
          sourced.trainingRmse(), seconds, rt.clock().instant(), rt.version(), "",
          cmd.requestFingerprint(), "");
      ScanIndex scanIndex = ScanIndex.of(factors);
      long exact = factors.memoryBytes() + seen.memoryBytes() + users.memoryBytes()
          + items.memoryBytes() + scanIndex.memoryBytes();
      // The solver claimed what it brought in; settle on what the model keeps.
      if (exact > reservation.bytes()) {
        reservation.grow(exact - reservation.bytes(), "keeping model '" + id + "'");
      } else {
        reservation.shrink(reservation.bytes() - exact);
      }
      ServedModel served = rt.models().complete(new ServedModel(factors, users, items, seen,
          scanIndex, meta, config, reservation));
      double total = (System.nanoTime() - start) / 1e9;
      rt.events().fitFinished(provider.name(), ServerEvents.FitResult.OK, total);
      line(ServerEvents.FitResult.OK, total, factors).put("iterations", factors.iterations())
          .log(FitRuntime.LOG);
      result.complete(served);
    } catch (Throwable t) {
      reservation.close();
      rt.models().abandon(id, t);
      double total = (System.nanoTime() - start) / 1e9;
      ServerEvents.FitResult r = FitRuntime.failure(t);
      rt.events().fitFinished(provider.name(), r, total);
      line(r, total, sourced == null ? null : sourced.model()).put("error",
          t.getMessage() == null ? t.toString() : t.getMessage()).log(FitRuntime.LOG);
      result.completeExceptionally(t);
    }
  }

  private LogEvent line(ServerEvents.FitResult r, double seconds, FactorModel f) {
    return LogEvent.of("fit").put("model", id).put("solver", provider.name())
        .put("source", config.parameters().asText().toString())
        .put("rows", f == null ? null : f.numUsers())
        .put("cols", f == null ? null : f.numItems())
        .put("k", config.numFactors()).put("seed", config.seed())
        .put("result", r.name().toLowerCase(Locale.ROOT)).put("seconds", seconds);
  }

  /** Builds the id index of one side of a model from the ids a solver returned. */
  private static IdIndex indexOf(ExternalIds ids) {
    int n = ids.size();
    if (ids.isStrings()) {
      IdIndex.StringBuilder b = IdIndex.stringBuilder();
      for (int p = 0; p < n; p++) {
        b.intern(ids.stringAt(p));
      }
      return b.build();
    }
    IdIndex.LongBuilder b = IdIndex.longBuilder();
    for (int p = 0; p < n; p++) {
      b.intern(ids.longAt(p));
    }
    return b.build();
  }
}
