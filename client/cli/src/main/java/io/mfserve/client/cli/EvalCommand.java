package io.mfserve.client.cli;

import io.mfserve.client.cli.InputFiles.Format;
import io.mfserve.client.cli.InputFiles.Parsed;
import io.mfserve.client.eval.EvalOptions;
import io.mfserve.client.eval.EvalReport;
import io.mfserve.client.eval.Evaluator;
import io.mfserve.client.eval.Fold;
import io.mfserve.client.eval.FoldInfo;
import io.mfserve.client.eval.FoldResult;
import io.mfserve.client.eval.Grid;
import io.mfserve.client.eval.Interactions;
import io.mfserve.client.eval.Metric;
import io.mfserve.client.eval.SettingResult;
import io.mfserve.client.eval.Splits;
import io.mfserve.client.eval.TuneChoice;
import io.mfserve.proto.v1.FitRequest;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code mfctl eval}: fits on the server and reports fit seconds and held-out metrics, over a
 * holdout, K folds or a given train/test pair, for one setting or a grid. The work is done by
 * {@link Evaluator}; this class reads the files, checks the flags and prints the report.
 */
@Command(name = "eval", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Evaluates fit settings on the server: fit seconds and held-out metrics, "
          + "mean ± std over folds, best setting first.",
        "Explicit ratings (the default): RMSE and MAE of Predict on the test pairs; users or "
            + "items not in the training part score the global mean (counted as cold).",
        "Implicit feedback (--absent implicit) or --ranking: precision, recall, MAP and NDCG "
            + "at k, the test items as the relevant set, training items excluded.",
        "Each fold's training part is uploaded once and shared by every setting; models and "
            + "uploads are deleted afterwards.",
        "The first row is a baseline with no factors, fitted on the client on the same folds: "
            + "user + item biases (Surprise's BaselineOnly) for RMSE and MAE, the most popular "
            + "training items for the ranking metrics; a last line says how much better the "
            + "best setting is."},
    footer = {"", "Examples:",
        "  mfctl eval u.data --folds 5 --factors 10",
        "  mfctl eval --train u1.base --test u1.test --grid 'regularization=0.05,0.1 "
            + "factors=10,20'",
        "  mfctl eval u.data --split 0.2 --ranking --relevant-threshold 4 -k 10",
        "",
        "Metrics: RMSE and MAE as Surprise's accuracy module; precision@k = total hits / total "
            + "min(k, |relevant|) and MAP@k as implicit's ranking_metrics_at_k; recall@k = mean "
            + "of hits / |relevant|; NDCG@k with binary relevance, log2 discounts, ideal DCG "
            + "over min(k, |relevant|). Std is over folds (population)."})
final class EvalCommand implements Callable<Integer> {
  @ParentCommand
  Mfctl mfctl;

  @Spec
  CommandSpec spec;

  @Parameters(paramLabel = "FILE", arity = "0..1",
      description = "The data, split by --folds (default 5) or --split.")
  Path file;

  @Option(names = "--train", paramLabel = "FILE",
      description = "A training file, with --test, instead of FILE.")
  Path trainFile;

  @Option(names = "--test", paramLabel = "FILE", description = "The test file for --train.")
  Path testFile;

  @Option(names = "--folds", paramLabel = "K",
      description = "Seeded K-fold cross-validation of FILE (K >= 2; the default, with 5).")
  Integer folds;

  @Option(names = "--split", paramLabel = "F",
      description = "A seeded random holdout of FILE: ceil(F x entries) test entries "
          + "(0 < F < 1).")
  Double split;

  @Option(names = "--seed", paramLabel = "SEED", defaultValue = "42",
      description = "Seed of the split and of every fit, 0 to 2^64-1 (default: "
          + "${DEFAULT-VALUE}).")
  String seed;

  @Option(names = "--format", paramLabel = "FORMAT", defaultValue = "auto",
      description = "auto, movielens, csv or dense-csv, as for mfctl fit "
          + "(default: ${DEFAULT-VALUE}).")
  String format;

