package io.mfserve.client.cli;

import io.mfserve.proto.v1.IdForm;
import io.mfserve.proto.v1.ModelInfo;
import io.mfserve.proto.v1.ScoredItem;
import io.mfserve.proto.v1.ScoredUser;
import io.mfserve.proto.v1.SimilarItemsRequest;
import io.mfserve.proto.v1.SimilarUsersRequest;
import io.mfserve.proto.v1.Similarity;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code mfctl similar MODEL --item I | --user U}: the most similar items or users. */
@Command(name = "similar", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Prints the items most similar to an item, or the users most similar to a"
          + " user, by the cosine of their factor vectors (or the dot product with --dot).",
        "The query itself is never listed."})
final class SimilarCommand implements Callable<Integer> {
  @ParentCommand
  Mfctl mfctl;

  @Spec
  CommandSpec spec;

  @Parameters(paramLabel = "MODEL", description = "The model id.")
  String modelId;

  @Option(names = {"-i", "--item"}, paramLabel = "ITEM",
      description = "The item whose neighbours to list.")
  String item;

  @Option(names = {"-u", "--user"}, paramLabel = "USER",
      description = "The user whose neighbours to list.")
  String user;

  @Option(names = "-k", paramLabel = "K", defaultValue = "10",
      description = "How many (default: ${DEFAULT-VALUE}).")
  int k;

  @Option(names = "--dot",
      description = "Rank by the dot product instead of the cosine (favours long vectors).")
  boolean dot;

  @Option(names = "--exact",
      description = "Scan every row even where the model has an approximate index (cosine).")
  boolean exact;

  @Override
  public Integer call() {
    if ((item == null) == (user == null)) {
      throw new ParameterException(spec.commandLine(), "give exactly one of --item ITEM or"
          + " --user USER");
    }
    if (k < 1) {
      throw new ParameterException(spec.commandLine(), "-k must be at least 1, got " + k);
    }
    ModelInfo model = mfctl.model(modelId);
    Similarity similarity = dot ? Similarity.SIMILARITY_DOT : Similarity.SIMILARITY_COSINE;
    List<String> names;
    List<Float> scores;
    IdForm form;
    if (item != null) {
      form = model.getItemIdForm();
      SimilarItemsRequest.Builder b = SimilarItemsRequest.newBuilder().setModelId(modelId)
          .setK(k).setSimilarity(similarity).setExact(exact);
      if (form == IdForm.ID_FORM_STRING) {
        b.setItemKey(item);
      } else {
        b.setItemId(Ids.parse(spec, "--item", item, modelId, "items"));
      }
      List<ScoredItem> found = mfctl.client().similarItems(b.build()).getItemsList();
      names = found.stream().map(s -> form == IdForm.ID_FORM_STRING ? s.getItemKey()
          : Long.toString(s.getItemId())).toList();
      scores = found.stream().map(ScoredItem::getScore).toList();
    } else {
      form = model.getUserIdForm();
      SimilarUsersRequest.Builder b = SimilarUsersRequest.newBuilder().setModelId(modelId)
          .setK(k).setSimilarity(similarity).setExact(exact);
      if (form == IdForm.ID_FORM_STRING) {
        b.setUserKey(user);
      } else {
        b.setUserId(Ids.parse(spec, "--user", user, modelId, "users"));
      }
      List<ScoredUser> found = mfctl.client().similarUsers(b.build()).getUsersList();
      names = found.stream().map(s -> form == IdForm.ID_FORM_STRING ? s.getUserKey()
          : Long.toString(s.getUserId())).toList();
      scores = found.stream().map(ScoredUser::getScore).toList();
    }
    String side = item != null ? "item" : "user";
    if (mfctl.json()) {
      Json j = new Json().beginObject().field("model_id", modelId);
      Ids.json(j.name(side), item != null ? item : user, form);
      j.field("similarity", dot ? "dot" : "cosine");
      j.name(side + "s").beginArray();
      for (int n = 0; n < names.size(); n++) {
        j.beginObject();
        Ids.json(j.name(side), names.get(n), form);
        j.name("score").value(scores.get(n)).endObject();
      }
      mfctl.out().println(j.endArray().endObject());
      return Mfctl.EXIT_OK;
    }
    if (names.isEmpty()) {
      mfctl.out().println("no other " + side + "s in model " + modelId);
      return Mfctl.EXIT_OK;
    }
    Table t = new Table("RANK", side.toUpperCase(java.util.Locale.ROOT),
        dot ? "DOT" : "COSINE");
    for (int n = 0; n < names.size(); n++) {
      t.add(n + 1, names.get(n), Fmt.score(scores.get(n)));
    }
    t.print(mfctl.out(), "");
    return Mfctl.EXIT_OK;
  }
}
