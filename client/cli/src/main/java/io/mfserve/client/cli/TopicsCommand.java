package io.mfserve.client.cli;

import io.mfserve.client.Factors;
import io.mfserve.client.cli.InputFiles.InputException;
import io.mfserve.proto.v1.FoldInRequest;
import io.mfserve.proto.v1.GetTopicsRequest;
import io.mfserve.proto.v1.GetTopicsResponse;
import io.mfserve.proto.v1.IdForm;
import io.mfserve.proto.v1.ModelInfo;
import io.mfserve.proto.v1.ScoredItem;
import io.mfserve.proto.v1.Topic;
import io.mfserve.proto.v1.UserHistory;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code mfctl topics MODEL}: each factor of a topic model (NMF on a document × term matrix) as
 * its heaviest terms, like gensim's {@code show_topics}, and with {@code --document FILE} the
 * topic mixture of a new document, folded in on the server.
 */
@Command(name = "topics", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Prints each topic (factor) of a model as its top terms with their share of "
          + "the topic, like gensim's show_topics.",
        "With --document, also the topic mixture of a new document, folded in against the "
            + "fixed topics."})
final class TopicsCommand implements Callable<Integer> {
  private static final Pattern SEPARATORS = Pattern.compile("[\\s,]+");

  @ParentCommand
  Mfctl mfctl;

  @Spec
  CommandSpec spec;

  @Parameters(paramLabel = "MODEL", description = "The model id.")
  String modelId;

  @Option(names = {"-n", "--terms"}, paramLabel = "N", defaultValue = "10",
      description = "Terms per topic (default: ${DEFAULT-VALUE}).")
  int terms;

  @Option(names = "--document", paramLabel = "FILE",
      description = "A new document, 'term [count]' per line (tab, comma or space separated; "
          + "a count of 1 when omitted, repeated terms add up). Terms the model does not know "
          + "are left out and counted.")
  Path document;

  @Override
  public Integer call() throws IOException {
    if (terms < 1) {
      throw new ParameterException(spec.commandLine(), "-n must be at least 1, got " + terms);
    }
    Map<String, Float> doc = document == null ? null : readDocument(document);
    GetTopicsResponse topics = mfctl.client().getTopics(GetTopicsRequest.newBuilder()
        .setModelId(modelId).setNumTerms(terms).build());
    Mixture mixture = doc == null ? null : foldIn(doc);
    if (mfctl.json()) {
      printJson(topics, mixture);
    } else {
      printText(topics, mixture);
    }
    return Mfctl.EXIT_OK;
  }

  /** A folded-in document: its factors, and the terms known and left out. */
  private record Mixture(List<Float> factors, int known, List<String> unknown) { }

  private Mixture foldIn(Map<String, Float> doc) {
    ModelInfo model = mfctl.model(modelId);
    boolean keys = model.getItemIdForm() == IdForm.ID_FORM_STRING;
    // The vocabulary comes with the item factors; FoldIn refuses terms the model lacks, and a
    // new document usually has some (gensim leaves them out too).
    Factors f = mfctl.client().getFactors(modelId);
    Set<String> vocabulary = new HashSet<>();
    for (int i = 0; i < f.numItems(); i++) {
      vocabulary.add(keys ? f.itemKeys()[i] : Long.toString(f.itemIds()[i]));
    }
    UserHistory.Builder h = UserHistory.newBuilder();
    List<String> unknown = new ArrayList<>();
    int known = 0;
    for (Map.Entry<String, Float> e : doc.entrySet()) {
      String term = e.getKey();
      String id = keys ? term : canonicalId(term);
      if (id == null || !vocabulary.contains(id)) {
        unknown.add(term);
        continue;
      }
      if (keys) {
        h.addItemKeys(term);
      } else {
        h.addItemIds(Long.parseLong(id));
      }
      h.addValues(e.getValue());
      known++;
    }
    if (known == 0) {
      throw new InputException(document + ": none of its " + doc.size() + " terms is in the "
          + "model's vocabulary (" + f.numItems() + " terms)");
    }
    List<Float> factors = mfctl.client().foldIn(FoldInRequest.newBuilder().setModelId(modelId)
        .setUserHistory(h).build()).getFactorsList();
    return new Mixture(factors, known, unknown);
  }

  private static String canonicalId(String term) {
    try {
      return Long.toString(Long.parseLong(term));
    } catch (NumberFormatException e) {
      return null;
    }
  }

