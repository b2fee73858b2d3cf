package io.mfserve.server.model.fit;

import io.mfserve.server.logging.LogEvent;
import io.mfserve.server.model.errors.AlreadyExistsException;
import io.mfserve.server.model.errors.InvalidRequestException;
import io.mfserve.server.model.errors.NotFoundException;
import io.mfserve.server.model.errors.ResourceExhaustedException;
import io.mfserve.server.model.ids.IdIndex;
import io.mfserve.server.model.ids.IdRefs;
import io.mfserve.server.model.ids.IdResolver;
import io.mfserve.server.model.ids.UnknownIdPolicy;
import io.mfserve.server.model.matrix.MatrixAccumulator;
import io.mfserve.server.model.matrix.MatrixStore;
import io.mfserve.server.model.matrix.PreparedMatrix;
import io.mfserve.server.model.store.FactorImport;
import io.mfserve.server.model.store.Limits;
import io.mfserve.server.model.store.MemoryBudget;
import io.mfserve.server.model.store.ModelMetadata;
import io.mfserve.server.model.store.ModelStore;
import io.mfserve.server.model.store.Popularity;
import io.mfserve.server.model.store.ScanIndex;
import io.mfserve.server.model.store.SeenItems;
import io.mfserve.server.model.store.ServedModel;
import io.mfserve.server.model.store.ServerEvents;
import io.mfserve.server.model.store.StoredModel;
import io.mfserve.server.model.tune.TrialMemory;
import io.mfserve.server.model.tune.TuneChecks;
import io.mfserve.server.model.tune.TuneMetric;
import io.mfserve.server.model.tune.TuneRange;
import io.mfserve.server.model.tune.TuneReport;
import io.mfserve.server.model.tune.TuneSpec;
import io.mfserve.server.model.tune.Tuner;
import io.mfserve.solver.AbsentEntries;
import io.mfserve.solver.ExternalIds;
import io.mfserve.solver.FactorModel;
import io.mfserve.solver.FitCancelledException;
import io.mfserve.solver.FitDivergedException;
import io.mfserve.solver.InvalidParameterException;
import io.mfserve.solver.IterationProgress;
import io.mfserve.solver.ParameterSpec;
import io.mfserve.solver.Parameters;
import io.mfserve.solver.Solver;
import io.mfserve.solver.SolverConfig;
import io.mfserve.solver.SolverProvider;
import io.mfserve.solver.SourcedModel;
import io.mfserve.solver.TrainingMatrix;
import io.mfserve.solver.WarmStart;
import jakarta.inject.Inject;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.function.BooleanSupplier;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.regex.Pattern;

/**
 * The application layer: trains models with the registered solvers under the memory budget,
 * and answers queries against the stored models. Thread-safe; holds no locks on the read path.
 */
public final class ModelService {
  /** The solver used when a request names none. */
  public static final String DEFAULT_SOLVER = "als";
  /** The rank used when a request gives none. */
  public static final int DEFAULT_FACTORS = 10;
  /** The seed used when a request gives none. */
  public static final long DEFAULT_SEED = 42;
  /** The largest rank a fit may ask for. */
  public static final int MAX_FACTORS = 1024;
  /** The number of items Recommend returns when a request gives no k (see ModelQueries). */
  public static final int DEFAULT_K = 10;

  /** Bytes of one held-out validation entry: its row and column (int) and value (float). */
  private static final int HELD_OUT_ENTRY_BYTES = 12;
  /**
   * Room for the randomness of the split: each entry is held out with probability f, so the
   * count is binomial around nnz·f with a standard deviation under √(nnz·f): 20% above the
   * mean is out of reach once the hold-out has a few hundred entries, and below that the bytes
   * are too few to matter.
   */
  private static final double HELD_OUT_SLACK = 1.2;
  private static final Logger LOG = Logger.getLogger(ModelService.class.getName());
  private static final Pattern MODEL_ID = Pattern.compile("[A-Za-z0-9._-]{1,128}");

  private final SolverRegistry solvers;
  private final ModelStore models;
  private final MatrixStore matrices;
  private final MemoryBudget budget;
  private final FitExecutor executor;
  private final Clock clock;
  private final ServerEvents events;
  private final Limits limits;
  private final String version;

  /** Wires the service, with no observer of its events. */
  public ModelService(SolverRegistry solvers, ModelStore models, MatrixStore matrices,
      MemoryBudget budget, FitExecutor executor, Clock clock) {
    this(solvers, models, matrices, budget, executor, clock, ServerEvents.NONE);
  }

