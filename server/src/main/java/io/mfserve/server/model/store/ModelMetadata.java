package io.mfserve.server.model.store;

import io.mfserve.server.model.tune.TuneReport;
import io.mfserve.solver.AbsentEntries;
import java.time.Instant;
import java.util.Map;

/**
 * A trained model's provenance and training summary.
 *
 * @param modelId the model's id
 * @param solver the solver's stable name
 * @param numFactors k
 * @param params every parameter actually used, as text, defaults filled in
 * @param seed the seed used
 * @param absentEntries what absent entries meant
 * @param numEntries training entries (observed, after any validation split)
 * @param numValidationEntries entries held out for validation
 * @param trainingMean mean of the training entries (Predict's fallback for unknown ids)
 * @param trainingRmse RMSE over the observed training entries
 * @param fitSeconds wall-clock seconds of the fit
 * @param createTime when the model was stored
 * @param mfserveVersion the server version that trained it
 * @param dataFingerprint SHA-256 of the input matrix
 * @param requestFingerprint identifies the request that made it, so that an identical retry
 *     on any replica returns this model instead of ALREADY_EXISTS
 * @param warmStartModelId the model the fit started from, or "" for a cold start
 * @param tune a tuned fit's trials, or null (kept in snapshots from format version 3, in the
 *     optional TUNE section: a model loaded from an older snapshot has none)
 */
public record ModelMetadata(String modelId, String solver, int numFactors,
    Map<String, String> params, long seed, AbsentEntries absentEntries, long numEntries,
    long numValidationEntries, double trainingMean, double trainingRmse, double fitSeconds,
    Instant createTime,
    String mfserveVersion, String dataFingerprint, String requestFingerprint,
    String warmStartModelId, TuneReport tune) {
  /** Copies the parameter map. */
  public ModelMetadata {
    params = Map.copyOf(params);
  }

  /** Metadata of a fit without tuning (or of a model whose trials are not known). */
  public ModelMetadata(String modelId, String solver, int numFactors,
      Map<String, String> params, long seed, AbsentEntries absentEntries, long numEntries,
      long numValidationEntries, double trainingMean, double trainingRmse, double fitSeconds,
      Instant createTime, String mfserveVersion, String dataFingerprint,
      String requestFingerprint, String warmStartModelId) {
    this(modelId, solver, numFactors, params, seed, absentEntries, numEntries,
        numValidationEntries, trainingMean, trainingRmse, fitSeconds, createTime,
        mfserveVersion, dataFingerprint, requestFingerprint, warmStartModelId, null);
  }
}
