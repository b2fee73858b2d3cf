package io.mfserve.client.cli;

import io.mfserve.proto.v1.Contribution;
import io.mfserve.proto.v1.ExplainRequest;
import io.mfserve.proto.v1.ExplainResponse;
import io.mfserve.proto.v1.IdForm;
import io.mfserve.proto.v1.ModelInfo;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code mfctl explain MODEL --user U --item I}: the history entries behind a score. */
@Command(name = "explain", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Explains a user's score of an item by the user's history: the entries that"
          + " contributed most, largest first.",
        "For ALS each contribution is the entry's exact share of the score (the user's"
          + " least-squares solution split over the entries; base + every share = the"
          + " explained score); for other solvers it is the cosine of the entry's item with"
          + " the explained item."})
final class ExplainCommand implements Callable<Integer> {
  @ParentCommand
  Mfctl mfctl;

  @Spec
  CommandSpec spec;

  @Parameters(paramLabel = "MODEL", description = "The model id.")
  String modelId;

  @Option(names = {"-u", "--user"}, paramLabel = "USER", required = true,
      description = "The user, one of the model's.")
  String user;

  @Option(names = {"-i", "--item"}, paramLabel = "ITEM", required = true,
      description = "The item whose score to explain.")
  String item;

  @Option(names = "-k", paramLabel = "K", defaultValue = "10",
      description = "How many entries to list (default: ${DEFAULT-VALUE}).")
  int k;

  @Override
  public Integer call() {
    if (k < 1) {
      throw new ParameterException(spec.commandLine(), "-k must be at least 1, got " + k);
    }
    ModelInfo model = mfctl.model(modelId);
    IdForm userForm = model.getUserIdForm();
    IdForm itemForm = model.getItemIdForm();
    ExplainRequest.Builder b = ExplainRequest.newBuilder().setModelId(modelId).setK(k);
    if (userForm == IdForm.ID_FORM_STRING) {
      b.setUserKey(user);
    } else {
      b.setUserId(Ids.parse(spec, "--user", user, modelId, "users"));
    }
    if (itemForm == IdForm.ID_FORM_STRING) {
      b.setItemKey(item);
    } else {
      b.setItemId(Ids.parse(spec, "--item", item, modelId, "items"));
    }
    ExplainResponse r = mfctl.client().explain(b.build());
    boolean least = r.getMethod().equals("least_squares");
    boolean keys = itemForm == IdForm.ID_FORM_STRING;
    if (mfctl.json()) {
      Json j = new Json().beginObject().field("model_id", modelId);
      Ids.json(j.name("user"), user, userForm);
      Ids.json(j.name("item"), item, itemForm);
      j.name("score").value(r.getScore());
      j.field("method", r.getMethod());
      if (least) {
        j.name("base").value(r.getBase());
        j.name("explained_score").value(r.getExplainedScore());
      }
      j.name("history_entries").value(r.getHistoryEntries());
      j.name("contributions").beginArray();
      for (Contribution c : r.getContributionsList()) {
        j.beginObject();
        if (keys) {
          j.field("item", c.getItemKey());
        } else {
          j.field("item", c.getItemId());
        }
        j.name("value").value(c.getValue());
        j.name("contribution").value(c.getContribution()).endObject();
      }
      mfctl.out().println(j.endArray().endObject());
      return Mfctl.EXIT_OK;
    }
    mfctl.out().println("score " + Fmt.score(r.getScore()) + " of item " + item + " for user "
        + user + (least ? ": base " + Fmt.score(r.getBase()) + " + the shares of "
            + r.getHistoryEntries() + " entries = " + Fmt.score(r.getExplainedScore())
            : ": the user's " + r.getHistoryEntries() + " entries by factor similarity"));
    if (r.getContributionsCount() == 0) {
      mfctl.out().println("user " + user + " has no entries in the model");
      return Mfctl.EXIT_OK;
    }
    Table t = new Table("RANK", "ITEM", "VALUE", least ? "SHARE" : "COSINE");
    int rank = 1;
    for (Contribution c : r.getContributionsList()) {
      t.add(rank++, keys ? c.getItemKey() : Long.toString(c.getItemId()),
          Fmt.score(c.getValue()), Fmt.score(c.getContribution()));
    }
    t.print(mfctl.out(), "");
    return Mfctl.EXIT_OK;
  }
}
