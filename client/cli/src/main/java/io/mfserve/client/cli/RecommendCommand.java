package io.mfserve.client.cli;

import io.mfserve.client.Recommendation;
import io.mfserve.proto.v1.IdForm;
import io.mfserve.proto.v1.ModelInfo;
import io.mfserve.proto.v1.RecommendBatchRequest;
import io.mfserve.proto.v1.RecommendBatchResponse;
import io.mfserve.proto.v1.RecommendRequest;
import io.mfserve.proto.v1.RecommendResponse;
import io.mfserve.proto.v1.ScoredItem;
import io.mfserve.proto.v1.UnknownUserFallback;
import io.mfserve.proto.v1.UserHistory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import java.util.function.LongConsumer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code mfctl recommend MODEL --user U | --history FILE | --users FILE}: the top-k items for
 * one known user, for a new user folded in from their ratings, or for many users in one
 * RecommendBatch call.
 */
@Command(name = "recommend", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Prints the top-k items for a user, best first.",
        "The user is one of the model's (--user), a new user given by their ratings (--history,"
            + " folded in against the model; the model is unchanged), or each user of a file"
            + " (--users, one RecommendBatch call)."})
final class RecommendCommand implements Callable<Integer> {
  @ParentCommand
  Mfctl mfctl;

  @Spec
  CommandSpec spec;

  @Parameters(paramLabel = "MODEL", description = "The model id.")
  String modelId;

  @Option(names = {"-u", "--user"}, paramLabel = "USER",
      description = "The user's id (or key, for models trained with string keys).")
  String user;

  @Option(names = "--history", paramLabel = "FILE",
      description = "A new user's ratings, 'item value' per line: the user is folded in.")
  Path history;

  @Option(names = "--users", paramLabel = "FILE",
      description = "Users, one per line: recommends for each in one batch call.")
  Path users;

  @Option(names = "-k", paramLabel = "K", defaultValue = "10",
      description = "How many items (default: ${DEFAULT-VALUE}).")
  int k;

  @Option(names = "--exclude-seen", negatable = true,
      description = "Leave out (--exclude-seen) or keep (--no-exclude-seen) the user's items."
          + " Default: the server's, which leaves them out for ratings and clicks and keeps"
          + " them for counts.")
  Boolean excludeSeen;

  @Option(names = "--allow", paramLabel = "ITEM", arity = "1..*",
      description = "Only these items are candidates (repeatable).")
  List<String> allow = new ArrayList<>();

  @Option(names = "--deny", paramLabel = "ITEM", arity = "1..*",
      description = "These items are never recommended (repeatable).")
  List<String> deny = new ArrayList<>();

  @Option(names = "--offset", paramLabel = "N", defaultValue = "0",
      description = "Skip the N best items first, for paging (default: ${DEFAULT-VALUE}).")
  int offset;

  @Option(names = "--exact",
      description = "Scan every item even where the model has an approximate index (see"
          + " 'mfctl model' and 'mfctl recall').")
  boolean exact;

  @Option(names = "--unknown-user", paramLabel = "HOW",
      description = "What a --user (or a user of --users) the model has never seen gets:"
          + " popular (the items with the most entries; the server's default), top-rated"
          + " (highest mean value, shrunk towards the global mean) or error.")
  String unknownUser;

  @Override
  public Integer call() {
    int given = (user != null ? 1 : 0) + (history != null ? 1 : 0) + (users != null ? 1 : 0);
    if (given != 1) {
      throw new ParameterException(spec.commandLine(),
          "give exactly one of --user USER, --history FILE or --users FILE");
    }
    if (k < 1) {
      throw new ParameterException(spec.commandLine(), "-k must be at least 1, got " + k);
    }
    if (offset < 0) {
      throw new ParameterException(spec.commandLine(), "--offset must be at least 0, got "
          + offset);
    }
    if (users != null && offset != 0) {
      throw new ParameterException(spec.commandLine(), "--offset applies to one user; it"
          + " cannot be used with --users");
    }
    ModelInfo model = mfctl.model(modelId);
    IdForm itemForm = model.getItemIdForm();
    if (users != null) {
      return batch(model, UserFiles.users(users, model.getUserIdForm()));
    }
    RecommendRequest.Builder b = RecommendRequest.newBuilder().setModelId(modelId).setK(k)
        .setOffset(offset).setExact(exact).setUnknownUser(unknownUser());
    if (excludeSeen != null) {
      b.setExcludeSeen(excludeSeen);
    }
    addItems("--allow", allow, itemForm, b::addAllowedItemKeys, b::addAllowedItemIds);
    addItems("--deny", deny, itemForm, b::addDeniedItemKeys, b::addDeniedItemIds);
    UserHistory h = null;
    if (history != null) {
      h = UserFiles.history(history, itemForm);
      b.setUserHistory(h);
    } else if (model.getUserIdForm() == IdForm.ID_FORM_STRING) {
      b.setUserKey(user);
    } else {
      b.setUserId(Ids.parse(spec, "--user", user, modelId, "users"));
    }
    RecommendResponse response = mfctl.client().recommend(b.build());
    List<Recommendation> items = response.getItemsList().stream().map(Recommendation::of)
        .toList();
    boolean keys = itemForm == IdForm.ID_FORM_STRING;
    if (mfctl.json()) {
      Json j = new Json().beginObject().field("model_id", modelId);
      if (h != null) {
        j.field("history_entries", h.getValuesCount());
      } else {
        Ids.json(j.name("user"), user, model.getUserIdForm());
      }
      if (offset > 0) {
        j.field("offset", offset);
      }
      if (!response.getFallback().isEmpty()) {
        j.field("fallback", response.getFallback());
      }
      items(j.name("items"), items, keys);
      mfctl.out().println(j.endObject());
      return Mfctl.EXIT_OK;
    }
    String who = h != null ? "the user of " + history : "user " + user;
    if (items.isEmpty()) {
      mfctl.out().println("no items to recommend to " + who
          + (offset > 0 ? " after the first " + offset
              : " (every candidate is excluded; try --no-exclude-seen or fewer --deny)"));
      return Mfctl.EXIT_OK;
    }
    if (!response.getFallback().isEmpty()) {
      mfctl.out().println("user " + user + " is not in the model: the " + response.getFallback()
          .replace('_', '-') + " items (scores are " + (response.getFallback().equals("popular")
          ? "entry counts" : "shrunk mean values") + ")");
    }
    Table t = new Table("RANK", "ITEM", "SCORE");
    int rank = offset + 1;
    for (Recommendation r : items) {
      t.add(rank++, r.item(), Fmt.score(r.score()));
    }
    t.print(mfctl.out(), "");
    return Mfctl.EXIT_OK;
  }

