package io.mfserve.client.cli;

import io.grpc.BindableService;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.mfserve.client.GrpcCleanupExtension;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Runs {@link Mfctl} in process against fake gRPC services: before each test it starts an
 * in-process server with the given services, after each test it shuts the server down. Register
 * it with {@code @RegisterExtension} after the fields holding the services. Not thread-safe: one
 * test at a time, like the JUnit lifecycle it follows.
 */
final class MfctlHarness implements BeforeEachCallback, AfterEachCallback {
  private final GrpcCleanupExtension grpc = new GrpcCleanupExtension();
  private final BindableService[] services;
  private final boolean direct;
  private String serverName;
  private String out = "";
  private byte[] outBytes = new byte[0];
  private String err = "";

  private MfctlHarness(boolean direct, BindableService... services) {
    this.direct = direct;
    this.services = services.clone();
  }

  /** Server and channel run calls on the calling thread: deterministic, for most tests. */
  static MfctlHarness direct(BindableService... services) {
    return new MfctlHarness(true, services);
  }

  /** Server and channel use executors, so calls complete on other threads, as over a network. */
  static MfctlHarness threaded(BindableService... services) {
    return new MfctlHarness(false, services);
  }

  @Override
  public void beforeEach(ExtensionContext context) throws Exception {
    serverName = InProcessServerBuilder.generateName();
    InProcessServerBuilder server = InProcessServerBuilder.forName(serverName);
    if (direct) {
      server.directExecutor();
    }
    for (BindableService s : services) {
      server.addService(s);
    }
    grpc.register(server.build().start());
  }

  @Override
  public void afterEach(ExtensionContext context) throws InterruptedException {
    grpc.afterEach(context);
  }

  /**
   * Runs mfctl with {@code args} against the fake, capturing stdout and stderr for {@link #out()}
   * and {@link #err()}; mfctl shuts its channel down itself. Returns mfctl's exit code.
   */
  int mfctl(String... args) {
    ByteArrayOutputStream o = new ByteArrayOutputStream();
    ByteArrayOutputStream e = new ByteArrayOutputStream();
    int code = Mfctl.run(args, new PrintStream(o, true, StandardCharsets.UTF_8),
        new PrintStream(e, true, StandardCharsets.UTF_8), target -> {
          InProcessChannelBuilder channel = InProcessChannelBuilder.forName(serverName);
          return (direct ? channel.directExecutor() : channel).build();
        });
    outBytes = o.toByteArray();
    out = o.toString(StandardCharsets.UTF_8);
    err = e.toString(StandardCharsets.UTF_8);
    return code;
  }

  /** What the last {@link #mfctl} run wrote to stdout. */
  String out() {
    return out;
  }

  /** What the last {@link #mfctl} run wrote to stdout, as bytes (binary output). */
  byte[] outBytes() {
    return outBytes.clone();
  }

  /** What the last {@link #mfctl} run wrote to stderr. */
  String err() {
    return err;
  }
}
