package io.mfserve.server.model.store;

import io.mfserve.server.logging.LogEvent;
import io.mfserve.server.model.errors.AlreadyExistsException;
import io.mfserve.server.model.errors.InvalidRequestException;
import io.mfserve.server.model.errors.ModelDamagedException;
import io.mfserve.server.model.errors.NotFoundException;
import io.mfserve.server.model.errors.NotReadyException;
import io.mfserve.server.model.errors.PreconditionFailedException;
import io.mfserve.server.model.errors.RepositoryUnavailableException;
import io.mfserve.server.model.errors.ResourceExhaustedException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.regex.Pattern;

/**
 * Trained models by id: the ones this replica holds in memory, backed by the
 * {@link ModelRepository} that every replica shares, and the aliases that name them.
 *
 * <ul>
 *   <li>An id is claimed when its fit starts, so two fits cannot race for one id, and a retry
 *       of an identical request joins the fit already running or returns its model, also when
 *       another replica trained it (the request's fingerprint is in the snapshot).
 *   <li>{@link #complete} writes the snapshot before the model is served or its Fit returns.
 *   <li>{@link #get} resolves an alias once, then answers from memory, or on a miss loads the
 *       snapshot (concurrent requests for one model wait for one load): a Fit that returned on
 *       one replica is served by every replica from the next request on.
 *   <li>{@link #poll} (every {@code --store-poll}) drops models deleted or replaced elsewhere,
 *       re-reads the alias table, and loads what the preload policy asks for.
 *   <li>When the memory budget is short, {@link #reserve} evicts the least recently used
 *       models that no alias points to and that the repository can give back.
 * </ul>
 *
 * <p>Models are immutable; the read path takes no lock. Thread-safe.
 */
