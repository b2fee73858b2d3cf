package io.mfserve.server.model.fit;

import io.mfserve.solver.FitContext;
import io.mfserve.solver.IterationProgress;
import io.mfserve.solver.ValidationSet;
import io.mfserve.solver.WarmStart;
import java.util.concurrent.ForkJoinPool;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/** The {@link FitContext} the server lends a solver: shared pool, caller's cancellation. */
final class ServerFitContext implements FitContext {
  private final ForkJoinPool pool;
  private final ValidationSet validation;
  private final BooleanSupplier cancelled;
  private final Consumer<IterationProgress> listener;
  private final WarmStart warmStart;

  ServerFitContext(ForkJoinPool pool, ValidationSet validation, BooleanSupplier cancelled,
      Consumer<IterationProgress> listener, WarmStart warmStart) {
    this.warmStart = warmStart;
    this.pool = pool;
    this.validation = validation;
    this.cancelled = cancelled;
    this.listener = listener;
  }

  @Override
  public WarmStart warmStart() {
    return warmStart;
  }

  @Override
  public ForkJoinPool pool() {
    return pool;
  }

  @Override
  public ValidationSet validation() {
    return validation;
  }

  @Override
  public boolean isCancelled() {
    return cancelled.getAsBoolean() || pool.isShutdown() || Thread.currentThread().isInterrupted();
  }

  @Override
  public void report(IterationProgress progress) {
    if (!Double.isFinite(progress.loss())) {
      // The solver's own divergence guard should have stopped it; never trust a NaN onward.
      return;
    }
    listener.accept(progress);
  }
}
