package io.mfserve.server.grpc;

import com.google.protobuf.Timestamp;
import io.mfserve.proto.v1.AbsentEntries;
import io.mfserve.proto.v1.ApproximateIndex;
import io.mfserve.proto.v1.Contribution;
import io.mfserve.proto.v1.DenseMatrix;
import io.mfserve.proto.v1.ExplainResponse;
import io.mfserve.proto.v1.FitProgress;
import io.mfserve.proto.v1.FitRequest;
import io.mfserve.proto.v1.FoldInResponse;
import io.mfserve.proto.v1.IdForm;
import io.mfserve.proto.v1.Matrix;
import io.mfserve.proto.v1.ModelInfo;
import io.mfserve.proto.v1.ParameterInfo;
import io.mfserve.proto.v1.ParameterType;
import io.mfserve.proto.v1.PredictRowResponse;
import io.mfserve.proto.v1.ScoredItem;
import io.mfserve.proto.v1.ScoredUser;
import io.mfserve.proto.v1.SolverInfo;
import io.mfserve.proto.v1.SparseMatrix;
import io.mfserve.proto.v1.UnknownIdPolicy;
import io.mfserve.server.model.ann.AnnIndexes;
import io.mfserve.server.model.errors.InvalidRequestException;
import io.mfserve.server.model.fit.FitCommand;
import io.mfserve.server.model.ids.IdIndex;
import io.mfserve.server.model.ids.IdRefs;
import io.mfserve.server.model.matrix.MatrixAccumulator;
import io.mfserve.server.model.matrix.PreparedMatrix;
import io.mfserve.server.model.matrix.SparseChunk;
import io.mfserve.server.model.query.Explanation;
import io.mfserve.server.model.query.Ranked;
import io.mfserve.server.model.query.ScoredRow;
import io.mfserve.server.model.query.Similarity;
import io.mfserve.server.model.query.UserHistory;
import io.mfserve.server.model.store.ModelMetadata;
import io.mfserve.server.model.store.ServedModel;
import io.mfserve.server.model.store.StoredModel;
import io.mfserve.solver.FoldedUser;
import io.mfserve.solver.IterationProgress;
import io.mfserve.solver.ParameterSpec;
import io.mfserve.solver.SolverProvider;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** The one place proto messages become domain values and back. Stateless. */
final class ProtoMapper {
  private ProtoMapper() { }

  // ------------------------------------------------------------- requests → domain

  /** Feeds one proto matrix (a whole inline matrix or one upload chunk) to an accumulator. */
  static void append(MatrixAccumulator acc, Matrix m, String field) {
    switch (m.getKindCase()) {
      case DENSE: {
        DenseMatrix d = m.getDense();
        float[] values = new float[d.getValuesCount()];
        for (int n = 0; n < values.length; n++) {
          values[n] = d.getValues(n);
        }
        acc.appendDense(d.getRows(), d.getCols(), values);
        break;
      }
      case SPARSE: {
        SparseMatrix s = m.getSparse();
        float[] values = new float[s.getValuesCount()];
        for (int n = 0; n < values.length; n++) {
          values[n] = s.getValues(n);
        }
        // Read by index: the List<Long> views box every id.
        long[] rowIds = new long[s.getRowIdsCount()];
        for (int n = 0; n < rowIds.length; n++) {
          rowIds[n] = s.getRowIds(n);
        }
        long[] colIds = new long[s.getColIdsCount()];
        for (int n = 0; n < colIds.length; n++) {
          colIds[n] = s.getColIds(n);
        }
        acc.appendSparse(new SparseChunk(
            rowIds.length > 0 ? rowIds : null,
            s.getRowKeysCount() > 0 ? s.getRowKeysList().toArray(new String[0]) : null,
            colIds.length > 0 ? colIds : null,
            s.getColKeysCount() > 0 ? s.getColKeysList().toArray(new String[0]) : null,
            values));
        break;
      }
      default:
        throw new InvalidRequestException(field, "is not set; give dense or sparse");
    }
  }

  private static long[] longs(List<Long> list) {
    long[] out = new long[list.size()];
    for (int n = 0; n < out.length; n++) {
      out[n] = list.get(n);
    }
    return out;
  }

