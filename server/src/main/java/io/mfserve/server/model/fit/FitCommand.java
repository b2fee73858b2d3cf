package io.mfserve.server.model.fit;

import io.mfserve.server.model.matrix.PreparedMatrix;
import io.mfserve.server.model.tune.TuneSpec;
import io.mfserve.solver.AbsentEntries;
import java.util.Map;
import java.util.Set;

/**
 * A fit request in domain terms.
 *
 * @param solver the solver's name; empty means the default solver
 * @param numFactors k, or null for the default
 * @param inlineMatrix the matrix sent with the request, or null when {@code matrixId} is given;
 *     the fit releases it when done
 * @param matrixId an uploaded matrix's id, or null
 * @param modelId the requested model id, or empty for a generated one
 * @param params parameter text by name, the typed request fields included under their common
 *     names
 * @param typedFields the names in {@code params} that came from typed request fields (for
 *     naming the field in errors)
 * @param seed the seed, or null for the default
 * @param absentEntries what absent entries mean, or null for the solver's default
 * @param validationFraction the fraction to hold out, 0 for none
 * @param requestFingerprint identifies the request, for idempotent retries
 * @param warmStartModelId a model id or alias to start from, or empty for a cold start
 * @param tune the search to run before the fit, or null to fit as given
 */
public record FitCommand(String solver, Integer numFactors, PreparedMatrix inlineMatrix,
    String matrixId, String modelId, Map<String, String> params, Set<String> typedFields,
    Long seed, AbsentEntries absentEntries, double validationFraction,
    String requestFingerprint, String warmStartModelId, TuneSpec tune) {
  /** A fit without tuning. */
  public FitCommand(String solver, Integer numFactors, PreparedMatrix inlineMatrix,
      String matrixId, String modelId, Map<String, String> params, Set<String> typedFields,
      Long seed, AbsentEntries absentEntries, double validationFraction,
      String requestFingerprint, String warmStartModelId) {
    this(solver, numFactors, inlineMatrix, matrixId, modelId, params, typedFields, seed,
        absentEntries, validationFraction, requestFingerprint, warmStartModelId, null);
  }

  /** Copies the collections. */
  public FitCommand {
    params = Map.copyOf(params);
    typedFields = Set.copyOf(typedFields);
  }
}
