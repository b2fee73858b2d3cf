package io.mfserve.server.model.store;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Map;

/**
 * Where models and aliases outlive the process: the one interface the application layer calls
 * the repository through ({@code io.mfserve.server.repository} implements it, over a directory
 * or an S3-compatible bucket, or in memory only when no {@code --model-store} is given).
 * Implementations are thread-safe; several processes (replicas) may share one repository.
 */
public interface ModelRepository {

  /** Reserves memory for a model being read, evicting others first where the store may. */
  @FunctionalInterface
  interface Reserver {
    /**
     * Reserves {@code bytes} for {@code what}.
     *
     * @throws io.mfserve.server.model.errors.ResourceExhaustedException if they do not fit
     */
    MemoryBudget.Reservation reserve(long bytes, String what);
  }

  /**
   * Every alias with the version of the table it was read from.
   *
   * @param aliases alias → model id
   * @param version the stored table's version tag, or null when none is stored yet
   */
  record AliasTable(Map<String, String> aliases, String version) {
    /** Copies the map. */
    public AliasTable {
      aliases = Map.copyOf(aliases);
    }
  }

  /** Returns whether models survive a restart (false when everything stays in memory). */
  boolean durable();

  /** Returns where the repository is, for logs. */
  String describe();

  /** Writes {@code model}'s snapshot, durably, replacing any of that id. */
  void save(ServedModel model) throws IOException;

  /**
   * Writes {@code model}'s snapshot, durably, only if none of that id exists (decided
   * atomically across replicas): how a new model is stored before its Fit returns.
   *
   * @return false if a snapshot of that id exists; nothing was written
   */
  boolean saveNew(ServedModel model) throws IOException;

  /** Returns every stored model's id with its snapshot's version tag. */
  Map<String, String> list() throws IOException;

  /**
   * Reads what a stored model's snapshot says about it, without its arrays; null if there is
   * no snapshot of that id.
   *
   * @throws DamagedSnapshotException if it is damaged
   */
  StoredModel describe(String modelId) throws IOException;

  /**
   * Reads a stored model whole; null if there is no snapshot of that id.
   *
   * @throws DamagedSnapshotException if it is damaged
   */
  ServedModel load(String modelId, Reserver reserver) throws IOException;

  /** Removes a model's snapshot; removing an absent one is not an error. */
  void delete(String modelId) throws IOException;

  /** Reads the alias table. */
  AliasTable readAliases() throws IOException;

  /**
   * Replaces the alias table if it is still at {@code expectedVersion}.
   *
   * @return false if another writer changed it first (read it again and retry)
   */
  boolean writeAliases(Map<String, String> aliases, String expectedVersion) throws IOException;

  /** Writes {@code model} as a snapshot to {@code out} (ExportModel). */
  void export(ServedModel model, OutputStream out) throws IOException;

  /**
   * Reads a snapshot sent by a client (ImportModel), checking it as a stored one is.
   *
   * @param modelId the id to serve it under; null keeps the snapshot's own
   * @throws DamagedSnapshotException if it is not a valid snapshot
   */
  ServedModel read(InputStream in, String modelId, Reserver reserver) throws IOException;
}
