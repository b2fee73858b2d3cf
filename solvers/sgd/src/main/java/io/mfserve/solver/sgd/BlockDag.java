package io.mfserve.solver.sgd;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;

/**
 * Hands out the blocks of one epoch's stratified schedule to several threads as soon as the
 * blocks they depend on are done, instead of holding every thread at a barrier after each
 * stratum.
 *
 * <p>The schedule is the sequence of {@link EpochRunner}: nb strata of nb blocks, the blocks of
 * a stratum sharing no block-row and no block-column. Block t of stratum s shares its block-row
 * with block t of stratum s − 1 and its block-column with exactly one block of stratum s − 1;
 * those two are all it waits for. Every block-row and every block-column is therefore still
 * visited in stratum order, and two blocks that may run at once touch disjoint rows and
 * columns, so the factors come out bit for bit as if the sequence ran on one thread: the model
 * stays a function of the seed, whatever the threads and their timing. What changes is the
 * waiting: a thread that finishes its block starts any block whose two predecessors are done,
 * possibly in a later stratum, rather than waiting for the slowest block of the stratum (or for
 * a thread the operating system has descheduled on a busy machine).
 *
 * <p>Positions (indices into the schedule) become ready in a lock-free list that is filled once
 * per epoch: each position is appended exactly once, by the thread that finished its last
 * predecessor. Used by one epoch at a time; {@link #reset} between epochs on the fitting
 * thread, {@link #take} and {@link #finish} from the workers.
 */
final class BlockDag {
  private final int nb;
  private final int total;
  /** Per position: the next position in the same block-row, or −1 in the last stratum. */
  private final int[] nextInRow;
  /** Per position: the next position in the same block-column, or −1 in the last stratum. */
  private final int[] nextInCol;
  /** Per position: predecessors not yet finished. */
  private final AtomicIntegerArray pending;
  /** Ready positions in the order they became ready; −1 where a slot is claimed, not set. */
  private final AtomicIntegerArray ready;
  /** Slots of {@link #ready} claimed by producers. */
  private final AtomicInteger readyTail = new AtomicInteger();
  /** Slots of {@link #ready} taken by consumers. */
  private final AtomicInteger readyHead = new AtomicInteger();
  private final AtomicInteger finished = new AtomicInteger();
  private volatile boolean stopped;

  /** Creates the structure for an nb × nb grid. */
  BlockDag(int nb) {
    this.nb = nb;
    this.total = nb * nb;
    this.nextInRow = new int[total];
    this.nextInCol = new int[total];
    this.pending = new AtomicIntegerArray(total);
    this.ready = new AtomicIntegerArray(total);
  }

  /**
   * Prepares an epoch over {@code schedule} (block ids, stratum by stratum; a block id is
   * block-row · nb + block-column): links each position to its successors and marks the first
   * stratum ready.
   */
  void reset(int[] schedule) {
    // Where each block-column sits in the next stratum.
    int[] colAt = new int[nb];
    for (int s = 0; s < nb; s++) {
      if (s + 1 < nb) {
        for (int t = 0; t < nb; t++) {
          colAt[schedule[(s + 1) * nb + t] % nb] = (s + 1) * nb + t;
        }
      }
      for (int t = 0; t < nb; t++) {
        int pos = s * nb + t;
        nextInRow[pos] = s + 1 < nb ? pos + nb : -1;
        nextInCol[pos] = s + 1 < nb ? colAt[schedule[pos] % nb] : -1;
      }
    }
    for (int pos = 0; pos < total; pos++) {
      pending.set(pos, 0);
      ready.set(pos, -1);
    }
    for (int pos = 0; pos < total; pos++) {
      if (nextInRow[pos] >= 0) {
        pending.incrementAndGet(nextInRow[pos]);
      }
      if (nextInCol[pos] >= 0 && nextInCol[pos] != nextInRow[pos]) {
        pending.incrementAndGet(nextInCol[pos]);
      }
    }
    readyHead.set(0);
    readyTail.set(0);
    finished.set(0);
    stopped = false;
    for (int t = 0; t < nb; t++) {
      publish(t);
    }
  }

  /**
   * Returns a ready position for the caller to run, waiting while none is ready but some are
   * still running; −1 once every position is taken or after {@link #stop}.
   */
  int take() {
    for (int spins = 0; ; spins++) {
      if (stopped) {
        return -1;
      }
      int h = readyHead.get();
      if (h >= total) {
        return -1;
      }
      if (h < readyTail.get()) {
        int pos = ready.get(h);
        if (pos >= 0 && readyHead.compareAndSet(h, h + 1)) {
          return pos;
        }
        // Claimed by a producer that has not stored it yet, or taken by another consumer.
        continue;
      }
      // Nothing ready: a block another thread runs has to finish first. Spin briefly, then
      // give the processor away, since on a busy machine that thread may be waiting for it.
      if (spins < 64) {
        Thread.onSpinWait();
      } else {
        Thread.yield();
      }
    }
  }

  /** Marks {@code pos} done and makes ready the successors it was the last to wait for. */
  void finish(int pos) {
    int r = nextInRow[pos];
    int c = nextInCol[pos];
    if (r >= 0 && pending.decrementAndGet(r) == 0) {
      publish(r);
    }
    if (c >= 0 && c != r && pending.decrementAndGet(c) == 0) {
      publish(c);
    }
    finished.incrementAndGet();
  }

  /** Makes every waiting {@link #take} return −1 (cancellation, divergence). */
  void stop() {
    stopped = true;
  }

  /** Returns how many positions have finished this epoch. */
  int finished() {
    return finished.get();
  }

  private void publish(int pos) {
    ready.set(readyTail.getAndIncrement(), pos);
  }
}
