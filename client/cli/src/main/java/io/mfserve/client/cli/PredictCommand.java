package io.mfserve.client.cli;

import io.mfserve.client.cli.InputFiles.InputException;
import io.mfserve.proto.v1.IdForm;
import io.mfserve.proto.v1.ModelInfo;
import io.mfserve.proto.v1.PredictRequest;
import io.mfserve.proto.v1.PredictResponse;
import io.mfserve.proto.v1.PredictRowRequest;
import io.mfserve.proto.v1.PredictRowResponse;
import io.mfserve.proto.v1.UnknownIdPolicy;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code mfctl predict MODEL}: scores (user, item) pairs, or every item for one user. */
@Command(name = "predict", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Scores (user, item) pairs.",
        "Give pairs as --user U --item I (repeatable, matched in order) or in a file.",
        "With --row, scores every item for one user: --user U, or a new user's ratings with"
            + " --history FILE (folded in; the model is unchanged)."})
final class PredictCommand implements Callable<Integer> {
  @ParentCommand
  Mfctl mfctl;

  @Spec
  CommandSpec spec;

  @Parameters(paramLabel = "MODEL", description = "The model id.")
  String modelId;

  @Option(names = {"-u", "--user"}, paramLabel = "USER",
      description = "The user of a pair (repeatable).")
  List<String> users = new ArrayList<>();

  @Option(names = {"-i", "--item"}, paramLabel = "ITEM",
      description = "The item of a pair (repeatable, one per --user).")
  List<String> items = new ArrayList<>();

  @Option(names = "--pairs", paramLabel = "FILE",
      description = "A file of pairs, 'user item' per line (space, tab or comma separated; "
          + "# starts a comment).")
  Path pairs;

  @Option(names = "--row",
      description = "Score every item for one user (--user U or --history FILE).")
  boolean row;

  @Option(names = "--history", paramLabel = "FILE",
      description = "With --row: a new user's ratings, 'item value' per line, folded in.")
  Path history;

  @Option(names = "--unknown", paramLabel = "POLICY", defaultValue = "error",
      description = "What an unknown user or item gets: error, global-mean, baseline (the "
          + "global mean plus the known side's bias, for models with biases) or nan "
          + "(default: ${DEFAULT-VALUE}).")
  String unknown;

  @Override
  public Integer call() {
    UnknownIdPolicy policy = switch (unknown.toLowerCase(Locale.ROOT)) {
      case "error" -> UnknownIdPolicy.UNKNOWN_ID_POLICY_ERROR;
      case "global-mean" -> UnknownIdPolicy.UNKNOWN_ID_POLICY_GLOBAL_MEAN;
      case "nan" -> UnknownIdPolicy.UNKNOWN_ID_POLICY_NAN;
      case "baseline" -> UnknownIdPolicy.UNKNOWN_ID_POLICY_BASELINE;
      default -> throw new ParameterException(spec.commandLine(),
          "--unknown '" + unknown + "': expected one of error, global-mean, baseline, nan");
    };
    if (row || history != null) {
      return row();
    }
    if (users.size() != items.size()) {
      throw new ParameterException(spec.commandLine(), users.size() + " --user but "
          + items.size() + " --item options; give one --item for each --user");
    }
    List<String> us = new ArrayList<>(users);
    List<String> is = new ArrayList<>(items);
    if (pairs != null) {
      readPairs(pairs, us, is);
    }
    if (us.isEmpty()) {
      throw new ParameterException(spec.commandLine(),
          "no pairs to score: give --user U --item I, or --pairs FILE");
    }
    ModelInfo model = mfctl.model(modelId);
    IdForm uf = model.getUserIdForm();
    IdForm itf = model.getItemIdForm();
    PredictRequest.Builder b = PredictRequest.newBuilder().setModelId(modelId)
        .setUnknownIds(policy);
    for (int n = 0; n < us.size(); n++) {
      if (uf == IdForm.ID_FORM_STRING) {
        b.addUserKeys(us.get(n));
      } else {
        b.addUserIds(Ids.parse(spec, "user", us.get(n), modelId, "users"));
      }
      if (itf == IdForm.ID_FORM_STRING) {
        b.addItemKeys(is.get(n));
      } else {
        b.addItemIds(Ids.parse(spec, "item", is.get(n), modelId, "items"));
      }
    }
    PredictResponse r = mfctl.client().predict(b.build());
    if (mfctl.json()) {
      Json j = new Json().beginObject().field("model_id", modelId).name("predictions")
          .beginArray();
      for (int n = 0; n < r.getScoresCount(); n++) {
        j.beginObject();
        Ids.json(j.name("user"), us.get(n), uf);
        Ids.json(j.name("item"), is.get(n), itf);
        j.name("score").value(r.getScores(n)).endObject();
      }
      mfctl.out().println(j.endArray().endObject());
      return Mfctl.EXIT_OK;
    }
    Table t = new Table("USER", "ITEM", "SCORE");
    for (int n = 0; n < r.getScoresCount(); n++) {
      t.add(us.get(n), is.get(n), Fmt.score(r.getScores(n)));
    }
    t.print(mfctl.out(), "");
    return Mfctl.EXIT_OK;
  }

