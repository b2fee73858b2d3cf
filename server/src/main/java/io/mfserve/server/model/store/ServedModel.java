package io.mfserve.server.model.store;

import io.mfserve.server.model.ann.AnnIndexes;
import io.mfserve.server.model.ids.IdIndex;
import io.mfserve.solver.FactorModel;
import io.mfserve.solver.SolverConfig;

/**
 * A trained model as the server holds it: the factors, the id maps of both sides, the seen
 * items for exclusion, the scan index (norms for cosine similarity, per-block keys and bounds
 * for top-k), the metadata, and the solver configuration it was trained with (what a fold-in
 * needs to call the solver again). Immutable, so reads need no locks; a request that got a
 * reference before a delete completes on it. The one part that changes is its approximate
 * indexes ({@link AnnIndexes}), built in the background after the model is served and
 * published atomically; their bytes are added to the model's reservation.
 */
public final class ServedModel {
  private final FactorModel factors;
  private final IdIndex users;
  private final IdIndex items;
  private final SeenItems seen;
  private final ScanIndex scanIndex;
  private final ModelMetadata metadata;
  private final SolverConfig config;
  private final MemoryBudget.Reservation reservation;
  private final AnnIndexes ann = new AnnIndexes();
  private final Popularity popularity;

  /**
   * Assembles a model whose item popularity is counted from its seen items (no values to rank
   * by mean), growing {@code reservation} by the table's bytes.
   */
  public ServedModel(FactorModel factors, IdIndex users, IdIndex items, SeenItems seen,
      ScanIndex scanIndex, ModelMetadata metadata, SolverConfig config,
      MemoryBudget.Reservation reservation) {
    this(factors, users, items, seen, scanIndex, counted(seen, items.size(), reservation),
        metadata, config, reservation);
  }

  private static Popularity counted(SeenItems seen, int items,
      MemoryBudget.Reservation reservation) {
    reservation.grow(Popularity.estimateBytes(items, false), "item popularity");
    return Popularity.of(seen, items);
  }

  /** Assembles a model; {@code reservation} holds its bytes until {@link #release()}. */
  public ServedModel(FactorModel factors, IdIndex users, IdIndex items, SeenItems seen,
      ScanIndex scanIndex, Popularity popularity, ModelMetadata metadata, SolverConfig config,
      MemoryBudget.Reservation reservation) {
    this.popularity = popularity;
    this.factors = factors;
    this.users = users;
    this.items = items;
    this.seen = seen;
    this.scanIndex = scanIndex;
    this.metadata = metadata;
    this.config = config;
    this.reservation = reservation;
  }

  /** Returns the factors. */
  public FactorModel factors() {
    return factors;
  }

  /** Returns the user ids. */
  public IdIndex users() {
    return users;
  }

  /** Returns the item ids. */
  public IdIndex items() {
    return items;
  }

  /** Returns the items each user has in the training data. */
  public SeenItems seen() {
    return seen;
  }

  /** Returns what top-k scans read besides the factors (norms, per-block keys and bounds). */
  public ScanIndex scanIndex() {
    return scanIndex;
  }

  /** Returns the configuration the solver trained this model with. */
  public SolverConfig config() {
    return config;
  }

  /** Returns the provenance and training summary. */
  public ModelMetadata metadata() {
    return metadata;
  }

  /** Returns the id. */
  public String id() {
    return metadata.modelId();
  }

  /** Returns how popular each item was in training (the fallback for unknown users). */
  public Popularity popularity() {
    return popularity;
  }

  /** Returns the approximate indexes, ready or not. */
  public AnnIndexes ann() {
    return ann;
  }

  /**
   * Returns the bytes held for this model (factors, id maps, seen items, scan index, and its
   * approximate indexes once they are built).
   */
  public long memoryBytes() {
    return reservation.bytes();
  }

  /**
   * Holds {@code more} bytes for this model as well (an index being built).
   *
   * @throws io.mfserve.server.model.errors.ResourceExhaustedException if they do not fit
   * @throws IllegalStateException if the model was released meanwhile
   */
  public void growMemory(long more, String what) {
    reservation.grow(more, what);
  }

  /** Gives back {@code fewer} of this model's bytes; nothing once it is released. */
  public void shrinkMemory(long fewer) {
    reservation.shrink(fewer);
  }

  /** Whether the model was released (deleted, evicted, replaced): its indexes stop building. */
  public boolean released() {
    return reservation.isClosed();
  }

  /** Gives the model's bytes back to the budget; the caller has dropped it from every map. */
  public void release() {
    ann.clear();
    reservation.close();
  }
}