public final class ModelStore {
  private static final Logger LOG = Logger.getLogger(ModelStore.class.getName());
  /** What model ids and aliases may look like. */
  public static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]{1,128}");

  /** Which stored models a replica loads at start and on every poll. */
  public enum Preload {
    /** Every model in the repository. */
    ALL,
    /** Only models an alias points at. */
    ALIASES,
    /** None: each is loaded on its first request. */
    NONE
  }

  /** How long to wait before re-reading an alias table that went missing (see refresh). */
  private static final long ALIAS_REREAD_NANOS = 50_000_000L;

  private final ConcurrentHashMap<String, Slot> slots = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, String> damaged = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, StoredModel> described = new ConcurrentHashMap<>();
  private final ModelRepository repository;
  private final MemoryBudget budget;
  private final Limits limits;
  private final ServerEvents events;
  private final IndexBuilder indexes;
  private volatile ModelRepository.AliasTable aliases =
      new ModelRepository.AliasTable(Map.of(), null);
  private volatile Map<String, String> stored = Map.of();

  /** A claimed id: a fit in progress, a load in progress, or a model ready to serve. */
  private static final class Slot {
    final String requestFingerprint;
    final CompletableFuture<ServedModel> model = new CompletableFuture<>();
    final boolean loading;
    /** When the model became durable here (fit saved or load finished), System.nanoTime. */
    volatile long durableSince = Long.MAX_VALUE;
    volatile long lastUsed = System.nanoTime();

    Slot(String requestFingerprint, boolean loading) {
      this.requestFingerprint = requestFingerprint;
      this.loading = loading;
    }
  }

  /**
   * The outcome of {@link #claim}: either this caller now owns the id and must
   * {@link #complete} or {@link #abandon} it, or an identical request owns it and
   * {@link #existing()} gives its model when ready.
   *
   * @param owned whether the caller claimed the id
   * @param existing the earlier identical request's model, or null when owned
   */
  public record Claim(boolean owned, CompletableFuture<ServedModel> existing) { }

  /** A store backed by {@code repository}, holding models against {@code budget}. */
  public ModelStore(ModelRepository repository, MemoryBudget budget) {
    this(repository, budget, ServerEvents.NONE);
  }

  /**
   * A store backed by {@code repository}, holding models against {@code budget}, telling
   * {@code events} about model loads and damaged snapshots.
   */
  public ModelStore(ModelRepository repository, MemoryBudget budget, ServerEvents events) {
    this(repository, budget, events, Limits.defaults(), IndexBuilder.NONE);
  }

  /**
   * A store backed by {@code repository}, holding models against {@code budget}, telling
   * {@code events} about loads, refusing a new model once {@code limits}'
   * {@link Limits.Limit#MODELS} are held, and handing every model it serves (fitted, imported
   * or loaded) to {@code indexes} for its approximate indexes.
   */
  public ModelStore(ModelRepository repository, MemoryBudget budget, ServerEvents events,
      Limits limits, IndexBuilder indexes) {
    this.repository = repository;
    this.budget = budget;
    this.events = events;
    this.limits = limits;
    this.indexes = indexes;
  }

  /** As the five-argument constructor, with the default limits. */
  public ModelStore(ModelRepository repository, MemoryBudget budget, ServerEvents events,
      IndexBuilder indexes) {
    this(repository, budget, events, Limits.defaults(), indexes);
  }

  /** As the five-argument constructor, without approximate indexes. */
  public ModelStore(ModelRepository repository, MemoryBudget budget, ServerEvents events,
      Limits limits) {
    this(repository, budget, events, limits, IndexBuilder.NONE);
  }

  /** Returns the builder of approximate indexes. */
  public IndexBuilder indexes() {
    return indexes;
  }

  /**
   * Refuses a new id once the models held (serving, loading or being fitted) reach the limit.
   * Checked before the claim, so two racing claims may pass it together: the limit bounds the
   * store to within the fits that can start at once, which is enough for what it is for.
   */
  private void checkRoomForOneMore() {
    limits.check(Limits.Limit.MODELS, "model_id", slots.size() + 1L);
  }

  /** Returns the memory budget's limit in bytes. */
  public long budgetLimit() {
    return budget.limitBytes();
  }

  /** Returns the repository. */
  public ModelRepository repository() {
    return repository;
  }

  // ---------------------------------------------------------------- fits

  /**
   * Claims {@code id} for a fit.
   *
   * @param requestFingerprint identifies the request; an identical retry passes the same one
   * @throws AlreadyExistsException if a different request holds the id, here or in the
   *     repository, or an alias has that name
   */
  public Claim claim(String id, String requestFingerprint) {
    if (repository.durable()) {
      refreshAliases(); // another replica may have made an alias of this name a moment ago
    }
    if (aliases.aliases().containsKey(id)) {
      throw new AlreadyExistsException("model id '" + id + "' is an alias; choose another"
          + " model_id");
    }
    Slot held = slots.get(id);
    if (held == null && repository.durable()) {
      StoredModel s = describeStored(id);
      if (s != null) {
        if (!s.metadata().requestFingerprint().equals(requestFingerprint)) {
          throw taken(id);
        }
        return new Claim(false, CompletableFuture.supplyAsync(() -> get(id)));
      }
    }
    if (held == null) {
      checkRoomForOneMore();
    }
    Slot mine = new Slot(requestFingerprint, false);
    held = slots.putIfAbsent(id, mine);
    if (held == null) {
      return new Claim(true, null);
    }
    if (held.requestFingerprint != null && held.requestFingerprint.equals(requestFingerprint)) {
      return new Claim(false, held.model);
    }
    if (held.loading) {
      // A load of a stored model that this request did not make: compare once loaded.
      ServedModel m = held.model.join();
      if (requestFingerprint.equals(m.metadata().requestFingerprint())) {
        return new Claim(false, CompletableFuture.completedFuture(m));
      }
    }
    throw taken(id);
  }

  /** Whether a write failed for want of space (ENOSPC) or quota (EDQUOT), as the OS says. */
  static boolean diskFull(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      String m = t.getMessage();
      if (m != null && (m.contains("No space left on device") || m.contains("Disk quota"))) {
        return true;
      }
    }
    return false;
  }

  private static AlreadyExistsException taken(String id) {
    return new AlreadyExistsException("model id '" + id + "' is taken by a different request;"
        + " choose another model_id, delete the model, or leave model_id empty");
  }

  /**
   * Claims {@code id} for a model that did not come from a fit (an import): no retry can
   * join it.
   *
   * @throws AlreadyExistsException if the id is held here or in the repository, or is an alias
   */
  public void claimNew(String id) {
    if (aliases.aliases().containsKey(id)) {
      throw new AlreadyExistsException("model id '" + id + "' is an alias; choose another");
    }
    if (repository.durable() && describeStored(id) != null) {
      throw new AlreadyExistsException("model id '" + id + "' exists; delete it first or"
          + " choose another");
    }
    checkRoomForOneMore();
    if (slots.putIfAbsent(id, new Slot(null, false)) != null) {
      throw new AlreadyExistsException("model id '" + id + "' exists; delete it first or"
          + " choose another");
    }
  }

  /**
   * Writes a claimed id's model to the repository, then serves it, and returns what is served:
   * the model given, or, when an identical request on another replica stored its model first,
   * that one (so that every replica serves the same bits).
   *
   * @throws RepositoryUnavailableException if the snapshot could not be written; the caller
   *     abandons the id and the fit fails
   */
  public ServedModel complete(ServedModel fitted) {
    ServedModel model = fitted;
    Slot slot = slots.get(model.id());
    if (slot == null) {
      throw new IllegalStateException("id not claimed: " + model.id());
    }
    boolean created;
    try {
      long start = System.nanoTime();
      created = repository.saveNew(model);
      if (created && repository.durable()) {
        LOG.info(() -> String.format(java.util.Locale.ROOT, "model %s: snapshot written to %s"
            + " in %.3f s", fitted.id(), repository.describe(),
            (System.nanoTime() - start) / 1e9));
      }
    } catch (IOException | RuntimeException e) {
      if (diskFull(e)) {
        // Not UNAVAILABLE: a client (or a retry policy) retrying a full disk only fills logs.
        throw new ResourceExhaustedException("the model repository is full ("
            + e.getMessage() + ") storing model '" + model.id() + "'; the model was not kept:"
            + " delete models or give the repository more space, then fit again");
      }
      throw new RepositoryUnavailableException("the model repository could not store model '"
          + model.id() + "' (" + e.getMessage() + "); the model was not kept, retry the fit", e);
    }
    if (!created) {
      // Another replica stored a model of this id since the claim: an identical request that
      // raced this one (serve what it stored, so every replica serves the same bits), or a
      // different one (this fit loses).
      described.remove(model.id());
      StoredModel theirs = describeStored(model.id());
      String mine = model.metadata().requestFingerprint();
      if (theirs == null || mine.isEmpty()
          || !mine.equals(theirs.metadata().requestFingerprint())) {
        throw taken(model.id());
      }
      ServedModel stored;
      String id = model.id();
      try {
        stored = repository.load(id, (bytes, what) -> reserve(bytes, what, id));
      } catch (IOException e) {
        throw new RepositoryUnavailableException("model '" + model.id() + "' could not be"
            + " read back from the model repository (" + e.getMessage() + "); retry", e);
      }
      if (stored == null) {
        throw taken(model.id());
      }
      model.release();
      model = stored;
    }
    damaged.remove(model.id());
    described.remove(model.id());
    slot.durableSince = System.nanoTime();
    slot.model.complete(model);
    indexes.schedule(model);
    return model;
  }

  /** Gives up a claimed id after a failed fit; waiting retries see the same failure. */
  public void abandon(String id, Throwable cause) {
    Slot slot = slots.get(id);
    if (slot != null && !slot.loading && !slot.model.isDone() && slots.remove(id, slot)) {
      slot.model.completeExceptionally(cause);
    }
  }

  // ---------------------------------------------------------------- reads

  /**
   * Returns the model id that {@code name} stands for: the alias's model, or the name itself.
   * Called once per request, so that an alias switch never mixes two models in one answer.
   */
  public String resolve(String name) {
    String target = aliases.aliases().get(name);
    return target != null ? target : name;
  }

  /**
   * Returns the model a request names (an id or an alias), loading it from the repository on
   * a miss; blocks while another request loads it.
   *
   * @throws NotFoundException if there is no such model
   * @throws NotReadyException if it is still training
   * @throws ModelDamagedException if its snapshot is damaged
   */
  public ServedModel get(String name) {
    String id = resolve(name);
    try {
      return getResolved(name, id);
    } catch (NotFoundException e) {
      if (id.equals(name)) {
        throw e;
      }
      throw new NotFoundException("model", id, "alias '" + name + "' points at model '" + id
          + "', which does not exist (any more); point the alias at another model");
    }
  }

  private ServedModel getResolved(String name, String id) {
    while (true) {
      Slot slot = slots.get(id);
      if (slot != null) {
        if (!slot.model.isDone()) {
          if (!slot.loading) {
            throw new NotReadyException("model '" + id + "' is still training; retry when its"
                + " Fit call has returned");
          }
          try {
            slot.model.join();
          } catch (CompletionException e) {
            throw unwrap(e);
          }
        }
        ServedModel m = slot.model.getNow(null);
        if (m != null) {
          slot.lastUsed = System.nanoTime();
          return m;
        }
        // A failed fit or load: that slot is being removed; look again.
        slots.remove(id, slot);
        if (!repository.durable()) {
          throw notFound(name);
        }
        continue;
      }
      if (!repository.durable() || !NAME.matcher(id).matches()) {
        throw notFound(name);
      }
      String reason = damaged.get(id);
      if (reason != null) {
        throw new ModelDamagedException("model '" + id + "' is not served: its snapshot is"
            + " damaged (" + reason + ")");
      }
      Slot mine = new Slot(null, true);
      if (slots.putIfAbsent(id, mine) != null) {
        continue;
      }
      return load(id, mine, name);
    }
  }

  /** Returns the resident model a request names, or null (never loads, never blocks). */
  public ServedModel peek(String name) {
    Slot slot = slots.get(resolve(name));
    return slot == null ? null : slot.model.getNow(null);
  }

  private ServedModel load(String id, Slot slot, String asked) {
    long start = System.nanoTime();
    try {
      ServedModel m = repository.load(id, (bytes, what) -> reserve(bytes, what, id));
      if (m == null) {
        throw notFound(asked);
      }
      slot.durableSince = start;
      slot.model.complete(m);
      indexes.schedule(m);
      double seconds = (System.nanoTime() - start) / 1e9;
      events.modelLoaded(ServerEvents.LoadResult.OK, seconds);
      loadEvent(id, ServerEvents.LoadResult.OK, seconds)
          .put("solver", m.metadata().solver())
          .put("rows", m.factors().numUsers()).put("cols", m.factors().numItems())
          .put("k", m.factors().numFactors()).put("bytes", m.memoryBytes())
          .log(LOG);
      return m;
    } catch (IOException e) {
      RuntimeException failure;
      double seconds = (System.nanoTime() - start) / 1e9;
      if (isFormatProblem(e)) {
        if (damaged.put(id, e.getMessage()) == null) {
          events.damagedSnapshotFound();
        }
        events.modelLoaded(ServerEvents.LoadResult.DAMAGED, seconds);
        loadEvent(id, ServerEvents.LoadResult.DAMAGED, seconds).put("error", e.getMessage())
            .level(Level.SEVERE).log(LOG);
        failure = new ModelDamagedException("model '" + id + "' is not served: its snapshot is"
            + " damaged (" + e.getMessage() + ")");
      } else {
        events.modelLoaded(ServerEvents.LoadResult.FAILED, seconds);
        loadEvent(id, ServerEvents.LoadResult.FAILED, seconds).put("error", e.getMessage())
            .level(Level.WARNING).thrown(e).log(LOG);
        failure = new RepositoryUnavailableException("model '" + id + "' could not be read from"
            + " the model repository (" + e.getMessage() + "); retry", e);
      }
      fail(id, slot, failure);
      throw failure;
    } catch (NotFoundException e) {
      // No snapshot of that id: an ordinary NOT_FOUND, not a failed load.
      fail(id, slot, e);
      throw e;
    } catch (RuntimeException | Error e) {
      double seconds = (System.nanoTime() - start) / 1e9;
      events.modelLoaded(ServerEvents.LoadResult.FAILED, seconds);
      loadEvent(id, ServerEvents.LoadResult.FAILED, seconds).put("error", String.valueOf(e))
          .level(Level.WARNING).log(LOG);
      fail(id, slot, e);
      throw e;
    }
  }

  /** The structured line of one model load: {@code event=model_load model=... result=...}. */
  private LogEvent loadEvent(String id, ServerEvents.LoadResult result, double seconds) {
    return LogEvent.of("model_load").put("model", id).put("source", repository.describe())
        .put("result", result.name().toLowerCase(java.util.Locale.ROOT)).put("seconds", seconds);
  }

  /** Returns the number of models resident in memory and ready to serve. */
  public int residentCount() {
    int n = 0;
    for (Slot s : slots.values()) {
      if (s.model.getNow(null) != null) {
        n++;
      }
    }
    return n;
  }

  /** Returns the bytes the resident models hold against the budget. */
  public long residentBytes() {
    long bytes = 0;
    for (Slot s : slots.values()) {
      ServedModel m = s.model.getNow(null);
      if (m != null) {
        bytes += m.memoryBytes();
      }
    }
    return bytes;
  }

  /** Returns the number of damaged snapshots known now. */
  public int damagedCount() {
    return damaged.size();
  }

  private static boolean isFormatProblem(IOException e) {
    return e instanceof DamagedSnapshotException;
  }

  private void fail(String id, Slot slot, Throwable t) {
    slots.remove(id, slot);
    slot.model.completeExceptionally(t);
  }

  private static RuntimeException unwrap(CompletionException e) {
    return e.getCause() instanceof RuntimeException re ? re : e;
  }

  private static NotFoundException notFound(String name) {
    return new NotFoundException("model", name, "no model '" + name + "'; ListModels shows"
        + " the models this server holds");
  }

  /** Returns every resident model, by id. */
  public List<ServedModel> resident() {
    List<ServedModel> out = new ArrayList<>();
    for (Slot s : slots.values()) {
      ServedModel m = s.model.getNow(null);
      if (m != null) {
        out.add(m);
      }
    }
    out.sort(Comparator.comparing(ServedModel::id));
    return out;
  }

  /**
   * Returns what the repository holds that this replica has not loaded, by id, as its
   * snapshots describe them (read once per snapshot version and kept).
   */
  public List<StoredModel> storedOnly() {
    List<StoredModel> out = new ArrayList<>();
    Map<String, String> now = listStored();
    for (String id : now.keySet()) {
      Slot s = slots.get(id);
      if ((s != null && s.model.getNow(null) != null) || damaged.containsKey(id)) {
        continue;
      }
      StoredModel d = describeStored(id);
      if (d != null) {
        out.add(d);
      }
    }
    return out;
  }

  /** Returns the damaged snapshots: model id → what was wrong. */
  public Map<String, String> damaged() {
    return new TreeMap<>(damaged);
  }

  private Map<String, String> listStored() {
    if (!repository.durable()) {
      return Map.of();
    }
    try {
      Map<String, String> now = repository.list();
      stored = now;
      return now;
    } catch (IOException e) {
      LOG.warning("could not list " + repository.describe() + ": " + e.getMessage());
      return stored;
    }
  }

  private StoredModel describeStored(String id) {
    StoredModel cached = described.get(id);
    if (cached != null) {
      return cached;
    }
    try {
      StoredModel s = repository.describe(id);
      if (s != null) {
        described.put(id, s);
      }
      return s;
    } catch (IOException e) {
      if (isFormatProblem(e)) {
        if (damaged.put(id, e.getMessage()) == null) {
          events.damagedSnapshotFound();
        }
        LOG.severe("model " + id + ": snapshot is damaged and will not be served: "
            + e.getMessage());
        return null;
      }
      throw new RepositoryUnavailableException("the model repository could not be read ("
          + e.getMessage() + "); retry", e);
    }
  }

  // ---------------------------------------------------------------- delete

  /**
   * Removes a model from this replica and from the repository; other replicas drop it within
   * one poll interval. Requests already holding it complete on it.
   *
   * @return the bytes freed here
   * @throws NotFoundException if there is no model of that id
   * @throws NotReadyException if it is still training
   * @throws PreconditionFailedException if the id is an alias, or an alias points at it
   */
  public long delete(String id) {
    if (repository.durable()) {
      refreshAliases(); // an alias set on another replica a moment ago pins the model too
    }
    if (aliases.aliases().containsKey(id)) {
      throw new PreconditionFailedException("'" + id + "' is an alias; delete it with"
          + " DeleteAlias, or delete the model it points at by its id");
    }
    List<String> pointing = aliasesOf(id);
    if (!pointing.isEmpty()) {
      throw new PreconditionFailedException("model '" + id + "' is what alias(es) " + pointing
          + " point at; move or delete them first");
    }
    Slot slot = slots.get(id);
    ServedModel m = slot == null ? null : slot.model.getNow(null);
    if (slot != null && m == null && !slot.loading) {
      throw new NotReadyException("model '" + id + "' is still training; retry when its Fit"
          + " call has returned");
    }
    boolean inRepository = repository.durable() && (stored.containsKey(id)
        || damaged.containsKey(id) || listStored().containsKey(id));
    if (m == null && !inRepository) {
      throw notFound(id);
    }
    try {
      repository.delete(id);
    } catch (IOException e) {
      throw new RepositoryUnavailableException("the model repository could not delete model '"
          + id + "' (" + e.getMessage() + "); retry", e);
    }
    damaged.remove(id);
    described.remove(id);
    long bytes = 0;
    if (m != null && slots.remove(id, slot)) {
      bytes = m.memoryBytes();
      m.release();
    }
    return bytes;
  }

  // ---------------------------------------------------------------- aliases

  /** Returns every alias → model id, by alias. */
  public Map<String, String> aliases() {
    return new TreeMap<>(aliases.aliases());
  }

  /** Returns the aliases pointing at {@code id}, sorted. */
  public List<String> aliasesOf(String id) {
    List<String> out = new ArrayList<>();
    for (Map.Entry<String, String> e : aliases.aliases().entrySet()) {
      if (e.getValue().equals(id)) {
        out.add(e.getKey());
      }
    }
    out.sort(null);
    return out;
  }

  /**
   * Points {@code alias} at {@code modelId}: a compare-and-set on the stored alias table, so
   * concurrent switches on any replicas never lose one.
   *
   * @param expected null for an unconditional switch; "" to create only; else the model the
   *     alias must point at now
   * @return the model it pointed at before, or "" if it is new
   * @throws PreconditionFailedException if {@code expected} does not hold
   * @throws NotFoundException if there is no model {@code modelId}
   */
  public String setAlias(String alias, String modelId, String expected) {
    checkName(alias, "alias");
    checkName(modelId, "model_id");
    if (aliases.aliases().containsKey(modelId)) {
      throw new InvalidRequestException("model_id", "'" + modelId + "' is an alias; point an"
          + " alias at a model id");
    }
    Map<String, String> inRepository = listStored(); // empty without a durable repository
    if (slots.containsKey(alias) || inRepository.containsKey(alias)) {
      throw new InvalidRequestException("alias", "'" + alias + "' is a model id; choose an"
          + " alias that names no model");
    }
    if (peek(modelId) == null && !inRepository.containsKey(modelId)) {
      throw notFound(modelId);
    }
    return update(alias, expected, modelId);
  }

  /**
   * Removes an alias (not its model).
   *
   * @return the model it pointed at
   */
  public String deleteAlias(String alias, String expected) {
    checkName(alias, "alias");
    return update(alias, expected, null);
  }

  /** Returns the model {@code alias} points at. */
  public String getAlias(String alias) {
    checkName(alias, "alias");
    String id = aliases.aliases().get(alias);
    if (id == null) {
      refreshAliases();
      id = aliases.aliases().get(alias);
    }
    if (id == null) {
      throw new NotFoundException("alias", alias, "no alias '" + alias + "'; ListAliases shows"
          + " them");
    }
    return id;
  }

  private String update(String alias, String expected, String target) {
    for (int attempt = 0; ; attempt++) {
      ModelRepository.AliasTable table;
      try {
        table = repository.readAliases();
      } catch (IOException e) {
        throw new RepositoryUnavailableException("the alias table could not be read ("
            + e.getMessage() + "); retry", e);
      }
      String current = table.aliases().get(alias);
      if (target == null && current == null) {
        aliases = table;
        throw new NotFoundException("alias", alias, "no alias '" + alias + "'");
      }
      if (expected != null && !expected.equals(current == null ? "" : current)) {
        aliases = table;
        throw new PreconditionFailedException("alias '" + alias + "' points at "
            + (current == null ? "nothing" : "'" + current + "'") + ", not "
            + (expected.isEmpty() ? "nothing" : "'" + expected + "'")
            + "; read it again and retry");
      }
      Map<String, String> next = new HashMap<>(table.aliases());
      if (target == null) {
        next.remove(alias);
      } else {
        next.put(alias, target);
      }
      try {
        if (repository.writeAliases(next, table.version())) {
          refreshAliases();
          return current == null ? "" : current;
        }
      } catch (IOException e) {
        throw new RepositoryUnavailableException("the alias table could not be written ("
            + e.getMessage() + "); retry", e);
      }
      if (attempt > 1000) {
        throw new RepositoryUnavailableException("the alias table kept changing under this"
            + " update; retry", null);
      }
      // Someone else changed another alias meanwhile: read again and re-check.
    }
  }

  private static void checkName(String name, String field) {
    if (name == null || name.isEmpty()) {
      throw new InvalidRequestException(field, "is empty");
    }
    if (!NAME.matcher(name).matches()) {
      throw new InvalidRequestException(field, "is '" + (name.length() > 40
          ? name.substring(0, 40) + "…" : name) + "'; use 1 to 128 of A-Z a-z 0-9 . _ -");
    }
  }

  /** Re-reads the alias table; on failure the last one read stays in force. */
  public void refreshAliases() {
    try {
      ModelRepository.AliasTable read = repository.readAliases();
      if (read.version() == null && aliases.version() != null) {
        // mfserve never deletes the table once written (no aliases is an empty table), so a
        // table gone after one was seen is another replica's overwrite in flight on a store
        // whose overwrite is not atomic (S3Proxy's filesystem backend): look once more, a
        // moment later, before forgetting every alias.
        java.util.concurrent.locks.LockSupport.parkNanos(ALIAS_REREAD_NANOS);
        read = repository.readAliases();
      }
      aliases = read;
    } catch (IOException e) {
      LOG.warning("could not read the alias table from " + repository.describe() + ": "
          + e.getMessage());
    }
  }

  // ---------------------------------------------------------------- memory

  /**
   * Reserves {@code bytes} against the budget; when they do not fit, first evicts the least
   * recently used resident models that no alias points at and that the repository can give
   * back (never one in use by {@code keep}, never one only held in memory).
   *
   * @throws ResourceExhaustedException if they do not fit even then
   */
  public MemoryBudget.Reservation reserve(long bytes, String what, String keep) {
    while (true) {
      try {
        return budget.reserve(bytes, what);
      } catch (ResourceExhaustedException e) {
        if (!repository.durable() || !evictOne(keep, bytes)) {
          throw e;
        }
      }
    }
  }

  private boolean evictOne(String keep, long needed) {
    if (needed > budget.limitBytes()) {
      return false;
    }
    Set<String> pinned = Set.copyOf(aliases.aliases().values());
    String victim = null;
    Slot victimSlot = null;
    for (Map.Entry<String, Slot> e : slots.entrySet()) {
      Slot s = e.getValue();
      if (s.model.getNow(null) == null || pinned.contains(e.getKey())
          || Objects.equals(e.getKey(), keep) || s.durableSince == Long.MAX_VALUE) {
        continue;
      }
      if (victimSlot == null || s.lastUsed < victimSlot.lastUsed) {
        victim = e.getKey();
        victimSlot = s;
      }
    }
    if (victim == null || !slots.remove(victim, victimSlot)) {
      return victim != null; // lost a race: look again
    }
    ServedModel m = victimSlot.model.getNow(null);
    long freed = m.memoryBytes();
    m.release();
    String v = victim;
    LOG.info(() -> "model " + v + ": evicted from memory (least recently used, "
        + MemoryBudget.human(freed) + "); it stays in the repository and loads on its next"
        + " request");
    return true;
  }

  // ---------------------------------------------------------------- poll and preload

  /**
   * One poll of the repository: drops resident models whose snapshot was deleted or replaced
   * by another replica (those replaced load again on their next request), forgets damage
   * reports of rewritten snapshots, re-reads the aliases, and returns the ids the preload
   * policy wants loaded that are not resident.
   */
  public List<String> poll(Preload preload) {
    if (!repository.durable()) {
      return List.of();
    }
    long pollStart = System.nanoTime();
    Map<String, String> before = stored;
    Map<String, String> now;
    try {
      now = repository.list();
    } catch (IOException e) {
      LOG.warning("could not poll " + repository.describe() + ": " + e.getMessage());
      return List.of();
    }
    stored = now;
    for (Map.Entry<String, Slot> e : slots.entrySet()) {
      String id = e.getKey();
      Slot s = e.getValue();
      if (s.model.getNow(null) == null || s.durableSince > pollStart) {
        continue; // still training or loading, or stored after the listing began
      }
      String was = before.get(id);
      String is = now.get(id);
      if (is == null || (was != null && !was.equals(is))) {
        ServedModel m = s.model.getNow(null);
        if (slots.remove(id, s)) {
          m.release();
          LOG.info(() -> "model " + id + ": " + (is == null ? "deleted" : "replaced")
              + " in the repository by another replica; dropped from memory");
        }
      }
    }
    for (String id : List.copyOf(damaged.keySet())) {
      String was = before.get(id);
      if (!Objects.equals(was, now.get(id))) {
        damaged.remove(id);
      }
    }
    described.keySet().removeIf(id -> !Objects.equals(before.get(id), now.get(id)));
    refreshAliases();
    List<String> wanted = new ArrayList<>();
    Set<String> aliased = Set.copyOf(aliases.aliases().values());
    for (String id : now.keySet()) {
      boolean want = preload == Preload.ALL || (preload == Preload.ALIASES
          && aliased.contains(id));
      if (want && !slots.containsKey(id) && !damaged.containsKey(id)) {
        wanted.add(id);
      }
    }
    return wanted;
  }

  /**
   * Loads {@code ids} in parallel on {@code pool}, logging each, and waits for all; a model
   * that fails to load (damaged, over budget) is logged and skipped.
   *
   * @return how many were loaded
   */
  public int loadAll(List<String> ids, ExecutorService pool) {
    List<Future<?>> loads = new ArrayList<>();
    int[] ok = new int[1];
    for (String id : ids) {
      loads.add(pool.submit(() -> {
        try {
          get(id);
          synchronized (ok) {
            ok[0]++;
          }
        } catch (RuntimeException e) {
          LOG.warning("model " + id + ": not preloaded: " + e.getMessage());
        }
      }));
    }
    for (Future<?> f : loads) {
      try {
        f.get();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      } catch (java.util.concurrent.ExecutionException e) {
        // logged by the task
      }
    }
    return ok[0];
  }
}