  /** Wires the service with the default limits; {@code events} hears how each fit ends. */
  public ModelService(SolverRegistry solvers, ModelStore models, MatrixStore matrices,
      MemoryBudget budget, FitExecutor executor, Clock clock, ServerEvents events) {
    this(solvers, models, matrices, budget, executor, clock, events, Limits.defaults());
  }

  /**
   * Wires the service; {@code events} hears how each fit ends (for metrics), {@code limits}
   * bound the matrices it collects and the rank of a fit.
   */
  @Inject
  public ModelService(SolverRegistry solvers, ModelStore models, MatrixStore matrices,
      MemoryBudget budget, FitExecutor executor, Clock clock, ServerEvents events,
      Limits limits) {
    this.limits = limits;
    this.events = events;
    this.solvers = solvers;
    this.models = models;
    this.matrices = matrices;
    this.budget = budget;
    this.executor = executor;
    this.clock = clock;
    String v = ModelService.class.getPackage().getImplementationVersion();
    this.version = v == null ? "dev" : v;
  }

  // ---------------------------------------------------------------- matrices

  /** Starts collecting a matrix; {@code field} names it in messages. */
  public MatrixAccumulator newMatrix(String field) {
    return new MatrixAccumulator(budget, field, limits);
  }

  /** Keeps a finished upload and returns its id. */
  public String storeMatrix(PreparedMatrix matrix) {
    return matrices.put(matrix);
  }

  /** Returns how long an unused uploaded matrix is kept. */
  public java.time.Duration matrixTtl() {
    return matrices.ttl();
  }

  /** Frees an uploaded matrix; returns the bytes freed. */
  public long deleteMatrix(String matrixId) {
    requireNonEmpty(matrixId, "matrix_id");
    return matrices.delete(matrixId);
  }

  // ---------------------------------------------------------------- fitting

  /**
   * Checks a fit request, claims its model id and starts it on the fit executor.
   *
   * <p>Everything a client can get wrong is checked before this returns, and the memory the fit
   * needs is reserved before anything large is allocated.
   *
   * @param cancelled true once the caller has given up; the solver then stops
   * @return the model when trained; fails with {@link FitCancelledException},
   *     {@link io.mfserve.solver.FitDivergedException} or a domain exception
   * @throws InvalidRequestException, NotFoundException, AlreadyExistsException,
   *     ResourceExhaustedException for requests that cannot start
   */
  public CompletableFuture<ServedModel> fit(FitCommand cmd, BooleanSupplier cancelled) {
    return fit(cmd, cancelled, null);
  }

  /**
   * Like {@link #fit(FitCommand, BooleanSupplier)}, and calls {@code listener} after every
   * completed iteration (on the fit's thread; it must be quick and must not throw).
   *
   * @param listener gets the model id and each iteration's progress; null for none
   */
  public CompletableFuture<ServedModel> fit(FitCommand cmd, BooleanSupplier cancelled,
      FitListener listener) {
    boolean handedOver = false;
    try {
      CompletableFuture<ServedModel> result = startFit(cmd, cancelled, listener);
      handedOver = true;
      return result;
    } catch (RuntimeException e) {
      ServerEvents.FitResult r = refusal(e);
      events.fitFinished(null, r, 0);
      LogEvent.of("fit").put("model", cmd.modelId().isEmpty() ? null
              : IdResolver.abbreviate(cmd.modelId()))
          .put("solver", IdResolver.abbreviate(cmd.solver().isEmpty() ? DEFAULT_SOLVER
              : cmd.solver()))
          .put("result", r.name().toLowerCase(Locale.ROOT)).put("seconds", 0.0)
          .put("error", e.getMessage()).log(LOG);
      throw e;
    } finally {
      if (!handedOver && cmd.inlineMatrix() != null) {
        cmd.inlineMatrix().release();
      }
    }
  }

