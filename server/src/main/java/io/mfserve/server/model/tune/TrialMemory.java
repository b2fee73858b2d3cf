package io.mfserve.server.model.tune;

/**
 * The memory budget as a search sees it: each trial run beside the first holds its bytes
 * here for the whole search (the fit's own reservation already covers one trial).
 * Implementations are thread-safe.
 */
public interface TrialMemory {
  /** Nothing beyond the fit's own reservation: trials run one at a time. */
  TrialMemory NONE = new TrialMemory() {
    @Override
    public boolean tryHold(long bytes, String what) {
      return false;
    }

    @Override
    public void release(long bytes) {
      throw new IllegalStateException("nothing held");
    }
  };

  /**
   * Holds {@code bytes} more if the budget has room.
   *
   * @param what a few words for logs and messages
   * @return whether they are held; false leaves nothing held
   */
  boolean tryHold(long bytes, String what);

  /** Gives back {@code bytes} held by {@link #tryHold}. */
  void release(long bytes);
}
