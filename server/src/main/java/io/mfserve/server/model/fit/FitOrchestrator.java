package io.mfserve.server.model.fit;

import io.mfserve.server.logging.LogEvent;
import io.mfserve.server.model.errors.AlreadyExistsException;
import io.mfserve.server.model.errors.InvalidRequestException;
import io.mfserve.server.model.errors.NotFoundException;
import io.mfserve.server.model.errors.ResourceExhaustedException;
import io.mfserve.server.model.ids.IdResolver;
import io.mfserve.server.model.ids.ModelIds;
import io.mfserve.server.model.matrix.MatrixStore;
import io.mfserve.server.model.matrix.PreparedMatrix;
import io.mfserve.server.model.store.Limits;
import io.mfserve.server.model.store.MemoryBudget;
import io.mfserve.server.model.store.ModelStore;
import io.mfserve.server.model.store.ServedModel;
import io.mfserve.server.model.store.ServerEvents;
import io.mfserve.server.model.tune.TuneChecks;
import io.mfserve.server.model.tune.TuneRange;
import io.mfserve.server.model.tune.TuneSpec;
import io.mfserve.server.model.tune.Tuner;
import io.mfserve.solver.AbsentEntries;
import io.mfserve.solver.FitCancelledException;
import io.mfserve.solver.InvalidParameterException;
import io.mfserve.solver.Parameters;
import io.mfserve.solver.Solver;
import io.mfserve.solver.SolverConfig;
import io.mfserve.solver.SolverProvider;
import jakarta.inject.Inject;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.function.BooleanSupplier;

/**
 * Trains models: checks a fit request against the solver's parameters, the limits and the
 * memory budget, claims its model id, and hands a {@link FitJob} (or, for a solver that reads
 * its own data, a {@link SourceFitJob}) to the {@link FitExecutor}. Reads of the models it
 * trains are another class's job. Thread-safe.
 */
public final class FitOrchestrator {
  /** The solver used when a request names none. */
  public static final String DEFAULT_SOLVER = "als";
  /** The rank used when a request gives none. */
  public static final int DEFAULT_FACTORS = 10;
  /** The seed used when a request gives none. */
  public static final long DEFAULT_SEED = 42;
  /** The largest rank a fit may ask for. */
  public static final int MAX_FACTORS = 1024;

  private final SolverRegistry solvers;
  private final ModelStore models;
  private final MatrixStore matrices;
  private final Limits limits;
  private final ServerEvents events;
  private final FitRuntime runtime;

  /** Wires the orchestrator with the default limits and no observer of its events. */
  public FitOrchestrator(SolverRegistry solvers, ModelStore models, MatrixStore matrices,
      FitExecutor executor, Clock clock) {
    this(solvers, models, matrices, executor, clock, ServerEvents.NONE, Limits.defaults());
  }

  /**
   * Wires the orchestrator; {@code events} hears how each fit ends (for metrics), {@code limits}
   * bound the rank of a fit.
   */
  @Inject
  public FitOrchestrator(SolverRegistry solvers, ModelStore models, MatrixStore matrices,
      FitExecutor executor, Clock clock, ServerEvents events, Limits limits) {
    this.solvers = solvers;
    this.models = models;
    this.matrices = matrices;
    this.limits = limits;
    this.events = events;
    String v = FitOrchestrator.class.getPackage().getImplementationVersion();
    this.runtime = new FitRuntime(models, executor, events, clock, v == null ? "dev" : v);
  }


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
          .put("error", e.getMessage()).log(FitRuntime.LOG);
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
    if (!cmd.modelId().isEmpty()) {
      ModelIds.check(cmd.modelId(), "model_id");
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
        : matrices.get(cmd.matrixId());
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
      } catch (NotFoundException e) {
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

    // Reserve everything this fit allocates before allocating any of it. A search holds its
    // own split beside the full matrix while it runs; its models, one at a time, are at most
    // the largest rank's.
    long nnz = matrix.entries();
    long bytes = FitFootprint.bytes(matrix, provider,
        kMax == k ? config : new SolverConfig(kMax, seed, absent, params),
        kMax, Math.max(vf, tune == null ? 0 : tune.validationFraction()), tune != null,
        warmFrom == null ? 0 : k);

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
      reservation = models.reserve(bytes,
          "fitting model '" + id + "' (" + matrix.rows() + " × " + matrix.cols() + ", " + nnz
              + " entries, " + k + " factors)", warmFrom == null ? null : warmFrom.id());
    } catch (RuntimeException e) {
      models.abandon(id, e);
      throw e;
    }
    CompletableFuture<ServedModel> result = new CompletableFuture<>();
    return submit(id, reservation, result, new FitJob(runtime, id, provider, solver, config,
        matrix, cmd, vf, reservation, warmFrom, cancelled, listener, result));
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
    return submit(id, reservation, result, new SourceFitJob(runtime, id, provider, solver,
        config, cmd, reservation, cancelled, listener, result));
  }

  /**
   * Hands {@code job} to the fit pool; when the pool refuses it (full), frees what the fit
   * held, its memory and its claim on the id, before the refusal reaches the caller.
   */
  private CompletableFuture<ServedModel> submit(String id, MemoryBudget.Reservation reservation,
      CompletableFuture<ServedModel> result, Runnable job) {
    try {
      runtime.executor().submit(job);
    } catch (RuntimeException e) {
      reservation.close();
      models.abandon(id, e);
      throw e;
    }
    return result;
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
}
