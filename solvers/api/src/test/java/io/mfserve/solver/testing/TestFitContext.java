package io.mfserve.solver.testing;

import io.mfserve.solver.FitContext;
import io.mfserve.solver.IterationProgress;
import io.mfserve.solver.ValidationSet;
import io.mfserve.solver.WarmStart;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * A {@link FitContext} for solver tests: a pool of a chosen size, an optional validation set,
 * every reported iteration recorded, cancellation on demand (optionally after a given
 * iteration), and an optional warm start.
 */
public final class TestFitContext implements FitContext, AutoCloseable {
  private final ForkJoinPool pool;
  private final ValidationSet validation;
  private final List<IterationProgress> reports = Collections.synchronizedList(new ArrayList<>());
  private final AtomicBoolean cancelled = new AtomicBoolean();
  private volatile int cancelAfterIteration = Integer.MAX_VALUE;
  private final AtomicInteger checks = new AtomicInteger();
  private volatile int cancelAtCheck = Integer.MAX_VALUE;
  private volatile Consumer<IterationProgress> onReport = p -> { };
  private volatile WarmStart warmStart;

  /** A context with {@code threads} worker threads and no validation set. */
  public TestFitContext(int threads) {
    this(threads, ValidationSet.empty());
  }

  /** A context with {@code threads} worker threads and the given validation set. */
  public TestFitContext(int threads, ValidationSet validation) {
    this.pool = new ForkJoinPool(threads);
    this.validation = validation;
  }

  /** Makes {@link #isCancelled()} true once iteration {@code n} has been reported. */
  public TestFitContext cancelAfter(int n) {
    cancelAfterIteration = n;
    return this;
  }

  /**
   * Makes the {@code n}-th call of {@link #isCancelled()} (counting from 1) and every later one
   * return true: a cancellation that lands in the middle of an iteration.
   */
  public TestFitContext cancelAtCheck(int n) {
    cancelAtCheck = n;
    return this;
  }

  /** Returns how many times {@link #isCancelled()} has been called. */
  public int checks() {
    return checks.get();
  }

  /** Runs {@code action} on every report (on the reporting thread). */
  public TestFitContext onReport(Consumer<IterationProgress> action) {
    onReport = action;
    return this;
  }

  /** Makes {@link #warmStart()} return {@code warm} (null: a cold start, the default). */
  public TestFitContext withWarmStart(WarmStart warm) {
    warmStart = warm;
    return this;
  }

  /** Cancels now. */
  public void cancel() {
    cancelled.set(true);
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
    return checks.incrementAndGet() >= cancelAtCheck || cancelled.get();
  }

  @Override
  public void report(IterationProgress progress) {
    reports.add(progress);
    onReport.accept(progress);
    if (progress.iteration() >= cancelAfterIteration) {
      cancelled.set(true);
    }
  }

  @Override
  public WarmStart warmStart() {
    return warmStart;
  }

  @Override
  public void close() {
    pool.shutdownNow();
  }
}
