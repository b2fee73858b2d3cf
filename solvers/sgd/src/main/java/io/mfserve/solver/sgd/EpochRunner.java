package io.mfserve.solver.sgd;

import io.mfserve.solver.FitContext;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.RecursiveAction;

/**
 * Runs epochs of a {@link Kernel} over a {@link BlockGrid} on the fit's threads, in one of two
 * ways.
 *
 * <h2>Blocks (FPSGD-style, deterministic)</h2>
 * An epoch visits the nb × nb blocks as nb strata of nb blocks each: stratum s holds the
 * blocks (π(t), ρ((t + σ(s)) mod nb)) for t = 0..nb−1, with the permutations π, ρ and σ drawn
 * afresh each epoch from the fit's seed. The blocks of a stratum share no row and no column.
 * One thread runs the strata in order. Several threads take blocks from a {@link BlockDag}: a
 * block may start as soon as the one block before it in its block-row and the one before it in
 * its block-column are done, which keeps every row and column in stratum order, so the result
 * is the one thread's bit for bit and does not depend on which thread ran which block or how
 * many threads there were: the model is a function of the seed, the data, the parameters and
 * nb alone. No thread waits for a whole stratum to end (the first version joined all threads
 * after each of the nb strata). A thread still waits when every block it could take depends on
 * one another thread is running; it spins briefly, then yields, and since it only ever waits
 * for a running block, which needs nothing else to finish, fits sharing the pool cannot
 * deadlock. The threads' progress therefore stays coupled: on a machine where the operating
 * system often deschedules one of them, the other soon runs out of blocks, and the wall-clock
 * time of an epoch follows the slower thread. This is the stratified schedule of DSGD (Gemulla
 * et al., KDD 2011) on FPSGD's grid with dependencies instead of barriers; FPSGD's own
 * scheduler lets a thread take any free block, which decouples the threads but makes the
 * order, and the model, depend on timing.
 *
 * <h2>Hogwild</h2>
 * One block of entries in a random order, cut into one contiguous run per thread; the threads
 * update the shared factors without locks and without caring for conflicts (Niu et al. 2011).
 * Not deterministic with more than one thread.
 *
 * <h2>Which is faster here</h2>
 * The blocks, by about two: on the synthetic 10M set (200,000 × 20,000, k = 10) on the
 * project's 2-core machine an epoch took 0.117 s on 2 threads (0.228 s on one) with blocks and
 * 0.22 s (0.40 s) with Hogwild (solvers/bench, {@code run-sgd.sh}). Both scale with the threads;
 * the difference is memory: Hogwild reads a random user row and a random item row for every
 * update, and the user factors (10 MB here) do not stay in cache, while a block visits its
 * users in order and works on slices of both factor matrices small enough to stay in cache.
 * Hogwild also lets two threads write one item row at once, which costs cache-line transfers
 * and lost updates; the blocks never share a row.
 *
 * <h2>Users (SVD++)</h2>
 * {@link #overUsers}: the Hogwild scheme over users instead of entries. The kernel's unit is a
 * user (all of the user's entries and the update of the implicit factors of the user's items,
 * see {@link SvdppKernel}); the positions [0, rows) of the kernel's per-epoch user order are cut
 * into one contiguous run per thread. One thread gives a deterministic fit; with several, two
 * threads may update one item's q_i, b_i or y_j at once and an update may be lost.
 *
 * <p>Every run of at most {@value #CHUNK} entries (for users: as many users as hold that many
 * entries on average) starts with a cancellation check and ends with a check that its loss is
 * finite; either stops all threads at their next check. Used by one fit, from one thread at a
 * time.
 */
final class EpochRunner {
  /** Entries per kernel call: the granularity of cancellation and divergence checks. */
  static final int CHUNK = 1 << 16;

  /** Why an epoch stopped early. */
  enum Outcome { COMPLETED, CANCELLED, NON_FINITE }

  private final BlockGrid grid;
  private final Kernel kernel;
  private final FitContext context;
  private final int threads;
  private final long seed;
  private final boolean hogwild;
  /** What the Hogwild runs divide among the threads: entries, or users for SVD++. */
  private final long units;
  /** Units per kernel call. */
  private final int chunk;
  private final int nb;
  /** Loss per block (or per Hogwild run), summed in index order so the sum is reproducible. */
  private final double[] partLoss;
  /** This epoch's blocks, stratum by stratum. */
  private final int[] schedule;
  /** Hands this epoch's blocks to the threads; null for Hogwild and for one thread. */
  private final BlockDag dag;
  private volatile Outcome outcome = Outcome.COMPLETED;
  private int epoch;

  /**
   * Creates a runner.
   *
   * @param threads how many threads to keep busy; 1 runs everything on the calling thread
   * @param hogwild Hogwild over a {@link BlockGrid#shuffled} grid instead of the block schedule
   */
  EpochRunner(BlockGrid grid, Kernel kernel, FitContext context, int threads, long seed,
      boolean hogwild) {
    this(grid, kernel, context, threads, seed, hogwild, grid.nnz(), CHUNK);
  }

