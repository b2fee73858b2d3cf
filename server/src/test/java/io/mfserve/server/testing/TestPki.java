package io.mfserve.server.testing;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Throw-away certificates for TLS tests, made with Debian's {@code openssl} in a directory the
 * test owns (no key is ever committed): a CA, and leaf certificates it signs, valid for
 * {@code localhost} and {@code 127.0.0.1}, with EC P-256 keys in PKCS#8 PEM (what grpc-java
 * reads).
 */
public final class TestPki {
  private final Path dir;
  private final String caName;
  private int serial = 100;

  /** A PEM certificate and its key. */
  public record Pair(Path cert, Path key) { }

  private TestPki(Path dir, String caName) {
    this.dir = dir;
    this.caName = caName;
  }

  /** Makes a new CA named {@code name} in {@code dir}. */
  public static TestPki newCa(Path dir, String name) throws IOException {
    Files.createDirectories(dir);
    TestPki pki = new TestPki(dir, name);
    pki.openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
        "-nodes", "-keyout", name + ".key", "-out", name + ".pem", "-days", "2",
        "-subj", "/CN=" + name);
    return pki;
  }

  /** The CA certificate (PEM). */
  public Path caCert() {
    return dir.resolve(caName + ".pem");
  }

  /** A leaf certificate with common name {@code cn}, signed by this CA, with a new serial. */
  public Pair issue(String cn) throws IOException {
    String base = caName + "-" + cn + "-" + (++serial);
    Path ext = dir.resolve(base + ".ext");
    Files.writeString(ext, "subjectAltName=DNS:localhost,IP:127.0.0.1\n"
        + "extendedKeyUsage=serverAuth,clientAuth\n");
    openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
        "-nodes", "-keyout", base + ".key", "-out", base + ".csr", "-subj", "/CN=" + cn);
    openssl("x509", "-req", "-in", base + ".csr", "-CA", caName + ".pem", "-CAkey",
        caName + ".key", "-set_serial", Integer.toString(serial), "-days", "2", "-out",
        base + ".pem", "-extfile", base + ".ext");
    return new Pair(dir.resolve(base + ".pem"), dir.resolve(base + ".key"));
  }

  /**
   * Replaces {@code target}'s files with {@code source}'s the way a rotation does: written
   * beside, then moved over atomically, key first.
   */
  public static void install(Pair source, Pair target) throws IOException {
    Path k = target.key().resolveSibling(target.key().getFileName() + ".tmp");
    Path c = target.cert().resolveSibling(target.cert().getFileName() + ".tmp");
    Files.copy(source.key(), k, StandardCopyOption.REPLACE_EXISTING);
    Files.copy(source.cert(), c, StandardCopyOption.REPLACE_EXISTING);
    Files.move(k, target.key(), StandardCopyOption.REPLACE_EXISTING,
        StandardCopyOption.ATOMIC_MOVE);
    Files.move(c, target.cert(), StandardCopyOption.REPLACE_EXISTING,
        StandardCopyOption.ATOMIC_MOVE);
  }

  /** Reads the first certificate of a PEM file. */
  public static X509Certificate read(Path pem) throws Exception {
    try (InputStream in = Files.newInputStream(pem)) {
      return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
    }
  }

  private void openssl(String... args) throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add("openssl");
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
        .start();
    try {
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new IOException("openssl " + String.join(" ", args) + " failed: " + out);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
  }
}