  /**
   * Turns a FitRequest into a command. The typed parameter fields join {@code params} under
   * their common names; setting one both ways with different values is refused.
   *
   * @param inline the request's inline matrix, prepared, or null when it names an upload
   */
  static FitCommand toFitCommand(FitRequest req, PreparedMatrix inline) {
    Map<String, String> params = new HashMap<>(req.getParamsMap());
    Set<String> typed = new HashSet<>();
    if (req.hasMaxIterations()) {
      putTyped(params, typed, ParameterSpec.MAX_ITERATIONS,
          Integer.toString(req.getMaxIterations()));
    }
    if (req.hasRegularization()) {
      putTyped(params, typed, ParameterSpec.REGULARIZATION,
          Double.toString(req.getRegularization()));
    }
    if (req.hasLearningRate()) {
      putTyped(params, typed, ParameterSpec.LEARNING_RATE, Double.toString(req.getLearningRate()));
    }
    return new FitCommand(req.getSolver(), req.hasNumFactors() ? req.getNumFactors() : null,
        inline, req.getInputCase() == FitRequest.InputCase.MATRIX_ID ? req.getMatrixId() : null,
        req.getModelId(), params, typed, req.hasSeed() ? req.getSeed() : null,
        toDomain(req.getAbsentEntries(), req.getAbsentEntriesValue()),
        req.hasValidationFraction() ? req.getValidationFraction() : 0, fingerprint(req, inline),
        req.getWarmStartModelId(), req.hasTune() ? toDomain(req.getTune()) : null);
  }

  /** A TuneSpec with its zeros read as the defaults; checked later against the solver. */
  static io.mfserve.server.model.tune.TuneSpec toDomain(io.mfserve.proto.v1.TuneSpec t) {
    List<io.mfserve.server.model.tune.TuneRange> ranges = new java.util.ArrayList<>();
    for (io.mfserve.proto.v1.TuneRange r : t.getRangesList()) {
      ranges.add(new io.mfserve.server.model.tune.TuneRange(r.getName(), r.getMin(), r.getMax(),
          r.getLogScale(), r.getValuesList()));
    }
    io.mfserve.server.model.tune.TuneMetric metric = switch (t.getMetric()) {
      case TUNE_METRIC_RMSE -> io.mfserve.server.model.tune.TuneMetric.RMSE;
      case TUNE_METRIC_NDCG -> io.mfserve.server.model.tune.TuneMetric.NDCG;
      case TUNE_METRIC_UNSPECIFIED -> null;
      default -> throw new InvalidRequestException("tune.metric", "is "
          + t.getMetricValue() + ", which this server does not know");
    };
    return new io.mfserve.server.model.tune.TuneSpec(ranges, metric,
        t.getK() == 0 ? io.mfserve.server.model.tune.TuneSpec.DEFAULT_K : t.getK(),
        t.getMaxFits() == 0 ? io.mfserve.server.model.tune.TuneSpec.DEFAULT_MAX_FITS
            : t.getMaxFits(),
        t.getMaxSeconds(),
        t.getValidationFraction() == 0
            ? io.mfserve.server.model.tune.TuneSpec.DEFAULT_VALIDATION_FRACTION
            : t.getValidationFraction(),
        t.getReductionFactor() == 0 ? io.mfserve.server.model.tune.TuneSpec.DEFAULT_ETA
            : t.getReductionFactor(),
        switch (t.getMethod()) {
          case TUNE_METHOD_HYPERBAND -> io.mfserve.server.model.tune.TuneMethod.HYPERBAND;
          case TUNE_METHOD_SUCCESSIVE_HALVING ->
              io.mfserve.server.model.tune.TuneMethod.SUCCESSIVE_HALVING;
          case TUNE_METHOD_UNSPECIFIED -> null;
          default -> throw new InvalidRequestException("tune.method", "is "
              + t.getMethodValue() + ", which this server does not know");
        },
        t.getParallelTrials());
  }