  private CompletableFuture<ServedModel> startFit(FitCommand cmd, BooleanSupplier cancelled,
      FitListener listener) {
    String solverName = cmd.solver().isEmpty() ? DEFAULT_SOLVER : cmd.solver();
    SolverProvider provider = solvers.get(solverName);
    if (!cmd.modelId().isEmpty() && !MODEL_ID.matcher(cmd.modelId()).matches()) {
      throw new InvalidRequestException("model_id", "is '" + IdResolver.abbreviate(cmd.modelId())
          + "'; use 1 to 128 of A-Z a-z 0-9 . _ -, or leave it empty");
    }
    Parameters params = resolveParameters(provider, cmd.params(), cmd.typedFields());
    double vf = cmd.validationFraction();
    if (!(vf >= 0 && vf < 1)) {
      throw new InvalidRequestException("validation_fraction", "is " + vf
          + "; it must be in [0, 1)");
    }
    if (provider.readsOwnInput(params)) {
      return startSourceFit(cmd, cancelled, listener, provider, params);
    }
    if (cmd.inlineMatrix() == null && (cmd.matrixId() == null || cmd.matrixId().isEmpty())) {
      throw new InvalidRequestException("matrix", "is not set; give matrix, or matrix_id from"
          + " UploadMatrix");
    }
    PreparedMatrix matrix = cmd.inlineMatrix() != null ? cmd.inlineMatrix()
        : matrices.get(requireNonEmpty(cmd.matrixId(), "matrix_id"));
    int k = cmd.numFactors() == null ? Math.min(Math.min(DEFAULT_FACTORS,
        limits.getInt(Limits.Limit.FACTORS)), Math.min(matrix.rows(), matrix.cols()))
        : cmd.numFactors();
    limits.check(Limits.Limit.FACTORS, "num_factors", k);
    int maxK = Math.min(MAX_FACTORS, Math.min(matrix.rows(), matrix.cols()));
    if (k < 1 || k > maxK) {
      throw new InvalidRequestException("num_factors", "is " + k + "; it must be in [1, " + maxK
          + "] for a " + matrix.rows() + " × " + matrix.cols() + " matrix (at most min(rows,"
          + " cols) and at most " + MAX_FACTORS + ")");
    }
    AbsentEntries absent = resolveAbsent(provider, cmd.absentEntries(), matrix.isDense());
    long seed = cmd.seed() == null ? DEFAULT_SEED : cmd.seed();
    ServedModel warmFrom = null;
    if (!cmd.warmStartModelId().isEmpty()) {
      try {
        warmFrom = models.get(cmd.warmStartModelId());
      } catch (io.mfserve.server.model.errors.NotFoundException e) {
        throw new InvalidRequestException("warm_start_model_id", "names no model: "
            + e.getMessage());
      }
      WarmStarts.check(warmFrom, k);
    }
    SolverConfig config = new SolverConfig(k, seed, absent, params);
    TuneSpec tune = cmd.tune();
    int kMax = k;
    if (tune != null) {
      TuneChecks.check(tune, provider, maxK);
      for (TuneRange r : tune.ranges()) {
        if (r.name().equals(Tuner.NUM_FACTORS)) {
          kMax = Math.max(kMax, r.isList() ? r.values().stream().mapToInt(v ->
              Integer.parseInt(v.trim())).max().orElse(k) : (int) Math.floor(r.max()));
        }
      }
    }
    Solver solver;
    try {
      solver = provider.create(config);
    } catch (InvalidParameterException e) {
      throw new InvalidRequestException(fieldOf(e.parameter(), cmd.typedFields()), e.getMessage());
    }
    if (vf > 0 && matrix.entries() * vf < 1) {
      throw new InvalidRequestException("validation_fraction", "holds out no entry of "
          + matrix.entries() + "; raise it or set it to 0");
    }

    // Reserve everything this fit allocates before allocating any of it.
    long nnz = matrix.entries();
    // A search holds its own split beside the full matrix while it runs; its models, one at
    // a time, are at most the largest rank's.
    double split = Math.max(vf, tune == null ? 0 : tune.validationFraction());
    long trainingBytes = TrainingMatrix.estimateBytes(matrix.rows(), matrix.cols(), nnz)
        * (split > 0 ? 2 : 1)
        + (split > 0 ? (long) (nnz * split * HELD_OUT_SLACK) * HELD_OUT_ENTRY_BYTES : 0);
    long keepBytes = FactorModel.estimateBytes(matrix.rows(), matrix.cols(), kMax, true)
        + SeenItems.estimateBytes(matrix.rows(), nnz, true) + matrix.rowIndex().memoryBytes()
        + matrix.colIndex().memoryBytes()
        + ScanIndex.estimateBytes(matrix.rows(), matrix.cols())
        + Popularity.estimateBytes(matrix.cols(), true);
    long workingBytes = provider.estimateWorkingBytes(matrix.rows(), matrix.cols(), nnz,
        kMax == k ? config : new SolverConfig(kMax, seed, absent, params));
    if (tune != null) {
      // A trial's model, while the best so far is not kept: one more model's worth.
      workingBytes += FactorModel.estimateBytes(matrix.rows(), matrix.cols(), kMax, true);
    }

    Claimed claim = claim(cmd);
    if (!claim.owned()) {
      if (cmd.inlineMatrix() != null) {
        cmd.inlineMatrix().release();
      }
      return claim.existing();
    }
    final String id = claim.id();
    MemoryBudget.Reservation reservation;
    try {
      long warmBytes = warmFrom == null ? 0
          : ((long) matrix.rows() + matrix.cols()) * (k + 1) * Float.BYTES;
      reservation = models.reserve(trainingBytes + keepBytes + workingBytes + warmBytes,
          "fitting model '" + id + "' (" + matrix.rows() + " × " + matrix.cols() + ", " + nnz
              + " entries, " + k + " factors)", warmFrom == null ? null : warmFrom.id());
    } catch (RuntimeException e) {
      models.abandon(id, e);
      throw e;
    }
    CompletableFuture<ServedModel> result = new CompletableFuture<>();
    Job job = new Job(id, provider, solver, config, matrix, cmd, vf, reservation, warmFrom,
        cancelled, listener, result);
    try {
      executor.submit(job);
    } catch (RuntimeException e) {
      reservation.close();
      models.abandon(id, e);
      throw e;
    }
    return result;
  }

