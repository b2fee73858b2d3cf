package io.mfserve.solver;

import java.util.concurrent.ForkJoinPool;

/**
 * What the server lends a solver for one fit: a pool of worker threads, the held-out
 * validation entries, a place to report progress, and a cancellation flag.
 *
 * <p>A solver checks {@link #isCancelled()} at least once per iteration (and within an
 * iteration when one takes long) and then throws {@link FitCancelledException}. It reports
 * every completed iteration through {@link #report(IterationProgress)}. Implementations are
 * thread-safe.
 */
public interface FitContext {
  /**
   * Returns the pool to run parallel work in, e.g. {@code pool().submit(() ->
   * IntStream.range(0, n).parallel().forEach(...)).join()}. The server owns it; a solver never
   * shuts it down.
   */
  ForkJoinPool pool();

  /** Returns how many threads the solver may keep busy (the pool's parallelism). */
  default int parallelism() {
    return pool().getParallelism();
  }

  /** Returns the held-out entries to score after each iteration; empty if none. */
  ValidationSet validation();

  /** Returns whether the caller gave up; the solver then throws FitCancelledException. */
  boolean isCancelled();

  /**
   * Throws {@link FitCancelledException} if the fit was cancelled.
   *
   * @param completedIterations how many iterations had completed, for the message
   */
  default void throwIfCancelled(int completedIterations) {
    if (isCancelled()) {
      throw new FitCancelledException(completedIterations);
    }
  }

  /**
   * Claims {@code bytes} more of the server's memory budget for this fit, before the solver
   * allocates them: for a solver that learns the size of its data only while fitting (see
   * {@link Solver#fitFromSource}). Claims are released when the fit ends; those the model
   * keeps are accounted to it. The default claims nothing.
   *
   * @param what a few words on what the memory is for, for the error message
   * @throws RuntimeException (the server's own "resource exhausted" error) if the budget has
   *     no room; the solver lets it propagate
   */
  default void reserveMemory(long bytes, String what) {
  }

  /** Records one completed iteration. Cheap; may be called from any thread. */
  void report(IterationProgress progress);

  /**
   * Returns the factors to start from instead of a fresh initialisation, or null for a cold
   * start (the default). When present its shape matches the training matrix and the fit's k
   * (a solver checks with {@link WarmStart#requireShape} before it allocates, and a mismatch
   * fails the fit with an {@link IllegalArgumentException}); rows it does not know are
   * initialised as in a cold fit.
   */
  default WarmStart warmStart() {
    return null;
  }
}