  /** A finished trial, for FitWithProgress and ModelInfo. */
  static io.mfserve.proto.v1.TuneTrial toProto(io.mfserve.server.model.tune.TuneTrial t) {
    io.mfserve.proto.v1.TuneTrial.Builder b = io.mfserve.proto.v1.TuneTrial.newBuilder()
        .setNumber(t.number()).putAllSetting(t.setting()).setBracket(t.bracket())
        .setRung(t.rung())
        .setIterations(t.iterations()).setMetric(t.metric()).setSeconds(t.seconds())
        .setBest(t.best());
    if (t.error() != null) {
      b.setError(t.error());
    }
    return b.build();
  }

  /** Like {@link #toFitCommand}, but releases {@code inline} if the request is refused. */
  static FitCommand toFitCommandOrRelease(FitRequest req, PreparedMatrix inline) {
    try {
      return toFitCommand(req, inline);
    } catch (RuntimeException e) {
      if (inline != null) {
        inline.release();
      }
      throw e;
    }
  }

  private static void putTyped(Map<String, String> params, Set<String> typed, String name,
      String value) {
    String given = params.get(name);
    if (given != null && !given.trim().equals(value)) {
      throw new InvalidRequestException("params." + name, "is '" + given + "' but the "
          + name + " field is " + value + "; set it one way");
    }
    params.put(name, value);
    typed.add(name);
  }

  private static io.mfserve.solver.AbsentEntries toDomain(AbsentEntries a, int raw) {
    switch (a) {
      case ABSENT_ENTRIES_UNSPECIFIED:
        return null;
      case ABSENT_ENTRIES_UNKNOWN:
        return io.mfserve.solver.AbsentEntries.UNKNOWN;
      case ABSENT_ENTRIES_ZERO:
        return io.mfserve.solver.AbsentEntries.ZERO;
      case ABSENT_ENTRIES_IMPLICIT:
        return io.mfserve.solver.AbsentEntries.IMPLICIT;
      default:
        throw new InvalidRequestException("absent_entries", "is " + raw
            + ", not a known AbsentEntries value");
    }
  }

  /** Maps the policy enum; an unknown number is refused. */
  static io.mfserve.server.model.ids.UnknownIdPolicy toDomain(UnknownIdPolicy p, int raw) {
    switch (p) {
      case UNKNOWN_ID_POLICY_UNSPECIFIED:
      case UNKNOWN_ID_POLICY_ERROR:
        return io.mfserve.server.model.ids.UnknownIdPolicy.ERROR;
      case UNKNOWN_ID_POLICY_GLOBAL_MEAN:
        return io.mfserve.server.model.ids.UnknownIdPolicy.GLOBAL_MEAN;
      case UNKNOWN_ID_POLICY_NAN:
        return io.mfserve.server.model.ids.UnknownIdPolicy.NAN;
      case UNKNOWN_ID_POLICY_BASELINE:
        return io.mfserve.server.model.ids.UnknownIdPolicy.BASELINE;
      default:
        throw new InvalidRequestException("unknown_ids", "is " + raw
            + ", not a known UnknownIdPolicy value");
    }
  }

  /** A new user's entries; {@code field} is the request field holding them. */
  static UserHistory toDomain(io.mfserve.proto.v1.UserHistory h, String field) {
    float[] values = new float[h.getValuesCount()];
    for (int n = 0; n < values.length; n++) {
      values[n] = h.getValues(n);
    }
    return new UserHistory(refs(h.getItemIdsList(), h.getItemKeysList(), field + ".item_ids",
        field + ".item_keys"), values, field + ".values");
  }

  /** Maps the unknown-user fallback; unset means popular, an unknown number is refused. */
  static io.mfserve.server.model.query.UnknownUserFallback toDomain(
      io.mfserve.proto.v1.UnknownUserFallback f, int raw) {
    switch (f) {
      case UNKNOWN_USER_FALLBACK_UNSPECIFIED:
      case UNKNOWN_USER_FALLBACK_POPULAR:
        return io.mfserve.server.model.query.UnknownUserFallback.POPULAR;
      case UNKNOWN_USER_FALLBACK_TOP_RATED:
        return io.mfserve.server.model.query.UnknownUserFallback.TOP_RATED;
      case UNKNOWN_USER_FALLBACK_ERROR:
        return io.mfserve.server.model.query.UnknownUserFallback.ERROR;
      default:
        throw new InvalidRequestException("unknown_user", "is " + raw
            + ", not a known UnknownUserFallback value");
    }
  }