  @Option(names = "--solver", paramLabel = "NAME", defaultValue = "als",
      description = "Solver (default: ${DEFAULT-VALUE}).")
  String solver;

  @Option(names = "--factors", paramLabel = "K",
      description = "Number of latent factors. Default: the server's, 10.")
  Integer factors;

  @Option(names = "--iterations", paramLabel = "N",
      description = "Maximum iterations. Default: the solver's.")
  Integer iterations;

  @Mixin
  FitOptions fitOptions;

  @Option(names = "--param", paramLabel = "NAME=VALUE",
      description = "A solver-specific parameter (repeatable; see: mfctl solvers).")
  Map<String, String> params = new LinkedHashMap<>();

  @Option(names = "--absent", paramLabel = "MEANING",
      description = "unknown (ratings: error metrics), zero (counts) or implicit (clicks, "
          + "plays: ranking metrics). Default: the solver's.")
  String absent;

  @Option(names = "--grid", paramLabel = "'NAME=V1,V2 ...'",
      description = {"Evaluate every combination (the cartesian product) on the same folds. "
            + "NAME is a fit option (solver, factors, iterations, regularization, learning_rate, "
            + "seed) or a solver parameter; overrides the flag of the same name. Repeatable.",
          "e.g. --grid 'regularization=0.01,0.05,0.1 factors=10,20,50'"})
  List<String> grid = new ArrayList<>();

  @Mixin
  TuneOptions tuneOptions;

  @Option(names = "--ranking",
      description = "Also measure precision, recall, MAP and NDCG at k on explicit data.")
  boolean ranking;

  @Option(names = "-k", paramLabel = "K",
      description = "Cut-off of the ranking metrics (default: 10; implies --ranking).")
  Integer k;

  @Option(names = "--relevant-threshold", paramLabel = "VALUE",
      description = "Test entries with a value >= VALUE are relevant (e.g. 4 for ratings "
          + "1-5); default: every test entry. Implies --ranking.")
  Float relevantThreshold;

  @Option(names = "--sort-by", paramLabel = "METRIC",
      description = "Rank settings by rmse, mae, precision, recall, map, ndcg or fit_seconds "
          + "(default: ndcg with ranking metrics, else rmse).")
  String sortBy;

  @Option(names = "--keep-models",
      description = "Keep the trained models on the server (default: delete each once scored).")
  boolean keepModels;

  @Option(names = "--concurrency", paramLabel = "N",
      defaultValue = "" + EvalOptions.DEFAULT_CONCURRENCY,
      description = "Recommend calls in flight when the server lacks RecommendBatch "
          + "(default: ${DEFAULT-VALUE}).")
  int concurrency;

  @Option(names = {"-q", "--quiet"}, description = "No progress lines on standard error.")
  boolean quiet;

  /** The baseline row's text in a grid table, before its name and a closing parenthesis. */
  private static final String BASELINE_LABEL = "baseline (";

