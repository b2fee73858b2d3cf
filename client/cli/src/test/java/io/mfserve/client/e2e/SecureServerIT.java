package io.mfserve.client.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.mfserve.client.MfChannels;
import io.mfserve.client.MfClient;
import io.mfserve.client.MfServeException;
import io.mfserve.server.testing.TestPki;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server jar with mutual TLS, a plaintext health port and bearer tokens, driven by mfctl
 * (--tls --ca --cert --key --token, MFSERVE_TOKEN) and by the library's {@link MfChannels}.
 */
class SecureServerIT {
  static final String READ = "it-read-token";
  static final String WRITE = "it-write-token";

  @TempDir
  static Path dir;
  static TestPki ca;
  static TestPki.Pair client;
  static ServerProcess server;
  static int healthPort;

  @BeforeAll
  static void start() throws Exception {
    ca = TestPki.newCa(dir.resolve("pki"), "ca");
    TestPki.Pair serverPair = ca.issue("mfserve");
    client = ca.issue("mfctl");
    Path tokens = dir.resolve("tokens");
    Files.write(tokens, List.of("# test tokens", sha(READ) + " read dashboards",
        sha(WRITE) + " write ci"), StandardCharsets.UTF_8);
    healthPort = ServerProcess.freePort();
    server = ServerProcess.start("--tls-cert", serverPair.cert().toString(), "--tls-key",
        serverPair.key().toString(), "--tls-client-ca", ca.caCert().toString(),
        "--health-port", Integer.toString(healthPort), "--auth-tokens", tokens.toString(),
        "--shutdown-grace", "2s");
  }

  @AfterAll
  static void stop() {
    if (server != null) {
      server.close();
    }
  }

  static String sha(String token) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
        .digest(token.getBytes(StandardCharsets.UTF_8)));
  }

  private record Run(int exit, String out, String err) { }

  private Run mfctl(Map<String, String> env, String... args)
      throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of(ServerProcess.java(), "-jar",
        ServerProcess.jar("mfserve.mfctl.jar").toString(), "--target", server.target()));
    cmd.addAll(List.of(args));
    Path out = Files.createTempFile(dir, "out", ".txt");
    Path err = Files.createTempFile(dir, "err", ".txt");
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(out.toFile())
        .redirectError(err.toFile());
    pb.environment().remove("MFSERVE_TOKEN");
    pb.environment().putAll(env);
    Process p = pb.start();
    assertTrue(p.waitFor(120, TimeUnit.SECONDS), "mfctl " + String.join(" ", args));
    return new Run(p.exitValue(), Files.readString(out),
        MfctlEndToEndIT.withoutJvmWarnings(Files.readString(err)));
  }

  private List<String> tls(String... rest) {
    List<String> a = new ArrayList<>(List.of("--tls", "--ca", ca.caCert().toString(),
        "--cert", client.cert().toString(), "--key", client.key().toString()));
    a.addAll(List.of(rest));
    return a;
  }

  private Run mfctl(List<String> args) throws IOException, InterruptedException {
    return mfctl(Map.of(), args.toArray(String[]::new));
  }

  private Path ratings() throws IOException {
    StringBuilder sb = new StringBuilder();
    Random rnd = new Random(2);
    for (int u = 1; u <= 60; u++) {
      for (int i = 1; i <= 40; i++) {
        if (rnd.nextDouble() < 0.3) {
          sb.append(u).append('\t').append(i).append('\t').append(1 + rnd.nextInt(5))
              .append('\n');
        }
      }
    }
    Path data = dir.resolve("u.data");
    Files.writeString(data, sb.toString());
    return data;
  }

  @Test
  void mfctl_tlsAndWriteToken_fitsAndReadTokenQueries() throws Exception {
    Run fit = mfctl(tls("--token", WRITE, "fit", ratings().toString(), "--factors", "4",
        "--model-id", "secure", "--iterations", "3"));
    assertEquals(0, fit.exit(), fit.err());
    Run predict = mfctl(Map.of("MFSERVE_TOKEN", READ),
        tls("predict", "secure", "--user", "1", "--item", "2").toArray(String[]::new));
    assertEquals(0, predict.exit(), predict.err());
    Run readFit = mfctl(tls("--token", READ, "fit", ratings().toString(), "--factors", "4"));
    assertEquals(1, readFit.exit(), readFit.err());
    assertTrue(readFit.err().contains("PERMISSION_DENIED"), readFit.err());
    Run load = mfctl(tls("--token", READ, "--json", "loadtest", "--rpc", "recommend",
        "--model", "secure", "--concurrency", "4", "--channels", "2", "--duration", "1s",
        "--warmup", "0s"));
    assertEquals(0, load.exit(), load.err());
    assertTrue(load.out().contains("\"failed\":0,"), load.out());
  }

  @Test
  void mfctl_withoutToken_isUnauthenticated() throws Exception {
    Run r = mfctl(tls("models"));
    assertEquals(1, r.exit(), r.err());
    assertTrue(r.err().contains("UNAUTHENTICATED"), r.err());
    assertTrue(!r.err().contains(READ) && !r.err().contains(WRITE));
  }

  @Test
  void mfctl_plaintextOrNoClientCertificate_cannotConnect() throws Exception {
    Run plain = mfctl(List.of("--token", READ, "models"));
    assertEquals(3, plain.exit(), plain.err());
    Run noCert = mfctl(List.of("--tls", "--ca", ca.caCert().toString(), "--token", READ,
        "models"));
    assertEquals(3, noCert.exit(), noCert.err());
  }

  @Test
  void library_mfChannelsWithMutualTlsAndToken_listsModels() throws Exception {
    ManagedChannel channel = MfChannels.open(server.target(), MfChannels.tls(
        ca.caCert().toFile(), client.cert().toFile(), client.key().toFile()));
    try {
      MfClient reader = new MfClient(MfChannels.withToken(channel, READ));
      reader.listModels();
      MfClient anonymous = new MfClient(channel);
      MfServeException e = org.junit.jupiter.api.Assertions.assertThrows(
          MfServeException.class, anonymous::listModels);
      assertEquals(io.grpc.Status.Code.UNAUTHENTICATED, e.code());
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void healthPort_plaintext_isServingWithoutToken() throws Exception {
    ManagedChannel c = Grpc.newChannelBuilderForAddress("localhost", healthPort,
        InsecureChannelCredentials.create()).build();
    try {
      assertEquals(ServingStatus.SERVING, HealthGrpc.newBlockingStub(c)
          .withDeadlineAfter(10, TimeUnit.SECONDS)
          .check(HealthCheckRequest.getDefaultInstance()).getStatus());
    } finally {
      c.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }
}
