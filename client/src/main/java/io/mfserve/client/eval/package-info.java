/**
 * Offline evaluation of mfserve models, reusable outside {@code mfctl}: seeded holdout and
 * K-fold splits ({@link io.mfserve.client.eval.Splits}) of an {@link
 * io.mfserve.client.eval.Interactions} data set, rating-error and top-k ranking metrics with
 * the definitions of Surprise and implicit ({@link io.mfserve.client.eval.ErrorMetrics}, {@link
 * io.mfserve.client.eval.RankingMetrics}), parameter grids ({@link io.mfserve.client.eval.Grid}),
 * and {@link io.mfserve.client.eval.Evaluator}, which fits each setting on a running server
 * through {@link io.mfserve.client.MfClient}, uploading each fold's training part once, and
 * reports mean and standard deviation per setting, best first.
 */
package io.mfserve.client.eval;