  @Override
  public Integer call() {
    Format f = parse(() -> Format.parse(format), "--format");
    long seedValue = parse(() -> Long.parseUnsignedLong(seed), "--seed '" + seed
        + "' is not an integer between 0 and 2^64-1; ");
    Grid g = parse(() -> Grid.parse(grid), "--grid");
    EvalOptions options = options(seedValue);
    checkInputs();
    // Check the connection options before spending time reading large files.
    mfctl.client();

    Interactions data;
    List<Fold> foldList;
    String protocol;
    if (file != null) {
      Parsed parsed = InputFiles.read(InputFiles.file(file), f);
      data = Interactions.of(parsed.matrix());
      say("read " + Fmt.count(data.size()) + " entries from " + file + " ("
          + parsed.format().label + "): " + Fmt.count(data.numUsers()) + " users, "
          + Fmt.count(data.numItems()) + " items");
      if (split != null) {
        foldList = List.of(parse(() -> Splits.holdout(data.size(), split, seedValue),
            "--split"));
        protocol = "holdout of " + Fmt.sig(split) + " (seed " + seed + ")";
      } else {
        int kf = folds == null ? 5 : folds;
        foldList = parse(() -> Splits.kFold(data.size(), kf, seedValue), "--folds");
        protocol = kf + "-fold cross-validation (seed " + seed + ")";
      }
    } else {
      Parsed train = InputFiles.read(InputFiles.file(trainFile), f);
      Parsed test = InputFiles.read(InputFiles.file(testFile), f);
      Interactions a = Interactions.of(train.matrix());
      Interactions b = Interactions.of(test.matrix());
      data = parse(() -> Interactions.concat(a, b), "--train/--test");
      say("read " + Fmt.count(a.size()) + " training entries from " + trainFile + " and "
          + Fmt.count(b.size()) + " test entries from " + testFile);
      foldList = List.of(Splits.predefined(a.size(), b.size()));
      protocol = "the given train/test split";
    }
    int settings = g.settings().size();
    say("evaluating " + settings + " setting" + (settings == 1 ? "" : "s") + " of "
        + options.fit().getSolver() + " on " + protocol);

    EvalReport report = new Evaluator(mfctl.client(), options)
        .run(data, foldList, g, quiet ? null
            : new ProgressLines(err(), foldList.size(), options.k()));
    if (mfctl.json()) {
      mfctl.out().println(json(report, data, protocol, options, g));
    } else {
      print(mfctl.out(), report, g);
    }
    return Mfctl.EXIT_OK;
  }

  // ---------------------------------------------------------------------------------------
  // Flags

  private EvalOptions options(long seedValue) {
    FitRequest.Builder b = new FitSettings(solver, factors, iterations,
        fitOptions.regularization, fitOptions.learningRate, params, absent)
        .toRequest(spec.commandLine()).setSeed(seedValue);
    tuneOptions.checkUnused(spec.commandLine());
    if (tuneOptions.present()) {
      // Every fold's fit tunes on its own training part: the folds score the whole procedure.
      b.setTune(tuneOptions.spec(spec.commandLine()));
    }
    EvalOptions o = EvalOptions.defaults(b.build());
    boolean rank = o.rankingMetrics() || ranking || k != null || relevantThreshold != null;
    o = o.withRankingMetrics(rank).withRelevantThreshold(relevantThreshold)
        .withKeepModels(keepModels);
    if (k != null) {
      int cutoff = k;
      EvalOptions base = o;
      o = parse(() -> base.withK(cutoff), "-k");
    }
    if (concurrency < 1) {
      throw new ParameterException(spec.commandLine(),
          "--concurrency must be at least 1, got " + concurrency);
    }
    o = o.withConcurrency(concurrency);
    if (sortBy != null) {
      Metric m = parse(() -> Metric.parse(sortBy), "--sort-by");
      EvalOptions unsorted = o;
      o = parse(() -> unsorted.withSortBy(m), "--sort-by");
    }
    return o;
  }

  private void checkInputs() {
    boolean pair = trainFile != null || testFile != null;
    if (file != null && pair) {
      throw new ParameterException(spec.commandLine(),
          "give either FILE or --train and --test, not both");
    }
    if (file == null && !pair) {
      throw new ParameterException(spec.commandLine(),
          "missing input: give FILE (with --folds or --split) or --train FILE --test FILE");
    }
    if (pair && (trainFile == null || testFile == null)) {
      throw new ParameterException(spec.commandLine(),
          trainFile == null ? "--test needs --train" : "--train needs --test");
    }
    if (pair && (folds != null || split != null)) {
      throw new ParameterException(spec.commandLine(), (folds != null ? "--folds" : "--split")
          + " splits FILE; --train and --test are already split");
    }
    if (folds != null && split != null) {
      throw new ParameterException(spec.commandLine(),
          "give --folds or --split, not both");
    }
    // Checked before reading a large file; the upper bounds need the entry count.
    if (folds != null && folds < 2) {
      throw new ParameterException(spec.commandLine(),
          "--folds must be at least 2, got " + folds);
    }
    if (split != null && !(split > 0 && split < 1)) {
      throw new ParameterException(spec.commandLine(),
          "--split must be between 0 and 1 (exclusive), got " + split);
    }
  }

