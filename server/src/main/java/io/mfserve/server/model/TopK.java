package io.mfserve.server.model;

import java.util.Arrays;

/**
 * Keeps the best {@code capacity} of a stream of (position, score) pairs, on primitive arrays:
 * a binary min-heap whose root is the worst pair kept, so a candidate costs one comparison
 * unless it beats the root. "Better" means a higher score, and for equal scores the lower
 * position, so the result never depends on the order candidates arrive in. Nothing is boxed or
 * allocated per candidate.
 *
 * <p>Reusable ({@link #reset}) and not thread-safe: each thread keeps its own.
 */
final class TopK {
  private int[] positions;
  private float[] scores;
  private int size;
  private int capacity;

  TopK(int initialCapacity) {
    positions = new int[Math.max(1, initialCapacity)];
    scores = new float[positions.length];
  }

  /** Empties the heap and sets how many pairs it keeps, growing its arrays if needed. */
  void reset(int capacity) {
    if (capacity < 0) {
      throw new IllegalArgumentException("capacity " + capacity);
    }
    if (capacity > positions.length) {
      positions = new int[capacity];
      scores = new float[capacity];
    }
    this.capacity = capacity;
    size = 0;
  }

  /** Returns the length of the arrays held, for deciding whether to keep this instance. */
  int arrayLength() {
    return positions.length;
  }

  /** Returns the number of pairs kept so far. */
  int size() {
    return size;
  }

  /**
   * Offers a pair.
   *
   * @return whether it was kept (it may be evicted by a later, better one)
   */
  boolean offer(int position, float score) {
    if (size < capacity) {
      int i = size++;
      positions[i] = position;
      scores[i] = score;
      siftUp(i);
      return true;
    }
    if (capacity == 0 || !better(score, position, scores[0], positions[0])) {
      return false;
    }
    positions[0] = position;
    scores[0] = score;
    siftDown(0);
    return true;
  }

  /**
   * Moves the pairs kept, best first, into {@code outPositions[0..n)} and
   * {@code outScores[0..n)}, and empties the heap.
   *
   * @return n, the number of pairs
   */
  int drainBestFirst(int[] outPositions, float[] outScores) {
    int n = size;
    // Popping the worst n times fills the output from the back.
    for (int i = n - 1; i >= 0; i--) {
      outPositions[i] = positions[0];
      outScores[i] = scores[0];
      size--;
      if (size > 0) {
        positions[0] = positions[size];
        scores[0] = scores[size];
        siftDown(0);
      }
    }
    return n;
  }

  /** Whether (s1, p1) ranks before (s2, p2). */
  static boolean better(float s1, int p1, float s2, int p2) {
    return s1 > s2 || (s1 == s2 && p1 < p2);
  }

  private void siftUp(int i) {
    int p = positions[i];
    float s = scores[i];
    while (i > 0) {
      int parent = (i - 1) >>> 1;
      // The root holds the worst: move a parent down while the new pair is worse than it.
      if (!better(scores[parent], positions[parent], s, p)) {
        break;
      }
      positions[i] = positions[parent];
      scores[i] = scores[parent];
      i = parent;
    }
    positions[i] = p;
    scores[i] = s;
  }

  private void siftDown(int i) {
    int p = positions[i];
    float s = scores[i];
    int half = size >>> 1;
    while (i < half) {
      int child = 2 * i + 1;
      int right = child + 1;
      if (right < size && better(scores[child], positions[child], scores[right],
          positions[right])) {
        child = right;
      }
      if (!better(s, p, scores[child], positions[child])) {
        break;
      }
      positions[i] = positions[child];
      scores[i] = scores[child];
      i = child;
    }
    positions[i] = p;
    scores[i] = s;
  }

  @Override
  public String toString() {
    return "TopK" + Arrays.toString(Arrays.copyOf(positions, size));
  }
}