  /**
   * Claims the request's model id, or a fresh one when it names none. A claim not owned is an
   * identical earlier request's model (an idempotent retry).
   */
  private Claimed claim(FitCommand cmd) {
    if (!cmd.modelId().isEmpty()) {
      return new Claimed(cmd.modelId(), models.claim(cmd.modelId(), cmd.requestFingerprint()));
    }
    while (true) {
      String id = "model-" + UUID.randomUUID().toString().substring(0, 13);
      ModelStore.Claim claim = models.claim(id, cmd.requestFingerprint());
      if (claim.owned()) {
        return new Claimed(id, claim);
      }
    }
  }

  /** A model id and the store's claim on it. */
  private record Claimed(String id, ModelStore.Claim claim) {
    boolean owned() {
      return claim.owned();
    }

    CompletableFuture<ServedModel> existing() {
      return claim.existing();
    }
  }

  /**
   * Starts a fit whose solver reads its own training data ({@link SolverProvider#readsOwnInput}):
   * the request carries no matrix, the shape is unknown until the solver has read the data, so
   * the solver claims memory as it learns it ({@link io.mfserve.solver.FitContext#reserveMemory})
   * and the server builds the id indexes from the ids it returns.
   */
  private CompletableFuture<ServedModel> startSourceFit(FitCommand cmd,
      BooleanSupplier cancelled, FitListener listener, SolverProvider provider,
      Parameters params) {
    if (cmd.inlineMatrix() != null || cmd.matrixId() != null) {
      throw new InvalidRequestException(cmd.inlineMatrix() != null ? "matrix" : "matrix_id",
          "is set, but solver '" + provider.name() + "' reads this fit's data itself, from"
              + " where its params say; send no matrix, or drop that parameter");
    }
    if (cmd.validationFraction() > 0) {
      throw new InvalidRequestException("validation_fraction", "is " + cmd.validationFraction()
          + "; a fit that reads its own data cannot hold out a validation split; leave it"
          + " unset");
    }
    if (!cmd.warmStartModelId().isEmpty()) {
      throw new InvalidRequestException("warm_start_model_id", "is set; a fit that reads its"
          + " own data starts cold; leave it empty");
    }
    int k = cmd.numFactors() == null ? DEFAULT_FACTORS : cmd.numFactors();
    if (k < 1 || k > MAX_FACTORS) {
      throw new InvalidRequestException("num_factors", "is " + k + "; it must be in [1, "
          + MAX_FACTORS + "]");
    }
    AbsentEntries absent = resolveAbsent(provider, cmd.absentEntries(), false);
    SolverConfig config = new SolverConfig(k, cmd.seed() == null ? DEFAULT_SEED : cmd.seed(),
        absent, params);
    Solver solver;
    try {
      solver = provider.create(config);
    } catch (InvalidParameterException e) {
      throw new InvalidRequestException(fieldOf(e.parameter(), cmd.typedFields()), e.getMessage());
    }
    Claimed claim = claim(cmd);
    if (!claim.owned()) {
      return claim.existing();
    }
    String id = claim.id();
    MemoryBudget.Reservation reservation;
    try {
      // The shape is unknown: hold the solver's own estimate now; it claims the rest.
      reservation = models.reserve(provider.estimateWorkingBytes(0, 0, 0, config),
          "fitting model '" + id + "' from the solver's own input", null);
    } catch (RuntimeException e) {
      models.abandon(id, e);
      throw e;
    }
    CompletableFuture<ServedModel> result = new CompletableFuture<>();
    SourceJob job = new SourceJob(id, provider, solver, config, cmd, reservation, cancelled,
        listener, result);
    try {
      executor.submit(job);
    } catch (RuntimeException e) {
      reservation.close();
      models.abandon(id, e);
      throw e;
    }
    return result;
  }