  /** Runs a parse step, turning its IllegalArgumentException into a usage error. */
  private <T> T parse(Supplier<T> step, String flag) {
    try {
      return step.get();
    } catch (IllegalArgumentException e) {
      String prefix = flag.endsWith(" ") ? flag : flag + ": ";
      throw new ParameterException(spec.commandLine(), prefix + e.getMessage());
    }
  }

  private PrintWriter err() {
    return spec.commandLine().getErr();
  }

  private void say(String line) {
    if (!quiet) {
      err().println(line);
    }
  }

  /** Progress lines on standard error, one per upload and per scored setting. */
  private static final class ProgressLines implements Evaluator.Listener {
    private final PrintWriter err;
    private final int folds;
    private final int k;

    ProgressLines(PrintWriter err, int folds, int k) {
      this.err = err;
      this.folds = folds;
      this.k = k;
    }

    @Override
    public void foldUploaded(FoldInfo fold, String matrixId) {
      err.println("fold " + fold.fold() + "/" + folds + ": uploaded " + Fmt.count(
          fold.trainEntries()) + " training entries as " + matrixId + ", "
          + Fmt.count(fold.testEntries()) + " test entries");
    }

    @Override
    public void baselineScored(FoldInfo fold, FoldResult r) {
      StringBuilder sb = new StringBuilder("fold ").append(fold.fold()).append('/').append(folds)
          .append(", baseline: ");
      appendValues(sb, r, k);
      err.println(sb);
    }

    @Override
    public void scored(FoldInfo fold, SettingResult setting, int settings, FoldResult r) {
      StringBuilder sb = new StringBuilder("fold ").append(fold.fold()).append('/').append(folds);
      if (settings > 1) {
        sb.append(", setting ").append(setting.index() + 1).append('/').append(settings)
            .append(" (").append(settingText(setting.setting())).append(')');
      }
      sb.append(": ");
      if (r.failed()) {
        sb.append("failed: ").append(r.error());
      } else {
        appendValues(sb, r, k);
        if (r.tuned() != null) {
          sb.append("; tuned: ").append(tunedText(r.tuned()));
        }
      }
      err.println(sb);
    }

    private static void appendValues(StringBuilder sb, FoldResult r, int k) {
      boolean first = true;
      for (Map.Entry<Metric, Double> e : r.values().entrySet()) {
        sb.append(first ? "" : ", ").append(e.getKey() == Metric.FIT_SECONDS ? "fit"
            : e.getKey().label(k)).append(' ').append(e.getKey() == Metric.FIT_SECONDS
                ? Fmt.seconds(e.getValue()) : Fmt.score(e.getValue()));
        first = false;
      }
    }
  }

  // ---------------------------------------------------------------------------------------
  // Output

