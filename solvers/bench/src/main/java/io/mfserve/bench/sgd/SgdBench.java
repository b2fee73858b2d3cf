package io.mfserve.bench.sgd;

import io.mfserve.bench.BenchFitContext;
import io.mfserve.bench.Triplets;
import io.mfserve.solver.AbsentEntries;
import io.mfserve.solver.FactorModel;
import io.mfserve.solver.IterationProgress;
import io.mfserve.solver.Parameters;
import io.mfserve.solver.SolverConfig;
import io.mfserve.solver.SolverProvider;
import io.mfserve.solver.TrainingMatrix;
import io.mfserve.solver.ValidationSet;
import io.mfserve.solver.sgd.SgdSolverProvider;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.SplittableRandom;

/**
 * A timed runner (not a test) for the sgd solver on rating files: fits a train file, scores
 * the test file, and prints fit time, seconds per epoch and test RMSE — or, with
 * {@code --implicit T}, treats ratings ≥ T as positives, fits BPR and prints precision@k and
 * NDCG@k over held-out positives. Run it under {@code flock /tmp/bench.lock}.
 *
 * <pre>
 * java -cp ... io.mfserve.bench.sgd.SgdBench --train u1.base --test u1.test --k 40 \
 *     --threads 2 --runs 3 [--set max_iterations=40 ...] [--implicit 4 --eval-users 20000]
 *     [--solver als] [--popularity true] [--verbose true] [--watch-test true] [--select 0.1]
 * </pre>
 *
 * <p>Files are {@code user item rating [anything]}, tab- or space-separated. Fit time is the
 * solver's {@code fit} alone, parsing excluded, as LibMF's figures are. Several
 * {@code --set} groups separated by {@code --case} run one after the other on the same loaded
 * data.
 *
 * <p>{@code --select F} chooses the epoch count of each case from the training file alone:
 * it first fits on a seeded {@code 1 − F} of the training entries with early stopping on the
 * other F ({@code early_stopping_rounds} as set, else 10; {@code max_iterations} is the cap),
 * then fits the whole training file for the epochs the validation error was best at, and only
 * that fit is timed and scored on the test file. The test file plays no part in the choice.
 */
public final class SgdBench {
  /** The patience {@code --select} uses when the case sets no early_stopping_rounds. */
  private static final String SELECT_PATIENCE = "10";

  private SgdBench() { }

  /** A loaded train/test pair with ids mapped to dense positions by first appearance. */
  public record Data(TrainingMatrix train, int[] testRow, int[] testCol, float[] testVal) { }

