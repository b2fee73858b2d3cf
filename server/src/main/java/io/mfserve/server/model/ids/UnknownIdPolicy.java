package io.mfserve.server.model.ids;

/** What Predict does with a user or item the model does not know. */
public enum UnknownIdPolicy {
  /** Fail with INVALID_ARGUMENT naming the first unknown id. */
  ERROR,
  /** Score the pair with the global mean of the training entries. */
  GLOBAL_MEAN,
  /** Score the pair NaN. */
  NAN,
  /**
   * Score the pair with a biased model's global mean plus the known side's bias (as a
   * baseline predictor does); the global mean for a model without biases.
   */
  BASELINE
}
