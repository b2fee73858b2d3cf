package io.mfserve.solver.als;

/** A copy of the factors (and biases) of the best sweep so far, for early stopping. */
final class FactorSnapshot {
  private final float[] user;
  private final float[] item;
  private final float[] userBias;
  private final float[] itemBias;

  private FactorSnapshot(float[] user, float[] item, float[] userBias, float[] itemBias) {
    this.user = user;
    this.item = item;
    this.userBias = userBias;
    this.itemBias = itemBias;
  }

  /** Copies the current factors into {@code into} (allocated on first use) and returns it. */
  static FactorSnapshot take(FactorSnapshot into, FitState state) {
    FactorSnapshot s = into != null ? into : new FactorSnapshot(
        new float[state.userFactors.length], new float[state.itemFactors.length],
        state.userBias == null ? null : new float[state.userBias.length],
        state.itemBias == null ? null : new float[state.itemBias.length]);
    System.arraycopy(state.userFactors, 0, s.user, 0, s.user.length);
    System.arraycopy(state.itemFactors, 0, s.item, 0, s.item.length);
    if (s.userBias != null) {
      System.arraycopy(state.userBias, 0, s.userBias, 0, s.userBias.length);
      System.arraycopy(state.itemBias, 0, s.itemBias, 0, s.itemBias.length);
    }
    return s;
  }

  /** Copies the snapshot back into the fit's factors. */
  void restore(FitState state) {
    System.arraycopy(user, 0, state.userFactors, 0, user.length);
    System.arraycopy(item, 0, state.itemFactors, 0, item.length);
    if (userBias != null) {
      System.arraycopy(userBias, 0, state.userBias, 0, userBias.length);
      System.arraycopy(itemBias, 0, state.itemBias, 0, itemBias.length);
    }
  }
}