  /**
   * Runs the benchmark; see the class Javadoc for the arguments.
   *
   * @param args command-line arguments
   * @throws IOException if a file cannot be read
   */
  public static void main(String[] args) throws IOException {
    Map<String, String> opts = new HashMap<>();
    List<Map<String, String>> cases = new ArrayList<>();
    Map<String, String> current = new LinkedHashMap<>();
    for (int a = 0; a < args.length; a++) {
      switch (args[a]) {
        case "--set": {
          String[] kv = args[++a].split("=", 2);
          current.put(kv[0], kv[1]);
          break;
        }
        case "--case":
          cases.add(current);
          current = new LinkedHashMap<>();
          break;
        default:
          opts.put(args[a].substring(2), args[++a]);
      }
    }
    cases.add(current);
    double threshold = Double.parseDouble(opts.getOrDefault("implicit", "NaN"));
    boolean implicit = !Double.isNaN(threshold);
    int k = Integer.parseInt(opts.getOrDefault("k", "10"));
    int threads = Integer.parseInt(opts.getOrDefault("threads", "2"));
    int runs = Integer.parseInt(opts.getOrDefault("runs", "1"));
    int topK = Integer.parseInt(opts.getOrDefault("top", "10"));
    int evalUsers = Integer.parseInt(opts.getOrDefault("eval-users", "0"));
    long seed = Long.parseLong(opts.getOrDefault("seed", "42"));
    boolean verbose = Boolean.parseBoolean(opts.getOrDefault("verbose", "false"));
    double validation = Double.parseDouble(opts.getOrDefault("validation", "0"));
    // Reports the test RMSE after every epoch (test entries with known ids), for tuning.
    boolean watchTest = Boolean.parseBoolean(opts.getOrDefault("watch-test", "false"));
    double select = Double.parseDouble(opts.getOrDefault("select", "0"));

    long t0 = System.nanoTime();
    Data d = load(Path.of(opts.get("train")), Path.of(opts.get("test")), implicit, threshold);
    System.out.printf(Locale.ROOT, "loaded %s: %d x %d, %d train entries, %d test entries"
        + " (%.1f s); k=%d threads=%d%s; Vector API module %s, -Dmfserve.sgd.kernels=%s%n",
        opts.get("train"), d.train().rows(), d.train().cols(), d.train().nnz(),
        d.testVal().length, (System.nanoTime() - t0) / 1e9, k, threads,
        implicit ? " implicit >= " + threshold : "",
        // What picks the biased model's kernel (README, "Faster ALS and SGD"): the vector one
        // where the module is loaded, unless the property says scalar.
        ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent() ? "loaded" : "absent",
        System.getProperty("mfserve.sgd.kernels", "(unset)"));

    if (implicit && Boolean.parseBoolean(opts.getOrDefault("popularity", "false"))) {
      double[] r = ranking(popularity(d.train()), d.train(), d, topK, evalUsers, seed);
      System.out.printf(Locale.ROOT, "popularity baseline: precision@%d %.4f, ndcg@%d %.4f%n",
          topK, r[0], topK, r[1]);
    }
    // Another solver on the class path (e.g. --solver als with the ALS jar) runs under the same
    // loading, split and metrics, for a side-by-side figure.
    String solver = opts.getOrDefault("solver", SgdSolverProvider.NAME);
    SolverProvider provider = ServiceLoader.load(SolverProvider.class).stream()
        .map(ServiceLoader.Provider::get).filter(p -> p.name().equals(solver)).findFirst()
        .orElseThrow(() -> new IllegalArgumentException("no solver " + solver));
    for (Map<String, String> caseParams : cases) {
      Map<String, String> params = caseParams;
      if (select > 0) {
        params = selectEpochs(provider, d.train(), k, seed, implicit, threads, select, params);
      }
      double[] seconds = new double[runs];
      double[] quality = new double[runs];
      double[] second = new double[runs];
      double[] perEpoch = new double[runs];
      double[] cpuPerEpoch = new double[runs];
      int epochs = 0;
      for (int run = 0; run < runs; run++) {
        TrainingMatrix train = d.train();
        ValidationSet held = ValidationSet.empty();
        if (watchTest) {
          held = knownTest(d);
        } else if (validation > 0) {
          TrainingMatrix.Split split = train.split(validation, seed);
          train = split.train();
          held = split.validation();
        }
        SolverConfig config = new SolverConfig(k, seed, implicit ? AbsentEntries.IMPLICIT
            : AbsentEntries.UNKNOWN, Parameters.resolve(provider.parameters(), params));
        FactorModel model;
        java.util.function.Consumer<IterationProgress> print = !verbose ? p -> { }
            : p -> System.out.printf(Locale.ROOT, "  epoch %d loss %.6g val %.4f %.3f s%n",
                p.iteration(), p.loss(), p.validationRmse(), p.elapsedNanos() / 1e9);
        // Process CPU time at each epoch's report: on a shared machine the wall-clock time of an
        // epoch depends on the other tenants, the CPU time it took much less.
        List<Long> cpuAt = java.util.Collections.synchronizedList(new ArrayList<>());
        java.util.function.Consumer<IterationProgress> printAndCount = p -> {
          cpuAt.add(processCpuNanos());
          print.accept(p);
        };
        try (BenchFitContext context = new BenchFitContext(threads, held, printAndCount)) {
          long start = System.nanoTime();
          model = provider.create(config).fit(train, context);
          seconds[run] = (System.nanoTime() - start) / 1e9;
          List<IterationProgress> reports = context.reports();
          epochs = reports.size();
          // Steady state: the epochs after the first, which also pays for building the grid.
          perEpoch[run] = epochs < 2 ? seconds[run] : (reports.get(epochs - 1).elapsedNanos()
              - reports.get(0).elapsedNanos()) / 1e9 / (epochs - 1);
          cpuPerEpoch[run] = cpuAt.size() < 2 ? Double.NaN
              : (cpuAt.get(cpuAt.size() - 1) - cpuAt.get(0)) / 1e9 / (cpuAt.size() - 1);
        }
        if (implicit) {
          double[] r = ranking(model, train, d, topK, evalUsers, seed);
          quality[run] = r[0];
          second[run] = r[1];
        } else {
          quality[run] = rmse(model, d);
          if (verbose) {
            System.out.printf(Locale.ROOT, "  clipped to [1, 5]: %.4f%n", rmseClipped(model, d));
          }
        }
        if (verbose) {
          List<IterationProgress> h = model.history();
          System.out.printf(Locale.ROOT, "  run %d: %.3f s, %d epochs kept%n", run,
              seconds[run], h.size());
        }
      }
      double med = median(seconds);
      if (implicit) {
        System.out.printf(Locale.ROOT, "%s: fit %.3f s (median of %d; runs %s), %d epochs,"
            + " %.4f s/epoch after the first, precision@%d %.4f, ndcg@%d %.4f%n", params, med,
            runs, fmt(seconds), epochs, median(perEpoch), topK, median(quality), topK,
            median(second));
      } else {
        System.out.printf(Locale.ROOT, "%s: fit %.3f s (median of %d; runs %s), %d epochs,"
            + " %.4f s/epoch after the first (process CPU %.4f s/epoch), test RMSE %.4f%n",
            params, med, runs, fmt(seconds), epochs, median(perEpoch), median(cpuPerEpoch),
            median(quality));
      }
    }
  }

