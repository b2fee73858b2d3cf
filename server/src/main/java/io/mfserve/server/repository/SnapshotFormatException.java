package io.mfserve.server.repository;

import io.mfserve.server.model.store.DamagedSnapshotException;

/**
 * A snapshot that is not one this server can read back bit for bit: wrong magic or format
 * version, truncated, a section that fails its checksum, or contents that contradict each
 * other. Such a snapshot is never served.
 */
public final class SnapshotFormatException extends DamagedSnapshotException {
  private static final long serialVersionUID = 1L;

  /** Creates one with a message saying what was wrong. */
  public SnapshotFormatException(String message) {
    super(message);
  }
}
