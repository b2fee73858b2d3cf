package io.mfserve.server.model.store;

import java.io.IOException;

/**
 * What a {@link ModelRepository} throws for a snapshot that it cannot read back as written
 * (the repository's format exception extends it), so that the store can tell a damaged
 * snapshot, which is never served, from a repository that is only unreachable.
 */
public class DamagedSnapshotException extends IOException {
  private static final long serialVersionUID = 1L;

  /** Creates one with a message saying what was wrong. */
  public DamagedSnapshotException(String message) {
    super(message);
  }
}
