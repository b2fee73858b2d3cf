package io.mfserve.solver.als;

import io.mfserve.solver.TrainingMatrix;

/**
 * What every part of one ALS fit reads: the data, the resolved options, the shape of a row's
 * system and the factors being trained (written in place, one row by one worker at a time).
 */
final class FitState {
  final TrainingMatrix data;
  final AlsOptions options;
  final int k;
  final boolean implicit;
  final boolean biases;
  /** Unknowns per row: the factors, plus the bias when there are biases. */
  final int w;
  /** The training mean with biases (fixed for the fit), else 0. */
  final double mu;
  final float[] userFactors;
  final float[] itemFactors;
  /** Null without biases. */
  final float[] userBias;
  final float[] itemBias;

  FitState(TrainingMatrix data, AlsOptions options, int k) {
    this.data = data;
    this.options = options;
    this.k = k;
    implicit = options.implicit();
    biases = options.biases() && !options.implicit();
    w = biases ? k + 1 : k;
    mu = biases ? data.mean() : 0;
    userFactors = new float[factorLength(data.rows(), k, "users")];
    itemFactors = new float[factorLength(data.cols(), k, "items")];
    userBias = biases ? new float[data.rows()] : null;
    itemBias = biases ? new float[data.cols()] : null;
  }

  /** Returns the model's score of (r, c), with biases when there are. */
  double predict(int r, int c) {
    double d = Gram.dot(userFactors, r * k, itemFactors, c * k, k);
    return biases ? mu + userBias[r] + itemBias[c] + d : d;
  }

  private static int factorLength(int n, int k, String side) {
    long length = (long) n * k;
    // The largest array length HotSpot allows, with a margin for its header.
    if (length > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException(n + " " + side + " × " + k
          + " factors exceed the largest Java array");
    }
    return (int) length;
  }
}
