package io.mfserve.server.repository;

import io.mfserve.server.model.store.ModelStore;
import java.time.Duration;

/**
 * Where the model repository is and how a replica uses it ({@code --model-store},
 * {@code --s3-endpoint}, {@code --s3-path-style}, {@code --s3-region}, {@code --preload},
 * {@code --store-poll}).
 *
 * @param uri {@code file:///path}, {@code s3://bucket/prefix}, or null to keep everything in
 *     memory
 * @param s3Endpoint an S3-compatible endpoint (MinIO, Ceph, S3Proxy), or null for AWS
 * @param s3PathStyle whether to address buckets as a path (most S3-compatible servers need it)
 * @param s3Region the region, or null for the SDK's default chain (us-east-1 with an endpoint)
 * @param preload which stored models a replica loads before it reports SERVING
 * @param poll how often the repository is polled for models and aliases changed elsewhere
 */
public record RepositoryConfig(String uri, String s3Endpoint, boolean s3PathStyle,
    String s3Region, ModelStore.Preload preload, Duration poll) {

  /** No repository: models live and die with the process, as without {@code --model-store}. */
  public static RepositoryConfig memory() {
    return new RepositoryConfig(null, null, false, null, ModelStore.Preload.NONE,
        Duration.ofSeconds(10));
  }

  /** A repository at {@code uri} with the default policy (preload all, poll every 10 s). */
  public static RepositoryConfig at(String uri) {
    return new RepositoryConfig(uri, null, false, null, ModelStore.Preload.ALL,
        Duration.ofSeconds(10));
  }

  /** Returns a copy polling every {@code every}. */
  public RepositoryConfig withPoll(Duration every) {
    return new RepositoryConfig(uri, s3Endpoint, s3PathStyle, s3Region, preload, every);
  }

  /** Returns a copy with the preload policy {@code p}. */
  public RepositoryConfig withPreload(ModelStore.Preload p) {
    return new RepositoryConfig(uri, s3Endpoint, s3PathStyle, s3Region, p, poll);
  }
}
