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
 * <p><b>Adding a backend</b> (the S3 variant): write a {@link Kind} whose
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
    return Stream.of(Named.of("file", FileStore::create));
    // S3 hook: Stream.of(Named.of("file", FileStore::create), Named.of("s3", S3Store::create))
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
}