  /**
   * Runs {@code body} with the thread's context class loader set to the plugin's own: libraries
   * that load classes by name through it (Spark, Hadoop, logging back-ends) then find the
   * plugin's copies, not the server's.
   */
  private static <T> T inPluginLoader(SolverProvider provider,
      java.util.function.Supplier<T> body) {
    Thread t = Thread.currentThread();
    ClassLoader before = t.getContextClassLoader();
    t.setContextClassLoader(SolverDefaults.pluginLoader(provider));
    try {
      return body.get();
    } finally {
      t.setContextClassLoader(before);
    }
  }

  /** How a fit refused before it started counts: a bad request, or no room for it. */
  private static ServerEvents.FitResult refusal(RuntimeException e) {
    if (e instanceof ResourceExhaustedException) {
      return ServerEvents.FitResult.REFUSED;
    }
    if (e instanceof InvalidRequestException || e instanceof NotFoundException
        || e instanceof AlreadyExistsException) {
      return ServerEvents.FitResult.INVALID;
    }
    return ServerEvents.FitResult.FAILED;
  }

  /** How a fit that started ended, from what it threw. */
  private static ServerEvents.FitResult failure(Throwable t) {
    if (t instanceof FitCancelledException) {
      return ServerEvents.FitResult.CANCELLED;
    }
    if (t instanceof FitDivergedException) {
      return ServerEvents.FitResult.DIVERGED;
    }
    return ServerEvents.FitResult.FAILED;
  }

  /** One fit, run on a coordinator thread of the {@link FitExecutor}. */
  private final class Job implements Runnable {
    private final String id;
    private final SolverProvider provider;
    private final Solver solver;
    private final SolverConfig config;
    private final PreparedMatrix matrix;
    private final FitCommand cmd;
    private final double validationFraction;
    private final MemoryBudget.Reservation reservation;
    private final ServedModel warmFrom;
    private final BooleanSupplier cancelled;
    private final FitListener listener;
    private final CompletableFuture<ServedModel> result;
    /** The config the fit runs with: {@code config} with the data-derived defaults settled. */
    private SolverConfig used;
    /** A tuned fit's trials; null without tuning. */
    private TuneReport tuneReport;

    Job(String id, SolverProvider provider, Solver solver, SolverConfig config,
        PreparedMatrix matrix, FitCommand cmd, double validationFraction,
        MemoryBudget.Reservation reservation, ServedModel warmFrom, BooleanSupplier cancelled,
        FitListener listener, CompletableFuture<ServedModel> result) {
      this.id = id;
      this.provider = provider;
      this.solver = solver;
      this.config = config;
      this.matrix = matrix;
      this.cmd = cmd;
      this.validationFraction = validationFraction;
      this.reservation = reservation;
      this.warmFrom = warmFrom;
      this.cancelled = cancelled;
      this.listener = listener;
      this.result = result;
      this.used = config;
    }

