package io.mfserve.server.security;

import io.grpc.ServerCredentials;
import io.grpc.TlsServerCredentials;
import io.grpc.util.AdvancedTlsX509KeyManager;
import io.grpc.util.AdvancedTlsX509TrustManager;
import io.grpc.util.CertificateUtils;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * TLS server credentials whose certificate, key and (for mutual TLS) client CA are re-read from
 * their PEM files when the files change, so that cert-manager and the like can rotate them in
 * place without a restart.
 *
 * <p>The handshakes use grpc-java's {@link AdvancedTlsX509KeyManager} and
 * {@link AdvancedTlsX509TrustManager}, whose credentials can be swapped at any time: a new
 * handshake uses what was loaded last, while connections already established (and the calls on
 * them) keep the session they negotiated. The files are polled here rather than with their own
 * {@code updateIdentityCredentials(File, File, period, ...)}, because in grpc 1.83 that raises
 * any period under one minute to one minute, and reloads only when <em>both</em> the
 * certificate's and the key's modification times changed. This poll reloads when either
 * changed, and only once the key matches the certificate (a rotation seen half done, new key
 * and old certificate, is retried on the next poll instead of serving a broken pair). A file
 * that fails to parse is logged and the previous credentials stay in use.
 *
 * <p>{@link #close()} stops the polling thread.
 */
public final class ServerTls implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(ServerTls.class.getName());

  private final ServerCredentials credentials;
  private final ScheduledExecutorService poller;
  private final AdvancedTlsX509KeyManager keys;
  private final AdvancedTlsX509TrustManager trust;
  private final Path cert;
  private final Path key;
  private final Path clientCa;
  private long certTime;
  private long keyTime;
  private long caTime;
  private volatile long reloads;

  private ServerTls(Path cert, Path key, Path clientCa) throws GeneralSecurityException {
    this.cert = cert;
    this.key = key;
    this.clientCa = clientCa;
    this.keys = new AdvancedTlsX509KeyManager();
    TlsServerCredentials.Builder b = TlsServerCredentials.newBuilder().keyManager(keys);
    if (clientCa != null) {
      // Client certificates carry no host name to check; the chain is what is verified.
      this.trust = AdvancedTlsX509TrustManager.newBuilder()
          .setVerification(AdvancedTlsX509TrustManager.Verification.CERTIFICATE_ONLY_VERIFICATION)
          .build();
      b.trustManager(trust).clientAuth(TlsServerCredentials.ClientAuth.REQUIRE);
    } else {
      this.trust = null;
    }
    this.credentials = b.build();
    this.poller = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "mfserve-tls-reload");
      t.setDaemon(true);
      return t;
    });
  }

  /**
   * Loads the files and starts watching them.
   *
   * @param cert the server's certificate chain (PEM)
   * @param key its private key (PKCS#8 PEM)
   * @param clientCa CA certificates (PEM) that client certificates must chain to; {@code null}
   *     for TLS without client certificates
   * @param refresh how often the files' modification times are checked
   * @throws IOException if a file cannot be read
   * @throws GeneralSecurityException if a file does not hold a certificate or key, or the key
   *     does not belong to the certificate
   */
  public static ServerTls load(Path cert, Path key, Path clientCa, Duration refresh)
      throws IOException, GeneralSecurityException {
    ServerTls tls = new ServerTls(cert, key, clientCa);
    try {
      tls.reload(true);
    } catch (IOException | GeneralSecurityException | RuntimeException e) {
      tls.poller.shutdownNow();
      throw e;
    }
    long period = Math.max(1, refresh.toMillis());
    tls.poller.scheduleWithFixedDelay(tls::poll, period, period, TimeUnit.MILLISECONDS);
    return tls;
  }

  private void poll() {
    try {
      reload(false);
    } catch (IOException | GeneralSecurityException | RuntimeException e) {
      LOG.warning("TLS files: keeping the previous credentials; cannot load " + cert + ", "
          + key + (clientCa == null ? "" : ", " + clientCa) + ": " + e);
    }
  }

  /** Loads what changed since the last load (everything when {@code force}). */
  private synchronized void reload(boolean force) throws IOException, GeneralSecurityException {
    long ct = Files.getLastModifiedTime(cert).toMillis();
    long kt = Files.getLastModifiedTime(key).toMillis();
    if (force || ct != certTime || kt != keyTime) {
      X509Certificate[] chain;
      PrivateKey privateKey;
      try (InputStream c = Files.newInputStream(cert); InputStream k = Files.newInputStream(key)) {
        chain = CertificateUtils.getX509Certificates(c);
        privateKey = CertificateUtils.getPrivateKey(k);
      }
      if (chain.length == 0) {
        throw new GeneralSecurityException(cert + " holds no certificate");
      }
      checkPair(chain[0], privateKey);
      keys.updateIdentityCredentials(chain, privateKey);
      certTime = ct;
      keyTime = kt;
      if (!force) {
        reloads++;
        LOG.info("TLS: new server certificate " + chain[0].getSubjectX500Principal().getName()
            + ", serial " + chain[0].getSerialNumber().toString(16) + ", valid until "
            + chain[0].getNotAfter().toInstant());
      }
    }
    if (clientCa != null) {
      long at = Files.getLastModifiedTime(clientCa).toMillis();
      if (force || at != caTime) {
        trust.updateTrustCredentials(clientCa.toFile());
        caTime = at;
        if (!force) {
          reloads++;
          LOG.info("TLS: re-read client CA " + clientCa);
        }
      }
    }
  }

  /** Fails unless {@code key} is the private half of {@code cert}'s public key. */
  static void checkPair(X509Certificate cert, PrivateKey key) throws GeneralSecurityException {
    String alg = switch (key.getAlgorithm()) {
      case "RSA" -> "SHA256withRSA";
      case "EC" -> "SHA256withECDSA";
      case "Ed25519", "EdDSA" -> "Ed25519";
      default -> null;
    };
    if (alg == null) {
      return;
    }
    byte[] probe = "mfserve key check".getBytes(StandardCharsets.US_ASCII);
    Signature signer = Signature.getInstance(alg);
    signer.initSign(key);
    signer.update(probe);
    byte[] sig = signer.sign();
    Signature verifier = Signature.getInstance(alg);
    verifier.initVerify(cert.getPublicKey());
    verifier.update(probe);
    if (!verifier.verify(sig)) {
      throw new GeneralSecurityException("the private key does not belong to the certificate"
          + " (a rotation half done?)");
    }
  }

  /** How many times changed files were loaded after the start (for tests and logs). */
  public long reloads() {
    return reloads;
  }

  /** Credentials for {@code Grpc.newServerBuilderForPort} or {@code NettyServerBuilder}. */
  public ServerCredentials credentials() {
    return credentials;
  }

  @Override
  public void close() {
    poller.shutdownNow();
  }
}