  /** Maps the similarity enum; unset means cosine, an unknown number is refused. */
  static Similarity toDomain(io.mfserve.proto.v1.Similarity s, int raw) {
    switch (s) {
      case SIMILARITY_UNSPECIFIED:
      case SIMILARITY_COSINE:
        return Similarity.COSINE;
      case SIMILARITY_DOT:
        return Similarity.DOT;
      default:
        throw new InvalidRequestException("similarity", "is " + raw
            + ", not a known Similarity value");
    }
  }

  /** One user named by a request's scalar id or key field, or null when neither is set. */
  static IdRefs user(boolean hasId, long id, boolean hasKey, String key) {
    return one(hasId, id, hasKey, key, "user_id", "user_key");
  }

  /** One item named by a request's scalar id or key field, or null when neither is set. */
  static IdRefs item(boolean hasId, long id, boolean hasKey, String key) {
    return one(hasId, id, hasKey, key, "item_id", "item_key");
  }

  private static IdRefs one(boolean hasId, long id, boolean hasKey, String key, String idField,
      String keyField) {
    if (hasId) {
      return new IdRefs(new long[] {id}, new String[0], idField, keyField);
    }
    if (hasKey) {
      return new IdRefs(new long[0], new String[] {key}, idField, keyField);
    }
    return null;
  }

  /** Ids of one side of a request, in whichever form it used. */
  static IdRefs refs(List<Long> ids, List<String> keys, String idsField, String keysField) {
    if (!ids.isEmpty() && !keys.isEmpty()) {
      throw new InvalidRequestException(keysField, "is set together with " + idsField
          + "; use the model's one form");
    }
    return new IdRefs(longs(ids), keys.toArray(new String[0]), idsField, keysField);
  }

  /**
   * Fingerprints a fit request, so an identical retry is recognised: SHA-256 of its
   * deterministic serialisation, with an inline matrix replaced by that matrix's own data
   * fingerprint. The data fingerprint is kept with the model anyway, so the matrix's entries
   * are hashed once, not serialised again for a second hash.
   *
   * @param inline the request's inline matrix, prepared, or null
   */
  static String fingerprint(FitRequest req, PreparedMatrix inline) {
    if (inline == null) {
      return fingerprint(req);
    }
    // The id forms too: the data fingerprint hashes ids and keys as bytes, not their form.
    return fingerprint(req.toBuilder().clearMatrix().setMatrixId("inline:"
        + inline.rowIndex().form() + ":" + inline.colIndex().form() + ":"
        + inline.fingerprint()).build());
  }