    @Override
    public void run() {
      long start = System.nanoTime();
      try {
        if (cancelled.getAsBoolean()) {
          throw new FitCancelledException(0);
        }
        TrainingMatrix full = matrix.toTrainingMatrix(config.absentEntries(), "matrix");
        SolverConfig base = config;
        if (cmd.tune() != null) {
          base = tune(full);
        }
        TrainingMatrix.Split split = full.split(validationFraction, config.seed());
        SeenItems seen = SeenItems.of(full);
        Popularity popularity = Popularity.of(full);
        full = null; // the split's training part is all the solver needs from here on
        used = provider.resolveForData(base, split.train());
        Solver fitter = used == config ? solver : provider.create(used);
        WarmStart warm = warmFrom == null ? null
            : WarmStarts.of(warmFrom, matrix.rowIndex(), matrix.colIndex());
        ServerFitContext context = new ServerFitContext(executor.workers(), split.validation(),
            cancelled, p -> {
              logProgress(id, p);
              if (listener != null) {
                listener.onIteration(id, maxIterations(used), p);
              }
            }, warm, reservation);
        warm = null;
        TrainingMatrix train = split.train();
        FactorModel factors = inPluginLoader(provider, () -> fitter.fit(train, context));
        double rmse = factors.rmse(split.train());
        double seconds = (System.nanoTime() - start) / 1e9;
        ModelMetadata meta = new ModelMetadata(id, provider.name(), used.numFactors(),
            provenanceParams(used), config.seed(), config.absentEntries(), split.train().nnz(),
            split.validation().size(), split.train().mean(), rmse, seconds, clock.instant(),
            version, matrix.fingerprint(), cmd.requestFingerprint(),
            warmFrom == null ? "" : warmFrom.id(), tuneReport);
        ScanIndex scanIndex = ScanIndex.of(factors);
        long exact = factors.memoryBytes() + seen.memoryBytes() + matrix.rowIndex().memoryBytes()
            + matrix.colIndex().memoryBytes() + scanIndex.memoryBytes()
            + popularity.memoryBytes();
        reservation.shrink(reservation.bytes() - Math.min(exact, reservation.bytes()));
        ServedModel model = new ServedModel(factors, matrix.rowIndex(), matrix.colIndex(), seen,
            scanIndex, popularity, meta, used, reservation);
        ServedModel served = models.complete(model);
        double total = (System.nanoTime() - start) / 1e9;
        events.fitFinished(provider.name(), ServerEvents.FitResult.OK, total);
        line(ServerEvents.FitResult.OK, total).put("iterations", factors.iterations())
            .put("rmse", rmse).log(LOG);
        releaseInline();
        result.complete(served);
      } catch (Throwable t) {
        reservation.close();
        models.abandon(id, t);
        double total = (System.nanoTime() - start) / 1e9;
        ServerEvents.FitResult r = failure(t);
        events.fitFinished(provider.name(), r, total);
        LogEvent line = line(r, total).put("error", t.getMessage() == null ? t.toString()
            : t.getMessage());
        if (t instanceof OutOfMemoryError) {
          line.put("hint", "ran out of memory despite its budget check; lower --memory-budget"
              + " or raise -Xmx").level(Level.SEVERE).thrown(t);
        }
        line.log(LOG);
        releaseInline();
        result.completeExceptionally(t);
      } finally {
        releaseInline();
      }
    }

    /**
     * Gives back the inline matrix's memory. Called before the caller hears how the fit ended,
     * so that a client that fits again at once finds the budget as it will be (the fuzz test
     * found the release after the reply); idempotent.
     */
    private void releaseInline() {
      if (cmd.inlineMatrix() != null) {
        cmd.inlineMatrix().release();
      }
    }

    /**
     * Runs the request's search on a seeded split of {@code full} and returns the config of
     * the best setting (the request's own when every trial failed); keeps the report.
     */
    private SolverConfig tune(TrainingMatrix full) {
      TuneSpec spec = cmd.tune();
      TuneMetric metric = spec.metric() != null ? spec.metric()
          : config.absentEntries() == io.mfserve.solver.AbsentEntries.IMPLICIT ? TuneMetric.NDCG
              : TuneMetric.RMSE;
      // Another stream than the final fit's validation split, so the two are independent.
      TrainingMatrix.Split split = full.split(spec.validationFraction(),
          config.seed() ^ 0x7E57_5EEDL);
      Tuner.Base base = new Tuner.Base(provider, cmd.params(), config.numFactors(),
          config.seed(), config.absentEntries());
      tuneReport = new Tuner(spec, metric).run(base, split.train(), split.validation(),
          executor.workers(), cancelled, new TrialMemory() {
            @Override
            public boolean tryHold(long bytes, String what) {
              try {
                reservation.grow(bytes, what + " of model '" + id + "'");
                return true;
              } catch (ResourceExhaustedException e) {
                return false;
              }
            }

            @Override
            public void release(long bytes) {
              reservation.shrink(bytes);
            }
          }, t -> {
            LOG.fine(() -> "model " + id + ": trial " + t.number() + " " + t.setting() + " "
                + t.metric());
            if (listener != null) {
              listener.onTrial(id, t);
            }
          });
      if (tuneReport.best().isEmpty()) {
        return config;
      }
      return Tuner.config(base, tuneReport.best(), 0);
    }