  /** Reads 'term [count]' lines into term → total count, in first-seen order. */
  static Map<String, Float> readDocument(Path file) throws IOException {
    Map<String, Float> counts = new LinkedHashMap<>();
    try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      DataLines lines = new DataLines(r);
      String t;
      while ((t = lines.next()) != null) {
        int n = lines.number();
        String[] f = SEPARATORS.split(t);
        if (f.length > 2) {
          throw new InputException(file + " line " + n + ": expected 'term [count]' but found "
              + f.length + " fields");
        }
        float count = 1;
        if (f.length == 2) {
          try {
            count = Float.parseFloat(f[1]);
          } catch (NumberFormatException e) {
            count = Float.NaN;
          }
          if (!(count >= 0) || Float.isInfinite(count)) {
            throw new InputException(file + " line " + n + ": count '" + f[1]
                + "' is not a non-negative number");
          }
        }
        counts.merge(f[0], count, Float::sum);
      }
    } catch (NoSuchFileException e) {
      throw new InputException("cannot read " + file + ": no such file");
    }
    if (counts.isEmpty()) {
      throw new InputException(file + " is empty: expected 'term [count]' lines");
    }
    return counts;
  }

  private static String term(ScoredItem s) {
    return s.getItemKey().isEmpty() ? Long.toString(s.getItemId()) : s.getItemKey();
  }

  private static float[] shares(List<Float> factors) {
    double sum = 0;
    for (float x : factors) {
      sum += Math.max(0, x);
    }
    float[] out = new float[factors.size()];
    for (int t = 0; t < out.length; t++) {
      out[t] = sum > 0 ? (float) (Math.max(0, factors.get(t)) / sum) : 0;
    }
    return out;
  }

  private void printText(GetTopicsResponse topics, Mixture mixture) {
    for (Topic t : topics.getTopicsList()) {
      StringBuilder sb = new StringBuilder();
      for (ScoredItem s : t.getTermsList()) {
        if (sb.length() > 0) {
          sb.append(" + ");
        }
        sb.append(String.format(Locale.ROOT, "%.3f*\"%s\"", s.getScore(), term(s)));
      }
      mfctl.out().println("topic " + t.getIndex() + ": " + sb);
    }
    if (mixture == null) {
      return;
    }
    mfctl.out().println();
    mfctl.out().println("document " + document + ": " + mixture.known() + " terms"
        + (mixture.unknown().isEmpty() ? "" : ", " + mixture.unknown().size()
            + " not in the model left out"));
    float[] share = shares(mixture.factors());
    Integer[] order = new Integer[share.length];
    for (int t = 0; t < order.length; t++) {
      order[t] = t;
    }
    java.util.Arrays.sort(order, (a, b) -> share[a] != share[b] ? Float.compare(share[b],
        share[a]) : Integer.compare(a, b));
    Table table = new Table("TOPIC", "SHARE", "WEIGHT", "TOP TERMS");
    for (int t : order) {
      if (share[t] <= 0) {
        continue;
      }
      table.add(t, String.format(Locale.ROOT, "%.3f", share[t]),
          Fmt.score(mixture.factors().get(t)), topTerms(topics, t));
    }
    table.print(mfctl.out(), "");
  }

  private static String topTerms(GetTopicsResponse topics, int index) {
    for (Topic t : topics.getTopicsList()) {
      if (t.getIndex() == index) {
        List<String> words = new ArrayList<>();
        for (int n = 0; n < Math.min(3, t.getTermsCount()); n++) {
          words.add(term(t.getTerms(n)));
        }
        return String.join(", ", words);
      }
    }
    return "";
  }

  private void printJson(GetTopicsResponse topics, Mixture mixture) {
    Json j = new Json().beginObject().field("model_id", modelId).name("topics").beginArray();
    for (Topic t : topics.getTopicsList()) {
      j.beginObject().field("index", t.getIndex()).name("terms").beginArray();
      for (ScoredItem s : t.getTermsList()) {
        j.beginObject();
        if (s.getItemKey().isEmpty()) {
          j.field("term", s.getItemId());
        } else {
          j.field("term", s.getItemKey());
        }
        j.name("weight").value(s.getScore()).endObject();
      }
      j.endArray().endObject();
    }
    j.endArray();
    if (mixture != null) {
      j.name("document").beginObject().field("file", document.toString())
          .field("terms", mixture.known()).name("unknown_terms").beginArray();
      for (String u : mixture.unknown()) {
        j.value(u);
      }
      j.endArray().name("factors").beginArray();
      for (float x : mixture.factors()) {
        j.value(x);
      }
      j.endArray().name("shares").beginArray();
      for (float x : shares(mixture.factors())) {
        j.value(x);
      }
      j.endArray().endObject();
    }
    mfctl.out().println(j.endObject());
  }
}