  private EpochRunner(BlockGrid grid, Kernel kernel, FitContext context, int threads,
      long seed, boolean hogwild, long units, int chunk) {
    this.grid = grid;
    this.kernel = kernel;
    this.context = context;
    this.threads = threads;
    this.seed = seed;
    this.hogwild = hogwild;
    this.units = units;
    this.chunk = chunk;
    this.nb = grid.nb;
    this.partLoss = new double[hogwild ? threads : nb * nb];
    this.schedule = new int[nb * nb];
    this.dag = hogwild || threads == 1 ? null : new BlockDag(nb);
  }

  /**
   * Returns a runner that hands a user kernel ({@link SvdppKernel}) the positions [0, rows) of
   * its user order, one contiguous run per thread, Hogwild; see the class Javadoc.
   *
   * @param threads 1 for a deterministic fit on the calling thread
   */
  static EpochRunner overUsers(BlockGrid grid, Kernel kernel, FitContext context, int threads,
      long seed) {
    int chunk = (int) Math.max(1, Math.min(Integer.MAX_VALUE,
        (long) CHUNK * grid.rows / Math.max(1, grid.nnz())));
    return new EpochRunner(grid, kernel, context, threads, seed, true, grid.rows, chunk);
  }

  /** Returns the outcome of the last {@link #run}. */
  Outcome outcome() {
    return outcome;
  }

  /**
   * Runs one epoch and returns the sum of the kernel's losses; check {@link #outcome()} before
   * trusting it.
   */
  double run(int epochNumber) {
    this.epoch = epochNumber;
    outcome = Outcome.COMPLETED;
    java.util.Arrays.fill(partLoss, 0);
    kernel.beginEpoch(epochNumber);
    if (!hogwild) {
      drawSchedule();
    }
    if (threads == 1) {
      if (hogwild) {
        runHogwildPart(0);
      } else {
        for (int s = 0; s < nb && outcome == Outcome.COMPLETED; s++) {
          for (int t = 0; t < nb && outcome == Outcome.COMPLETED; t++) {
            runBlock(schedule[s * nb + t]);
          }
        }
      }
    } else {
      context.pool().invoke(new EpochTask());
    }
    double sum = 0;
    for (double part : partLoss) {
      sum += part;
    }
    return sum;
  }

  /** Draws this epoch's strata from a stream that depends only on the seed and the epoch. */
  private void drawSchedule() {
    SplittableRandom rnd = new SplittableRandom(Kernel.mix(seed ^ (epoch * Kernel.GOLDEN)));
    int[] rowPerm = BlockGrid.permutation(nb, rnd);
    int[] colPerm = BlockGrid.permutation(nb, rnd);
    int[] shift = BlockGrid.permutation(nb, rnd);
    for (int s = 0; s < nb; s++) {
      for (int t = 0; t < nb; t++) {
        schedule[s * nb + t] = rowPerm[t] * nb + colPerm[(t + shift[s]) % nb];
      }
    }
  }

  private void runBlock(int block) {
    int from = grid.blockStart[block];
    int to = grid.blockStart[block + 1];
    int bc = block % nb;
    partLoss[block] = runRange(from, to, grid.colBlockStart[bc], grid.colBlockStart[bc + 1],
        block);
  }

  private void runHogwildPart(int part) {
    int from = (int) (units * part / threads);
    int to = (int) (units * (part + 1) / threads);
    partLoss[part] = runRange(from, to, 0, grid.cols, part);
  }

  /** Runs [from, to) in chunks, checking for cancellation and divergence between them. */
  private double runRange(int from, int to, int colFrom, int colTo, int part) {
    double loss = 0;
    long base = Kernel.mix(seed + Kernel.mix(((long) epoch << 32) ^ part));
    for (int c = from; c < to; c += chunk) {
      if (outcome != Outcome.COMPLETED) {
        return loss;
      }
      if (context.isCancelled()) {
        stop(Outcome.CANCELLED);
        return loss;
      }
      loss += kernel.run(c, Math.min(to, c + chunk), from, to, colFrom, colTo, base + c);
      if (!Double.isFinite(loss)) {
        stop(Outcome.NON_FINITE);
        return loss;
      }
    }
    return loss;
  }

  private void stop(Outcome why) {
    outcome = why;
    if (dag != null) {
      dag.stop();
    }
  }

  /** One epoch on the pool: a fork/join round per stratum (or one round for Hogwild). */
  private final class EpochTask extends RecursiveAction {
    private static final long serialVersionUID = 1L;

    @Override
    protected void compute() {
      if (hogwild) {
        List<RecursiveAction> parts = new ArrayList<>(threads);
        for (int t = 0; t < threads; t++) {
          int part = t;
          parts.add(action(() -> runHogwildPart(part)));
        }
        ForkJoinTask.invokeAll(parts);
        return;
      }
      dag.reset(schedule);
      int workers = Math.min(threads, nb);
      List<RecursiveAction> tasks = new ArrayList<>(workers);
      for (int w = 0; w < workers; w++) {
        tasks.add(action(() -> {
          for (int pos; (pos = dag.take()) >= 0; ) {
            runBlock(schedule[pos]);
            dag.finish(pos);
          }
        }));
      }
      ForkJoinTask.invokeAll(tasks);
    }
  }

  private static RecursiveAction action(Runnable body) {
    return new RecursiveAction() {
      private static final long serialVersionUID = 1L;

      @Override
      protected void compute() {
        body.run();
      }
    };
  }
}