    /** Returns this fit's structured log line: solver, shape, parameters, seconds, result. */
    private LogEvent line(ServerEvents.FitResult r, double seconds) {
      return LogEvent.of("fit").put("model", id).put("solver", provider.name())
          .put("rows", matrix.rows()).put("cols", matrix.cols()).put("nnz", matrix.entries())
          .put("k", config.numFactors()).put("seed", config.seed())
          .put("absent", config.absentEntries().name().toLowerCase(Locale.ROOT))
          .put("params", new java.util.TreeMap<>(used.parameters().asText()).toString())
          .put("trials", tuneReport == null ? null : tuneReport.trials().size())
          .put("warm_start", warmFrom == null ? null : warmFrom.id())
          .put("result", r.name().toLowerCase(Locale.ROOT)).put("seconds", seconds);
    }
  }

  /** One fit whose solver reads its own data, run on a coordinator thread. */
  private final class SourceJob implements Runnable {
    private final String id;
    private final SolverProvider provider;
    private final Solver solver;
    private final SolverConfig config;
    private final FitCommand cmd;
    private final MemoryBudget.Reservation reservation;
    private final BooleanSupplier cancelled;
    private final FitListener listener;
    private final CompletableFuture<ServedModel> result;

    SourceJob(String id, SolverProvider provider, Solver solver, SolverConfig config,
        FitCommand cmd, MemoryBudget.Reservation reservation, BooleanSupplier cancelled,
        FitListener listener, CompletableFuture<ServedModel> result) {
      this.id = id;
      this.provider = provider;
      this.solver = solver;
      this.config = config;
      this.cmd = cmd;
      this.reservation = reservation;
      this.cancelled = cancelled;
      this.listener = listener;
      this.result = result;
    }

    @Override
    public void run() {
      long start = System.nanoTime();
      SourcedModel sourced = null;
      try {
        if (cancelled.getAsBoolean()) {
          throw new FitCancelledException(0);
        }
        ServerFitContext context = new ServerFitContext(executor.workers(),
            io.mfserve.solver.ValidationSet.empty(), cancelled, p -> {
              logProgress(id, p);
              if (listener != null) {
                listener.onIteration(id, maxIterations(config), p);
              }
            }, null, reservation);
        sourced = inPluginLoader(provider, () -> solver.fitFromSource(context));
        if (sourced == null) {
          throw new IllegalStateException("solver '" + provider.name() + "' returned no model");
        }
        FactorModel factors = sourced.model();
        if (factors.numFactors() != config.numFactors()) {
          throw new IllegalStateException("solver '" + provider.name() + "' returned "
              + factors.numFactors() + " factors; the fit asked for " + config.numFactors());
        }
        IdIndex users = indexOf(sourced.users());
        IdIndex items = indexOf(sourced.items());
        SeenItems seen = sourced.hasSeen()
            ? SeenItems.of(sourced.seenRowPtr(), sourced.seenCols(), factors.numUsers(),
                factors.numItems())
            : SeenItems.of(new int[factors.numUsers() + 1], new int[0], factors.numUsers(),
                factors.numItems());
        double seconds = (System.nanoTime() - start) / 1e9;
        Map<String, String> shown = provenanceParams(config);
        shown.put("source", sourced.source());
        ModelMetadata meta = new ModelMetadata(id, provider.name(), config.numFactors(), shown,
            config.seed(), config.absentEntries(), sourced.entries(), 0, sourced.mean(),
            sourced.trainingRmse(), seconds, clock.instant(), version, "",
            cmd.requestFingerprint(), "");
        ScanIndex scanIndex = ScanIndex.of(factors);
        long exact = factors.memoryBytes() + seen.memoryBytes() + users.memoryBytes()
            + items.memoryBytes() + scanIndex.memoryBytes();
        // The solver claimed what it brought in; settle on what the model keeps.
        if (exact > reservation.bytes()) {
          reservation.grow(exact - reservation.bytes(), "keeping model '" + id + "'");
        } else {
          reservation.shrink(reservation.bytes() - exact);
        }
        ServedModel served = models.complete(new ServedModel(factors, users, items, seen,
            scanIndex, meta, config, reservation));
        double total = (System.nanoTime() - start) / 1e9;
        events.fitFinished(provider.name(), ServerEvents.FitResult.OK, total);
        line(ServerEvents.FitResult.OK, total, factors).put("iterations", factors.iterations())
            .log(LOG);
        result.complete(served);
      } catch (Throwable t) {
        reservation.close();
        models.abandon(id, t);
        double total = (System.nanoTime() - start) / 1e9;
        ServerEvents.FitResult r = failure(t);
        events.fitFinished(provider.name(), r, total);
        line(r, total, sourced == null ? null : sourced.model()).put("error",
            t.getMessage() == null ? t.toString() : t.getMessage()).log(LOG);
        result.completeExceptionally(t);
      }
    }

