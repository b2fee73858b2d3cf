package io.mfserve.client.e2e;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The real server jar started as a child process on a free port, for black-box tests. Its
 * output goes to a log file that failure messages quote.
 *
 * <p>{@link #start(String...)} covers the common case; {@link #builder()} adds JVM options,
 * environment variables and a fixed port. {@link #kill()} ends the process with SIGKILL (no
 * shutdown hook runs: a crash), and {@link #restart()} starts the same command again on the
 * same port, as a supervisor would.
 */
final class ServerProcess implements AutoCloseable {
  private final Builder spec;
  private final Process process;
  private final int port;
  private final Path log;

  private ServerProcess(Builder spec, Process process, int port, Path log) {
    this.spec = spec;
    this.process = process;
    this.port = port;
    this.log = log;
  }

  static Path jar(String property) {
    String path = System.getProperty(property);
    if (path == null) {
      throw new IllegalStateException("system property " + property + " is not set; run the"
          + " end-to-end tests with mvn verify from the repository root");
    }
    Path p = Path.of(path).toAbsolutePath().normalize();
    if (!Files.isRegularFile(p)) {
      throw new IllegalStateException(p + " does not exist; build it first (mvn -B package"
          + " from the repository root)");
    }
    return p;
  }

  static String java() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  /** Returns a free TCP port on this host (free when asked; nothing holds it afterwards). */
  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  /** Starts the server with {@code flags} and waits until it accepts connections. */
  static ServerProcess start(String... flags) throws IOException, InterruptedException {
    return builder().flags(flags).start();
  }

  /** Returns a builder for a server with JVM options, environment or port of its own. */
  static Builder builder() {
    return new Builder();
  }

  /** What to start: JVM options, server flags, environment, port. */
  static final class Builder {
    private final List<String> jvmArgs = new ArrayList<>(List.of("-Xmx1g"));
    private final List<String> flags = new ArrayList<>();
    private final Map<String, String> env = new LinkedHashMap<>();
    private int port;

    private Builder() { }

    /** Replaces the JVM options (default {@code -Xmx1g}). */
    Builder jvmArgs(String... args) {
      jvmArgs.clear();
      jvmArgs.addAll(List.of(args));
      return this;
    }

    /** Adds server flags, after {@code --port}. */
    Builder flags(String... more) {
      flags.addAll(List.of(more));
      return this;
    }

    /** Adds flags. */
    Builder flags(List<String> more) {
      flags.addAll(more);
      return this;
    }

    /** Sets an environment variable of the server process. */
    Builder env(String name, String value) {
      env.put(name, value);
      return this;
    }

    /** Sets environment variables of the server process. */
    Builder env(Map<String, String> vars) {
      env.putAll(vars);
      return this;
    }

    /** Listens on {@code p}; 0 (the default) picks a free port. */
    Builder port(int p) {
      port = p;
      return this;
    }

    /** Starts the server and waits until it accepts connections. */
    ServerProcess start() throws IOException, InterruptedException {
      return launch(this, port == 0 ? freePort() : port);
    }
  }

  private static ServerProcess launch(Builder spec, int port)
      throws IOException, InterruptedException {
    // A port just given up by a killed process is normally free at once (the server socket
    // goes with the process); retry a few times in case the kernel disagrees.
    for (int attempt = 0; ; attempt++) {
      ServerProcess server = launchOnce(spec, port);
      String failure = server.awaitListening(60);
      if (failure == null) {
        return server;
      }
      server.close();
      if (!failure.contains("Address already in use") || attempt >= 20) {
        throw new IllegalStateException(failure);
      }
      Thread.sleep(250);
    }
  }

  private static ServerProcess launchOnce(Builder spec, int port) throws IOException {
    Path log = Files.createTempFile("mfserve-server-", ".log");
    List<String> cmd = new ArrayList<>();
    cmd.add(java());
    cmd.addAll(spec.jvmArgs);
    cmd.addAll(List.of("-jar", jar("mfserve.server.jar").toString(), "--port",
        Integer.toString(port)));
    cmd.addAll(spec.flags);
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(log.toFile());
    pb.environment().putAll(spec.env);
    return new ServerProcess(spec, pb.start(), port, log);
  }

  /** Waits for the start-up line; returns null when listening, else what went wrong. */
  private String awaitListening(int seconds) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (!logText().contains("listening on port")) {
      if (!process.isAlive()) {
        return "server exited with " + process.exitValue() + ":\n" + logText();
      }
      if (System.nanoTime() > deadline) {
        return "server did not start in " + seconds + " s:\n" + logText();
      }
      Thread.sleep(50);
    }
    return null;
  }

  int port() {
    return port;
  }

  String target() {
    return "localhost:" + port;
  }

  Process process() {
    return process;
  }

  boolean isAlive() {
    return process.isAlive();
  }

  String logText() {
    try {
      return Files.readString(log);
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }

  /** Returns at most the last {@code chars} characters of the log, for failure messages. */
  String logTail(int chars) {
    String t = logText();
    return t.length() <= chars ? t : "…" + t.substring(t.length() - chars);
  }

  /** Sends SIGTERM and waits for the exit code. */
  int terminate(long seconds) throws InterruptedException {
    process.destroy();
    if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new IllegalStateException("server did not exit " + seconds + " s after SIGTERM:\n"
          + logText());
    }
    return process.exitValue();
  }

  /**
   * Kills the process with SIGKILL ({@link Process#destroyForcibly()} on Unix): no shutdown
   * hook, no drain, writes cut wherever they were. Waits until it is gone; keeps the log.
   */
  void kill() throws InterruptedException {
    process.destroyForcibly();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      throw new IllegalStateException("server still alive 30 s after SIGKILL");
    }
  }

  /**
   * Starts the same command (JVM options, flags, environment) again on the same port, once
   * this process has exited (after {@link #kill()} or {@link #terminate}), and waits until it
   * accepts connections. This object keeps the old process's log until {@link #close()}.
   */
  ServerProcess restart() throws IOException, InterruptedException {
    if (process.isAlive()) {
      throw new IllegalStateException("still running; kill() or terminate() it first");
    }
    return launch(spec, port);
  }

  @Override
  public void close() {
    process.destroyForcibly();
    try {
      process.waitFor(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    try {
      Files.deleteIfExists(log);
    } catch (IOException e) {
      // a temp file: nothing to do
    }
  }
}
