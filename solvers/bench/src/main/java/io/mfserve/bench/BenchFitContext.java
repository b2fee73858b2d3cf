package io.mfserve.bench;

import io.mfserve.solver.FitContext;
import io.mfserve.solver.IterationProgress;
import io.mfserve.solver.ValidationSet;
import io.mfserve.solver.WarmStart;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ForkJoinPool;
import java.util.function.Consumer;

/**
 * The {@link FitContext} a benchmark fit runs in: a pool of a chosen size (as the server's
 * {@code --training-threads}), an optional validation set, an optional warm start, and every
 * report recorded. Never cancelled. Thread-safe.
 */
public final class BenchFitContext implements FitContext, AutoCloseable {
  private final ForkJoinPool pool;
  private final ValidationSet validation;
  private final List<IterationProgress> reports = Collections.synchronizedList(new ArrayList<>());
  private final Consumer<IterationProgress> onReport;
  private final WarmStart warm;

  /** A cold fit's context. */
  public BenchFitContext(int threads, ValidationSet validation,
      Consumer<IterationProgress> onReport) {
    this(threads, validation, onReport, null);
  }

  /** A context that starts the fit from {@code warm} (null: cold). */
  public BenchFitContext(int threads, ValidationSet validation,
      Consumer<IterationProgress> onReport, WarmStart warm) {
    this.pool = new ForkJoinPool(threads);
    this.validation = validation == null ? ValidationSet.empty() : validation;
    this.onReport = onReport;
    this.warm = warm;
  }

  @Override
  public WarmStart warmStart() {
    return warm;
  }

  /** Returns every report so far, in order. */
  public List<IterationProgress> reports() {
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
