package io.mfserve.server.model.query;

import io.mfserve.server.model.errors.AlreadyExistsException;
import io.mfserve.server.model.errors.InvalidRequestException;
import io.mfserve.server.model.fit.FitOrchestrator;
import io.mfserve.server.model.fit.SolverRegistry;
import io.mfserve.server.model.ids.IdIndex;
import io.mfserve.server.model.ids.IdRefs;
import io.mfserve.server.model.ids.IdResolver;
import io.mfserve.server.model.ids.ModelIds;
import io.mfserve.server.model.ids.UnknownIdPolicy;
import io.mfserve.server.model.store.FactorImport;
import io.mfserve.server.model.store.MemoryBudget;
import io.mfserve.server.model.store.ModelMetadata;
import io.mfserve.server.model.store.ModelStore;
import io.mfserve.server.model.store.Popularity;
import io.mfserve.server.model.store.ScanIndex;
import io.mfserve.server.model.store.ServedModel;
import io.mfserve.server.model.store.StoredModel;
import io.mfserve.solver.AbsentEntries;
import io.mfserve.solver.FactorModel;
import io.mfserve.solver.InvalidParameterException;
import io.mfserve.solver.ParameterSpec;
import io.mfserve.solver.Parameters;
import io.mfserve.solver.SolverConfig;
import io.mfserve.solver.SolverProvider;
import jakarta.inject.Inject;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Clock;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.logging.Logger;

/**
 * The trained models as clients read them: lookup, listing, deletion, import and export of
 * snapshots and factors, and predictions. Training is {@link FitOrchestrator}'s job. Thread-safe;
 * holds no locks on the read path.
 */
public final class ModelService {
  private static final Logger LOG = Logger.getLogger(ModelService.class.getName());

  private final SolverRegistry solvers;
  private final ModelStore models;
  private final Clock clock;
  private final String version;

  /** Reads the models in {@code models}; {@code solvers} give imported factors their fold-in. */
  @Inject
  public ModelService(SolverRegistry solvers, ModelStore models, Clock clock) {
    this.solvers = solvers;
    this.models = models;
    this.clock = clock;
    String v = ModelService.class.getPackage().getImplementationVersion();
    this.version = v == null ? "dev" : v;
  }

  // ---------------------------------------------------------------- models

  /** Returns a trained model. */
  public ServedModel getModel(String modelId) {
    return models.get(requireNonEmpty(modelId, "model_id"));
  }

  /** Returns every model resident in memory, by id. */
  public List<ServedModel> listModels() {
    return models.resident();
  }

  /** Returns the models in the repository that this replica has not loaded, by id. */
  public List<StoredModel> listStoredModels() {
    return models.storedOnly();
  }

  /** Returns the repository's damaged snapshots: model id → what is wrong. */
  public Map<String, String> damagedModels() {
    return models.damaged();
  }

  /** Returns the aliases pointing at {@code modelId}, sorted. */
  public List<String> aliasesOf(String modelId) {
    return models.aliasesOf(modelId);
  }

  /** Returns the model store (aliases, import, export). */
  public ModelStore store() {
    return models;
  }

  /** Deletes a model; returns the bytes freed. */
  public long deleteModel(String modelId) {
    return models.delete(requireNonEmpty(modelId, "model_id"));
  }

  // ---------------------------------------------------------------- import and export

  /**
   * Starts collecting plain factors of rank {@code k} (ImportFactors); rows reserve their
   * memory as they arrive.
   */
  public FactorImport startImport(int k, boolean biases) {
    return new FactorImport(k, biases, models.reserve(0, "importing factors", null));
  }

  /**
   * Serves the factors {@code imp} collected as model {@code modelId} (empty: a new id),
   * after writing its snapshot to the repository.
   *
   * @param absent what absent entries meant in training (null: unknown, as ratings)
   * @param foldInSolver the solver whose fold-in new users get (empty: als)
   * @param regularization the fold-in's λ, or null for 0.1
   * @param provenance free-form parameters shown in ModelInfo
   */
  public ServedModel finishImport(FactorImport imp, String modelId, double globalMean,
      AbsentEntries absent, String foldInSolver, Double regularization,
      Map<String, String> provenance) {
    String solverName = foldInSolver == null || foldInSolver.isEmpty()
        ? FitOrchestrator.DEFAULT_SOLVER : foldInSolver;
    SolverProvider provider = solvers.get(solverName);
    AbsentEntries a = absent == null ? AbsentEntries.UNKNOWN : absent;
    Map<String, String> given = new HashMap<>();
    if (regularization != null || provider.parameters().stream()
        .anyMatch(s -> s.name().equals(ParameterSpec.REGULARIZATION))) {
      given.put(ParameterSpec.REGULARIZATION, Double.toString(regularization == null ? 0.1
          : regularization));
    }
    Parameters params;
    try {
      params = Parameters.resolve(provider.parameters(), given);
    } catch (InvalidParameterException e) {
      throw new InvalidRequestException("header.regularization", e.getMessage());
    }
    FactorImport.Parts parts = imp.finish(globalMean);
    String id = claimNewId(modelId);
    MemoryBudget.Reservation handed = null;
    try {
      Map<String, String> shown = new HashMap<>(provenance);
      shown.put("source", "import");
      shown.put("num_factors", Integer.toString(parts.factors().numFactors()));
      shown.put("absent_entries", a.name().toLowerCase(java.util.Locale.ROOT));
      shown.putAll(params.asText());
      ModelMetadata meta = new ModelMetadata(id, provider.name(), parts.factors().numFactors(),
          shown, 0, a, parts.seen().entries(), 0, globalMean, 0, 0, clock.instant(),
          version, "", "", "");
      ScanIndex scan = ScanIndex.of(parts.factors());
      Popularity popularity = Popularity.of(parts.seen(), parts.factors().numItems());
      MemoryBudget.Reservation r = imp.handOver();
      handed = r;
      long exact = parts.factors().memoryBytes() + parts.seen().memoryBytes()
          + parts.users().memoryBytes() + parts.items().memoryBytes() + scan.memoryBytes()
          + popularity.memoryBytes();
      if (exact > r.bytes()) {
        r.grow(exact - r.bytes(), "importing model '" + id + "'");
      } else {
        r.shrink(r.bytes() - exact);
      }
      ServedModel m = new ServedModel(parts.factors(), parts.users(), parts.items(),
          parts.seen(), scan, popularity, meta,
          new SolverConfig(parts.factors().numFactors(), 0, a, params), r);
      ServedModel served = models.complete(m);
      LOG.info(() -> String.format(java.util.Locale.ROOT, "model %s: imported factors, %d × %d,"
          + " k=%d", id, m.factors().numUsers(), m.factors().numItems(),
          m.factors().numFactors()));
      return served;
    } catch (RuntimeException e) {
      if (handed != null) {
        handed.close();
      } else {
        imp.close();
      }
      models.abandon(id, e);
      throw e;
    }
  }

