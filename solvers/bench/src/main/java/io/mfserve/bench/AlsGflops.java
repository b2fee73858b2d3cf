package io.mfserve.bench;

import io.mfserve.solver.AbsentEntries;
import io.mfserve.solver.FactorModel;
import io.mfserve.solver.IterationProgress;
import io.mfserve.solver.Parameters;
import io.mfserve.solver.SolverConfig;
import io.mfserve.solver.SolverProvider;
import io.mfserve.solver.TrainingMatrix;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.ServiceLoader;

/**
 * How close mfserve's ALS comes to the machine's floating-point peak: fits a ratings file at
 * each rank asked for and prints, per rank, the seconds per sweep and the rate of its
 * normal-equation work in GFLOP/s, counted by the formula below over the wall time of whole
 * sweeps (so gathering the neighbours' factors, the right-hand sides and the loss are in the
 * time but not in the count: the figure is a floor for the kernels themselves).
 *
 * <pre>
 *   flops per sweep = Σ_{both sides} [ nnz · (k(k+1) + 2k)        Gram upper triangle, Σ t·y
 *                                    + nonempty rows · (k³/3 + 2k²) ]  Cholesky, two solves
 *                   (+ (rows + cols) · k(k+1) for implicit feedback: YᵀY of each side)
 * </pre>
 *
 * A multiply-add counts as two flops. Implicit feedback is measured with
 * {@code implicit_solver=cholesky} (the exact solve the formula counts) unless a {@code --param}
 * says otherwise; the first sweep is reported apart as warm-up and left out of the mean.
 *
 * <p>Run (see solvers/bench/README.md): {@code solvers/bench/run-als-gflops.sh --train
 * /tmp/synth/synth-10m.train.tsv --ranks 10,64,128 --iterations 4}.
 */
public final class AlsGflops {
  private AlsGflops() {
  }

  /**
   * Entry point: {@code --train FILE [--ranks 10,64] [--iterations 4] [--threads 2]
   * [--implicit] [--reg 0.1] [--param name=value]...}.
   */
  public static void main(String[] args) throws IOException {
    Map<String, String> params = new HashMap<>();
    Path train = null;
    String ranks = "10,64,128";
    int iterations = 4;
    int threads = Runtime.getRuntime().availableProcessors();
    boolean implicit = false;
    String reg = "0.1";
    for (int n = 0; n < args.length; n++) {
      switch (args[n]) {
        case "--train" -> train = Path.of(args[++n]);
        case "--ranks" -> ranks = args[++n];
        case "--iterations" -> iterations = Integer.parseInt(args[++n]);
        case "--threads" -> threads = Integer.parseInt(args[++n]);
        case "--implicit" -> implicit = true;
        case "--reg" -> reg = args[++n];
        case "--param" -> {
          String[] kv = args[++n].split("=", 2);
          params.put(kv[0], kv[1]);
        }
        default -> throw new IllegalArgumentException("unknown argument " + args[n]);
      }
    }
    if (train == null) {
      throw new IllegalArgumentException("--train FILE is required");
    }
    TrainingMatrix data = read(train, implicit ? AbsentEntries.IMPLICIT : AbsentEntries.UNKNOWN);
    params.put("max_iterations", Integer.toString(iterations));
    params.put("regularization", reg);
    if (implicit) {
      params.putIfAbsent("implicit_solver", "cholesky");
    }
    SolverProvider als = ServiceLoader.load(SolverProvider.class).stream()
        .map(ServiceLoader.Provider::get).filter(p -> p.name().equals("als")).findFirst()
        .orElseThrow();
    System.out.printf(Locale.ROOT, "# %s: %d × %d, %d entries, %s, %d threads, %s, java %s%n",
        train.getFileName(), data.rows(), data.cols(), data.nnz(),
        implicit ? "implicit" : "explicit", threads, params, System.getProperty("java.version"));
    System.out.println("| rank | first sweep s | mean sweep s (later) | GFLOP per sweep"
        + " | GFLOP/s |");
    System.out.println("|---:|---:|---:|---:|---:|");
    for (String r : ranks.split(",")) {
      int k = Integer.parseInt(r.trim());
      Parameters resolved = Parameters.resolve(als.parameters(), params);
      FactorModel model;
      try (BenchFitContext context = new BenchFitContext(threads, null, p -> { })) {
        model = als.create(new SolverConfig(k, 42, data.absentEntries(), resolved))
            .fit(data, context);
      }
      List<IterationProgress> h = model.history();
      double first = h.get(0).elapsedNanos() / 1e9;
      double later = h.size() > 1
          ? (h.get(h.size() - 1).elapsedNanos() - h.get(0).elapsedNanos()) / 1e9 / (h.size() - 1)
          : first;
      double gflop = flopsPerSweep(data, k, implicit) / 1e9;
      System.out.printf(Locale.ROOT, "| %d | %.3f | %.3f | %.1f | %.1f |%n", k, first, later,
          gflop, gflop / later);
    }
  }

  /** The formula of the class comment. */
  static double flopsPerSweep(TrainingMatrix data, int k, boolean implicit) {
    double perEntry = k * (k + 1.0) + 2.0 * k;
    double perRow = k * (double) k * k / 3 + 2.0 * k * k;
    long nonempty = 0;
    for (int r = 0; r < data.rows(); r++) {
      nonempty += data.rowLength(r) > 0 ? 1 : 0;
    }
    for (int c = 0; c < data.cols(); c++) {
      nonempty += data.colLength(c) > 0 ? 1 : 0;
    }
    double flops = 2.0 * data.nnz() * perEntry + nonempty * perRow;
    if (implicit) {
      flops += (data.rows() + (double) data.cols()) * k * (k + 1.0);
    }
    return flops;
  }

  /** Reads {@code user<TAB>item<TAB>value} lines, ids mapped densely by first appearance. */
  static TrainingMatrix read(Path file, AbsentEntries absent) throws IOException {
    Map<Integer, Integer> users = new HashMap<>();
    Map<Integer, Integer> items = new HashMap<>();
    Triplets t = new Triplets();
    try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      String line;
      while ((line = in.readLine()) != null) {
        if (line.isEmpty()) {
          continue;
        }
        int a = line.indexOf('\t');
        int b = line.indexOf('\t', a + 1);
        int e = line.indexOf('\t', b + 1);
        int u = Integer.parseInt(line, 0, a, 10);
        int i = Integer.parseInt(line, a + 1, b, 10);
        float v = Float.parseFloat(line.substring(b + 1, e < 0 ? line.length() : e));
        t.add(users.computeIfAbsent(u, x -> users.size()),
            items.computeIfAbsent(i, x -> items.size()), v);
      }
    }
    return TrainingMatrix.fromCoordinates(users.size(), items.size(), t.rows(), t.cols(),
        t.values(), absent);
  }
}
