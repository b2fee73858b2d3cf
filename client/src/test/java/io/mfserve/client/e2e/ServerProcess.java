package io.mfserve.client.e2e;

import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The real server jar started as a child process on a free port, for black-box tests. Its
 * output goes to a log file that failure messages quote.
 */
final class ServerProcess implements AutoCloseable {
  private final Process process;
  private final int port;
  private final Path log;

  private ServerProcess(Process process, int port, Path log) {
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

  /** Starts the server with {@code flags} and waits until it accepts connections. */
  static ServerProcess start(String... flags) throws IOException, InterruptedException {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Path log = Files.createTempFile("mfserve-server-", ".log");
    List<String> cmd = new ArrayList<>(List.of(java(), "-Xmx1g", "-jar",
        jar("mfserve.server.jar").toString(), "--port", Integer.toString(port)));
    cmd.addAll(List.of(flags));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(log.toFile()).start();
    ServerProcess server = new ServerProcess(p, port, log);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!server.logText().contains("listening on port")) {
      if (!p.isAlive()) {
        throw new IllegalStateException("server exited with " + p.exitValue() + ":\n"
            + server.logText());
      }
      if (System.nanoTime() > deadline) {
        server.close();
        throw new IllegalStateException("server did not start in 60 s:\n" + server.logText());
      }
      Thread.sleep(100);
    }
    return server;
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

  String logText() {
    try {
      return Files.readString(log);
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
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

  @Override
  public void close() {
    process.destroyForcibly();
    try {
      process.waitFor(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    new File(log.toString()).delete();
  }
}
