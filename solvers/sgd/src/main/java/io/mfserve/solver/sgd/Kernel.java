package io.mfserve.solver.sgd;

/**
 * The update rule applied to a run of entries: one loss (squared error or BPR) under one
 * learning-rate schedule (AdaGrad or fixed). This base holds what every loss reads: references
 * to the grid's entry arrays and the {@link FactorState}, the penalties and the learning rate;
 * subclasses allocate nothing per update.
 *
 * <p>Thread-safety: {@link #run} may be called by several threads at once on runs of entries
 * that share no row and no column (the block schedule) or, for Hogwild, on any runs, accepting
 * lost updates. {@link #setLearningRate} is called between epochs only; the fork that starts
 * an epoch's work publishes it to the workers.
 */
abstract class Kernel {
  /** AdaGrad if true, else a fixed step. */
  final boolean adaptive;
  final int[] entryRow;
  final int[] entryCol;
  final float[] entryVal;
  final float[] users;
  final float[] items;
  final int k;
  final int stride;
  /** Offset of a row's bias; its AdaGrad accumulators follow ({@link FactorState}). */
  final int biasAt;
  /** λ on the factors, in standardised units. */
  final float lambda;
  /** λ_b on the biases. */
  final float biasLambda;
  /** AdaGrad's η or the fixed step γ of the current epoch. */
  float rate;
  /** For {@link #evaluate}'s scores. */
  private final FactorState state;

  /**
   * Takes the entry arrays of {@code grid} and the rows of {@code state}.
   *
   * @param adaptive AdaGrad if true, else a fixed step
   * @param lambda λ on the factors, in standardised units
   * @param biasLambda λ_b on the biases
   */
  Kernel(boolean adaptive, BlockGrid grid, FactorState state, double lambda,
      double biasLambda) {
    this.adaptive = adaptive;
    this.entryRow = grid.entryRow;
    this.entryCol = grid.entryCol;
    this.entryVal = grid.entryVal;
    this.users = state.users;
    this.items = state.items;
    this.k = state.k;
    this.stride = state.stride;
    this.biasAt = state.biasAt;
    this.lambda = (float) lambda;
    this.biasLambda = (float) biasLambda;
    this.state = state;
  }

  /** Sets the learning rate (AdaGrad's η or the fixed step γ) for the coming epoch. */
  final void setLearningRate(double rate) {
    this.rate = (float) rate;
  }

  /**
   * Called on the fitting thread before each epoch's runs: a kernel that draws a visiting
   * order per epoch draws it here, from {@code seed} and the epoch alone. Does nothing by
   * default.
   */
  void beginEpoch(int epoch) {
  }

  /**
   * Brings state derived from the trained parameters up to date before the state is scored
   * ({@link Validator}) or exported; called on the fitting thread between epochs. Does nothing
   * by default: the entry kernels keep no derived state.
   */
  void prepareScoring() {
  }

  /**
   * Applies the update to entries [from, to) in order ({@link SvdppKernel}: to the users at
   * positions [from, to) of its per-epoch order; see {@link EpochRunner#overUsers}).
   *
   * @param blockFrom first entry of the block holding [from, to)
   * @param blockTo one past the block's last entry
   * @param colFrom first relabelled column negatives may be drawn from (ranking losses)
   * @param colTo one past the last such column
   * @param rngSeed seeds the negative sampling of this run
   * @return the sum of the per-entry losses, each measured just before its update
   */
  abstract double run(int from, int to, int blockFrom, int blockTo, int colFrom, int colTo,
      long rngSeed);

  /**
   * Returns the sum of the per-entry losses at the current parameters, changing nothing. By
   * default the squared errors (r − {@link FactorState#score})² of entries [from, to), which
   * covers the biased model and SVD++ (whose z_u must be current, see {@link #prepareScoring});
   * called once per fit, for the loss before training, so it is not tuned as the updates are.
   */
  double evaluate(int from, int to) {
    double sse = 0;
    for (int n = from; n < to; n++) {
      float e = entryVal[n] - state.score(entryRow[n], entryCol[n]);
      sse += (double) e * e;
    }
    return sse;
  }

  /** SplitMix64's finaliser: a well-mixed 64-bit value from any input. */
  static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  /** SplitMix64's increment. */
  static final long GOLDEN = 0x9E3779B97F4A7C15L;
}