  private static void print(PrintStream out, EvalReport report, Grid grid) {
    List<Metric> metrics = report.metrics();
    int k = report.k();
    if (grid.isEmpty()) {
      printFolds(out, report);
    } else {
      List<String> headers = new ArrayList<>(List.of("", "rank"));
      headers.addAll(grid.names());
      metrics.forEach(m -> headers.add(m.label(k)));
      Table t = new Table(headers.toArray(new String[0]));
      List<SettingResult> ranked = report.ranked();
      Map<Metric, List<String>> cells = new LinkedHashMap<>();
      Map<Metric, String> baseCells = new LinkedHashMap<>();
      boolean oneFold = report.folds().size() == 1;
      SettingResult base = report.baseline();
      List<SettingResult> rows = new ArrayList<>();
      if (base != null) {
        rows.add(base);
      }
      rows.addAll(ranked);
      for (Metric m : metrics) {
        // One fold has no spread to show: its value alone.
        List<String> all = oneFold ? rows.stream().map(s -> value(m, s.mean(m))).toList()
            : meanStd(rows, m);
        cells.put(m, all.subList(base == null ? 0 : 1, all.size()));
        baseCells.put(m, base == null ? null : all.get(0));
      }
      if (base != null) {
        // The first row: what a model with no factors scores on the same folds.
        List<Object> row = new ArrayList<>();
        row.add("");
        row.add("-");
        List<String> names = grid.names();
        for (int n = 0; n < names.size(); n++) {
          row.add(n == 0 ? BASELINE_LABEL + base.setting().get(Evaluator.BASELINE) + ")" : "");
        }
        for (Metric m : metrics) {
          row.add(baseCells.get(m));
        }
        t.add(row.toArray());
      }
      for (int r = 0; r < ranked.size(); r++) {
        SettingResult s = ranked.get(r);
        List<Object> row = new ArrayList<>();
        row.add(r == 0 && report.best() != null ? "*" : "");
        row.add(s.failed() ? "-" : Integer.toString(r + 1));
        row.addAll(s.setting().values());
        if (s.failed()) {
          row.add("failed: " + s.error());
        } else {
          for (Metric m : metrics) {
            row.add(cells.get(m).get(r));
          }
        }
        t.add(row.toArray());
      }
      t.print(out, "");
    }
    printTuned(out, report);
    printCold(out, report);
    printBaseline(out, report, !grid.isEmpty());
    SettingResult best = report.best();
    Metric p = report.primary();
    int n = report.folds().size();
    String over = n == 1 ? "" : " (mean ± std over " + n + " folds)";
    String bestText = best.setting().isEmpty() ? "" : settingText(best.setting()) + ": ";
    out.println((grid.isEmpty() ? "" : "best by " + p.label(k) + ": ") + bestText
        + p.label(k) + " " + value(p, best.mean(p)) + (n == 1 ? "" : " ± " + value(p,
            best.std(p))) + over);
  }

  /** Surprise's cross_validate table: one column per fold, then mean and std. */
  private static void printFolds(PrintStream out, EvalReport report) {
    SettingResult s = report.ranked().get(0);
    int n = report.folds().size();
    List<String> headers = new ArrayList<>(List.of(""));
    for (FoldInfo f : report.folds()) {
      headers.add(n == 1 ? "value" : "fold " + f.fold());
    }
    if (n > 1) {
      headers.add("mean");
      headers.add("std");
    }
    Table t = new Table(headers.toArray(new String[0]));
    SettingResult base = report.baseline();
    if (base != null) {
      // The first rows: what a model with no factors scores on the same folds.
      addFoldRows(t, report, base, "baseline ");
    }
    addFoldRows(t, report, s, "");
    t.print(out, "");
  }

  private static void addFoldRows(Table t, EvalReport report, SettingResult s, String prefix) {
    int n = report.folds().size();
    for (Metric m : report.metrics()) {
      List<Object> row = new ArrayList<>();
      row.add(prefix + m.label(report.k()));
      for (FoldResult f : s.folds()) {
        row.add(value(m, f.values().get(m)));
      }
      if (n > 1) {
        row.add(value(m, s.mean(m)));
        row.add(value(m, s.std(m)));
      }
      t.add(row.toArray());
    }
  }

  /**
   * What a tuned fit chose on each fold: every fold tunes on its own training part, so the
   * spread of the choices shows how sure the search is.
   */
  private static void printTuned(PrintStream out, EvalReport report) {
    List<SettingResult> ranked = report.ranked();
    for (SettingResult s : ranked) {
      String prefix = ranked.size() == 1 || s.setting().isEmpty() ? ""
          : "(" + settingText(s.setting()) + ") ";
      for (FoldResult f : s.folds()) {
        if (f.tuned() != null) {
          out.println(prefix + "tuned on fold " + f.fold() + ": " + tunedText(f.tuned()));
        }
      }
    }
  }

  /** "num_factors=12 regularization=8.3 (held-out rmse 0.9312, best of 30 trials)". */
  private static String tunedText(TuneChoice c) {
    return c.settingText() + " (held-out " + c.metric() + " " + Fmt.score(c.heldOut())
        + ", best of " + c.trials() + " trials)";
  }

