package io.mfserve.server.model.matrix;

import io.mfserve.server.model.errors.NotFoundException;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Uploaded matrices by id, kept for reuse by any number of fits and freed by
 * {@link #delete(String)} or once unused for the time-to-live. Thread-safe.
 */
public final class MatrixStore {
  private final Map<String, Entry> matrices = new ConcurrentHashMap<>();
  private final Duration ttl;
  private final Clock clock;

  private static final class Entry {
    final PreparedMatrix matrix;
    volatile long lastUsedMillis;

    Entry(PreparedMatrix matrix, long now) {
      this.matrix = matrix;
      this.lastUsedMillis = now;
    }
  }

  /**
   * Creates an empty store.
   *
   * @param ttl how long an unused matrix is kept
   * @param clock time source (tests pass a fixed one)
   */
  public MatrixStore(Duration ttl, Clock clock) {
    this.ttl = ttl;
    this.clock = clock;
  }

  /** Returns how long an unused matrix is kept. */
  public Duration ttl() {
    return ttl;
  }

  /** Stores a matrix and returns its new id. */
  public String put(PreparedMatrix matrix) {
    String id = "mx-" + UUID.randomUUID();
    matrices.put(id, new Entry(matrix, clock.millis()));
    return id;
  }

  /**
   * Returns the matrix and marks it used now.
   *
   * @throws NotFoundException if there is none of that id (never uploaded, deleted or expired)
   */
  public PreparedMatrix get(String id) {
    Entry e = matrices.get(id);
    if (e == null) {
      throw new NotFoundException("matrix", id, "no uploaded matrix '" + id + "' (never"
          + " uploaded, deleted, or unused for longer than " + ttl.toMinutes() + " min);"
          + " upload it again with UploadMatrix");
    }
    e.lastUsedMillis = clock.millis();
    return e.matrix;
  }

  /**
   * Deletes a matrix and frees its memory.
   *
   * @return the bytes freed
   * @throws NotFoundException if there is none of that id
   */
  public long delete(String id) {
    Entry e = matrices.remove(id);
    if (e == null) {
      throw new NotFoundException("matrix", id, "no uploaded matrix '" + id + "'");
    }
    long bytes = e.matrix.memoryBytes();
    e.matrix.release();
    return bytes;
  }

  /** Frees every matrix unused for longer than the time-to-live; returns how many. */
  public int evictExpired() {
    long cutoff = clock.millis() - ttl.toMillis();
    int n = 0;
    for (Map.Entry<String, Entry> e : matrices.entrySet()) {
      if (e.getValue().lastUsedMillis < cutoff && matrices.remove(e.getKey(), e.getValue())) {
        e.getValue().matrix.release();
        n++;
      }
    }
    return n;
  }

  /** Returns the number of matrices held. */
  public int size() {
    return matrices.size();
  }
}