  /** SHA-256 (hex) of a request's deterministic serialisation. */
  static String fingerprint(FitRequest req) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      // Deterministic serialisation orders map entries, so equal requests hash equally.
      com.google.protobuf.CodedOutputStream out = com.google.protobuf.CodedOutputStream
          .newInstance(new java.security.DigestOutputStream(
              java.io.OutputStream.nullOutputStream(), sha));
      out.useDeterministicSerialization();
      req.writeTo(out);
      out.flush();
      return HexFormat.of().formatHex(sha.digest());
    } catch (NoSuchAlgorithmException | java.io.IOException e) {
      throw new IllegalStateException(e);
    }
  }

  // ------------------------------------------------------------- domain → responses

  static ModelInfo toProto(ServedModel m) {
    return toProto(m, List.of());
  }

  /** Describes a resident model and the aliases pointing at it. */
  static ModelInfo toProto(ServedModel m, List<String> aliases) {
    ModelInfo.Builder b = describe(m.metadata(), m.users().size(), m.items().size(),
        m.factors().hasBiases(), toProto(m.users()), toProto(m.items()), m.factors().history(),
        aliases).setMemoryBytes(m.memoryBytes()).setResident(true);
    for (AnnIndexes.Status s : m.ann().statuses()) {
      b.addApproximateIndexes(ApproximateIndex.newBuilder()
          .setTarget(s.target().label())
          .setState(s.state().name().toLowerCase(java.util.Locale.ROOT))
          .setDetail(s.detail())
          .setMetric(s.metric().label())
          .setMaxConnections(s.maxConn())
          .setBeamWidth(s.beamWidth())
          .setEfSearch(s.efSearch())
          .setRows(s.rows())
          .setMemoryBytes(s.memoryBytes())
          .setBuildSeconds(s.buildSeconds())
          .setSampledRecall(s.sampledRecall()));
    }
    return b.build();
  }

  /** Describes a model in the repository that this replica has not loaded. */
  static ModelInfo toProto(StoredModel m, List<String> aliases) {
    return describe(m.metadata(), m.numUsers(), m.numItems(), m.hasBiases(),
        toProto(m.userForm()), toProto(m.itemForm()), m.history(), aliases)
        .setResident(false).build();
  }

  private static IdForm toProto(io.mfserve.server.model.ids.IdForm form) {
    return form == io.mfserve.server.model.ids.IdForm.INT64 ? IdForm.ID_FORM_INT64
        : IdForm.ID_FORM_STRING;
  }

  private static ModelInfo.Builder describe(ModelMetadata meta, int users, int items,
      boolean biases, IdForm userForm, IdForm itemForm, List<IterationProgress> history,
      List<String> aliases) {
    ModelInfo.Builder b = ModelInfo.newBuilder()
        .setModelId(meta.modelId())
        .setSolver(meta.solver())
        .setNumFactors(meta.numFactors())
        .setNumUsers(users)
        .setNumItems(items)
        .putAllParams(meta.params())
        .setSeed(meta.seed())
        .setIterations(history.size())
        .setTrainingRmse(meta.trainingRmse())
        .setFitSeconds(meta.fitSeconds())
        .setCreateTime(Timestamp.newBuilder().setSeconds(meta.createTime().getEpochSecond())
            .setNanos(meta.createTime().getNano()))
        .setAbsentEntries(toProto(meta.absentEntries()))
        .setUserIdForm(userForm)
        .setItemIdForm(itemForm)
        .setNumEntries(meta.numEntries())
        .setHasBiases(biases)
        .setNumValidationEntries(meta.numValidationEntries())
        .setMfserveVersion(meta.mfserveVersion())
        .setDataFingerprint(meta.dataFingerprint())
        .setWarmStartModelId(meta.warmStartModelId())
        .addAllAliases(aliases);
    if (meta.tune() != null) {
      b.setTuneMetric(meta.tune().metric() == io.mfserve.server.model.tune.TuneMetric.RMSE
          ? io.mfserve.proto.v1.TuneMetric.TUNE_METRIC_RMSE
          : io.mfserve.proto.v1.TuneMetric.TUNE_METRIC_NDCG);
      meta.tune().trials().forEach(t -> b.addTuneTrials(toProto(t)));
    }
    for (IterationProgress p : history) {
      b.addTrainingLoss(p.loss());
      if (p.hasValidation()) {
        b.addValidationRmse(p.validationRmse());
      }
    }
    return b;
  }

  /** Maps what absent entries mean; UNSPECIFIED is null. */
  static io.mfserve.solver.AbsentEntries toDomainAbsent(AbsentEntries a, int raw) {
    return toDomain(a, raw);
  }

  static FitProgress toProgress(String modelId, int maxIterations, IterationProgress p) {
    double elapsed = p.elapsedNanos() / 1e9;
    double eta = maxIterations > p.iteration()
        ? elapsed / p.iteration() * (maxIterations - p.iteration()) : 0;
    FitProgress.Builder b = FitProgress.newBuilder()
        .setModelId(modelId)
        .setIteration(p.iteration())
        .setMaxIterations(maxIterations)
        .setLoss(p.loss())
        .setElapsedSeconds(elapsed)
        .setEtaSeconds(eta);
    if (p.hasValidation()) {
      b.setValidationRmse(p.validationRmse());
    }
    return b.build();
  }

  static AbsentEntries toProto(io.mfserve.solver.AbsentEntries a) {
    return AbsentEntries.valueOf("ABSENT_ENTRIES_" + a.name());
  }

  static IdForm toProto(IdIndex index) {
    return index.form() == io.mfserve.server.model.ids.IdForm.INT64 ? IdForm.ID_FORM_INT64
        : IdForm.ID_FORM_STRING;
  }

  /** An explanation, its history items named in the model's item form. */
  static ExplainResponse toProto(Explanation e) {
    boolean least = e.method() == Explanation.Method.LEAST_SQUARES;
    ExplainResponse.Builder b = ExplainResponse.newBuilder().setScore(e.score())
        .setMethod(e.method().label()).setBase(least ? e.base() : 0)
        .setExplainedScore(least ? e.explainedScore() : 0).setHistoryEntries(e.entries());
    boolean ids = e.items().form() == io.mfserve.server.model.ids.IdForm.INT64;
    for (int n = 0; n < e.positions().length; n++) {
      Contribution.Builder c = Contribution.newBuilder().setValue(e.values()[n])
          .setContribution(e.contributions()[n]);
      if (ids) {
        c.setItemId(e.items().idAt(e.positions()[n]));
      } else {
        c.setItemKey(e.items().keyAt(e.positions()[n]));
      }
      b.addContributions(c);
    }
    return b.build();
  }

  /** The items of a top-k result, best first, named in the model's item form. */
  static List<ScoredItem> scoredItems(Ranked r) {
    IdIndex items = r.ids();
    boolean ids = items.form() == io.mfserve.server.model.ids.IdForm.INT64;
    List<ScoredItem> out = new java.util.ArrayList<>(r.size());
    for (int n = 0; n < r.size(); n++) {
      ScoredItem.Builder b = ScoredItem.newBuilder().setScore(r.scores()[n]);
      if (ids) {
        b.setItemId(items.idAt(r.positions()[n]));
      } else {
        b.setItemKey(items.keyAt(r.positions()[n]));
      }
      out.add(b.build());
    }
    return out;
  }

  /** The users of a top-k result, best first, named in the model's user form. */
  static List<ScoredUser> scoredUsers(Ranked r) {
    IdIndex users = r.ids();
    boolean ids = users.form() == io.mfserve.server.model.ids.IdForm.INT64;
    List<ScoredUser> out = new java.util.ArrayList<>(r.size());
    for (int n = 0; n < r.size(); n++) {
      ScoredUser.Builder b = ScoredUser.newBuilder().setScore(r.scores()[n]);
      if (ids) {
        b.setUserId(users.idAt(r.positions()[n]));
      } else {
        b.setUserKey(users.keyAt(r.positions()[n]));
      }
      out.add(b.build());
    }
    return out;
  }

  /** A full row of predictions with each item's id or key. */
  static PredictRowResponse toProto(ScoredRow row) {
    PredictRowResponse.Builder b = PredictRowResponse.newBuilder();
    IdIndex items = row.items();
    boolean ids = items.form() == io.mfserve.server.model.ids.IdForm.INT64;
    float[] scores = row.scores();
    for (int i = 0; i < scores.length; i++) {
      b.addScores(scores[i]);
      if (ids) {
        b.addItemIds(items.idAt(i));
      } else {
        b.addItemKeys(items.keyAt(i));
      }
    }
    return b.build();
  }

  /** A folded-in user's factors and bias. */
  static FoldInResponse toProto(FoldedUser u) {
    FoldInResponse.Builder b = FoldInResponse.newBuilder().setBias(u.bias());
    for (float f : u.factors()) {
      b.addFactors(f);
    }
    return b.build();
  }

  static SolverInfo toProto(SolverProvider p) {
    SolverInfo.Builder b = SolverInfo.newBuilder()
        .setName(p.name())
        .setDescription(p.description())
        .setDefaultAbsentEntries(toProto(p.defaultAbsentEntries()));
    for (io.mfserve.solver.AbsentEntries a : io.mfserve.solver.AbsentEntries.values()) {
      if (p.supportedAbsentEntries().contains(a)) {
        b.addSupportedAbsentEntries(toProto(a));
      }
    }
    for (ParameterSpec s : p.parameters()) {
      b.addParameters(ParameterInfo.newBuilder()
          .setName(s.name())
          .setType(ParameterType.valueOf("PARAMETER_TYPE_" + s.type().name()))
          .setDefaultValue(s.defaultText())
          .setValidRange(s.rangeText())
          .addAllAllowedValues(s.choices())
          .setDoc(s.doc()));
    }
    return b.build();
  }
}
