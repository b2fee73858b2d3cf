package io.mfserve.client.e2e;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * nginx (Debian's {@code /usr/sbin/nginx}, or {@code $MFSERVE_NGINX}) as a child process of
 * the test, in the foreground, with a prefix directory of its own for its configuration,
 * logs, pid and temporary files: it needs no system directory, no running nginx service and no
 * root (as root, its workers run as nginx's default unprivileged user, which is why the prefix
 * is world-readable).
 */
final class NginxProcess implements AutoCloseable {
  private static final Pattern UPSTREAM = Pattern.compile(
      "(?s)(upstream\\s+mfserve\\s*\\{)(.*?)(\\n\\s*\\})");
  private static final Pattern SERVER = Pattern.compile(
      "(?m)^(\\s*server\\s+)[^\\s;]+:\\d+([^;\\n]*;)");
  private static final Pattern LISTEN = Pattern.compile("(?m)^(\\s*listen\\s+)[^\\s;]+");

  private final Process process;
  private final Path prefix;
  private final int port;

  private NginxProcess(Process process, Path prefix, int port) {
    this.process = process;
    this.prefix = prefix;
    this.port = port;
  }

  /**
   * Returns the nginx binary: {@code $MFSERVE_NGINX}, {@code /usr/sbin/nginx} or the first
   * {@code nginx} on the PATH. Without one the calling test is skipped with a line saying how
   * to install it, or fails when {@code MFSERVE_REQUIRE_CROSS_LANGUAGE} is set (CI sets it,
   * as for the Python and Node.js tests, so that a missing tool never passes unnoticed).
   */
  static Path binary() {
    List<Path> candidates = new ArrayList<>();
    String env = System.getenv("MFSERVE_NGINX");
    if (env != null && !env.isBlank()) {
      candidates.add(Path.of(env));
    }
    candidates.add(Path.of("/usr/sbin/nginx"));
    for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
      if (!dir.isEmpty()) {
        candidates.add(Path.of(dir, "nginx"));
      }
    }
    for (Path p : candidates) {
      if (Files.isRegularFile(p) && Files.isExecutable(p)) {
        return p;
      }
    }
    String why = "nginx is not installed; install it with: apt-get install -y nginx"
        + " (or point MFSERVE_NGINX at a binary)";
    String required = System.getenv("MFSERVE_REQUIRE_CROSS_LANGUAGE");
    if (required != null && !required.isEmpty()) {
      Assertions.fail(why + " (MFSERVE_REQUIRE_CROSS_LANGUAGE is set)");
    }
    System.out.println("SKIPPED: " + why);
    Assumptions.abort(why);
    throw new AssertionError("unreachable");
  }

  /**
   * Returns {@code conf} with the {@code server HOST:PORT ...;} lines of
   * {@code upstream mfserve} pointed, in order, at {@code 127.0.0.1:upstreamPorts[i]} (their
   * parameters kept) and every {@code listen} at {@code 127.0.0.1:listenPort}.
   */
  static String render(String conf, List<Integer> upstreamPorts, int listenPort) {
    Matcher up = UPSTREAM.matcher(conf);
    if (!up.find()) {
      throw new IllegalArgumentException("no 'upstream mfserve { ... }' block");
    }
    Matcher servers = SERVER.matcher(up.group(2));
    StringBuilder body = new StringBuilder();
    int n = 0;
    while (servers.find()) {
      if (n >= upstreamPorts.size()) {
        throw new IllegalArgumentException("more server lines than the " + upstreamPorts.size()
            + " replicas");
      }
      servers.appendReplacement(body, Matcher.quoteReplacement(servers.group(1) + "127.0.0.1:"
          + upstreamPorts.get(n++) + servers.group(2)));
    }
    servers.appendTail(body);
    if (n != upstreamPorts.size()) {
      throw new IllegalArgumentException("upstream mfserve has " + n + " server lines, not "
          + upstreamPorts.size());
    }
    String out = conf.substring(0, up.start(2)) + body + conf.substring(up.end(2));
    Matcher listen = LISTEN.matcher(out);
    if (!listen.find()) {
      throw new IllegalArgumentException("no listen line");
    }
    return listen.replaceAll(m -> Matcher.quoteReplacement(m.group(1) + "127.0.0.1:"
        + listenPort));
  }

  /**
   * Starts {@code nginx} with {@code conf} (already rendered) in a fresh prefix directory and
   * waits until it accepts connections on {@code port}.
   */
  static NginxProcess start(Path nginx, String conf, int port)
      throws IOException, InterruptedException {
    Path prefix = Files.createTempDirectory("mfserve-nginx-");
    // As root, nginx's workers drop to an unprivileged user, which must reach the temp
    // directories the master creates (and chowns) under the prefix.
    Files.setPosixFilePermissions(prefix, PosixFilePermissions.fromString("rwxr-xr-x"));
    Files.createDirectories(prefix.resolve("logs"));
    Path confFile = prefix.resolve("nginx.conf");
    Files.writeString(confFile, conf);
    List<String> cmd = List.of(nginx.toString(), "-p", prefix + "/", "-c", confFile.toString(),
        "-g", "daemon off; pid " + prefix.resolve("logs/nginx.pid") + ";");
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(prefix.resolve("logs/stdout.log").toFile()).start();
    NginxProcess n = new NginxProcess(p, prefix, port);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (true) {
      if (!p.isAlive()) {
        String why = "nginx exited with " + p.exitValue() + ": " + String.join(" ", cmd) + "\n"
            + n.log("stdout.log") + n.log("error.log");
        n.close();
        throw new IllegalStateException(why);
      }
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress("127.0.0.1", port), 200);
        return n;
      } catch (IOException e) {
        if (System.nanoTime() > deadline) {
          String why = "nginx does not accept connections on " + port + " after 20 s:\n"
              + n.log("stdout.log") + n.log("error.log");
          n.close();
          throw new IllegalStateException(why);
        }
        Thread.sleep(50);
      }
    }
  }

  int port() {
    return port;
  }

  /** The text of {@code logs/NAME}, or "" if there is none. */
  String log(String name) {
    try {
      Path p = prefix.resolve("logs").resolve(name);
      return Files.exists(p) ? Files.readString(p) : "";
    } catch (IOException e) {
      return "(" + e + ")";
    }
  }

  /** The access log's lines (see log_format mfserve in deploy/nginx/mfserve.conf). */
  List<String> accessLog() {
    List<String> out = new ArrayList<>();
    for (String line : log("access.log").split("\n")) {
      if (!line.isBlank()) {
        out.add(line);
      }
    }
    return out;
  }

  /** Stops nginx (SIGTERM: the master stops its workers) and removes the prefix. */
  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    try (Stream<Path> all = Files.walk(prefix)) {
      for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      // a temp directory: nothing to do
    }
  }
}
