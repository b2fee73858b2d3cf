package io.mfserve.server.model.store;

/**
 * What the application layer tells an observer (metrics) about its work: fits finished,
 * models loaded, repository operations, damaged snapshots found.
 *
 * <p>It lives in {@code store}, the lowest package that reports an event, so that {@code store}
 * and {@code fit} can both call it while the application layer stays free of any metrics
 * library; {@code io.mfserve.server.metrics} implements it with Micrometer. Every argument is
 * drawn from a small fixed set (a result, an operation name, a registered solver's name):
 * never a model id or anything else a request chooses, so that an implementation may use them
 * as labels. Implementations must be thread-safe, quick, and must not throw.
 */
public interface ServerEvents {
  /** Ignores everything: the binding when metrics are off. */
  ServerEvents NONE = new ServerEvents() { };

  /** How a fit ended. */
  enum FitResult {
    /** Trained and stored. */
    OK,
    /** Trained, or started to, and failed. */
    FAILED,
    /** The caller gave up. */
    CANCELLED,
    /** The solver's loss became non-finite. */
    DIVERGED,
    /** Refused before it started: a bad request (unknown solver, bad parameter, ...). */
    INVALID,
    /** Refused before it started for want of room: memory budget or fit queue full. */
    REFUSED
  }

  /** How loading a model from the repository ended. */
  enum LoadResult {
    /** Loaded and resident. */
    OK,
    /** Its snapshot is damaged; it will not be served. */
    DAMAGED,
    /** Anything else (repository unreachable, over budget, ...). */
    FAILED
  }

  /**
   * A fit finished.
   *
   * @param solver the registered solver's name, or null when it ended before one was chosen
   * @param result how it ended
   * @param seconds from the start of training (0 for fits refused before they started)
   */
  default void fitFinished(String solver, FitResult result, double seconds) { }

  /** A model was loaded from the repository (or failed to be), taking {@code seconds}. */
  default void modelLoaded(LoadResult result, double seconds) { }

  /**
   * The repository did one operation.
   *
   * @param operation the {@link ModelRepository} method, in snake case ("save_new", "load", ...)
   * @param ok false if it threw
   * @param seconds how long it took
   */
  default void repositoryOperation(String operation, boolean ok, double seconds) { }

  /** A damaged snapshot was found (when loading or describing it). */
  default void damagedSnapshotFound() { }
}
