package io.mfserve.server.model.store;

import io.mfserve.server.model.errors.ResourceExhaustedException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The bytes the server may hold for models, uploaded matrices and fits in progress.
 *
 * <p>Every large allocation is reserved here first, so a request that would not fit is refused
 * with {@link ResourceExhaustedException} before anything is allocated. Reservations are
 * released when the model or matrix is deleted or the fit ends. Thread-safe and lock-free.
 */
public final class MemoryBudget {
  private final long limitBytes;
  private final AtomicLong usedBytes = new AtomicLong();

  /** Creates a budget of {@code limitBytes}. */
  public MemoryBudget(long limitBytes) {
    if (limitBytes <= 0) {
      throw new IllegalArgumentException("memory budget must be positive, got " + limitBytes);
    }
    this.limitBytes = limitBytes;
  }

  /** Returns the limit. */
  public long limitBytes() {
    return limitBytes;
  }

  /** Returns the bytes reserved now. */
  public long usedBytes() {
    return usedBytes.get();
  }

  /**
   * Reserves {@code bytes} for {@code what}.
   *
   * @throws ResourceExhaustedException naming {@code what}, the size and the room left
   */
  public Reservation reserve(long bytes, String what) {
    Reservation r = new Reservation();
    r.grow(bytes, what);
    return r;
  }

  private void take(long bytes, String what) {
    if (bytes < 0) {
      throw new IllegalArgumentException("negative reservation");
    }
    while (true) {
      long used = usedBytes.get();
      if (bytes > limitBytes - used) {
        throw new ResourceExhaustedException(what + " needs " + human(bytes) + " but only "
            + human(Math.max(0, limitBytes - used)) + " of the server's memory budget of "
            + human(limitBytes) + " is free (--memory-budget); delete models or matrices, or"
            + " send a smaller request");
      }
      if (usedBytes.compareAndSet(used, used + bytes)) {
        return;
      }
    }
  }

  /** Formats bytes for messages: 1.5 GiB, 12.0 MiB, 512 B. */
  public static String human(long bytes) {
    if (bytes < 1024) {
      return bytes + " B";
    }
    String[] units = {"KiB", "MiB", "GiB", "TiB"};
    double v = bytes;
    int u = -1;
    while (v >= 1024 && u < units.length - 1) {
      v /= 1024;
      u++;
    }
    return String.format(java.util.Locale.ROOT, "%.1f %s", v, units[u]);
  }

  /**
   * Bytes held against the budget; released once by {@link #close()}. Thread-safe.
   */
  public final class Reservation implements AutoCloseable {
    private final AtomicLong bytes = new AtomicLong();
    private volatile boolean closed;

    private Reservation() { }

    /** Returns the bytes held. */
    public long bytes() {
      return bytes.get();
    }

    /**
     * Holds {@code more} bytes as well.
     *
     * @throws ResourceExhaustedException if they do not fit; what was held stays held
     */
    public synchronized void grow(long more, String what) {
      // Synchronized with close: bytes taken after a close would never be given back.
      if (closed) {
        throw new IllegalStateException("reservation already released");
      }
      take(more, what);
      bytes.addAndGet(more);
    }

    /**
     * Gives back {@code fewer} of the bytes held (after freeing a temporary buffer); nothing
     * once released (the close gave everything back).
     */
    public synchronized void shrink(long fewer) {
      if (closed) {
        return;
      }
      long now = bytes.addAndGet(-fewer);
      if (now < 0) {
        throw new IllegalStateException("reservation shrunk below zero");
      }
      usedBytes.addAndGet(-fewer);
    }

    /** Whether {@link #close()} has given the bytes back. */
    public boolean isClosed() {
      return closed;
    }

    @Override
    public synchronized void close() {
      if (!closed) {
        closed = true;
        usedBytes.addAndGet(-bytes.getAndSet(0));
      }
    }
  }
}
