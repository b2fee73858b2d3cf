package io.mfserve.client.e2e;

import java.io.IOException;
import java.util.List;
import java.util.Map;

/**
 * A model repository that server processes under test share: what to pass them
 * ({@code --model-store} URI, extra flags, environment) and a look at the raw objects for
 * checks that go under the server. One fixture is one empty repository, made by a
 * {@link ModelStores.Kind}; {@link #close()} removes it.
 */
interface ModelStoreFixture extends AutoCloseable {
  /** The {@code --model-store} value, e.g. {@code file:///tmp/x} or {@code s3://bucket/p}. */
  String uri();

  /** Flags the server needs besides {@code --model-store} (S3: endpoint, path style, region). */
  default List<String> serverFlags() {
    return List.of();
  }

  /** Environment the server needs (S3: credentials). */
  default Map<String, String> serverEnv() {
    return Map.of();
  }

  /**
   * Names of every object now in the repository, relative to its root, '/'-separated, sorted
   * (e.g. {@code aliases.tsv}, {@code models/m1.mfsnap}), including any the server treats as
   * temporary.
   */
  List<String> objectNames() throws IOException;

  /** Removes the repository and everything in it. */
  @Override
  void close() throws IOException;
}
