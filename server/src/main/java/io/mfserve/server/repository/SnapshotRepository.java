package io.mfserve.server.repository;

import io.mfserve.server.model.fit.SolverRegistry;
import io.mfserve.server.model.ids.IdForm;
import io.mfserve.server.model.store.ModelRepository;
import io.mfserve.server.model.store.ServedModel;
import io.mfserve.server.model.store.StoredModel;
import io.mfserve.solver.Parameters;
import io.mfserve.solver.SolverConfig;
import io.mfserve.solver.SolverProvider;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.logging.Logger;

/**
 * The model repository over an {@link ObjectStore}: one snapshot per model under
 * {@code models/NAME.mfsnap} ({@link StorageNames}), and every alias in one small object,
 * {@code aliases.tsv} ("alias TAB model-id" lines), replaced by compare-and-set so that a
 * switch is atomic for every replica that reads it.
 */
public final class SnapshotRepository implements ModelRepository {
  private static final Logger LOG = Logger.getLogger(SnapshotRepository.class.getName());
  static final String MODELS = "models/";
  static final String SUFFIX = ".mfsnap";
  static final String ALIASES = "aliases.tsv";

  private final ObjectStore store;
  private final SnapshotFormat.ConfigResolver configs;

  /** Lays the repository out on {@code store}; {@code solvers} rebuild loaded models' configs. */
  public SnapshotRepository(ObjectStore store, SolverRegistry solvers) {
    this.store = store;
    this.configs = configResolver(solvers);
  }

  /**
   * Rebuilds a model's solver configuration from its snapshot: the stored parameters resolved
   * against the solver's declared ones. A solver that is no longer loaded (a removed plugin)
   * still gives a model that answers every query but FoldIn.
   */
  static SnapshotFormat.ConfigResolver configResolver(SolverRegistry solvers) {
    return info -> {
      Parameters params;
      try {
        SolverProvider p = solvers.get(info.metadata().solver());
        params = Parameters.resolve(p.parameters(), info.configParams());
      } catch (RuntimeException e) {
        LOG.warning(() -> "model '" + info.metadata().modelId() + "': solver '"
            + info.metadata().solver() + "' is not loaded or its parameters changed ("
            + e.getMessage() + "); the model is served without FoldIn");
        params = Parameters.resolve(List.of(), Map.of());
      }
      return new SolverConfig(info.numFactors(), info.metadata().seed(),
          info.metadata().absentEntries(), params);
    };
  }

  static String objectName(String modelId) {
    return MODELS + StorageNames.encode(modelId) + SUFFIX;
  }

  @Override
  public boolean durable() {
    return true;
  }

  @Override
  public String describe() {
    return store.describe();
  }

  @Override
  public void save(ServedModel model) throws IOException {
    store.write(objectName(model.id()), out -> SnapshotFormat.write(model, out));
  }

  @Override
  public boolean saveNew(ServedModel model) throws IOException {
    return store.create(objectName(model.id()), out -> SnapshotFormat.write(model, out));
  }

  @Override
  public Map<String, String> list() throws IOException {
    Map<String, String> out = new TreeMap<>();
    for (ObjectStore.ObjectInfo o : store.list(MODELS)) {
      String file = o.name().substring(MODELS.length());
      if (!file.endsWith(SUFFIX) || file.indexOf('/') >= 0) {
        continue;
      }
      try {
        out.put(StorageNames.decode(file.substring(0, file.length() - SUFFIX.length())),
            o.version());
      } catch (IllegalArgumentException e) {
        LOG.warning(() -> "ignoring " + o.name() + " in " + store.describe()
            + ": not a name this server writes");
      }
    }
    return out;
  }

  @Override
  public StoredModel describe(String modelId) throws IOException {
    try (InputStream in = new BufferedInputStream(store.open(objectName(modelId)), 1 << 16)) {
      SnapshotInfo info = SnapshotFormat.readInfo(in);
      return toStored(info);
    } catch (NoSuchFileException e) {
      return null;
    }
  }

  static StoredModel toStored(SnapshotInfo info) {
    return new StoredModel(info.metadata(), info.numUsers(), info.numItems(), info.hasBiases(),
        info.userIds() == SnapshotInfo.IdKind.STRING ? IdForm.STRING : IdForm.INT64,
        info.itemIds() == SnapshotInfo.IdKind.STRING ? IdForm.STRING : IdForm.INT64,
        info.history(), info.estimateBytes());
  }

  @Override
  public ServedModel load(String modelId, Reserver reserver) throws IOException {
    try (InputStream in = store.open(objectName(modelId))) {
      ServedModel m = SnapshotFormat.read(in, modelId, reserver, configs);
      if (in.read() != -1) {
        m.release();
        throw new SnapshotFormatException("bytes follow the END section");
      }
      return m;
    } catch (NoSuchFileException e) {
      return null;
    }
  }

  @Override
  public void delete(String modelId) throws IOException {
    store.delete(objectName(modelId));
  }

  @Override
  public AliasTable readAliases() throws IOException {
    ObjectStore.Versioned v = store.readSmall(ALIASES);
    if (v == null) {
      return new AliasTable(Map.of(), null);
    }
    return new AliasTable(parseAliases(v.bytes()), v.version());
  }

  @Override
  public boolean writeAliases(Map<String, String> aliases, String expectedVersion)
      throws IOException {
    return store.writeIfVersion(ALIASES, formatAliases(aliases), expectedVersion);
  }

  static Map<String, String> parseAliases(byte[] bytes) throws SnapshotFormatException {
    Map<String, String> out = new TreeMap<>();
    for (String line : new String(bytes, StandardCharsets.UTF_8).split("\n")) {
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      int tab = line.indexOf('\t');
      if (tab <= 0 || tab == line.length() - 1) {
        throw new SnapshotFormatException(ALIASES + ": malformed line '" + line + "'");
      }
      out.put(line.substring(0, tab), line.substring(tab + 1));
    }
    return out;
  }

  static byte[] formatAliases(Map<String, String> aliases) {
    StringBuilder b = new StringBuilder("# mfserve aliases: alias TAB model id\n");
    for (Map.Entry<String, String> e : new TreeMap<>(aliases).entrySet()) {
      b.append(e.getKey()).append('\t').append(e.getValue()).append('\n');
    }
    return b.toString().getBytes(StandardCharsets.UTF_8);
  }

  @Override
  public void export(ServedModel model, OutputStream out) throws IOException {
    SnapshotFormat.write(model, out);
  }

  @Override
  public ServedModel read(InputStream in, String modelId, Reserver reserver) throws IOException {
    return SnapshotFormat.read(in, modelId, reserver, configs);
  }

  /** Closes the object store. */
  public void close() throws IOException {
    store.close();
  }
}
