package io.mfserve.client.cli;

import io.mfserve.proto.v1.AbsentEntries;
import io.mfserve.proto.v1.FitRequest;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.ParameterException;

/**
 * The fit flags that {@code mfctl fit} and {@code mfctl eval} share, as given (null: not given,
 * the server's or solver's default), and the one place that turns them into {@link FitRequest}
 * fields. {@link FitOptions} declares the flags whose help is the same for both; the others stay
 * on each command because their help text or order differ between the two.
 */
record FitSettings(String solver, Integer factors, Integer iterations, Double regularization,
    Double learningRate, Map<String, String> params, String absent) {

  /**
   * Returns a request builder with the solver, params and every given setting.
   *
   * @throws ParameterException on {@code cmd} when {@code --absent} names no known meaning
   */
  FitRequest.Builder toRequest(CommandLine cmd) {
    FitRequest.Builder b = FitRequest.newBuilder().setSolver(solver).putAllParams(params);
    if (absent != null) {
      b.setAbsentEntries(absentEntries(cmd, absent));
    }
    if (factors != null) {
      b.setNumFactors(factors);
    }
    if (iterations != null) {
      b.setMaxIterations(iterations);
    }
    if (regularization != null) {
      b.setRegularization(regularization);
    }
    if (learningRate != null) {
      b.setLearningRate(learningRate);
    }
    return b;
  }

  private static AbsentEntries absentEntries(CommandLine cmd, String s) {
    return switch (s.toLowerCase(Locale.ROOT)) {
      case "unknown" -> AbsentEntries.ABSENT_ENTRIES_UNKNOWN;
      case "zero" -> AbsentEntries.ABSENT_ENTRIES_ZERO;
      case "implicit" -> AbsentEntries.ABSENT_ENTRIES_IMPLICIT;
      default -> throw new ParameterException(cmd,
          "--absent '" + s + "': expected one of unknown, zero, implicit");
    };
  }
}
