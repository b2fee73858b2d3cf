package io.mfserve.bench.warm;

import io.mfserve.bench.BenchFitContext;
import io.mfserve.bench.Triplets;
import io.mfserve.solver.AbsentEntries;
import io.mfserve.solver.FactorModel;
import io.mfserve.solver.Parameters;
import io.mfserve.solver.SolverConfig;
import io.mfserve.solver.SolverProvider;
import io.mfserve.solver.TrainingMatrix;
import io.mfserve.solver.ValidationSet;
import io.mfserve.solver.WarmStart;
import io.mfserve.solver.als.AlsSolverProvider;
import io.mfserve.solver.nmf.NmfSolverProvider;
import io.mfserve.solver.sgd.SgdSolverProvider;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * How much a warm start saves on a nightly refit, per solver, with the solvers called directly
 * (no server). "Yesterday" is MovieLens 100K's {@code u1.base} (80,000 ratings); "today" is
 * {@code u.data}, which is u1.base plus u1.test (100,000 ratings, 32 items new).
 *
 * <ol>
 *   <li>Yesterday's model: a cold fit of u1.base with the solver's defaults.
 *   <li>Cold: a fit of u.data with the solver's defaults (its default iterations; NMF stops by
 *       its own rule), whose training RMSE on u.data is R_cold.
 *   <li>Warm: a fit of u.data warm-started from yesterday's model, the WarmStart built by
 *       matching user and item ids as the server does (u.data's ids are numbered in their own
 *       order of first appearance, not yesterday's); the first iteration whose training RMSE
 *       is at most (1 + {@code --within}) R_cold is "warm iterations to R_cold". It is found
 *       on a probe fit that scores the training entries after every iteration (as a
 *       validation set), capped at the cold fit's iteration count; the timed warm fit then
 *       runs exactly that many iterations without scoring.
 *   <li>Warm, default stop: for NMF, whose tolerance rule can stop a fit early, the warm fit
 *       with the defaults as they are (how many sweeps its own rule ran, and its RMSE).
 * </ol>
 *
 * <p>RMSE is the training RMSE on u.data throughout (R_cold is defined on it); no held-out
 * split. Times are the {@code fit} call alone (loading, id matching and scoring excluded), the
 * median of {@code --repeat} runs after one untimed run (JIT), the cold and the warm fits of a
 * solver taking turns so that a change of the machine's load meets both alike. NMF runs with
 * absent entries unknown (weighted NMF, its mode for ratings); ALS and SGD with their defaults.
 * Run it under {@code flock /tmp/bench.lock} on a shared machine;
 * {@code solvers/bench/run-warm.sh} does.
 *
 * <pre>
 *   java -cp ... io.mfserve.bench.warm.WarmStartBench [--data ../shared/data/ml-100k]
 *       [--k 10] [--threads 2] [--seed 42] [--repeat 5] [--within 0.005]
 *       [--solvers als,als-biases,sgd,nmf]
 * </pre>
 * {@code --data} is resolved against the working directory (the repository root when run by
 * the script).
 */
public final class WarmStartBench {
  private WarmStartBench() {
  }

  /** One solver setting: a label, the provider, its parameters and its absent entries. */
  private record Case(String label, SolverProvider provider, Map<String, String> params,
      AbsentEntries absent) { }

  /** A ratings file with ids mapped to dense positions by first appearance. */
  private record Loaded(TrainingMatrix matrix, int[] userIds, int[] itemIds) { }

  /**
   * Runs the benchmark.
   *
   * @param args see the class Javadoc
   */
  public static void main(String[] args) throws IOException {
    Map<String, String> opts = new HashMap<>(Map.of("data", "../shared/data/ml-100k", "k", "10",
        "threads", "2", "seed", "42", "repeat", "5", "within", "0.005",
        "solvers", "als,als-biases,sgd,nmf"));
    for (int n = 0; n + 1 < args.length; n += 2) {
      if (!args[n].startsWith("--") || !opts.containsKey(args[n].substring(2))) {
        throw new IllegalArgumentException("unknown option " + args[n]);
      }
      opts.put(args[n].substring(2), args[n + 1]);
    }
    Path dir = Path.of(opts.get("data"));
    int k = Integer.parseInt(opts.get("k"));
    int threads = Integer.parseInt(opts.get("threads"));
    long seed = Long.parseLong(opts.get("seed"));
    int repeat = Integer.parseInt(opts.get("repeat"));
    double within = Double.parseDouble(opts.get("within"));

    Triplets base = read(dir.resolve("u1.base"));
    Triplets all = read(dir.resolve("u.data"));
    System.out.printf(Locale.ROOT, "# %s, %d cores, load %s; k %d, %d threads, seed %d;"
        + " RMSE = training RMSE on u.data; times: median of %d fits after one untimed,"
        + " cold and warm taking turns%n",
        java.time.Instant.now().toString().substring(0, 19) + "Z",
        Runtime.getRuntime().availableProcessors(), loadAverage(), k, threads, seed, repeat);

    Map<String, Case> cases = new LinkedHashMap<>();
    cases.put("als", new Case("als", new AlsSolverProvider(), Map.of(), AbsentEntries.UNKNOWN));
    cases.put("als-biases", new Case("als biases", new AlsSolverProvider(),
        Map.of("biases", "true"), AbsentEntries.UNKNOWN));
    cases.put("sgd", new Case("sgd", new SgdSolverProvider(), Map.of(), AbsentEntries.UNKNOWN));
    cases.put("nmf", new Case("nmf", new NmfSolverProvider(), Map.of(), AbsentEntries.UNKNOWN));

    System.out.printf(Locale.ROOT, "# warm it: iterations to within %.1f%% of R_cold;"
        + " it<=R_cold: to R_cold itself (probe trace, untimed)%n", 100 * within);
    System.out.printf(Locale.ROOT, "%-11s %7s %9s %8s %7s %9s %8s %8s %9s   %s%n", "solver",
        "cold it", "R_cold", "cold s", "warm it", "warm RMSE", "warm s", "speed-up",
        "it<=R_cold", "warm, default stop: it, RMSE, s");
    for (String name : opts.get("solvers").split(",")) {
      Case c = cases.get(name);
      if (c == null) {
        throw new IllegalArgumentException("unknown solver case " + name + "; have "
            + cases.keySet());
      }
      run(c, base, all, k, threads, seed, repeat, within);
    }
  }

  private static void run(Case c, Triplets base, Triplets all, int k, int threads, long seed,
      int repeat, double within) {
    Loaded yesterday = load(base, c.absent());
    Loaded today = load(all, c.absent());
    TrainingMatrix data = today.matrix();
    ValidationSet everyEntry = trainingEntries(data);

    FactorModel old = fit(c, yesterday.matrix(), k, seed, Map.of(), threads, null, null);
    long matchStart = System.nanoTime();
    WarmStart warm = match(old, yesterday, today);
    double matchMs = (System.nanoTime() - matchStart) / 1e6;

    // Cold: the defaults; R_cold and its per-iteration trace from a scoring run.
    List<Double> coldTrace = new ArrayList<>();
    FactorModel cold = fit(c, data, k, seed, Map.of(), threads, null, everyEntry, coldTrace);
    double rCold = cold.rmse(data);
    int coldIterations = cold.iterations();

    // Warm probe: score after every iteration, up to the cold fit's count; NMF without its
    // tolerance rule, so that the probe runs on until it gets there.
    Map<String, String> probeParams = new HashMap<>(Map.of("max_iterations",
        Integer.toString(coldIterations)));
    if (c.provider() instanceof NmfSolverProvider) {
      probeParams.put("tolerance", "0");
    }
    List<Double> warmTrace = new ArrayList<>();
    fit(c, data, k, seed, probeParams, threads, warm, everyEntry, warmTrace);
    int reached = firstAtMost(warmTrace, rCold * (1 + within));
    int reachedExactly = firstAtMost(warmTrace, rCold);
    // The timed fits: cold with the defaults, warm for the iterations found (and, for NMF,
    // warm with the defaults), interleaved so that a change in the machine's load weighs on
    // each alike.
    List<Runnable> fits = new ArrayList<>();
    fits.add(() -> fit(c, data, k, seed, Map.of(), threads, null, null));
    Map<String, String> timed = new HashMap<>(probeParams);
    timed.put("max_iterations", Integer.toString(Math.max(1, reached)));
    if (reached > 0) {
      fits.add(() -> fit(c, data, k, seed, timed, threads, warm, null));
    }
    boolean nmf = c.provider() instanceof NmfSolverProvider;
    if (nmf) {
      fits.add(() -> fit(c, data, k, seed, Map.of(), threads, warm, null));
    }
    double[] seconds = time(repeat, fits);
    double coldSeconds = seconds[0];
    String warmIt = ">" + coldIterations;
    String warmRmse = String.format(Locale.ROOT, "%.4f", warmTrace.get(warmTrace.size() - 1));
    String warmSeconds = "-";
    String speedUp = "-";
    if (reached > 0) {
      FactorModel w = fit(c, data, k, seed, timed, threads, warm, null);
      warmIt = Integer.toString(w.iterations());
      warmRmse = String.format(Locale.ROOT, "%.4f", w.rmse(data));
      warmSeconds = String.format(Locale.ROOT, "%.3f", seconds[1]);
      speedUp = String.format(Locale.ROOT, "%.1fx", coldSeconds / seconds[1]);
    }
    String defaultStop = "";
    if (nmf) {
      FactorModel w = fit(c, data, k, seed, Map.of(), threads, warm, null);
      defaultStop = String.format(Locale.ROOT, "%d, %.4f, %.3f", w.iterations(), w.rmse(data),
          seconds[seconds.length - 1]);
    }
    System.out.printf(Locale.ROOT, "%-11s %7d %9.4f %8.3f %7s %9s %8s %8s %9s   %s%n",
        c.label(), coldIterations, rCold, coldSeconds, warmIt, warmRmse, warmSeconds, speedUp,
        reachedExactly > 0 ? Integer.toString(reachedExactly) : ">" + warmTrace.size(),
        defaultStop);
    System.out.printf(Locale.ROOT, "  yesterday %d x %d (%d ratings), today %d x %d (%d),"
        + " known %d users, %d items; warm start matched in %.1f ms%n",
        yesterday.matrix().rows(), yesterday.matrix().cols(), yesterday.matrix().nnz(),
        data.rows(), data.cols(), data.nnz(), warm.knownUsers().cardinality(),
        warm.knownItems().cardinality(), matchMs);
    System.out.println("  cold RMSE per iteration: " + trace(coldTrace));
    System.out.println("  warm RMSE per iteration: " + trace(warmTrace));
  }

  /** Returns the 1-based index of the first value at most {@code limit}, or 0 if none is. */
  private static int firstAtMost(List<Double> trace, double limit) {
    for (int n = 0; n < trace.size(); n++) {
      if (trace.get(n) <= limit) {
        return n + 1;
      }
    }
    return 0;
  }

  /**
   * Builds the warm start for today's matrix from yesterday's model by matching raw ids, as
   * the server does: a row of today whose id yesterday had gets yesterday's factors and bias.
   */
  private static WarmStart match(FactorModel old, Loaded yesterday, Loaded today) {
    int k = old.numFactors();
    Map<Integer, Integer> oldUser = index(yesterday.userIds());
    Map<Integer, Integer> oldItem = index(yesterday.itemIds());
    int rows = today.matrix().rows();
    int cols = today.matrix().cols();
    float[] users = new float[rows * k];
    float[] items = new float[cols * k];
    float[] userBias = new float[rows];
    float[] itemBias = new float[cols];
    BitSet knownUsers = new BitSet(rows);
    BitSet knownItems = new BitSet(cols);
    float[] row = new float[k];
    for (int r = 0; r < rows; r++) {
      Integer o = oldUser.get(today.userIds()[r]);
      if (o != null) {
        old.userVector(o, row);
        System.arraycopy(row, 0, users, r * k, k);
        userBias[r] = old.userBias(o);
        knownUsers.set(r);
      }
    }
    for (int c = 0; c < cols; c++) {
      Integer o = oldItem.get(today.itemIds()[c]);
      if (o != null) {
        old.itemVector(o, row);
        System.arraycopy(row, 0, items, c * k, k);
        itemBias[c] = old.itemBias(o);
        knownItems.set(c);
      }
    }
    FactorModel.Biases biases = old.hasBiases()
        ? new FactorModel.Biases(old.globalMean(), userBias, itemBias) : null;
    return new WarmStart(k, users, knownUsers, items, knownItems, biases);
  }

  private static Map<Integer, Integer> index(int[] ids) {
    Map<Integer, Integer> map = new HashMap<>();
    for (int n = 0; n < ids.length; n++) {
      map.put(ids[n], n);
    }
    return map;
  }

  private static FactorModel fit(Case c, TrainingMatrix data, int k, long seed,
      Map<String, String> overrides, int threads, WarmStart warm, ValidationSet validation) {
    return fit(c, data, k, seed, overrides, threads, warm, validation, new ArrayList<>());
  }

  /** Fits once; with a validation set, appends each iteration's RMSE on it to {@code trace}. */
  private static FactorModel fit(Case c, TrainingMatrix data, int k, long seed,
      Map<String, String> overrides, int threads, WarmStart warm, ValidationSet validation,
      List<Double> trace) {
    Map<String, String> params = new HashMap<>(c.params());
    params.putAll(overrides);
    SolverConfig config = new SolverConfig(k, seed, c.absent(),
        Parameters.resolve(c.provider().parameters(), params));
    try (BenchFitContext context = new BenchFitContext(threads, validation, p -> {
      if (p.hasValidation()) {
        trace.add(p.validationRmse());
      }
    }, warm)) {
      return c.provider().create(config).fit(data, context);
    }
  }

  /**
   * Returns the median seconds of {@code repeat} runs of each fit, after one untimed run of
   * each; the fits take turns, so that a change of the machine's load meets all of them.
   */
  private static double[] time(int repeat, List<Runnable> fits) {
    fits.forEach(Runnable::run);
    double[][] seconds = new double[fits.size()][repeat];
    for (int n = 0; n < repeat; n++) {
      for (int f = 0; f < fits.size(); f++) {
        long start = System.nanoTime();
        fits.get(f).run();
        seconds[f][n] = (System.nanoTime() - start) / 1e9;
      }
    }
    double[] medians = new double[fits.size()];
    for (int f = 0; f < fits.size(); f++) {
      Arrays.sort(seconds[f]);
      medians[f] = seconds[f][repeat / 2];
    }
    return medians;
  }

  private static String trace(List<Double> rmse) {
    StringBuilder b = new StringBuilder();
    int shown = Math.min(rmse.size(), 12);
    for (int n = 0; n < shown; n++) {
      b.append(n == 0 ? "" : " ").append(String.format(Locale.ROOT, "%.4f", rmse.get(n)));
    }
    if (rmse.size() > shown) {
      b.append(String.format(Locale.ROOT, " ... (%d) %.4f", rmse.size(),
          rmse.get(rmse.size() - 1)));
    }
    return b.toString();
  }

  /** Today's training entries as a validation set, so that a fit reports its training RMSE. */
  private static ValidationSet trainingEntries(TrainingMatrix m) {
    int[] rows = new int[m.nnz()];
    int[] cols = new int[m.nnz()];
    float[] values = new float[m.nnz()];
    int n = 0;
    for (int r = 0; r < m.rows(); r++) {
      for (int p = m.rowStart(r); p < m.rowEnd(r); p++) {
        rows[n] = r;
        cols[n] = m.rowColumn(p);
        values[n++] = m.rowValue(p);
      }
    }
    return ValidationSet.of(rows, cols, values);
  }

  private static Loaded load(Triplets t, AbsentEntries absent) {
    Map<Integer, Integer> users = new LinkedHashMap<>();
    Map<Integer, Integer> items = new LinkedHashMap<>();
    int[] r = new int[t.size()];
    int[] c = new int[t.size()];
    for (int n = 0; n < t.size(); n++) {
      r[n] = users.computeIfAbsent(t.row(n), x -> users.size());
      c[n] = items.computeIfAbsent(t.col(n), x -> items.size());
    }
    TrainingMatrix m = TrainingMatrix.fromCoordinates(users.size(), items.size(), r, c,
        Arrays.copyOf(t.values(), t.size()), absent);
    return new Loaded(m, users.keySet().stream().mapToInt(Integer::intValue).toArray(),
        items.keySet().stream().mapToInt(Integer::intValue).toArray());
  }

  private static Triplets read(Path file) throws IOException {
    Triplets t = new Triplets();
    try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      String line;
      while ((line = in.readLine()) != null) {
        String[] f = line.trim().split("\\s+");
        if (f.length >= 3) {
          t.add(Integer.parseInt(f[0]), Integer.parseInt(f[1]), Float.parseFloat(f[2]));
        }
      }
    }
    return t;
  }

  private static String loadAverage() {
    try {
      return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
    } catch (IOException | RuntimeException e) {
      return "?";
    }
  }
}
