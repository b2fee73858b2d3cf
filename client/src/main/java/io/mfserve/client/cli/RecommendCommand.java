package io.mfserve.client.cli;

import io.mfserve.client.Recommendation;
import io.mfserve.proto.v1.IdForm;
import io.mfserve.proto.v1.ModelInfo;
import io.mfserve.proto.v1.RecommendRequest;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code mfctl recommend MODEL --user U}: the top-k items for one user. */
@Command(name = "recommend", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Prints the top-k items for a user, best first.")
final class RecommendCommand implements Callable<Integer> {
  @ParentCommand
  Mfctl mfctl;

  @Spec
  CommandSpec spec;

  @Parameters(paramLabel = "MODEL", description = "The model id.")
  String modelId;

  @Option(names = {"-u", "--user"}, paramLabel = "USER", required = true,
      description = "The user's id (or key, for models trained with string keys).")
  String user;

  @Option(names = "-k", paramLabel = "K", defaultValue = "10",
      description = "How many items (default: ${DEFAULT-VALUE}).")
  int k;

  @Option(names = "--exclude-seen",
      description = "Leave out the items the user has in the training data.")
  boolean excludeSeen;

  @Override
  public Integer call() {
    if (k < 1) {
      throw new picocli.CommandLine.ParameterException(spec.commandLine(),
          "-k must be at least 1, got " + k);
    }
    ModelInfo model = mfctl.model(modelId);
    RecommendRequest.Builder b = RecommendRequest.newBuilder().setModelId(modelId).setK(k)
        .setExcludeSeen(excludeSeen);
    if (model.getUserIdForm() == IdForm.ID_FORM_STRING) {
      b.setUserKey(user);
    } else {
      b.setUserId(Ids.parse(spec, "--user", user, modelId, "users"));
    }
    List<Recommendation> items = mfctl.client().recommend(b.build()).getItemsList().stream()
        .map(Recommendation::of).toList();
    boolean keys = model.getItemIdForm() == IdForm.ID_FORM_STRING;
    if (mfctl.json()) {
      Json j = new Json().beginObject().field("model_id", modelId);
      Ids.json(j.name("user"), user, model.getUserIdForm());
      j.name("items").beginArray();
      for (Recommendation r : items) {
        j.beginObject();
        if (keys) {
          j.field("item", r.itemKey());
        } else {
          j.field("item", r.itemId());
        }
        j.name("score").value(r.score()).endObject();
      }
      mfctl.out().println(j.endArray().endObject());
      return Mfctl.EXIT_OK;
    }
    if (items.isEmpty()) {
      mfctl.out().println("no items to recommend to user " + user
          + (excludeSeen ? " (every item is in the training data; try without --exclude-seen)"
              : ""));
      return Mfctl.EXIT_OK;
    }
    Table t = new Table("RANK", "ITEM", "SCORE");
    int rank = 1;
    for (Recommendation r : items) {
      t.add(rank++, r.item(), Fmt.score(r.score()));
    }
    t.print(mfctl.out(), "");
    return Mfctl.EXIT_OK;
  }
}
