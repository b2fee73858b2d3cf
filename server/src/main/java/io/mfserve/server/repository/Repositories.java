package io.mfserve.server.repository;

import io.mfserve.server.model.fit.SolverRegistry;
import io.mfserve.server.model.store.ModelRepository;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;

/** Opens the repository a {@link RepositoryConfig} names. */
public final class Repositories {
  private Repositories() { }

  /**
   * Returns the repository of {@code config}: in memory without a URI, else snapshots in the
   * directory or bucket it names.
   *
   * @throws IllegalArgumentException for a URI this server cannot use, with a message for the
   *     operator
   */
  public static ModelRepository open(RepositoryConfig config, SolverRegistry solvers) {
    if (config.uri() == null || config.uri().isBlank()) {
      return new InMemoryRepository(solvers);
    }
    URI uri;
    try {
      uri = new URI(config.uri());
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException("--model-store " + config.uri() + " is not a URI: "
          + e.getMessage());
    }
    try {
      if ("file".equals(uri.getScheme())) {
        if (uri.getPath() == null || uri.getPath().isEmpty()) {
          throw new IllegalArgumentException("--model-store " + config.uri() + ": give an"
              + " absolute path, file:///var/lib/mfserve");
        }
        return new SnapshotRepository(new FileObjectStore(Path.of(uri)), solvers);
      }
      if ("s3".equals(uri.getScheme())) {
        return new SnapshotRepository(openS3(uri, config), solvers);
      }
    } catch (IOException e) {
      throw new IllegalArgumentException("--model-store " + config.uri() + " cannot be opened: "
          + e.getMessage(), e);
    }
    throw new IllegalArgumentException("--model-store " + config.uri() + ": use file:///path"
        + " or s3://bucket/prefix");
  }

  private static ObjectStore openS3(URI uri, RepositoryConfig config) throws IOException {
    URI endpoint;
    try {
      endpoint = config.s3Endpoint() == null || config.s3Endpoint().isBlank() ? null
          : URI.create(config.s3Endpoint().trim());
      return S3ObjectStore.create(uri, new S3Options(endpoint, config.s3PathStyle(),
          config.s3Region()));
    } catch (IllegalArgumentException e) {
      throw new IOException("--s3-endpoint " + config.s3Endpoint() + " or the S3 options are"
          + " not usable: " + e.getMessage(), e);
    }
  }
}
