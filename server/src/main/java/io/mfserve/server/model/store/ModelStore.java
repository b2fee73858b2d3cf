package io.mfserve.server.model.store;

import io.mfserve.server.model.errors.AlreadyExistsException;
import io.mfserve.server.model.errors.NotFoundException;
import io.mfserve.server.model.errors.NotReadyException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Trained models by id, in memory. An id is claimed when its fit starts, so two fits cannot
 * race for one id, and a retry of an identical request joins the fit already running or
 * returns its model. Models are immutable; reads never lock. Thread-safe.
 */
public final class ModelStore {
  private final ConcurrentHashMap<String, Slot> slots = new ConcurrentHashMap<>();

  private record Slot(String requestFingerprint, CompletableFuture<ServedModel> model) { }

  /**
   * The outcome of {@link #claim}: either this caller now owns the id and must
   * {@link #complete} or {@link #abandon} it, or an identical request owns it and
   * {@link #existing()} gives its model when ready.
   *
   * @param owned whether the caller claimed the id
   * @param existing the earlier identical request's model, or null when owned
   */
  public record Claim(boolean owned, CompletableFuture<ServedModel> existing) { }

  /**
   * Claims {@code id} for a fit.
   *
   * @param requestFingerprint identifies the request; an identical retry passes the same one
   * @throws AlreadyExistsException if a different request holds the id
   */
  public Claim claim(String id, String requestFingerprint) {
    Slot mine = new Slot(requestFingerprint, new CompletableFuture<>());
    Slot held = slots.putIfAbsent(id, mine);
    if (held == null) {
      return new Claim(true, null);
    }
    if (held.requestFingerprint().equals(requestFingerprint)) {
      return new Claim(false, held.model());
    }
    throw new AlreadyExistsException("model id '" + id + "' is taken by a different request;"
        + " choose another model_id, delete the model, or leave model_id empty");
  }

  /** Stores the model of a claimed id. */
  public void complete(ServedModel model) {
    Slot slot = slots.get(model.id());
    if (slot == null) {
      throw new IllegalStateException("id not claimed: " + model.id());
    }
    slot.model().complete(model);
  }

  /** Gives up a claimed id after a failed fit; waiting retries see the same failure. */
  public void abandon(String id, Throwable cause) {
    Slot slot = slots.remove(id);
    if (slot != null) {
      slot.model().completeExceptionally(cause);
    }
  }

  /**
   * Returns a trained model.
   *
   * @throws NotFoundException if there is no model of that id
   * @throws NotReadyException if it is still training
   */
  public ServedModel get(String id) {
    Slot slot = slots.get(id);
    if (slot == null || slot.model().isCompletedExceptionally()) {
      throw new NotFoundException("model", id, "no model '" + id + "'; ListModels shows the"
          + " models this server holds");
    }
    ServedModel m = slot.model().getNow(null);
    if (m == null) {
      throw new NotReadyException("model '" + id + "' is still training; retry when its Fit"
          + " call has returned");
    }
    return m;
  }

  /** Returns every trained model, by id. */
  public List<ServedModel> list() {
    List<ServedModel> out = new ArrayList<>();
    for (Slot s : slots.values()) {
      ServedModel m = s.model().getNow(null);
      if (m != null) {
        out.add(m);
      }
    }
    out.sort(Comparator.comparing(ServedModel::id));
    return out;
  }

  /**
   * Removes a trained model and frees its memory. Requests already holding it complete on it.
   *
   * @return the bytes freed
   * @throws NotFoundException if there is no model of that id
   * @throws NotReadyException if it is still training
   */
  public long delete(String id) {
    ServedModel m = get(id);
    Slot slot = slots.get(id);
    if (slot != null && slot.model().getNow(null) == m && slots.remove(id, slot)) {
      long bytes = m.memoryBytes();
      m.release();
      return bytes;
    }
    throw new NotFoundException("model", id, "no model '" + id + "' (deleted concurrently)");
  }
}
