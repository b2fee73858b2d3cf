package io.mfserve.client.cli;

import io.mfserve.client.Factors;
import io.mfserve.client.cli.InputFiles.InputException;
import io.mfserve.proto.v1.AbsentEntries;
import io.mfserve.proto.v1.IdForm;
import io.mfserve.proto.v1.ImportFactorsHeader;
import io.mfserve.proto.v1.ModelInfo;
import io.mfserve.proto.v1.SparseMatrix;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code mfctl import-factors FILE...}: a served model from factors in the CSV layout that
 * {@code mfctl factors MODEL -o FILE} writes (see {@link FactorsCsv}), so a model's factors
 * round-trip through a file, or come from any trainer that writes that layout.
 */
@Command(name = "import-factors", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Serves factors trained anywhere, from CSV as 'mfctl factors -o' writes it.",
        "The layout: a header 'side,id,f0,...,f{k-1}[,bias]', an optional 'global,,...,MEAN' "
            + "line (the global mean of a model with biases), then 'user,ID,...' and "
            + "'item,ID,...' lines.",
        "The rows may be split over several files with the same header (e.g. users.csv and "
            + "items.csv). A side is named by int64 ids unless an id is quoted or not an "
            + "integer: then by string keys (or force it with --user-keys, --item-keys).",
        "The model then answers every query a fitted one does."})
final class ImportFactorsCommand implements Callable<Integer> {
  @ParentCommand
  Mfctl mfctl;

  @Spec
  CommandSpec spec;

  @Parameters(paramLabel = "FILE", arity = "1..*",
      description = "CSV files of factors (one, or e.g. users.csv items.csv).")
  List<Path> files = new ArrayList<>();

  @Option(names = "--model-id", paramLabel = "ID", defaultValue = "",
      description = "Id of the new model. Default: the server makes one.")
  String modelId;

  @Option(names = "--global-mean", paramLabel = "MEAN",
      description = "The global mean of a model with biases (a bias column), overriding the "
          + "file's 'global' line; needed when there is none.")
  Double globalMean;

  @Option(names = "--seen", paramLabel = "FILE",
      description = "The (user, item) pairs seen in training, 'user item' per line (space, tab "
          + "or comma separated; # starts a comment), for recommend's --exclude-seen.")
  Path seen;

  @Option(names = "--absent", paramLabel = "MEANING",
      description = "What a missing entry meant in training: unknown (ratings; the default), "
          + "implicit (clicks, plays) or zero (counts). Sets recommend's exclude-seen default "
          + "and how a new user is folded in.")
  String absent;

  @Option(names = "--fold-in", paramLabel = "SOLVER",
      description = "The solver whose fold-in new users get: als (least squares; the default),"
          + " nmf (non-negative) or a plugin's name.")
  String foldIn;

  @Option(names = "--regularization", paramLabel = "LAMBDA",
      description = "Regularisation of the fold-in. Default: the server's, 0.1.")
  Double regularization;

  @Option(names = "--param", paramLabel = "NAME=VALUE",
      description = "Free-form provenance shown with the model, e.g. trainer=spark-mllib "
          + "(repeatable).")
  Map<String, String> params = new LinkedHashMap<>();

  @Option(names = "--user-keys",
      description = "Send user ids as string keys even if they look like integers.")
  boolean userKeys;

  @Option(names = "--item-keys",
      description = "Send item ids as string keys even if they look like integers.")
  boolean itemKeys;

  @Override
  public Integer call() {
    ImportFactorsHeader.Builder h = ImportFactorsHeader.newBuilder().setModelId(modelId)
        .putAllParams(params);
    if (absent != null) {
      h.setAbsentEntries(switch (absent.toLowerCase(Locale.ROOT)) {
        case "unknown" -> AbsentEntries.ABSENT_ENTRIES_UNKNOWN;
        case "zero" -> AbsentEntries.ABSENT_ENTRIES_ZERO;
        case "implicit" -> AbsentEntries.ABSENT_ENTRIES_IMPLICIT;
        default -> throw new ParameterException(spec.commandLine(),
            "--absent '" + absent + "': expected one of unknown, zero, implicit");
      });
    }
    if (foldIn != null) {
      h.setFoldInSolver(foldIn);
    }
    if (regularization != null) {
      h.setRegularization(regularization);
    }
    if (globalMean != null && !Double.isFinite(globalMean)) {
      throw new ParameterException(spec.commandLine(), "--global-mean must be finite");
    }
    mfctl.client();
    FactorsCsv.Read read = FactorsCsv.read(files, globalMean, userKeys, itemKeys);
    Factors f = read.factors();
    SparseMatrix pairs = seen == null ? null : seenPairs(seen, f);
    ModelInfo info = mfctl.client().importFactors(f, h.build(), pairs);
    if (mfctl.json()) {
      mfctl.out().println(Json.proto(info));
    } else {
      mfctl.out().println("read " + Fmt.count(f.numUsers()) + " user and "
          + Fmt.count(f.numItems()) + " item rows of " + f.numFactors() + " factors"
          + (f.hasBiases() ? " with biases (global mean " + f.globalBias() + ")" : "")
          + (pairs == null ? "" : " and " + Fmt.count(Math.max(pairs.getRowIdsCount(),
              pairs.getRowKeysCount())) + " seen pairs"));
      Views.modelInfo(mfctl.out(), info);
    }
    return Mfctl.EXIT_OK;
  }

  /** The seen pairs, each side in the id form the factors' side has. */
  private static SparseMatrix seenPairs(Path file, Factors f) {
    boolean userKeys = f.userIdForm() == IdForm.ID_FORM_STRING;
    boolean itemKeys = f.itemIdForm() == IdForm.ID_FORM_STRING;
    SparseMatrix.Builder b = SparseMatrix.newBuilder();
    DataLines.forEach(file, (n, line) -> {
      String[] p = line.split("\\s*,\\s*|\\s+");
      if (p.length < 2) {
        throw new InputException(file + " line " + n + ": expected 'user item' but found '"
            + line + "'");
      }
      if (userKeys) {
        b.addRowKeys(p[0]);
      } else {
        b.addRowIds(id(file, n, "user", p[0]));
      }
      if (itemKeys) {
        b.addColKeys(p[1]);
      } else {
        b.addColIds(id(file, n, "item", p[1]));
      }
    });
    return b.build();
  }

  private static long id(Path file, int n, String side, String s) {
    try {
      return Long.parseLong(s);
    } catch (NumberFormatException e) {
      throw new InputException(file + " line " + n + ": " + side + " '" + s + "' is not an "
          + "integer; the factors name their " + side + "s by int64 ids");
    }
  }
}
