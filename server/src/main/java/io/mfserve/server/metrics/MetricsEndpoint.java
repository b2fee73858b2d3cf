package io.mfserve.server.metrics;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.logging.Logger;

/**
 * Serves the Prometheus text format at {@code /metrics} on its own port with the JDK's
 * built-in HTTP server (one daemon thread: scrapes are rare and quick). Started and stopped by
 * {@link io.mfserve.server.MfServer} with the gRPC server; anything but GET or HEAD on
 * {@code /metrics} gets 405, any other path 404.
 */
public final class MetricsEndpoint implements AutoCloseable {
  /** The Prometheus text exposition format, version 0.0.4. */
  static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
  private static final Logger LOG = Logger.getLogger(MetricsEndpoint.class.getName());

  private final PrometheusMeterRegistry registry;
  private final int port;
  private final AutoCloseable binders;
  private HttpServer http;
  private ExecutorService executor;

  MetricsEndpoint(PrometheusMeterRegistry registry, int port, AutoCloseable binders) {
    this.registry = registry;
    this.port = port;
    this.binders = binders;
  }

  /** Starts listening; port 0 picks a free one (see {@link #port()}). */
  public synchronized void start() throws IOException {
    if (http != null) {
      return;
    }
    http = HttpServer.create(new InetSocketAddress(port), 16);
    http.createContext("/", this::handle);
    executor = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "mfserve-metrics");
      t.setDaemon(true);
      return t;
    });
    http.setExecutor(executor);
    http.start();
    LOG.info("metrics at http://0.0.0.0:" + port() + "/metrics");
  }

  /** Returns the port listened on, or the configured one before {@link #start()}. */
  public synchronized int port() {
    return http == null ? port : http.getAddress().getPort();
  }

  /** Returns the registry served. */
  public PrometheusMeterRegistry registry() {
    return registry;
  }

  private void handle(HttpExchange ex) throws IOException {
    try (ex) {
      if (!"/metrics".equals(ex.getRequestURI().getPath())) {
        ex.sendResponseHeaders(404, -1);
        return;
      }
      String method = ex.getRequestMethod();
      if (!"GET".equals(method) && !"HEAD".equals(method)) {
        ex.getResponseHeaders().set("Allow", "GET, HEAD");
        ex.sendResponseHeaders(405, -1);
        return;
      }
      byte[] body = registry.scrape().getBytes(StandardCharsets.UTF_8);
      ex.getResponseHeaders().set("Content-Type", CONTENT_TYPE);
      if ("HEAD".equals(method)) {
        ex.sendResponseHeaders(200, -1);
        return;
      }
      ex.sendResponseHeaders(200, body.length);
      try (OutputStream out = ex.getResponseBody()) {
        out.write(body);
      }
    } catch (RuntimeException e) {
      LOG.log(java.util.logging.Level.WARNING, "metrics scrape failed", e);
      throw e;
    }
  }

  /** Stops listening and the JVM meters that hold resources (the GC listener). */
  @Override
  public synchronized void close() {
    if (http != null) {
      http.stop(0);
      executor.shutdownNow();
      http = null;
    }
    try {
      binders.close();
    } catch (Exception e) {
      throw e instanceof RuntimeException re ? re : new UncheckedIOException(
          new IOException(e));
    }
    registry.close();
  }
}