  /** What the baseline scored, and how far the best setting is from it. */
  private static void printBaseline(PrintStream out, EvalReport report, boolean grid) {
    SettingResult base = report.baseline();
    if (base == null || report.best() == null) {
      return;
    }
    int k = report.k();
    int n = report.folds().size();
    StringBuilder sb = new StringBuilder("baseline (");
    String name = base.setting().get(Evaluator.BASELINE);
    sb.append(switch (name) {
      case "biases" -> "user + item biases, as Surprise's BaselineOnly";
      case "popularity" -> "most popular items";
      default -> "user + item biases; most popular items";
    }).append(", same folds):");
    for (Metric m : report.metrics()) {
      if (m == Metric.FIT_SECONDS) {
        continue;
      }
      double gain = report.improvementOverBaseline(m);
      sb.append(' ').append(m.label(k)).append(' ').append(value(m, base.mean(m)));
      if (n > 1) {
        sb.append(" ± ").append(value(m, base.std(m)));
      }
      if (!Double.isNaN(gain)) {
        sb.append(String.format(Locale.ROOT, " (%s %.1f%% %s)", grid ? "best setting" : "model",
            100 * Math.abs(gain), gain >= 0 ? "better" : "worse"));
      }
      sb.append(';');
    }
    sb.setLength(sb.length() - 1);
    out.println(sb);
  }

  private static void printCold(PrintStream out, EvalReport report) {
    long pairs = 0;
    long tests = 0;
    long users = 0;
    long coldUsers = 0;
    for (FoldInfo f : report.folds()) {
      pairs += f.coldTestPairs();
      tests += f.testEntries();
      users += f.testUsers();
      coldUsers += f.coldTestUsers();
    }
    boolean ranking = report.metrics().stream().anyMatch(Metric::isRanking);
    boolean errors = report.metrics().contains(Metric.RMSE);
    String per = report.folds().size() == 1 ? "" : " (all folds)";
    if (errors) {
      out.println("cold test pairs (user or item not in the training part, scored with the "
          + "global mean plus the known side's bias): " + Fmt.count(pairs) + " of "
          + Fmt.count(tests) + per);
    }
    if (ranking) {
      out.println("test users ranked: " + Fmt.count(users - coldUsers) + " of "
          + Fmt.count(users) + " with relevant test items" + per + "; "
          + Fmt.count(coldUsers) + " not in the training part were left out");
    }
  }

  /** "mean ± std" cells with the means and the stds each padded to one width. */
  private static List<String> meanStd(List<SettingResult> ranked, Metric m) {
    List<String> means = new ArrayList<>();
    List<String> stds = new ArrayList<>();
    int mw = 0;
    int sw = 0;
    for (SettingResult s : ranked) {
      String a = value(m, s.mean(m));
      String b = value(m, s.std(m));
      means.add(a);
      stds.add(b);
      mw = Math.max(mw, a.length());
      sw = Math.max(sw, b.length());
    }
    List<String> out = new ArrayList<>();
    for (int i = 0; i < means.size(); i++) {
      out.add(" ".repeat(mw - means.get(i).length()) + means.get(i) + " ± "
          + " ".repeat(sw - stds.get(i).length()) + stds.get(i));
    }
    return out;
  }

  private static String value(Metric m, Double v) {
    if (v == null) {
      return "-";
    }
    return m == Metric.FIT_SECONDS ? String.format(Locale.ROOT, "%.2f", v) : Fmt.score(v);
  }

  private static String settingText(Map<String, String> setting) {
    StringBuilder sb = new StringBuilder();
    setting.forEach((n, v) -> sb.append(sb.length() == 0 ? "" : " ").append(n).append('=')
        .append(v));
    return sb.toString();
  }

