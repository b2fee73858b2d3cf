package io.mfserve.server.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.mfserve.proto.v1.FitWithProgressRequest;
import io.mfserve.proto.v1.FitWithProgressResponse;
import io.mfserve.proto.v1.ListModelsRequest;
import io.mfserve.proto.v1.MatrixFactorizationGrpc;
import io.mfserve.server.MfServer;
import io.mfserve.server.testing.Requests;
import io.mfserve.server.testing.TestPki;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** TLS and mutual TLS over a real loopback socket (Netty), with certificates made by openssl. */
class ServerTlsTest {
  @TempDir
  static Path dir;
  static TestPki ca;
  static TestPki otherCa;
  static TestPki.Pair server1;
  static TestPki.Pair client;
  static TestPki.Pair strangerClient;

  private final Deque<AutoCloseable> cleanup = new ArrayDeque<>();

  @BeforeAll
  static void pki() throws Exception {
    ca = TestPki.newCa(dir.resolve("pki"), "ca");
    otherCa = TestPki.newCa(dir.resolve("pki"), "other");
    server1 = ca.issue("server-1");
    client = ca.issue("client-1");
    strangerClient = otherCa.issue("stranger");
  }

  @AfterEach
  void close() throws Exception {
    while (!cleanup.isEmpty()) {
      cleanup.pop().close();
    }
  }

  /** A trust manager that trusts one CA and remembers the last server certificate it saw. */
  static final class Recording extends X509ExtendedTrustManager {
    final X509ExtendedTrustManager delegate;
    volatile X509Certificate last;

    Recording(Path caPem) throws Exception {
      KeyStore ks = KeyStore.getInstance("PKCS12");
      ks.load(null, null);
      ks.setCertificateEntry("ca", TestPki.read(caPem));
      TrustManagerFactory f = TrustManagerFactory.getInstance(
          TrustManagerFactory.getDefaultAlgorithm());
      f.init(ks);
      X509ExtendedTrustManager d = null;
      for (TrustManager t : f.getTrustManagers()) {
        if (t instanceof X509ExtendedTrustManager x) {
          d = x;
        }
      }
      this.delegate = d;
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String auth, SSLEngine engine)
        throws CertificateException {
      last = chain[0];
      delegate.checkServerTrusted(chain, auth, engine);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String auth, Socket socket)
        throws CertificateException {
      last = chain[0];
      delegate.checkServerTrusted(chain, auth, socket);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String auth)
        throws CertificateException {
      last = chain[0];
      delegate.checkServerTrusted(chain, auth);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String auth, SSLEngine engine)
        throws CertificateException {
      delegate.checkClientTrusted(chain, auth, engine);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String auth, Socket socket)
        throws CertificateException {
      delegate.checkClientTrusted(chain, auth, socket);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String auth)
        throws CertificateException {
      delegate.checkClientTrusted(chain, auth);
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return delegate.getAcceptedIssuers();
    }
  }

  private MfServer start(TestPki.Pair serverPair, Path clientCa, Duration refresh,
      SecureServers.GatedProvider provider) throws Exception {
    ServerTls tls = ServerTls.load(serverPair.cert(), serverPair.key(), clientCa, refresh);
    MfServer server = SecureServers.start(NettyServerBuilder.forPort(0, tls.credentials()),
        new MfServer.Guards(null, false, NettyServerBuilder.forPort(0), List.of(tls)),
        provider);
    cleanup.push(server);
    return server;
  }

  private ManagedChannel channel(int port, ChannelCredentials credentials) {
    ManagedChannel c = Grpc.newChannelBuilderForAddress("localhost", port, credentials).build();
    cleanup.push(() -> {
      c.shutdownNow();
      c.awaitTermination(5, TimeUnit.SECONDS);
    });
    return c;
  }

  private static MatrixFactorizationGrpc.MatrixFactorizationBlockingStub stub(ManagedChannel c) {
    return MatrixFactorizationGrpc.newBlockingStub(c).withDeadlineAfter(10, TimeUnit.SECONDS);
  }

  private static ChannelCredentials trusting(Path ca) throws Exception {
    return TlsChannelCredentials.newBuilder().trustManager(ca.toFile()).build();
  }

  private static Status.Code listModels(ManagedChannel c) {
    try {
      stub(c).listModels(ListModelsRequest.getDefaultInstance());
      return Status.Code.OK;
    } catch (StatusRuntimeException e) {
      return e.getStatus().getCode();
    }
  }

  @Test
  void tlsServer_plaintextClient_isRefused() throws Exception {
    MfServer server = start(server1, null, Duration.ofSeconds(60),
        new SecureServers.GatedProvider());
    assertEquals(Status.Code.UNAVAILABLE,
        listModels(channel(server.port(), InsecureChannelCredentials.create())));
  }

  @Test
  void tlsServer_clientTrustingAnotherCa_isRefused() throws Exception {
    MfServer server = start(server1, null, Duration.ofSeconds(60),
        new SecureServers.GatedProvider());
    assertEquals(Status.Code.UNAVAILABLE,
        listModels(channel(server.port(), trusting(otherCa.caCert()))));
  }

  @Test
  void tlsServer_clientTrustingItsCa_isServed() throws Exception {
    MfServer server = start(server1, null, Duration.ofSeconds(60),
        new SecureServers.GatedProvider());
    assertEquals(Status.Code.OK, listModels(channel(server.port(), trusting(ca.caCert()))));
  }