  /**
   * Returns {@code params} with max_iterations set to the epoch count early stopping picks on a
   * seeded {@code fraction} of the training entries, and early stopping off; prints the choice.
   */
  private static Map<String, String> selectEpochs(SolverProvider provider, TrainingMatrix train,
      int k, long seed, boolean implicit, int threads, double fraction,
      Map<String, String> params) {
    Map<String, String> probe = new LinkedHashMap<>(params);
    probe.putIfAbsent("early_stopping_rounds", SELECT_PATIENCE);
    TrainingMatrix.Split split = train.split(fraction, seed);
    SolverConfig config = new SolverConfig(k, seed, implicit ? AbsentEntries.IMPLICIT
        : AbsentEntries.UNKNOWN, Parameters.resolve(provider.parameters(), probe));
    FactorModel model;
    try (BenchFitContext context = new BenchFitContext(threads, split.validation(), p -> { })) {
      model = provider.create(config).fit(split.train(), context);
    }
    List<IterationProgress> h = model.history();
    int epochs = Math.max(1, h.size());
    System.out.printf(Locale.ROOT, "%s: --select %.2f picks %d epochs (validation RMSE %.4f on"
        + " %d held-out training entries)%n", params, fraction, epochs,
        h.isEmpty() ? Double.NaN : h.get(h.size() - 1).validationRmse(),
        split.validation().size());
    Map<String, String> chosen = new LinkedHashMap<>(params);
    chosen.put("max_iterations", Integer.toString(epochs));
    chosen.put("early_stopping_rounds", "0");
    return chosen;
  }

