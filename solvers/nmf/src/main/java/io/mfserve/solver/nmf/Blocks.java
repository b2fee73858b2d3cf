package io.mfserve.solver.nmf;

import java.util.concurrent.ForkJoinPool;
import java.util.function.IntConsumer;
import java.util.stream.IntStream;

/**
 * A fixed partition of {@code 0..n-1} into at most {@link #MAX_BLOCKS} contiguous blocks, run in
 * parallel on a pool.
 *
 * <p>The partition depends on {@code n} only, never on the pool's size, and partial sums are
 * combined in block order, so a fit gives bit-for-bit the same model on any number of threads.
 * Each block owns one scratch buffer for the whole fit, so the per-row loops allocate nothing.
 */
final class Blocks {
  /** Enough blocks to keep a large machine busy, few enough that per-block scratch stays small. */
  static final int MAX_BLOCKS = 64;

  private final int n;
  private final int count;
  private final int align;
  private final int units;

  Blocks(int n) {
    this(n, 1);
  }

  /**
   * A partition whose blocks start at multiples of {@code align} (all but the last hold a
   * multiple of it), for kernels that take {@code align} rows at a time.
   */
  Blocks(int n, int align) {
    this.n = n;
    this.align = align;
    this.units = (n + align - 1) / align;
    this.count = Math.max(1, Math.min(units, MAX_BLOCKS));
  }

  /** Returns the number of blocks. */
  int count() {
    return count;
  }

  /** Returns the first index of block {@code b}. */
  int start(int b) {
    return (int) Math.min(n, (long) align * ((long) units * b / count));
  }

  /** Returns the index just past block {@code b}. */
  int end(int b) {
    return b + 1 == count ? n : start(b + 1);
  }

  /**
   * Runs {@code body} once per block, in parallel on {@code pool}, and returns when all are
   * done (which also publishes their writes to the caller).
   */
  void forEach(ForkJoinPool pool, IntConsumer body) {
    if (count == 1 || pool.getParallelism() == 1) {
      for (int b = 0; b < count; b++) {
        body.accept(b);
      }
      return;
    }
    pool.submit(() -> IntStream.range(0, count).parallel().forEach(body)).join();
  }
}
