package io.mfserve.server.repository;

import io.mfserve.server.model.fit.SolverRegistry;
import io.mfserve.server.model.store.ModelRepository;
import io.mfserve.server.model.store.ServedModel;
import io.mfserve.server.model.store.StoredModel;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Map;

/**
 * The repository when no {@code --model-store} is given: nothing is durable, models live only
 * in the process (as before the repository existed), and aliases are a table in memory with
 * the same compare-and-set as a stored one. Export and import still speak the snapshot format.
 */
public final class InMemoryRepository implements ModelRepository {
  private final SnapshotFormat.ConfigResolver configs;
  private Map<String, String> aliases = Map.of();
  private long version;

  /** Creates one; {@code solvers} rebuild imported models' configurations. */
  public InMemoryRepository(SolverRegistry solvers) {
    this.configs = SnapshotRepository.configResolver(solvers);
  }

  @Override
  public boolean durable() {
    return false;
  }

  @Override
  public String describe() {
    return "memory (no --model-store: models are lost when the process ends)";
  }

  @Override
  public void save(ServedModel model) {
    // Nothing outlives the process.
  }

  @Override
  public boolean saveNew(ServedModel model) {
    return true;
  }

  @Override
  public Map<String, String> list() {
    return Map.of();
  }

  @Override
  public StoredModel describe(String modelId) {
    return null;
  }

  @Override
  public ServedModel load(String modelId, Reserver reserver) {
    return null;
  }

  @Override
  public void delete(String modelId) {
    // Nothing stored.
  }

  @Override
  public synchronized AliasTable readAliases() {
    return new AliasTable(aliases, Long.toString(version));
  }

  @Override
  public synchronized boolean writeAliases(Map<String, String> next, String expectedVersion) {
    if (!Long.toString(version).equals(expectedVersion)) {
      return false;
    }
    aliases = Map.copyOf(next);
    version++;
    return true;
  }

  @Override
  public void export(ServedModel model, OutputStream out) throws IOException {
    SnapshotFormat.write(model, out);
  }

  @Override
  public ServedModel read(InputStream in, String modelId, Reserver reserver) throws IOException {
    return SnapshotFormat.read(in, modelId, reserver, configs);
  }
}
