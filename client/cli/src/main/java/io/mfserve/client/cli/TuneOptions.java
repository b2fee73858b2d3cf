package io.mfserve.client.cli;

import io.mfserve.client.TuneSpecs;
import io.mfserve.proto.v1.TuneMethod;
import io.mfserve.proto.v1.TuneMetric;
import io.mfserve.proto.v1.TuneSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/**
 * The flags of a server-side search ({@code FitRequest.tune}), shared by {@code mfctl fit}
 * and {@code mfctl eval} as a picocli mixin: {@code --tune} names the ranges, the others set
 * the budget, the metric and the held-out fraction (unset: the server's defaults).
 */
final class TuneOptions {
  @Option(names = "--tune", paramLabel = "'NAME=MIN:MAX[:log] NAME=V1,V2 ...'",
      description = {"Tune on the server before fitting: random settings from these ranges, "
          + "raced by Hyperband (or successive halving) over iterations on a held-out part, "
          + "then the best fitted on all the data. Repeatable.",
          "e.g. --tune 'regularization=1:50:log factors=5:40 biases=true,false'"})
  List<String> tune = new ArrayList<>();

  @Option(names = "--tune-fits", paramLabel = "N",
      description = "The search's budget in trials (default: the server's, 30).")
  Integer fits;

  @Option(names = "--tune-seconds", paramLabel = "S",
      description = "Stop starting trials after S seconds (default: no time budget).")
  Double seconds;

  @Option(names = "--tune-metric", paramLabel = "METRIC",
      description = "rmse or ndcg (default: rmse for ratings, ndcg for implicit feedback).")
  String metric;

  @Option(names = "--tune-validation", paramLabel = "F",
      description = "Fraction held out to score the trials (default: the server's, 0.2).")
  Double validation;

  @Option(names = "--tune-method", paramLabel = "METHOD",
      description = "hyperband or halving (one bracket of successive halving); default: "
          + "the server's, hyperband.")
  String method;

  @Option(names = "--tune-parallel", paramLabel = "N",
      description = "Run at most N trials at once (default 0: as many as the server's "
          + "training threads and memory budget allow; the result is the same either way).")
  Integer parallel;

  @Option(names = "--tune-k", paramLabel = "K",
      description = "k of NDCG@k for --tune-metric ndcg (default: 10).")
  Integer k;

  /** Whether a search was asked for. */
  boolean present() {
    return !tune.isEmpty();
  }

  /** The spec; a usage error names the flag. */
  TuneSpec spec(CommandLine cl) {
    TuneSpec.Builder b;
    try {
      b = TuneSpecs.parse(tune);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(cl, "--tune " + e.getMessage());
    }
    if (fits != null) {
      b.setMaxFits(fits);
    }
    if (seconds != null) {
      b.setMaxSeconds(seconds);
    }
    if (validation != null) {
      b.setValidationFraction(validation);
    }
    if (k != null) {
      b.setK(k);
    }
    if (parallel != null) {
      b.setParallelTrials(parallel);
    }
    if (method != null) {
      b.setMethod(switch (method.toLowerCase(Locale.ROOT)) {
        case "hyperband" -> TuneMethod.TUNE_METHOD_HYPERBAND;
        case "halving", "successive-halving", "successive_halving" ->
            TuneMethod.TUNE_METHOD_SUCCESSIVE_HALVING;
        default -> throw new ParameterException(cl, "--tune-method must be hyperband or "
            + "halving, got '" + method + "'");
      });
    }
    if (metric != null) {
      b.setMetric(switch (metric.toLowerCase(Locale.ROOT)) {
        case "rmse" -> TuneMetric.TUNE_METRIC_RMSE;
        case "ndcg" -> TuneMetric.TUNE_METRIC_NDCG;
        default -> throw new ParameterException(cl, "--tune-metric must be rmse or ndcg, got '"
            + metric + "'");
      });
    }
    return b.build();
  }

  /** Checks that no --tune-* flag is given without --tune. */
  void checkUnused(CommandLine cl) {
    if (!present() && (fits != null || seconds != null || validation != null || k != null
        || metric != null || method != null || parallel != null)) {
      throw new ParameterException(cl, "the --tune-* flags need --tune");
    }
  }
}
