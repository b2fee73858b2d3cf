package io.mfserve.client.cli;

import picocli.CommandLine.Option;

/**
 * The fit flags whose name, help text and place in the help are the same for {@code mfctl fit}
 * and {@code mfctl eval}, as a picocli mixin (null: not given, the solver's default). The other
 * shared flags ({@code --solver}, {@code --factors}, {@code --iterations}, {@code --param},
 * {@code --absent}) differ in help text or order between the two, so each command declares them;
 * {@link FitSettings} turns all of them into request fields.
 */
final class FitOptions {
  @Option(names = "--regularization", paramLabel = "LAMBDA",
      description = "Regularisation strength. Default: the solver's.")
  Double regularization;

  @Option(names = "--learning-rate", paramLabel = "RATE",
      description = "Learning rate, for solvers that have one. Default: the solver's.")
  Double learningRate;
}