  private String json(EvalReport report, Interactions data, String protocol,
      EvalOptions options, Grid grid) {
    Json j = new Json().beginObject();
    j.name("data").beginObject().field("entries", data.size()).field("users", data.numUsers())
        .field("items", data.numItems()).endObject();
    j.name("protocol").beginObject()
        .field("kind", file == null ? "train_test" : split != null ? "holdout" : "kfold")
        .field("folds", report.folds().size());
    if (split != null) {
      j.field("test_fraction", split);
    }
    j.field("seed", seed).field("description", protocol).endObject();
    j.proto("fit", options.fit());
    j.name("grid").beginObject();
    for (String name : grid.names()) {
      j.name(name).beginArray();
      grid.settings().stream().map(s -> s.get(name)).distinct().forEach(j::value);
      j.endArray();
    }
    j.endObject();
    j.name("metrics").beginArray();
    report.metrics().forEach(m -> j.value(m.key()));
    j.endArray();
    j.field("primary", report.primary().key());
    if (options.rankingMetrics()) {
      j.field("k", report.k());
      if (options.relevantThreshold() != null) {
        j.field("relevant_threshold", (double) options.relevantThreshold());
      }
    }
    j.name("folds").beginArray();
    for (FoldInfo f : report.folds()) {
      j.beginObject().field("fold", f.fold()).field("train_entries", f.trainEntries())
          .field("test_entries", f.testEntries()).field("cold_test_pairs", f.coldTestPairs());
      if (options.rankingMetrics()) {
        j.field("test_users", f.testUsers()).field("cold_test_users", f.coldTestUsers());
      }
      j.endObject();
    }
    j.endArray();
    j.name("results").beginArray();
    List<SettingResult> ranked = report.ranked();
    for (int r = 0; r < ranked.size(); r++) {
      SettingResult s = ranked.get(r);
      j.beginObject().field("rank", r + 1).field("best", s == report.best());
      setting(j, s);
      j.name("folds").beginArray();
      for (FoldResult f : s.folds()) {
        j.beginObject().field("fold", f.fold()).field("model_id", f.modelId());
        f.values().forEach((m, v) -> j.field(m.key(), v));
        if (f.failed()) {
          j.field("error", f.error());
        }
        if (f.tuned() != null) {
          TuneChoice c = f.tuned();
          j.name("tuned").beginObject().name("setting").beginObject();
          c.setting().forEach(j::field);
          j.endObject().field("metric", c.metric()).field("held_out", c.heldOut())
              .field("trials", c.trials()).endObject();
        }
        j.endObject();
      }
      j.endArray();
      if (s.failed()) {
        j.field("error", s.error());
      }
      j.endObject();
    }
    j.endArray();
    j.name("baseline");
    if (report.baseline() == null) {
      j.value((String) null);
    } else {
      SettingResult b = report.baseline();
      j.beginObject().field("name", b.setting().get(Evaluator.BASELINE));
      setting(j, b);
      j.name("folds").beginArray();
      for (FoldResult f : b.folds()) {
        j.beginObject().field("fold", f.fold());
        f.values().forEach((m, v) -> j.field(m.key(), v));
        j.endObject();
      }
      j.endArray();
      j.name("improvement").beginObject();
      for (Metric m : report.metrics()) {
        double gain = report.improvementOverBaseline(m);
        if (m != Metric.FIT_SECONDS && !Double.isNaN(gain)) {
          j.field(m.key(), gain);
        }
      }
      j.endObject().endObject();
    }
    j.name("best");
    if (report.best() == null) {
      j.value((String) null);
    } else {
      setting(j.beginObject(), report.best());
      j.endObject();
    }
    return j.endObject().toString();
  }

  private static void setting(Json j, SettingResult s) {
    j.name("setting").beginObject();
    s.setting().forEach(j::field);
    j.endObject();
    j.name("mean").beginObject();
    List<Metric> measured = s.folds().isEmpty() ? List.of()
        : new ArrayList<>(s.folds().get(0).values().keySet());
    if (!s.failed()) {
      measured.forEach(m -> j.field(m.key(), s.mean(m)));
    }
    j.endObject();
    j.name("std").beginObject();
    if (!s.failed()) {
      measured.forEach(m -> j.field(m.key(), s.std(m)));
    }
    j.endObject();
  }
}