    private LogEvent line(ServerEvents.FitResult r, double seconds, FactorModel f) {
      return LogEvent.of("fit").put("model", id).put("solver", provider.name())
          .put("source", config.parameters().asText().toString())
          .put("rows", f == null ? null : f.numUsers())
          .put("cols", f == null ? null : f.numItems())
          .put("k", config.numFactors()).put("seed", config.seed())
          .put("result", r.name().toLowerCase(Locale.ROOT)).put("seconds", seconds);
    }
  }

  /** Builds the id index of one side of a model from the ids a solver returned. */
  private static IdIndex indexOf(ExternalIds ids) {
    int n = ids.size();
    if (ids.isStrings()) {
      IdIndex.StringBuilder b = IdIndex.stringBuilder();
      for (int p = 0; p < n; p++) {
        b.intern(ids.stringAt(p));
      }
      return b.build();
    }
    IdIndex.LongBuilder b = IdIndex.longBuilder();
    for (int p = 0; p < n; p++) {
      b.intern(ids.longAt(p));
    }
    return b.build();
  }

  private static int maxIterations(SolverConfig config) {
    return config.parameters().has(ParameterSpec.MAX_ITERATIONS)
        ? config.parameters().getInt(ParameterSpec.MAX_ITERATIONS) : 0;
  }

  private static Map<String, String> provenanceParams(SolverConfig config) {
    Map<String, String> p = new HashMap<>(config.parameters().asText());
    p.put("num_factors", Integer.toString(config.numFactors()));
    p.put("absent_entries", config.absentEntries().name().toLowerCase(java.util.Locale.ROOT));
    return p;
  }

  private static void logProgress(String id, IterationProgress p) {
    LOG.fine(() -> String.format("model %s: iteration %d, loss %.6g%s", id, p.iteration(),
        p.loss(), p.hasValidation() ? String.format(", validation RMSE %.4f",
            p.validationRmse()) : ""));
  }

  private static Parameters resolveParameters(SolverProvider provider, Map<String, String> given,
      Set<String> typedFields) {
    try {
      return Parameters.resolve(provider.parameters(), given);
    } catch (InvalidParameterException e) {
      String msg = e.getMessage();
      if (typedFields.contains(e.parameter()) && msg.startsWith("unknown parameter")) {
        msg = "solver '" + provider.name() + "' does not use " + e.parameter() + "; leave it"
            + " unset (ListSolvers shows each solver's parameters)";
      }
      throw new InvalidRequestException(fieldOf(e.parameter(), typedFields), msg);
    }
  }

  private static String fieldOf(String parameter, Set<String> typedFields) {
    return typedFields.contains(parameter) ? parameter : "params." + parameter;
  }

  private static AbsentEntries resolveAbsent(SolverProvider provider, AbsentEntries requested,
      boolean dense) {
    if (requested == null || dense) {
      // A dense matrix has no absent entries, so any meaning reads it the same way.
      return provider.defaultAbsentEntries();
    }
    if (!provider.supportedAbsentEntries().contains(requested)) {
      List<String> names = new ArrayList<>();
      for (AbsentEntries a : provider.supportedAbsentEntries()) {
        names.add("ABSENT_ENTRIES_" + a.name());
      }
      throw new InvalidRequestException("absent_entries", "solver '" + provider.name()
          + "' does not support ABSENT_ENTRIES_" + requested.name() + "; it supports "
          + String.join(", ", names));
    }
    return requested;
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
    String solverName = foldInSolver == null || foldInSolver.isEmpty() ? DEFAULT_SOLVER
        : foldInSolver;
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
    if (!MODEL_ID.matcher(id).matches()) {
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
        } catch (io.mfserve.server.model.errors.AlreadyExistsException e) {
          // drawn twice: draw again
        }
      }
    }
    if (!MODEL_ID.matcher(modelId).matches()) {
      throw new InvalidRequestException("model_id", "is '" + IdResolver.abbreviate(modelId)
          + "'; use 1 to 128 of A-Z a-z 0-9 . _ -, or leave it empty");
    }
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
