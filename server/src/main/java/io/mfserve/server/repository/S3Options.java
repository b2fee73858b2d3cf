package io.mfserve.server.repository;

import java.net.URI;
import java.util.Objects;

/**
 * How {@link S3ObjectStore} reaches its bucket, beyond the {@code s3://bucket/prefix} location
 * itself: the settings an S3-compatible service (MinIO, Ceph, S3Proxy, ...) needs and AWS S3
 * does not. Credentials are not here: they come from the AWS SDK's default chain (environment,
 * system properties, profile files, container and instance roles).
 *
 * @param endpoint the service's base URI, e.g. {@code http://127.0.0.1:9000}; null for AWS S3
 *     itself, whose endpoint follows from the region
 * @param pathStyle whether to address the bucket as {@code endpoint/bucket/key} rather than
 *     {@code bucket.endpoint/key}; most S3-compatible servers need it
 * @param region the signing region; null for {@code us-east-1} when an endpoint is given, and
 *     otherwise for the SDK's default region chain (AWS_REGION, profile, instance metadata)
 * @param conditionalWrites how compare-and-set ({@link ObjectStore#writeIfVersion}) is done
 */
public record S3Options(URI endpoint, boolean pathStyle, String region,
    ConditionalWrites conditionalWrites) {

  /** How {@link S3ObjectStore#writeIfVersion} makes its compare-and-set atomic. */
  public enum ConditionalWrites {
    /**
     * Find out once, at the first compare-and-set, with a probe object: use the service's
     * conditional writes if it honours them, and otherwise warn and fall back to
     * {@link #IN_PROCESS}. A service that honours them but does not decide them atomically
     * (S3Proxy 2.9.0 on its local blob stores) passes: no probe can tell.
     */
    PROBE,
    /**
     * Send {@code If-None-Match: *} and {@code If-Match: <etag>} on PutObject, which AWS S3
     * honours (since 2024) and decides atomically: atomic across processes. Only for a service
     * known to honour them: one that ignores them would overwrite without a word.
     */
    NATIVE,
    /**
     * Read, compare and write under a lock held in this JVM: atomic only among the writers in
     * this process; for a service without conditional writes, and a single writing process.
     */
    IN_PROCESS
  }

  /** Checks the settings. */
  public S3Options {
    Objects.requireNonNull(conditionalWrites, "conditionalWrites");
    if (endpoint != null) {
      String scheme = endpoint.getScheme();
      if ((!"http".equals(scheme) && !"https".equals(scheme)) || endpoint.getHost() == null) {
        throw new IllegalArgumentException(
            "S3 endpoint must be an http:// or https:// URI with a host: " + endpoint);
      }
    }
    if (region != null && region.isBlank()) {
      throw new IllegalArgumentException("S3 region must not be blank");
    }
  }

  /** Options with conditional writes probed for. */
  public S3Options(URI endpoint, boolean pathStyle, String region) {
    this(endpoint, pathStyle, region, ConditionalWrites.PROBE);
  }

  /** Options for AWS S3 itself: its endpoint, virtual-host addressing, the default region chain. */
  public static S3Options aws() {
    return new S3Options(null, false, null);
  }

  /** Options for an S3-compatible service at {@code endpoint}, addressed path-style. */
  public static S3Options forEndpoint(URI endpoint) {
    return new S3Options(endpoint, true, null);
  }

  /** These options with another way of making compare-and-set atomic. */
  public S3Options withConditionalWrites(ConditionalWrites mode) {
    return new S3Options(endpoint, pathStyle, region, mode);
  }
}
