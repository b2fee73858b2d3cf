package io.mfserve.server.repository;

import java.io.IOException;
import java.net.URI;

/** Opens the S3 backend that a {@link RepositoryConfig} describes. */
final class S3Stores {
  private S3Stores() { }

  static ObjectStore open(URI uri, RepositoryConfig config) throws IOException {
    URI endpoint;
    try {
      endpoint = config.s3Endpoint() == null || config.s3Endpoint().isBlank() ? null
          : URI.create(config.s3Endpoint().trim());
    } catch (IllegalArgumentException e) {
      throw new IOException("--s3-endpoint " + config.s3Endpoint() + " is not a URI", e);
    }
    try {
      return S3ObjectStore.create(uri, new S3Options(endpoint, config.s3PathStyle(),
          config.s3Region()));
    } catch (IllegalArgumentException e) {
      throw new IOException(e.getMessage(), e);
    }
  }
}