  /**
   * Reads a snapshot (ImportModel), checks it and serves it as {@code modelId} (empty: the
   * snapshot's own id), after writing it to the repository.
   */
  public ServedModel importSnapshot(InputStream in, String modelId) {
    ServedModel m;
    try {
      m = models.repository().read(in, modelId.isEmpty() ? null : modelId,
          (bytes, what) -> models.reserve(bytes, what, null));
    } catch (IOException e) {
      throw new InvalidRequestException("data", "is not a valid snapshot: " + e.getMessage());
    }
    String id = m.id();
    if (!ModelIds.isValid(id)) {
      m.release();
      throw new InvalidRequestException("model_id", "the snapshot's id '"
          + IdResolver.abbreviate(id) + "' is not a valid model id; give model_id");
    }
    try {
      models.claimNew(id);
    } catch (RuntimeException e) {
      m.release();
      throw e;
    }
    try {
      return models.complete(m);
    } catch (RuntimeException e) {
      m.release();
      models.abandon(id, e);
      throw e;
    }
  }

  /** Writes the model a request names as a snapshot to {@code out} (ExportModel). */
  public void exportSnapshot(ServedModel m, OutputStream out) throws IOException {
    models.repository().export(m, out);
  }

  private String claimNewId(String modelId) {
    if (modelId == null || modelId.isEmpty()) {
      while (true) {
        String id = "model-" + UUID.randomUUID().toString().substring(0, 13);
        try {
          models.claimNew(id);
          return id;
        } catch (AlreadyExistsException e) {
          // drawn twice: draw again
        }
      }
    }
    ModelIds.check(modelId, "model_id");
    models.claimNew(modelId);
    return modelId;
  }

  /** Returns every solver, by name. */
  public List<SolverProvider> listSolvers() {
    return solvers.all();
  }

  // ---------------------------------------------------------------- queries

  /**
   * Scores (user, item) pairs.
   *
   * @throws InvalidRequestException for mismatched lengths, the wrong id form, or (with
   *     {@link UnknownIdPolicy#ERROR}) an unknown id
   */
  public float[] predict(String modelId, IdRefs users, IdRefs items, UnknownIdPolicy policy) {
    ServedModel m = getModel(modelId);
    int[] u = resolve(users, m.users(), "user", policy);
    int[] i = resolve(items, m.items(), "item", policy);
    if (u.length != i.length) {
      throw new InvalidRequestException(items.ids().length > 0 ? items.idsField()
          : items.keysField(), "names " + i.length + " items for " + u.length
          + " users; give one item per user");
    }
    FactorModel f = m.factors();
    float[] out = new float[u.length];
    for (int n = 0; n < out.length; n++) {
      if (u[n] < 0 || i[n] < 0) {
        if (policy == UnknownIdPolicy.NAN) {
          out[n] = Float.NaN;
        } else if (policy == UnknownIdPolicy.BASELINE && f.hasBiases()) {
          out[n] = (float) (f.globalMean() + (u[n] >= 0 ? f.userBias(u[n]) : 0)
              + (i[n] >= 0 ? f.itemBias(i[n]) : 0));
        } else {
          out[n] = (float) m.metadata().trainingMean();
        }
      } else {
        out[n] = (float) f.predict(u[n], i[n]);
      }
    }
    return out;
  }

  private static int[] resolve(IdRefs refs, IdIndex index, String side, UnknownIdPolicy policy) {
    return IdResolver.resolve(refs, index, side, refs.size() > 1,
        policy != UnknownIdPolicy.ERROR, "; set unknown_ids to score unknown ids with the"
            + " global mean, the known side's bias or NaN instead");
  }

  private static String requireNonEmpty(String value, String field) {
    if (value == null || value.isEmpty()) {
      throw new InvalidRequestException(field, "is empty");
    }
    return value;
  }
}