  /** {@code --row}: every item's score for one user, in the model's item order. */
  private Integer row() {
    if (!row) {
      throw new ParameterException(spec.commandLine(), "--history needs --row: it scores every"
          + " item for the new user");
    }
    if (!items.isEmpty() || pairs != null || users.size() + (history != null ? 1 : 0) != 1) {
      throw new ParameterException(spec.commandLine(), "--row takes exactly one --user USER or"
          + " --history FILE, and no --item or --pairs");
    }
    ModelInfo model = mfctl.model(modelId);
    PredictRowRequest.Builder b = PredictRowRequest.newBuilder().setModelId(modelId);
    if (history != null) {
      b.setUserHistory(UserFiles.history(history, model.getItemIdForm()));
    } else if (model.getUserIdForm() == IdForm.ID_FORM_STRING) {
      b.setUserKey(users.get(0));
    } else {
      b.setUserId(Ids.parse(spec, "--user", users.get(0), modelId, "users"));
    }
    PredictRowResponse r = mfctl.client().predictRow(b.build());
    boolean keys = model.getItemIdForm() == IdForm.ID_FORM_STRING;
    if (mfctl.json()) {
      Json j = new Json().beginObject().field("model_id", modelId);
      if (history != null) {
        j.field("history_entries", b.getUserHistory().getValuesCount());
      } else {
        Ids.json(j.name("user"), users.get(0), model.getUserIdForm());
      }
      j.name("predictions").beginArray();
      for (int n = 0; n < r.getScoresCount(); n++) {
        j.beginObject();
        if (keys) {
          j.field("item", r.getItemKeys(n));
        } else {
          j.field("item", r.getItemIds(n));
        }
        j.name("score").value(r.getScores(n)).endObject();
      }
      mfctl.out().println(j.endArray().endObject());
      return Mfctl.EXIT_OK;
    }
    Table t = new Table("ITEM", "SCORE");
    for (int n = 0; n < r.getScoresCount(); n++) {
      t.add(keys ? r.getItemKeys(n) : Long.toString(r.getItemIds(n)), Fmt.score(r.getScores(n)));
    }
    t.print(mfctl.out(), "");
    return Mfctl.EXIT_OK;
  }

  private static void readPairs(Path file, List<String> us, List<String> is) {
    DataLines.forEach(file, (n, t) -> {
      String[] f = t.split("[\\s,]+");
      if (f.length < 2) {
        throw new InputException(file + " line " + n + ": expected 'user item' but found '"
            + t + "'");
      }
      us.add(f[0]);
      is.add(f[1]);
    });
  }
}