  /** CPU time of this process so far, all threads, in nanoseconds. */
  private static long processCpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean)
        java.lang.management.ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
  }

  private static String fmt(double[] xs) {
    StringBuilder b = new StringBuilder();
    for (double x : xs) {
      b.append(b.length() == 0 ? "" : " ").append(String.format(Locale.ROOT, "%.3f", x));
    }
    return b.toString();
  }

  private static double median(double[] xs) {
    double[] s = xs.clone();
    Arrays.sort(s);
    return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  }

  /**
   * Loads train and test; with a threshold, train keeps ratings ≥ it as positives (value 1)
   * and so does test.
   */
  public static Data load(Path trainFile, Path testFile, boolean implicit, double threshold)
      throws IOException {
    Map<Long, Integer> users = new HashMap<>();
    Map<Long, Integer> items = new HashMap<>();
    Triplets tr = read(trainFile, users, items, true, implicit, threshold);
    Triplets te = read(testFile, users, items, false, implicit, threshold);
    TrainingMatrix train = TrainingMatrix.fromCoordinates(users.size(), items.size(),
        tr.rows(), tr.cols(), tr.values(),
        implicit ? AbsentEntries.IMPLICIT : AbsentEntries.UNKNOWN);
    return new Data(train, te.rows(), te.cols(), te.values());
  }

  /** The test entries whose user and item both occur in training. */
  static ValidationSet knownTest(Data d) {
    Triplets t = new Triplets();
    for (int n = 0; n < d.testVal().length; n++) {
      if (d.testRow()[n] >= 0 && d.testCol()[n] >= 0) {
        t.add(d.testRow()[n], d.testCol()[n], d.testVal()[n]);
      }
    }
    return ValidationSet.of(t.rows(), t.cols(), t.values());
  }

  /** A model that scores every item by its number of training entries, for every user. */
  static FactorModel popularity(TrainingMatrix train) {
    float[] counts = new float[train.cols()];
    for (int i = 0; i < counts.length; i++) {
      counts[i] = train.colLength(i);
    }
    return new FactorModel(train.rows(), train.cols(), 1, new float[train.rows()],
        new float[train.cols()], new FactorModel.Biases(0, new float[train.rows()], counts),
        List.of());
  }

  private static Triplets read(Path file, Map<Long, Integer> users, Map<Long, Integer> items,
      boolean grow, boolean implicit, double threshold) throws IOException {
    Triplets t = new Triplets();
    try (BufferedReader in = Files.newBufferedReader(file)) {
      for (String line; (line = in.readLine()) != null; ) {
        int a = 0;
        int n = line.length();
        long[] f = new long[2];
        for (int x = 0; x < 2; x++) {
          while (a < n && (line.charAt(a) == '\t' || line.charAt(a) == ' ')) {
            a++;
          }
          long val = 0;
          while (a < n && line.charAt(a) >= '0' && line.charAt(a) <= '9') {
            val = val * 10 + (line.charAt(a++) - '0');
          }
          f[x] = val;
        }
        while (a < n && (line.charAt(a) == '\t' || line.charAt(a) == ' ')) {
          a++;
        }
        int e = a;
        while (e < n && line.charAt(e) != '\t' && line.charAt(e) != ' ') {
          e++;
        }
        if (e == a) {
          continue;
        }
        float value = Float.parseFloat(line.substring(a, e));
        if (implicit) {
          if (value < threshold) {
            continue;
          }
          value = 1;
        }
        Integer u = users.get(f[0]);
        Integer i = items.get(f[1]);
        if (grow) {
          if (u == null) {
            u = users.size();
            users.put(f[0], u);
          }
          if (i == null) {
            i = items.size();
            items.put(f[1], i);
          }
        }
        t.add(u == null ? -1 : u, i == null ? -1 : i, value);
      }
    }
    return t;
  }

  /**
   * Test RMSE, predictions not clipped to the rating scale (as LibMF's mf-predict); a user or
   * item unseen in training is predicted from the rest of the model.
   */
  public static double rmse(FactorModel m, Data d) {
    double sum = 0;
    for (int n = 0; n < d.testVal().length; n++) {
      int u = d.testRow()[n];
      int i = d.testCol()[n];
      double pred;
      if (u >= 0 && i >= 0) {
        pred = m.predict(u, i);
      } else {
        pred = m.globalMean() + (u >= 0 ? m.userBias(u) : 0) + (i >= 0 ? m.itemBias(i) : 0);
      }
      double e = d.testVal()[n] - pred;
      sum += e * e;
    }
    return Math.sqrt(sum / d.testVal().length);
  }

  /** Test RMSE with predictions clipped to [1, 5], as Surprise does by default. */
  static double rmseClipped(FactorModel m, Data d) {
    double sum = 0;
    for (int n = 0; n < d.testVal().length; n++) {
      int u = d.testRow()[n];
      int i = d.testCol()[n];
      double pred = u >= 0 && i >= 0 ? m.predict(u, i)
          : m.globalMean() + (u >= 0 ? m.userBias(u) : 0) + (i >= 0 ? m.itemBias(i) : 0);
      double e = d.testVal()[n] - Math.max(1, Math.min(5, pred));
      sum += e * e;
    }
    return Math.sqrt(sum / d.testVal().length);
  }

  /**
   * Precision@k and NDCG@k over users with at least one test positive (a seeded sample of
   * {@code maxUsers} of them when positive), ranking every item the user has no training entry
   * for. NDCG uses binary gains and the ideal DCG of min(k, |test positives|) hits.
   */
  static double[] ranking(FactorModel m, TrainingMatrix train, Data d, int k, int maxUsers,
      long seed) {
    int rows = train.rows();
    int[] count = new int[rows + 1];
    for (int n = 0; n < d.testVal().length; n++) {
      if (d.testRow()[n] >= 0 && d.testCol()[n] >= 0) {
        count[d.testRow()[n] + 1]++;
      }
    }
    for (int r = 0; r < rows; r++) {
      count[r + 1] += count[r];
    }
    int[] pos = new int[count[rows]];
    int[] next = Arrays.copyOf(count, rows);
    for (int n = 0; n < d.testVal().length; n++) {
      if (d.testRow()[n] >= 0 && d.testCol()[n] >= 0) {
        pos[next[d.testRow()[n]]++] = d.testCol()[n];
      }
    }
    int[] candidates = new int[rows];
    int nc = 0;
    for (int r = 0; r < rows; r++) {
      if (count[r + 1] > count[r]) {
        candidates[nc++] = r;
      }
    }
    SplittableRandom rnd = new SplittableRandom(seed);
    if (maxUsers > 0 && nc > maxUsers) {
      for (int x = 0; x < maxUsers; x++) {
        int y = x + rnd.nextInt(nc - x);
        int t = candidates[x];
        candidates[x] = candidates[y];
        candidates[y] = t;
      }
      nc = maxUsers;
    }
    float[] scores = new float[train.cols()];
    int[] top = new int[k];
    double precision = 0;
    double ndcg = 0;
    for (int c = 0; c < nc; c++) {
      int u = candidates[c];
      m.scoreAllItems(u, scores);
      for (int p = train.rowStart(u); p < train.rowEnd(u); p++) {
        scores[train.rowColumn(p)] = Float.NEGATIVE_INFINITY;
      }
      int found = topK(scores, k, top);
      int hits = 0;
      double dcg = 0;
      for (int x = 0; x < found; x++) {
        for (int p = count[u]; p < count[u + 1]; p++) {
          if (pos[p] == top[x]) {
            hits++;
            dcg += 1 / (Math.log(x + 2) / Math.log(2));
            break;
          }
        }
      }
      double ideal = 0;
      for (int x = 0; x < Math.min(k, count[u + 1] - count[u]); x++) {
        ideal += 1 / (Math.log(x + 2) / Math.log(2));
      }
      precision += hits / (double) k;
      ndcg += dcg / ideal;
    }
    return new double[] {precision / nc, ndcg / nc};
  }

  /** Writes the indices of the k highest scores into top, best first; returns how many. */
  private static int topK(float[] scores, int k, int[] top) {
    int n = 0;
    for (int i = 0; i < scores.length; i++) {
      float s = scores[i];
      if (s == Float.NEGATIVE_INFINITY || (n == k && s <= scores[top[n - 1]])) {
        continue;
      }
      int at = n < k ? n++ : k - 1;
      while (at > 0 && scores[top[at - 1]] < s) {
        top[at] = top[at - 1];
        at--;
      }
      top[at] = i;
    }
    return n;
  }
}
