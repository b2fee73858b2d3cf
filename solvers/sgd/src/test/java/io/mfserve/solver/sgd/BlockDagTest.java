package io.mfserve.solver.sgd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@link BlockDag} under real threads: every block runs once per epoch, and each block-row and
 * each block-column sees its blocks in stratum order (what makes the result equal the one-thread
 * sequence), while blocks of different strata do overlap.
 */
class BlockDagTest {
  /** A schedule as {@link EpochRunner} draws it: strata of (π(t), ρ((t + σ(s)) mod nb)). */
  private static int[] schedule(int nb, SplittableRandom rnd) {
    int[] rowPerm = BlockGrid.permutation(nb, rnd);
    int[] colPerm = BlockGrid.permutation(nb, rnd);
    int[] shift = BlockGrid.permutation(nb, rnd);
    int[] schedule = new int[nb * nb];
    for (int s = 0; s < nb; s++) {
      for (int t = 0; t < nb; t++) {
        schedule[s * nb + t] = rowPerm[t] * nb + colPerm[(t + shift[s]) % nb];
      }
    }
    return schedule;
  }

  @Test
  void take_manyThreads_keepsStratumOrderPerRowAndColumn() throws InterruptedException {
    int nb = 7;
    int threads = 4;
    BlockDag dag = new BlockDag(nb);
    SplittableRandom rnd = new SplittableRandom(5);
    boolean overlapped = false;
    for (int epoch = 0; epoch < 200; epoch++) {
      int[] schedule = schedule(nb, rnd);
      dag.reset(schedule);
      // Per block-row and block-column, the strata in the order their blocks started; a block
      // holds its row and column while it runs, and a second holder is a conflict.
      int[][] rowOrder = new int[nb][nb];
      int[][] colOrder = new int[nb][nb];
      int[] rowSeen = new int[nb];
      int[] colSeen = new int[nb];
      int[] rowBusy = new int[nb];
      int[] colBusy = new int[nb];
      int[] runs = new int[nb * nb];
      int[] maxStratumGap = new int[1];
      int[] conflicts = new int[1];
      Object lock = new Object();
      List<Integer> running = new ArrayList<>();
      CountDownLatch done = new CountDownLatch(threads);
      for (int w = 0; w < threads; w++) {
        long spin = 11 + w;
        new Thread(() -> {
          SplittableRandom local = new SplittableRandom(spin);
          for (int pos; (pos = dag.take()) >= 0; ) {
            int block = schedule[pos];
            int row = block / nb;
            int col = block % nb;
            synchronized (lock) {
              runs[pos]++;
              rowOrder[row][rowSeen[row]++] = pos / nb;
              colOrder[col][colSeen[col]++] = pos / nb;
              rowBusy[row]++;
              colBusy[col]++;
              if (rowBusy[row] != 1 || colBusy[col] != 1) {
                conflicts[0]++;
              }
              for (int other : running) {
                maxStratumGap[0] = Math.max(maxStratumGap[0], Math.abs(other - pos / nb));
              }
              running.add(pos / nb);
            }
            // Blocks of uneven length, so the threads drift apart.
            long until = System.nanoTime() + local.nextInt(20_000);
            while (System.nanoTime() < until) {
              Thread.onSpinWait();
            }
            synchronized (lock) {
              rowBusy[row]--;
              colBusy[col]--;
              running.remove(Integer.valueOf(pos / nb));
            }
            dag.finish(pos);
          }
          done.countDown();
        }).start();
      }
      assertTrue(done.await(30, TimeUnit.SECONDS), "workers did not finish");
      assertEquals(0, conflicts[0], "two running blocks shared a block-row or block-column");
      assertEquals(nb * nb, dag.finished());
      for (int pos = 0; pos < nb * nb; pos++) {
        assertEquals(1, runs[pos], "position " + pos + " ran " + runs[pos] + " times");
      }
      for (int x = 0; x < nb; x++) {
        for (int s = 0; s < nb; s++) {
          assertEquals(s, rowOrder[x][s], "block-row " + x + " out of stratum order");
          assertEquals(s, colOrder[x][s], "block-column " + x + " out of stratum order");
        }
      }
      overlapped |= maxStratumGap[0] > 0;
    }
    // Without barriers, blocks of different strata ran at the same time at least once.
    assertTrue(overlapped, "no two strata ever overlapped");
  }

  @Test
  void stop_releasesWaitingThreads() throws InterruptedException {
    BlockDag dag = new BlockDag(3);
    dag.reset(schedule(3, new SplittableRandom(1)));
    // Take the whole first stratum and finish none: the next take would wait.
    for (int t = 0; t < 3; t++) {
      assertTrue(dag.take() >= 0);
    }
    int[] got = {0};
    Thread waiter = new Thread(() -> got[0] = dag.take());
    waiter.start();
    Thread.sleep(50);
    assertTrue(waiter.isAlive(), "take returned with nothing ready");
    dag.stop();
    waiter.join(5_000);
    assertEquals(-1, got[0]);
  }
}