  @Test
  void mutualTls_clientWithoutCertificate_isRefused() throws Exception {
    MfServer server = start(server1, ca.caCert(), Duration.ofSeconds(60),
        new SecureServers.GatedProvider());
    assertEquals(Status.Code.UNAVAILABLE,
        listModels(channel(server.port(), trusting(ca.caCert()))));
  }

  @Test
  void mutualTls_clientCertificateFromAnotherCa_isRefused() throws Exception {
    MfServer server = start(server1, ca.caCert(), Duration.ofSeconds(60),
        new SecureServers.GatedProvider());
    ChannelCredentials creds = TlsChannelCredentials.newBuilder()
        .trustManager(ca.caCert().toFile())
        .keyManager(strangerClient.cert().toFile(), strangerClient.key().toFile()).build();
    assertEquals(Status.Code.UNAVAILABLE, listModels(channel(server.port(), creds)));
  }

  @Test
  void mutualTls_clientWithCertificate_isServed() throws Exception {
    MfServer server = start(server1, ca.caCert(), Duration.ofSeconds(60),
        new SecureServers.GatedProvider());
    ChannelCredentials creds = TlsChannelCredentials.newBuilder()
        .trustManager(ca.caCert().toFile())
        .keyManager(client.cert().toFile(), client.key().toFile()).build();
    assertEquals(Status.Code.OK, listModels(channel(server.port(), creds)));
  }

  @Test
  void load_keyOfAnotherCertificate_fails() {
    assertThrows(java.security.GeneralSecurityException.class,
        () -> ServerTls.load(server1.cert(), client.key(), null, Duration.ofSeconds(60)));
  }

  @Test
  void tlsServer_healthPort_answersServingInPlaintext() throws Exception {
    MfServer server = start(server1, ca.caCert(), Duration.ofSeconds(60),
        new SecureServers.GatedProvider());
    assertTrue(server.healthPort() > 0);
    ManagedChannel plain = channel(server.healthPort(), InsecureChannelCredentials.create());
    assertEquals(ServingStatus.SERVING, HealthGrpc.newBlockingStub(plain)
        .withDeadlineAfter(10, TimeUnit.SECONDS)
        .check(HealthCheckRequest.getDefaultInstance()).getStatus());
    // The health port serves health only.
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
        () -> stub(plain).listModels(ListModelsRequest.getDefaultInstance()));
    assertEquals(Status.Code.UNIMPLEMENTED, e.getStatus().getCode());
  }

  @Test
  void rotation_filesReplaced_newConnectionsGetNewCertificateAndOldCallFinishes()
      throws Exception {
    Path live = Files.createDirectories(dir.resolve("live-" + System.nanoTime()));
    TestPki.Pair files = new TestPki.Pair(live.resolve("tls.crt"), live.resolve("tls.key"));
    TestPki.install(ca.issue("before"), files);
    SecureServers.GatedProvider gated = new SecureServers.GatedProvider();
    MfServer server = start(files, null, Duration.ofMillis(200), gated);

    Recording firstTrust = new Recording(ca.caCert());
    ManagedChannel first = channel(server.port(), TlsChannelCredentials.newBuilder()
        .trustManager(firstTrust).build());
    CompletableFuture<FitWithProgressResponse> last = new CompletableFuture<>();
    MatrixFactorizationGrpc.newStub(first).withDeadlineAfter(60, TimeUnit.SECONDS)
        .fitWithProgress(FitWithProgressRequest.newBuilder().setFit(Requests.fit("gated", 2,
            Requests.seedMatrix(3, 4, 1))).build(), new StreamObserver<>() {
              FitWithProgressResponse seen;

              @Override
              public void onNext(FitWithProgressResponse r) {
                seen = r;
              }

              @Override
              public void onError(Throwable t) {
                last.completeExceptionally(t);
              }

              @Override
              public void onCompleted() {
                last.complete(seen);
              }
            });
    assertTrue(gated.entered.await(20, TimeUnit.SECONDS), "the fit never started");
    assertEquals("CN=before", firstTrust.last.getSubjectX500Principal().getName());

    TestPki.Pair after = ca.issue("after");
    TestPki.install(after, files);
    X509Certificate expected = TestPki.read(after.cert());
    X509Certificate seen = null;
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
    while (System.nanoTime() < until) {
      Recording trust = new Recording(ca.caCert());
      ManagedChannel fresh = channel(server.port(), TlsChannelCredentials.newBuilder()
          .trustManager(trust).build());
      assertEquals(Status.Code.OK, listModels(fresh));
      seen = trust.last;
      if (seen.getSerialNumber().equals(expected.getSerialNumber())) {
        break;
      }
      Thread.sleep(100);
    }
    assertNotNull(seen);
    assertEquals(expected.getSerialNumber(), seen.getSerialNumber(),
        "new connections still get the old certificate");
    assertEquals("CN=after", seen.getSubjectX500Principal().getName());

    // The call started before the rotation is still running on the old connection.
    gated.release.countDown();
    FitWithProgressResponse done = last.get(30, TimeUnit.SECONDS);
    assertTrue(done.hasModel(), "the last event is the model");
    // And the old connection still serves new calls with the session it negotiated.
    assertEquals(Status.Code.OK, listModels(first));
    assertEquals("CN=before", firstTrust.last.getSubjectX500Principal().getName());
  }
}
