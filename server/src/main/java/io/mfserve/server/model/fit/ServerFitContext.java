package io.mfserve.server.model.fit;

import io.mfserve.server.model.store.MemoryBudget;
import io.mfserve.solver.FitContext;
import io.mfserve.solver.IterationProgress;
import io.mfserve.solver.ValidationSet;
import io.mfserve.solver.WarmStart;
import java.util.concurrent.ForkJoinPool;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * The {@link FitContext} the server lends a solver: shared pool, caller's cancellation, and the
 * fit's memory reservation, which {@link #reserveMemory} grows.
 */
final class ServerFitContext implements FitContext {
  private final ForkJoinPool pool;
  private final ValidationSet validation;
  private final BooleanSupplier cancelled;
  private final Consumer<IterationProgress> listener;
  private final WarmStart warmStart;
  private final MemoryBudget.Reservation reservation;

  ServerFitContext(ForkJoinPool pool, ValidationSet validation, BooleanSupplier cancelled,
      Consumer<IterationProgress> listener, WarmStart warmStart,
      MemoryBudget.Reservation reservation) {
    this.warmStart = warmStart;
    this.reservation = reservation;
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
  public void reserveMemory(long bytes, String what) {
    if (bytes < 0) {
      throw new IllegalArgumentException("cannot reserve " + bytes + " bytes");
    }
    reservation.grow(bytes, what);
  }

  @Override
  public void report(IterationProgress progress) {
    if (Double.isInfinite(progress.loss())) {
      // The solver's own divergence guard should have stopped it; never pass an infinity on.
      // NaN is the documented "not computed" of a solver that cannot report its objective.
      return;
    }
    listener.accept(progress);
  }
}
