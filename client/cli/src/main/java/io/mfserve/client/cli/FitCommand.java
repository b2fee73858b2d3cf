package io.mfserve.client.cli;

import io.mfserve.client.cli.InputFiles.Format;
import io.mfserve.client.cli.InputFiles.Parsed;
import io.mfserve.proto.v1.FitRequest;
import io.mfserve.proto.v1.ModelInfo;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code mfctl fit [FILE]}: reads a matrix from a file (or, without one, lets a solver that
 * reads its own input find the data), trains a model, prints its description.
 */
@Command(name = "fit", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Trains a model from a ratings file and prints its description.",
        "Large files are uploaded in chunks automatically. On a terminal, progress bars on "
            + "stderr show the reading, the upload and each iteration (loss, validation RMSE, "
            + "ETA); --quiet turns them off.",
        "Without FILE the request carries no matrix: for a solver that reads its data itself, "
            + "e.g. spark-als with --param source_uri=hdfs://nn/ratings.parquet (files Spark "
            + "reads where they are; see: mfctl solvers for its column parameters)."})
final class FitCommand implements Callable<Integer> {
  @ParentCommand
  Mfctl mfctl;

  @Spec
  CommandSpec spec;

  @Parameters(paramLabel = "FILE", arity = "0..1",
      description = "The training matrix (see --format). Leave it out for a solver that reads"
          + " its own input (a parameter such as source_uri names the data).")
  Path file;

  @Option(names = "--format", paramLabel = "FORMAT", defaultValue = "auto",
      description = {"auto, movielens, csv, dense-csv, mtx or bow (default: ${DEFAULT-VALUE}).",
          "movielens: 'user item rating [timestamp]' per line, tab, ::, comma or space "
              + "separated (MovieLens u.data, ratings.dat);",
          "csv: a header line (e.g. userId,movieId,rating,timestamp); the user, item and rating "
              + "columns are found by name, else the first three are used; non-integer ids are "
              + "sent as string keys;",
          "dense-csv: numbers only, one row per user, ids are positions;",
          "mtx: MatrixMarket coordinate (real, integer or pattern, general), 1-based ids;",
          "bow: a bag of words, 'doc term count' per line (UCI's header lines allowed);",
          "auto: %%MatrixMarket means mtx, a header means csv, tabs or :: mean movielens; "
              + "a headerless 'id,id,value' line (or with a Unix time fourth) is refused as "
              + "ambiguous (say movielens or dense-csv); else dense-csv."})
  String format;

  @Option(names = "--vocab", paramLabel = "FILE",
      description = "Words for the integer term ids of an mtx or bow file (one per line, line "
          + "n naming id n, or 'id word' lines): the columns are sent as string keys.")
  Path vocab;

  @Option(names = "--solver", paramLabel = "NAME", defaultValue = "als",
      description = "Solver: als, sgd, nmf or a plugin (see: mfctl solvers). "
          + "Default: ${DEFAULT-VALUE}.")
  String solver;

  @Option(names = "--factors", paramLabel = "K",
      description = "Number of latent factors (the rank). Default: the server's, 10.")
  Integer factors;

  @Option(names = "--iterations", paramLabel = "N",
      description = "Maximum iterations (sweeps, epochs). Default: the solver's.")
  Integer iterations;

  @Mixin
  FitOptions fitOptions;

  @Option(names = "--seed", paramLabel = "SEED",
      description = "Random seed, 0 to 2^64-1. Default: the server's, 42.")
  String seed;

  @Option(names = "--param", paramLabel = "NAME=VALUE",
      description = "A solver-specific parameter (repeatable; see: mfctl solvers).")
  Map<String, String> params = new LinkedHashMap<>();

  @Option(names = "--absent", paramLabel = "MEANING",
      description = "What a missing entry means: unknown (ratings), zero (counts) or implicit "
          + "(clicks, plays). Default: the solver's.")
  String absent;

  @Option(names = "--validation-fraction", paramLabel = "F",
      description = "Hold out this fraction (0 <= F < 1) of the entries to report a validation "
          + "RMSE per iteration.")
  Double validationFraction;

  @Option(names = "--warm-start", paramLabel = "MODEL",
      description = "Start from this model's factors (an id or alias with the same number of "
          + "factors) for the users and items both share; new ones start as in a cold fit. A "
          + "nightly refit then converges in a few iterations.")
  String warmStart;

  @Mixin
  QuietOption quiet;

  @Mixin
  TuneOptions tuneOptions;

  @Option(names = "--model-id", paramLabel = "ID",
      description = "Id of the new model ([A-Za-z0-9._-], up to 128 characters). "
          + "Default: the server makes one.")
  String modelId;

  @Override
  public Integer call() {
    Format f;
    try {
      f = Format.parse(format);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), "--format: " + e.getMessage());
    }
    FitRequest.Builder b = new FitSettings(solver, factors, iterations,
        fitOptions.regularization, fitOptions.learningRate, params, absent)
        .toRequest(spec.commandLine());
    if (seed != null) {
      try {
        b.setSeed(Long.parseUnsignedLong(seed));
      } catch (NumberFormatException e) {
        throw new ParameterException(spec.commandLine(),
            "--seed '" + seed + "' is not an integer between 0 and 2^64-1");
      }
    }
    if (validationFraction != null) {
      b.setValidationFraction(validationFraction);
    }
    if (modelId != null) {
      b.setModelId(modelId);
    }
    if (warmStart != null) {
      b.setWarmStartModelId(warmStart);
    }
    tuneOptions.checkUnused(spec.commandLine());
    if (tuneOptions.present()) {
      b.setTune(tuneOptions.spec(spec.commandLine()));
    }
    if (file == null && params.isEmpty()) {
      throw new ParameterException(spec.commandLine(), "Missing FILE: only a solver that"
          + " reads its own input fits without one, told where by a --param (e.g. --solver"
          + " spark-als --param source_uri=URI)");
    }
    if (file == null && vocab != null) {
      throw new ParameterException(spec.commandLine(), "--vocab needs a FILE");
    }
    // Check the connection options before spending time reading a large file.
    mfctl.client();
    Progress progress = mfctl.progress(quiet.quiet);
    Parsed parsed = null;
    if (file != null) {
      try (Progress.Reading reading = progress.reading(file)) {
        parsed = InputFiles.read(reading.source(), f,
            vocab == null ? null : InputFiles.file(vocab));
      }
      b.setMatrix(parsed.matrix());
    }
    FitRequest request = b.build();
    ModelInfo info;
    // FitWithProgress always (the bars only when drawn); a server without it gets a plain Fit.
    try (Progress.FitBars bars = progress.fit(request)) {
      boolean say = !quiet.quiet && !mfctl.json();
      info = mfctl.client().fitWithProgress(request, new io.mfserve.client.FitListener() {
        @Override
        public void onProgress(io.mfserve.proto.v1.FitProgress p) {
          bars.onProgress(p);
        }

        @Override
        public void onUpload(io.mfserve.client.UploadProgress u) {
          bars.onUpload(u);
        }

        @Override
        public void onTrial(io.mfserve.proto.v1.TuneTrial t) {
          if (say) {
            spec.commandLine().getErr().println(Views.trialLine(t));
          }
        }
      });
    }
    if (mfctl.json()) {
      mfctl.out().println(Json.proto(info));
    } else {
      mfctl.out().println(parsed == null ? "trained on the solver's own input (" + params
          + ")" : "read " + Fmt.count(parsed.entries()) + " entries from " + file + " ("
          + parsed.format().label + ")");
      Views.modelInfo(mfctl.out(), info);
    }
    return Mfctl.EXIT_OK;
  }
}
