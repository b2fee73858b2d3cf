package io.mfserve.bench.sgd;

import io.mfserve.solver.FitContext;
import io.mfserve.solver.IterationProgress;
import io.mfserve.solver.ValidationSet;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ForkJoinPool;
import java.util.function.Consumer;

/**
 * The {@link FitContext} a benchmark fit runs in: a pool of a chosen size (as the server's
 * {@code --training-threads}), an optional validation set, and every report recorded. Never
 * cancelled. Thread-safe.
 */
final class BenchFitContext implements FitContext, AutoCloseable {
  private final ForkJoinPool pool;
  private final ValidationSet validation;
  private final List<IterationProgress> reports = Collections.synchronizedList(new ArrayList<>());
  private final Consumer<IterationProgress> onReport;

  BenchFitContext(int threads, ValidationSet validation, Consumer<IterationProgress> onReport) {
    this.pool = new ForkJoinPool(threads);
    this.validation = validation;
    this.onReport = onReport;
  }

  /** Returns every report so far, in order. */
  List<IterationProgress> reports() {
    synchronized (reports) {
      return List.copyOf(reports);
    }
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
    return false;
  }

  @Override
  public void report(IterationProgress progress) {
    reports.add(progress);
    onReport.accept(progress);
  }

  @Override
  public void close() {
    pool.shutdownNow();
  }
}
