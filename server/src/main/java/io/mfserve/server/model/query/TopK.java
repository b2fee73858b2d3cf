package io.mfserve.server.model.query;

import java.util.Arrays;

/**
 * Keeps the best {@code capacity} of a stream of (position, score) pairs, on primitive arrays.
 * "Better" means a higher score, and for equal scores the lower position, a total order, so the
 * result never depends on the order candidates arrive in. Nothing is boxed or allocated per
 * candidate.
 *
 * <p>A candidate is appended to a buffer unless it is no better than the current threshold;
 * when the buffer is full, a quickselect moves the best {@code capacity} to its front, drops the
 * rest and raises the threshold to the worst pair kept. Each candidate therefore costs one
 * comparison and at most one append, amortised O(1) whatever the order of the scores. (A binary
 * heap costs a sift of log(capacity) steps for every candidate that beats its root, which is
 * every candidate when the scan happens to meet the scores in rising order: measured on a
 * served model whose item biases grow with the item id, the sifts cost more than the scoring.)
 *
 * <p>Reusable ({@link #reset}) and not thread-safe: each thread keeps its own.
 */
final class TopK {
  /**
   * Room beyond the capacity, at least the capacity itself: a compaction of capacity + slack
   * pairs is then paid for by slack appends (O(1) each, amortised). Small for a small k, because
   * the threshold only rises at a compaction: with 512, a top-10 scan of 20,000 items scored
   * its first 522 rows exactly and spent a quarter of its time in the two quickselects over
   * them (branch mispredictions); with 32 the threshold tightens after 42 rows and then every
   * 32 appends (measured in-process: 93–119 µs per cosine scan with 512, 80–86 µs with 32).
   */
  private static final int MIN_SLACK = 32;

  private int[] positions;
  private float[] scores;
  private int size;
  private int capacity;
  /** Whether a compaction has happened: then only pairs better than the threshold are taken. */
  private boolean full;
  private float thresholdScore;
  private int thresholdPosition;

  TopK(int initialCapacity) {
    int length = bufferLength(Math.max(1, initialCapacity));
    positions = new int[length];
    scores = new float[length];
  }

  private static int bufferLength(int capacity) {
    return capacity + Math.max(capacity, MIN_SLACK);
  }

  /** Empties the buffer and sets how many pairs it keeps, growing its arrays if needed. */
  void reset(int capacity) {
    if (capacity < 0) {
      throw new IllegalArgumentException("capacity " + capacity);
    }
    if (bufferLength(capacity) > positions.length) {
      positions = new int[bufferLength(capacity)];
      scores = new float[positions.length];
    }
    this.capacity = capacity;
    size = 0;
    full = false;
  }

  /** Returns the length of the arrays held, for deciding whether to keep this instance. */
  int arrayLength() {
    return positions.length;
  }

  /**
   * Whether a compaction has set a threshold: from then on only pairs better than
   * ({@link #thresholdScore()}, its position) are taken. It only rises.
   */
  boolean hasThreshold() {
    return full;
  }

  /** Returns the score of the worst pair kept at the last compaction. */
  float thresholdScore() {
    return thresholdScore;
  }

  /** Returns the number of pairs {@link #drainBestFirst} would return now. */
  int size() {
    return Math.min(size, capacity);
  }

  /**
   * Offers a pair.
   *
   * @return whether it was taken (it may be dropped later for better ones)
   */
  boolean offer(int position, float score) {
    if (capacity == 0 || (full && !better(score, position, thresholdScore, thresholdPosition))) {
      return false;
    }
    positions[size] = position;
    scores[size] = score;
    if (++size == positions.length) {
      compact();
    }
    return true;
  }

  /** Keeps the best {@code capacity} pairs in [0, capacity) and raises the threshold. */
  private void compact() {
    select(0, size - 1, capacity - 1);
    size = capacity;
    int worst = 0;
    for (int i = 1; i < capacity; i++) {
      if (better(scores[worst], positions[worst], scores[i], positions[i])) {
        worst = i;
      }
    }
    thresholdScore = scores[worst];
    thresholdPosition = positions[worst];
    full = true;
  }

  /**
   * Moves the pairs kept, best first, into {@code outPositions[0..n)} and
   * {@code outScores[0..n)}, and empties the buffer.
   *
   * @return n, the number of pairs
   */
  int drainBestFirst(int[] outPositions, float[] outScores) {
    if (size > capacity) {
      select(0, size - 1, capacity - 1);
      size = capacity;
    }
    int n = size;
    sort(0, n - 1);
    System.arraycopy(positions, 0, outPositions, 0, n);
    System.arraycopy(scores, 0, outScores, 0, n);
    size = 0;
    full = false;
    return n;
  }

  /** Whether (s1, p1) ranks before (s2, p2). */
  static boolean better(float s1, int p1, float s2, int p2) {
    return s1 > s2 || (s1 == s2 && p1 < p2);
  }

  /**
   * Quickselect on [lo, hi]: afterwards the pair at {@code nth} is the one a best-first sort
   * would put there, those before it are better and those after it worse.
   */
  private void select(int lo, int hi, int nth) {
    while (hi > lo) {
      int p = partition(lo, hi);
      if (p == nth) {
        return;
      }
      if (nth < p) {
        hi = p - 1;
      } else {
        lo = p + 1;
      }
    }
  }

  /** Best-first quicksort of [lo, hi], insertion sort for short runs. */
  private void sort(int lo, int hi) {
    while (hi - lo > 16) {
      int p = partition(lo, hi);
      // Recurse into the shorter side: the stack stays O(log n) deep.
      if (p - lo < hi - p) {
        sort(lo, p - 1);
        lo = p + 1;
      } else {
        sort(p + 1, hi);
        hi = p - 1;
      }
    }
    for (int i = lo + 1; i <= hi; i++) {
      int pi = positions[i];
      float si = scores[i];
      int j = i - 1;
      while (j >= lo && better(si, pi, scores[j], positions[j])) {
        positions[j + 1] = positions[j];
        scores[j + 1] = scores[j];
        j--;
      }
      positions[j + 1] = pi;
      scores[j + 1] = si;
    }
  }

  /**
   * Partitions [lo, hi] around the median of its first, middle and last pairs: returns the
   * pivot's final index, with better pairs before it and worse ones after.
   */
  private int partition(int lo, int hi) {
    int mid = (lo + hi) >>> 1;
    // Order lo, mid, hi best first; the median of the three, moved to hi, is the pivot.
    if (better(scores[mid], positions[mid], scores[lo], positions[lo])) {
      swap(lo, mid);
    }
    if (better(scores[hi], positions[hi], scores[lo], positions[lo])) {
      swap(lo, hi);
    }
    if (better(scores[hi], positions[hi], scores[mid], positions[mid])) {
      swap(mid, hi);
    }
    swap(mid, hi);
    float ps = scores[hi];
    int pp = positions[hi];
    int store = lo;
    for (int i = lo; i < hi; i++) {
      if (better(scores[i], positions[i], ps, pp)) {
        swap(i, store++);
      }
    }
    swap(store, hi);
    return store;
  }

  private void swap(int a, int b) {
    int p = positions[a];
    positions[a] = positions[b];
    positions[b] = p;
    float s = scores[a];
    scores[a] = scores[b];
    scores[b] = s;
  }

  @Override
  public String toString() {
    return "TopK" + Arrays.toString(Arrays.copyOf(positions, size()));
  }
}
