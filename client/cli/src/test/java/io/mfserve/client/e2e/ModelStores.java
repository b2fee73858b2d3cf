package io.mfserve.client.e2e;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;

/**
 * The model repositories the repository end-to-end tests run against, one parameter each:
 * {@code @ParameterizedTest @MethodSource("io.mfserve.client.e2e.ModelStores#kinds")}.
 *
 * <p><b>Adding a backend</b> (as the S3 one is): write a {@link Kind} whose
 * {@link Kind#create()} makes an empty bucket prefix (or a MinIO container) and returns a
 * {@link ModelStoreFixture} with {@code uri() = "s3://bucket/prefix"}, the
 * {@code --s3-endpoint/--s3-path-style/--s3-region} flags in {@code serverFlags()}, the
 * credentials in {@code serverEnv()} and a listing of the prefix in {@code objectNames()};
 * then add it to {@link #kinds()} (skipping it with an assumption where its endpoint is not
 * configured). Nothing in the tests themselves names a backend.
 */
final class ModelStores {
  private ModelStores() { }

  /** A backend that makes fresh, empty repositories. */
  @FunctionalInterface
  interface Kind {
    ModelStoreFixture create() throws IOException;
  }

  /** Every backend the tests run against; each is a named {@link Kind}. */
  static Stream<Named<Kind>> kinds() {
    return Stream.of(Named.of("file", FileStore::create), Named.of("s3", S3Store::create));
  }

  /** {@code file:///…}: a fresh temporary directory. */
  static final class FileStore implements ModelStoreFixture {
    private final Path root;

    private FileStore(Path root) {
      this.root = root;
    }

    static FileStore create() throws IOException {
      return new FileStore(Files.createTempDirectory("mfserve-store-").toRealPath());
    }

    @Override
    public String uri() {
      return root.toUri().toString();
    }

    @Override
    public List<String> objectNames() throws IOException {
      List<String> out = new ArrayList<>();
      try (Stream<Path> all = Files.walk(root)) {
        for (Path p : all.toList()) {
          if (Files.isRegularFile(p)) {
            out.add(root.relativize(p).toString().replace('\\', '/'));
          }
        }
      }
      out.sort(null);
      return out;
    }

    @Override
    public void close() throws IOException {
      try (Stream<Path> all = Files.walk(root)) {
        for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
          Files.deleteIfExists(p);
        }
      }
    }

    @Override
    public String toString() {
      return uri();
    }
  }

  /**
   * {@code s3://models/PREFIX} on a real S3-compatible server (S3Proxy on loopback, its blobs in
   * a temporary directory) started for this repository; the servers under test get its endpoint
   * as flags and its credentials in their environment, as an operator would give them.
   */
  static final class S3Store implements ModelStoreFixture {
    private static final String BUCKET = "models";
    private final Path dir;
    private final io.mfserve.server.testing.S3TestServer server;
    private final software.amazon.awssdk.services.s3.S3Client admin;

    private S3Store(Path dir, io.mfserve.server.testing.S3TestServer server) {
      this.dir = dir;
      this.server = server;
      this.admin = software.amazon.awssdk.services.s3.S3Client.builder()
          .endpointOverride(server.endpoint())
          .forcePathStyle(true)
          .region(software.amazon.awssdk.regions.Region.US_EAST_1)
          .credentialsProvider(server.credentials())
          .requestChecksumCalculation(
              software.amazon.awssdk.core.checksums.RequestChecksumCalculation.WHEN_REQUIRED)
          .build();
    }

    static S3Store create() throws IOException {
      Path dir = Files.createTempDirectory("mfserve-s3-").toRealPath();
      io.mfserve.server.testing.S3TestServer server =
          io.mfserve.server.testing.S3TestServer.builder().directory(dir).start();
      server.createBucket(BUCKET);
      return new S3Store(dir, server);
    }

    @Override
    public String uri() {
      return "s3://" + BUCKET + "/repo";
    }

    @Override
    public List<String> serverFlags() {
      return List.of("--s3-endpoint", server.endpoint().toString(), "--s3-path-style");
    }

    @Override
    public java.util.Map<String, String> serverEnv() {
      return server.environment();
    }

    @Override
    public List<String> objectNames() {
      List<String> out = new ArrayList<>();
      admin.listObjectsV2Paginator(r -> r.bucket(BUCKET).prefix("repo/")).contents()
          .forEach(o -> out.add(o.key().substring("repo/".length())));
      out.sort(null);
      return out;
    }

    @Override
    public void close() throws IOException {
      admin.close();
      server.close();
      try (Stream<Path> all = Files.walk(dir)) {
        for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
          Files.deleteIfExists(p);
        }
      }
    }

    @Override
    public String toString() {
      return uri() + " at " + server.endpoint();
    }
  }
}
