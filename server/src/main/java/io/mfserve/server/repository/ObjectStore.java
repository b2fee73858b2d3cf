package io.mfserve.server.repository;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.List;

/**
 * Named byte objects in a directory or an S3-compatible bucket: the one small interface the
 * model repository's two backends implement ({@link FileObjectStore}, {@link S3ObjectStore}).
 * It knows nothing of models; {@link ModelRepository} lays snapshots and aliases out on it.
 *
 * <p>Names are relative, '/'-separated, and checked by {@link ObjectNames#check}: no empty,
 * "." or ".." segment, so that no name reaches outside the store. Every write is atomic: a
 * reader sees the previous object or the whole new one, never a part. Large objects are
 * streamed both ways, never held whole in memory. Implementations are thread-safe and may be
 * shared by several processes (replicas) at once.
 */
public interface ObjectStore extends AutoCloseable {

  /** Writes an object's bytes to a stream; called once per {@link #write}. */
  @FunctionalInterface
  interface Body {
    /** Writes the whole object to {@code out} (buffered by the store; do not close it). */
    void writeTo(OutputStream out) throws IOException;
  }

  /**
   * One listed object.
   *
   * @param name its name
   * @param size its length in bytes
   * @param version a tag that changes whenever the object is rewritten (an ETag, or the
   *     file's modification time and size)
   */
  record ObjectInfo(String name, long size, String version) { }

  /**
   * A small object read whole, with the version tag that {@link #writeIfVersion} compares.
   *
   * @param bytes its content
   * @param version its version tag
   */
  record Versioned(byte[] bytes, String version) { }

  /** Returns where the store is, for logs and messages (file:///..., s3://bucket/prefix). */
  String describe();

  /**
   * Writes object {@code name} from {@code body}, replacing any earlier one atomically. The
   * file backend writes a temporary file, fsyncs it, renames it over the name and fsyncs the
   * directory; the S3 backend sends one PutObject, or a multipart upload for large bodies
   * (completed only when the body finished without an exception, aborted otherwise). When
   * this returns, the object is durable and visible to every reader.
   *
   * @throws IOException if it could not be written; no partial object is then visible
   */
  void write(String name, Body body) throws IOException;

  /**
   * Like {@link #write}, but only if no object of that name exists, decided atomically across
   * processes (the file backend links the finished temporary file to the name, which fails if
   * the name exists; S3 sends {@code If-None-Match: *} with the PutObject or the
   * CompleteMultipartUpload). A new model's snapshot is created this way, so two replicas
   * fitting one new id cannot both succeed.
   *
   * @return false if the object exists (nothing was written)
   */
  boolean create(String name, Body body) throws IOException;

  /**
   * Opens object {@code name} for streaming reading.
   *
   * @throws java.nio.file.NoSuchFileException if there is no such object
   */
  InputStream open(String name) throws IOException;

  /** Lists the objects whose names start with {@code prefix}, in name order. */
  List<ObjectInfo> list(String prefix) throws IOException;

  /** Deletes object {@code name}; deleting an absent object is not an error. */
  void delete(String name) throws IOException;

  /** Reads a small object whole with its version tag; null when it does not exist. */
  Versioned readSmall(String name) throws IOException;

  /**
   * Writes small object {@code name} only if it is still at {@code expectedVersion} (a tag
   * from {@link #readSmall}), or, with a null {@code expectedVersion}, only if it does not
   * exist: the compare-and-set that aliases are switched with, atomic across processes.
   *
   * @return true if written; false if another writer changed it first
   */
  boolean writeIfVersion(String name, byte[] bytes, String expectedVersion) throws IOException;

  @Override
  void close() throws IOException;
}
