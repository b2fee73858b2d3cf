package io.mfserve.solver.als;

import io.mfserve.solver.FitContext;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs numbered blocks of work on the fit's pool: one task per worker, each owning one
 * {@link RowScratch} for the whole fit and claiming blocks in turn until none are left. Each
 * block's result lands in its own slot, so sums formed afterwards in block order do not depend
 * on which worker ran what.
 */
final class BlockRunner {
  /** Work on one block with one worker's scratch; returns the block's loss term. */
  @FunctionalInterface
  interface BlockBody {
    double run(RowScratch s, int block);
  }

  private final FitContext context;
  private final RowScratch[] scratch;

  /**
   * Creates a runner with {@code workers} scratch sets of rank {@code k} and width {@code w}.
   */
  BlockRunner(FitContext context, int workers, int k, int w) {
    this.context = context;
    scratch = new RowScratch[workers];
    for (int t = 0; t < workers; t++) {
      scratch[t] = new RowScratch(k, w);
    }
  }

  /**
   * Runs {@code body} for every block on the pool and stores each block's result in
   * {@code terms} (when not null). Throws FitCancelledException, with {@code completed}
   * iterations, if the fit was cancelled meanwhile.
   */
  void run(int blocks, BlockBody body, double[] terms, int completed) {
    AtomicInteger nextBlock = new AtomicInteger();
    int tasks = Math.min(scratch.length, blocks);
    ForkJoinPool pool = context.pool();
    ForkJoinTask<?>[] running = new ForkJoinTask<?>[tasks];
    for (int t = 0; t < tasks; t++) {
      RowScratch s = scratch[t];
      running[t] = pool.submit(() -> {
        int b;
        // Checking the flag once per block keeps a cancelled fit from finishing a long sweep.
        while (!context.isCancelled() && (b = nextBlock.getAndIncrement()) < blocks) {
          double term = body.run(s, b);
          if (terms != null) {
            terms[b] = term;
          }
        }
      });
    }
    // Join every task before rethrowing, so that none still writes into the factors after
    // fit returns or throws.
    RuntimeException failure = null;
    for (ForkJoinTask<?> task : running) {
      try {
        task.join();
      } catch (RuntimeException e) {
        if (failure == null) {
          failure = e;
        } else {
          failure.addSuppressed(e);
        }
      }
    }
    if (failure != null) {
      throw failure;
    }
    context.throwIfCancelled(completed);
  }
}
