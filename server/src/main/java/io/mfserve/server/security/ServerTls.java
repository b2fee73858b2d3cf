package io.mfserve.server.security;

import io.grpc.ServerCredentials;
import io.grpc.TlsServerCredentials;
import io.grpc.util.AdvancedTlsX509KeyManager;
import io.grpc.util.AdvancedTlsX509TrustManager;
import java.io.IOException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * TLS server credentials whose certificate, key and (for mutual TLS) client CA are re-read from
 * their PEM files when the files change, so that cert-manager and the like can rotate them in
 * place without a restart.
 *
 * <p>grpc-java's {@link AdvancedTlsX509KeyManager} and {@link AdvancedTlsX509TrustManager} poll
 * the files' modification times every {@code refresh}; a new handshake uses whatever was loaded
 * last, while connections already established (and the calls on them) keep the session they
 * negotiated. A file that fails to parse during a rotation (half written) is logged by grpc and
 * the previous credentials stay in use until the next poll.
 *
 * <p>{@link #close()} stops the polling thread.
 */
public final class ServerTls implements AutoCloseable {
  private final ServerCredentials credentials;
  private final ScheduledExecutorService poller;
  private final List<AutoCloseable> watches = new ArrayList<>();

  private ServerTls(ServerCredentials credentials, ScheduledExecutorService poller) {
    this.credentials = credentials;
    this.poller = poller;
  }

  /**
   * Loads the files and starts watching them.
   *
   * @param cert the server's certificate chain (PEM)
   * @param key its private key (PEM, PKCS#8 or PKCS#1)
   * @param clientCa CA certificates (PEM) that client certificates must chain to; {@code null}
   *     for TLS without client certificates
   * @param refresh how often the files are checked for changes
   * @throws IOException if a file cannot be read
   * @throws GeneralSecurityException if a file does not hold a certificate or key
   */
  public static ServerTls load(Path cert, Path key, Path clientCa, Duration refresh)
      throws IOException, GeneralSecurityException {
    ScheduledExecutorService poller = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "mfserve-tls-reload");
      t.setDaemon(true);
      return t;
    });
    long period = Math.max(1, refresh.toMillis());
    try {
      AdvancedTlsX509KeyManager keys = new AdvancedTlsX509KeyManager();
      // Loads once now (failing fast on a bad file), then polls.
      AdvancedTlsX509KeyManager.Closeable keyWatch = keys.updateIdentityCredentials(
          cert.toFile(), key.toFile(), period, TimeUnit.MILLISECONDS, poller);
      TlsServerCredentials.Builder b = TlsServerCredentials.newBuilder().keyManager(keys);
      List<AutoCloseable> watches = new ArrayList<>();
      watches.add(keyWatch::close);
      if (clientCa != null) {
        // Client certificates carry no host name to check; the chain is what is verified.
        AdvancedTlsX509TrustManager trust = AdvancedTlsX509TrustManager.newBuilder()
            .setVerification(AdvancedTlsX509TrustManager.Verification.CERTIFICATE_ONLY_VERIFICATION)
            .build();
        AdvancedTlsX509TrustManager.Closeable trustWatch = trust.updateTrustCredentials(
            clientCa.toFile(), period, TimeUnit.MILLISECONDS, poller);
        watches.add(trustWatch::close);
        b.trustManager(trust).clientAuth(TlsServerCredentials.ClientAuth.REQUIRE);
      }
      ServerTls tls = new ServerTls(b.build(), poller);
      tls.watches.addAll(watches);
      return tls;
    } catch (IOException | GeneralSecurityException | RuntimeException e) {
      poller.shutdownNow();
      throw e;
    }
  }

  /** Credentials for {@code Grpc.newServerBuilderForPort} or {@code NettyServerBuilder}. */
  public ServerCredentials credentials() {
    return credentials;
  }

  @Override
  public void close() {
    for (AutoCloseable w : watches) {
      try {
        w.close();
      } catch (Exception e) {
        // Only stops a scheduled poll; nothing to recover.
      }
    }
    poller.shutdownNow();
  }
}
