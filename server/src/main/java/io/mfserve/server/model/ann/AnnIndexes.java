package io.mfserve.server.model.ann;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The approximate indexes of one served model and where each stands: built in the background
 * after the model is ready, and read by every query without a lock. Until an index is
 * {@link State#READY} (and whenever it is not), queries scan exactly.
 *
 * <p>Thread-safe: one builder thread writes, any number of query threads read.
 */
public final class AnnIndexes {
  /** Where an index stands. */
  public enum State {
    /** Waiting for the builder. */
    QUEUED,
    /** Being built. */
    BUILDING,
    /** Built; queries use it. */
    READY,
    /** Not built: it would not fit in the memory budget. */
    SKIPPED,
    /** The build failed (logged). */
    FAILED
  }

  /**
   * What ModelInfo shows of one index.
   *
   * @param target what it answers
   * @param state where it stands
   * @param detail why it was skipped or failed; empty otherwise
   * @param metric how its graph was built
   * @param maxConn M
   * @param beamWidth the beam while building
   * @param efSearch the fewest candidates a search collects
   * @param rows rows indexed
   * @param memoryBytes bytes held (for the items' second index, its graph only: the item rows
   *     are shared and counted with the first)
   * @param buildSeconds the build's wall-clock seconds; 0 until ready
   * @param sampledRecall recall@10 against brute force on sampled queries; NaN if not measured
   */
  public record Status(AnnTarget target, State state, String detail, Metric metric, int maxConn,
      int beamWidth, int efSearch, int rows, long memoryBytes, double buildSeconds,
      double sampledRecall) {
    /** Returns a copy in {@code next} state with {@code why}. */
    public Status with(State next, String why) {
      return new Status(target, next, why, metric, maxConn, beamWidth, efSearch, rows,
          memoryBytes, buildSeconds, sampledRecall);
    }
  }

  private final AtomicReferenceArray<Status> status =
      new AtomicReferenceArray<>(AnnTarget.values().length);
  private final AtomicReferenceArray<HnswIndex> ready =
      new AtomicReferenceArray<>(AnnTarget.values().length);

  /** Returns the ready index for {@code target}, or null: then scan exactly. */
  public HnswIndex get(AnnTarget target) {
    return ready.get(target.ordinal());
  }

  /** Returns the status of {@code target}'s index, or null when it has none. */
  public Status status(AnnTarget target) {
    return status.get(target.ordinal());
  }

  /** Records where an index stands (not ready). */
  public void update(Status s) {
    status.set(s.target().ordinal(), s);
  }

  /** Publishes a built index. */
  public void publish(Status s, HnswIndex index) {
    ready.set(s.target().ordinal(), index);
    status.set(s.target().ordinal(), s);
  }

  /** Returns the status of every index the model has or will have, in target order. */
  public List<Status> statuses() {
    List<Status> out = new ArrayList<>();
    for (int t = 0; t < status.length(); t++) {
      Status s = status.get(t);
      if (s != null) {
        out.add(s);
      }
    }
    return out;
  }

  /** Drops every index (the model was released): queries already searching finish. */
  public void clear() {
    for (int t = 0; t < ready.length(); t++) {
      ready.set(t, null);
    }
  }
}
