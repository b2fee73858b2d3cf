package io.mfserve.server.repository;

import io.mfserve.server.model.store.ModelMetadata;
import io.mfserve.server.model.store.Popularity;
import io.mfserve.server.model.store.ScanIndex;
import io.mfserve.server.model.store.SeenItems;
import io.mfserve.solver.FactorModel;
import io.mfserve.solver.IterationProgress;
import java.util.List;
import java.util.Map;

/**
 * What a snapshot's first section says: the model's metadata and training history, the
 * parameters its solver was configured with, and the sizes of everything after it, so that
 * the memory a load needs is known (and reserved) before any array is allocated.
 *
 * @param metadata the model's provenance and training summary
 * @param configParams the solver's resolved parameters, as text (what fold-in needs)
 * @param history one entry per completed iteration
 * @param numUsers users (rows)
 * @param numItems items (columns)
 * @param hasBiases whether the model has a global mean and biases
 * @param userIds how the user ids are stored
 * @param itemIds how the item ids are stored
 * @param userKeyBytes UTF-8 bytes of all user keys (0 unless keys)
 * @param itemKeyBytes UTF-8 bytes of all item keys (0 unless keys)
 * @param seenEntries (user, item) pairs of the seen-items index
 */
public record SnapshotInfo(ModelMetadata metadata, Map<String, String> configParams,
    List<IterationProgress> history, int numUsers, int numItems, boolean hasBiases,
    IdKind userIds, IdKind itemIds, long userKeyBytes, long itemKeyBytes, long seenEntries) {

  /** How one side's ids are stored. */
  public enum IdKind {
    /** Positions 0..n-1 (a dense side): nothing stored. */
    POSITIONS,
    /** int64 ids, 8 bytes each. */
    INT64,
    /** String keys, each a length and UTF-8 bytes. */
    STRING
  }

  /** Copies the collections. */
  public SnapshotInfo {
    configParams = Map.copyOf(configParams);
    history = List.copyOf(history);
  }

  /** Returns k. */
  public int numFactors() {
    return metadata.numFactors();
  }

  /**
   * Returns the bytes the loaded model holds, counted as a fitted model's are (factors, id
   * maps, seen items and their values, scan index, item popularity), plus the row-major copy of
   * the item factors that lives only while the model is assembled. The values are counted
   * whether or not the snapshot has them (INFO does not say); a load gives back what it did
   * not read.
   */
  public long estimateBytes() {
    long k = numFactors();
    return FactorModel.estimateBytes(numUsers, numItems, numFactors(), hasBiases)
        + idBytes(userIds, numUsers, userKeyBytes) + idBytes(itemIds, numItems, itemKeyBytes)
        + SeenItems.estimateBytes(numUsers, seenEntries, true)
        + ScanIndex.estimateBytes(numUsers, numItems)
        + Popularity.estimateBytes(numItems, true)
        + numItems * k * Float.BYTES;
  }

  private static long idBytes(IdKind kind, long n, long keyBytes) {
    return switch (kind) {
      case POSITIONS -> 0;
      // ids, and the hash table of at most 4 slots (8 + 4 bytes) per id
      case INT64 -> n * 8 + n * 4 * 12;
      // String object and array, map node, boxed position, list slot (as IdIndex counts)
      case STRING -> 2 * keyBytes + n * (40 + 48 + 16 + 8);
    };
  }
}