  private UnknownUserFallback unknownUser() {
    if (unknownUser == null) {
      return UnknownUserFallback.UNKNOWN_USER_FALLBACK_UNSPECIFIED;
    }
    switch (unknownUser.trim().toLowerCase(java.util.Locale.ROOT).replace('_', '-')) {
      case "popular":
        return UnknownUserFallback.UNKNOWN_USER_FALLBACK_POPULAR;
      case "top-rated":
        return UnknownUserFallback.UNKNOWN_USER_FALLBACK_TOP_RATED;
      case "error":
        return UnknownUserFallback.UNKNOWN_USER_FALLBACK_ERROR;
      default:
        throw new ParameterException(spec.commandLine(), "--unknown-user must be popular,"
            + " top-rated or error, got '" + unknownUser + "'");
    }
  }

  /**
   * Adds the items of {@code --allow} or {@code --deny} to a Recommend or RecommendBatch request
   * (two builder types with the same filter fields): as keys, or as ids parsed for the flag.
   */
  private void addItems(String flag, List<String> items, IdForm itemForm,
      Consumer<String> addKey, LongConsumer addId) {
    for (String item : items) {
      if (itemForm == IdForm.ID_FORM_STRING) {
        addKey.accept(item);
      } else {
        addId.accept(Ids.parse(spec, flag, item, modelId, "items"));
      }
    }
  }

  private Integer batch(ModelInfo model, List<String> ids) {
    IdForm userForm = model.getUserIdForm();
    IdForm itemForm = model.getItemIdForm();
    RecommendBatchRequest.Builder b = RecommendBatchRequest.newBuilder().setModelId(modelId)
        .setK(k).setExact(exact).setUnknownUser(unknownUser());
    if (excludeSeen != null) {
      b.setExcludeSeen(excludeSeen);
    }
    for (String u : ids) {
      if (userForm == IdForm.ID_FORM_STRING) {
        b.addUserKeys(u);
      } else {
        b.addUserIds(Long.parseLong(u));
      }
    }
    addItems("--allow", allow, itemForm, b::addAllowedItemKeys, b::addAllowedItemIds);
    addItems("--deny", deny, itemForm, b::addDeniedItemKeys, b::addDeniedItemIds);
    List<RecommendBatchResponse> answers = mfctl.client().recommendBatch(b.build());
    boolean keys = itemForm == IdForm.ID_FORM_STRING;
    if (mfctl.json()) {
      Json j = new Json().beginObject().field("model_id", modelId).name("users").beginArray();
      for (int n = 0; n < answers.size(); n++) {
        j.beginObject();
        Ids.json(j.name("user"), ids.get(n), userForm);
        if (!answers.get(n).getFallback().isEmpty()) {
          j.field("fallback", answers.get(n).getFallback());
        }
        items(j.name("items"), answers.get(n).getItemsList().stream().map(Recommendation::of)
            .toList(), keys);
        j.endObject();
      }
      mfctl.out().println(j.endArray().endObject());
      return Mfctl.EXIT_OK;
    }
    Table t = new Table("USER", "RANK", "ITEM", "SCORE");
    for (int n = 0; n < answers.size(); n++) {
      int rank = 1;
      for (ScoredItem s : answers.get(n).getItemsList()) {
        t.add(ids.get(n), rank++, Recommendation.of(s).item(), Fmt.score(s.getScore()));
      }
    }
    t.print(mfctl.out(), "");
    for (int n = 0; n < answers.size(); n++) {
      String fallback = answers.get(n).getFallback();
      if (!fallback.isEmpty()) {
        mfctl.out().println("user " + ids.get(n) + " is not in the model: the "
            + fallback.replace('_', '-') + " items");
      }
    }
    return Mfctl.EXIT_OK;
  }

  private static void items(Json j, List<Recommendation> items, boolean keys) {
    j.beginArray();
    for (Recommendation r : items) {
      j.beginObject();
      if (keys) {
        j.field("item", r.itemKey());
      } else {
        j.field("item", r.itemId());
      }
      j.name("score").value(r.score()).endObject();
    }
    j.endArray();
  }
}
