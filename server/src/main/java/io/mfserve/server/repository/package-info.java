/**
 * The model repository: durable, versioned snapshots of served models and the alias table, in
 * a directory ({@link io.mfserve.server.repository.FileObjectStore}) or an S3-compatible
 * bucket, behind the one interface the application layer calls
 * ({@link io.mfserve.server.model.store.ModelRepository}). The snapshot format is
 * {@link io.mfserve.server.repository.SnapshotFormat}, laid out in this package's README.md.
 * The transport knows nothing of it.
 */
package io.mfserve.server.repository;
