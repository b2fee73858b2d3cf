package io.mfserve.server.model.store;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Map;

/**
 * A {@link ModelRepository} that reports every durable operation, its outcome and its time to
 * {@link ServerEvents}. The in-memory repository is not wrapped (its operations are no I/O).
 */
public final class ObservedRepository implements ModelRepository {
  private final ModelRepository delegate;
  private final ServerEvents events;

  /** Wraps {@code delegate} when it is durable and events are observed; else returns it. */
  public static ModelRepository wrap(ModelRepository delegate, ServerEvents events) {
    return delegate.durable() && events != ServerEvents.NONE
        ? new ObservedRepository(delegate, events) : delegate;
  }

  private ObservedRepository(ModelRepository delegate, ServerEvents events) {
    this.delegate = delegate;
    this.events = events;
  }

  @FunctionalInterface
  private interface Op<T> {
    T run() throws IOException;
  }

  private <T> T observe(String operation, Op<T> op) throws IOException {
    long start = System.nanoTime();
    boolean ok = false;
    try {
      T result = op.run();
      ok = true;
      return result;
    } finally {
      events.repositoryOperation(operation, ok, (System.nanoTime() - start) / 1e9);
    }
  }

  @Override
  public boolean durable() {
    return delegate.durable();
  }

  @Override
  public String describe() {
    return delegate.describe();
  }

  @Override
  public void save(ServedModel model) throws IOException {
    observe("save", () -> {
      delegate.save(model);
      return null;
    });
  }

  @Override
  public boolean saveNew(ServedModel model) throws IOException {
    return observe("save_new", () -> delegate.saveNew(model));
  }

  @Override
  public Map<String, String> list() throws IOException {
    return observe("list", delegate::list);
  }

  @Override
  public StoredModel describe(String modelId) throws IOException {
    return observe("describe", () -> delegate.describe(modelId));
  }

  @Override
  public ServedModel load(String modelId, Reserver reserver) throws IOException {
    return observe("load", () -> delegate.load(modelId, reserver));
  }

  @Override
  public void delete(String modelId) throws IOException {
    observe("delete", () -> {
      delegate.delete(modelId);
      return null;
    });
  }

  @Override
  public AliasTable readAliases() throws IOException {
    return observe("read_aliases", delegate::readAliases);
  }

  @Override
  public boolean writeAliases(Map<String, String> aliases, String expectedVersion)
      throws IOException {
    return observe("write_aliases", () -> delegate.writeAliases(aliases, expectedVersion));
  }

  @Override
  public void export(ServedModel model, OutputStream out) throws IOException {
    observe("export", () -> {
      delegate.export(model, out);
      return null;
    });
  }

  @Override
  public ServedModel read(InputStream in, String modelId, Reserver reserver) throws IOException {
    return observe("read", () -> delegate.read(in, modelId, reserver));
  }
}
