package io.mfserve.client;

import io.mfserve.proto.v1.FitProgress;
import io.mfserve.proto.v1.TuneTrial;

/**
 * Receives live progress of {@link MfClient#fitWithProgress} and {@link
 * MatrixFactorization#fit(FitListener)}: one {@link FitProgress} per completed iteration (loss,
 * validation RMSE when a validation split was asked for, elapsed seconds and the server's ETA)
 * and, for a matrix too large to send inline, one {@link UploadProgress} per uploaded chunk
 * before training starts.
 *
 * <pre>{@code
 * ModelInfo m = client.fitWithProgress(request, p ->
 *     System.err.printf("iteration %d/%d loss %.4g%n",
 *         p.getIteration(), p.getMaxIterations(), p.getLoss()));
 * }</pre>
 *
 * <p><b>Threading.</b> Both methods are called on the thread that called the fit, in order, never
 * concurrently; keep them quick, since the next event waits for them.
 *
 * <p><b>Cancelling.</b> A method that throws cancels the call: the server stops the fit within
 * an iteration and frees its memory, and the fit rethrows that exception. Interrupting the
 * calling thread cancels too (the fit then throws {@link MfServeException} with status
 * CANCELLED, and the thread stays interrupted).
 */
@FunctionalInterface
public interface FitListener {
  /** A listener that ignores every event. */
  FitListener NONE = progress -> { };

  /**
   * Called after each completed iteration, in iteration order.
   *
   * @param progress the iteration just completed, of the model being trained
   */
  void onProgress(FitProgress progress);

  /**
   * Called after each chunk of an automatic upload (a matrix over {@link
   * MfClient#INLINE_FIT_LIMIT_BYTES}), before any {@link #onProgress} call. Does nothing unless
   * overridden.
   *
   * @param upload how much of the matrix has been sent
   */
  default void onUpload(UploadProgress upload) {}

  /**
   * Called after each trial of a tuned fit ({@code FitRequest.tune}), in the order the trials
   * finished (trials run in parallel may finish out of the order of their numbers), before
   * the final fit's {@link #onProgress} calls. Does nothing unless overridden.
   *
   * @param trial the setting tried, its rung, iterations, held-out metric and seconds
   */
  default void onTrial(TuneTrial trial) {}
}
