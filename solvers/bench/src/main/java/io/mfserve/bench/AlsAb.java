package io.mfserve.bench;

import io.mfserve.solver.AbsentEntries;
import io.mfserve.solver.FactorModel;
import io.mfserve.solver.Parameters;
import io.mfserve.solver.SolverConfig;
import io.mfserve.solver.SolverProvider;
import io.mfserve.solver.TrainingMatrix;
import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.ServiceLoader;

/**
 * Two builds of the {@code als} plugin in one JVM, fitted in turn on the same matrix (A, B, A,
 * B, …), so that a shared, noisy machine slows both alike: each jar gets its own class loader
 * over the solver SPI of this classpath. Prints each fit's seconds, the median per build and
 * the ratio B / A, the same for single sweeps after each fit's first, and whether the two
 * builds' factors and biases agree bit for bit.
 *
 * <p>Run: {@code java -cp "$(cat target/classpath.txt):target/classes" io.mfserve.bench.AlsAb
 * --a OLD.jar --b NEW.jar --train FILE --rank 64 --iterations 3 [--rounds 3] [--implicit]
 * [--param NAME=VALUE]}.
 */
public final class AlsAb {
  private AlsAb() {
  }

  /** Entry point; see the class comment. */
  public static void main(String[] args) throws IOException {
    Map<String, String> params = new HashMap<>();
    String a = null;
    String b = null;
    Path train = null;
    int rank = 10;
    int rounds = 3;
    int threads = 2;
    boolean implicit = false;
    params.put("max_iterations", "3");
    params.put("regularization", "0.1");
    for (int n = 0; n < args.length; n++) {
      switch (args[n]) {
        case "--a" -> a = args[++n];
        case "--b" -> b = args[++n];
        case "--train" -> train = Path.of(args[++n]);
        case "--rank" -> rank = Integer.parseInt(args[++n]);
        case "--iterations" -> params.put("max_iterations", args[++n]);
        case "--rounds" -> rounds = Integer.parseInt(args[++n]);
        case "--threads" -> threads = Integer.parseInt(args[++n]);
        case "--implicit" -> implicit = true;
        case "--param" -> {
          String[] kv = args[++n].split("=", 2);
          params.put(kv[0], kv[1]);
        }
        default -> throw new IllegalArgumentException("unknown argument " + args[n]);
      }
    }
    if (a == null || b == null || train == null) {
      throw new IllegalArgumentException("--a JAR, --b JAR and --train FILE are required");
    }
    TrainingMatrix data = AlsGflops.read(train,
        implicit ? AbsentEntries.IMPLICIT : AbsentEntries.UNKNOWN);
    SolverProvider[] providers = {load(a), load(b)};
    System.out.printf(Locale.ROOT, "# %s: %d × %d, %d entries, rank %d, %s, %d threads, %s%n",
        train.getFileName(), data.rows(), data.cols(), data.nnz(), rank,
        implicit ? "implicit" : "explicit", threads, params);
    double[][] seconds = new double[2][rounds];
    // Each sweep's seconds after a fit's first (which pays for compilation), per build: a
    // finer and steadier measure than whole fits on a machine whose speed drifts.
    List<List<Double>> sweeps = List.of(new ArrayList<>(), new ArrayList<>());
    FactorModel[] last = new FactorModel[2];
    for (int r = 0; r < rounds; r++) {
      for (int v = 0; v < 2; v++) {
        SolverProvider p = providers[v];
        Parameters resolved = Parameters.resolve(p.parameters(), params);
        long t0 = System.nanoTime();
        List<Double> mine = sweeps.get(v);
        long[] previous = {-1};
        try (BenchFitContext context = new BenchFitContext(threads, null, x -> {
          if (previous[0] >= 0) {
            mine.add((x.elapsedNanos() - previous[0]) / 1e9);
          }
          previous[0] = x.elapsedNanos();
        })) {
          last[v] = p.create(new SolverConfig(rank, 42, data.absentEntries(), resolved))
              .fit(data, context);
        }
        seconds[v][r] = (System.nanoTime() - t0) / 1e9;
        System.out.printf(Locale.ROOT, "round %d %s %.3f s%n", r + 1, v == 0 ? "A" : "B",
            seconds[v][r]);
      }
    }
    double ma = median(seconds[0]);
    double mb = median(seconds[1]);
    boolean same = java.util.Arrays.equals(last[0].copyUserFactors(0, data.rows()),
        last[1].copyUserFactors(0, data.rows()))
        && java.util.Arrays.equals(last[0].copyItemFactors(0, data.cols()),
            last[1].copyItemFactors(0, data.cols()))
        && sameBiases(last[0], last[1]);
    System.out.printf(Locale.ROOT, "median A %.3f s, B %.3f s, B/A %.3f, factors %s%n", ma, mb,
        mb / ma, same ? "bit-identical" : "differ");
    if (!sweeps.get(0).isEmpty() && !sweeps.get(1).isEmpty()) {
      double sa = median(sweeps.get(0).stream().mapToDouble(Double::doubleValue).toArray());
      double sb = median(sweeps.get(1).stream().mapToDouble(Double::doubleValue).toArray());
      System.out.printf(Locale.ROOT,
          "median sweep after the first: A %.4f s, B %.4f s, B/A %.3f (%d and %d sweeps)%n",
          sa, sb, sb / sa, sweeps.get(0).size(), sweeps.get(1).size());
    }
  }

  private static SolverProvider load(String jar) throws IOException {
    URLClassLoader loader = new URLClassLoader(new URL[] {Path.of(jar).toUri().toURL()},
        AlsAb.class.getClassLoader()) {
      @Override
      protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
        // The als classes come from this jar even when the classpath holds another build.
        if (name.startsWith("io.mfserve.solver.als.")) {
          synchronized (getClassLoadingLock(name)) {
            Class<?> c = findLoadedClass(name);
            if (c == null) {
              c = findClass(name);
            }
            return c;
          }
        }
        return super.loadClass(name, resolve);
      }
    };
    for (SolverProvider p : ServiceLoader.load(SolverProvider.class, loader)) {
      if (p.name().equals("als") && p.getClass().getClassLoader() == loader) {
        return p;
      }
    }
    throw new IllegalArgumentException("no als provider in " + jar);
  }

  /** Whether both models have no biases, or the same biases to the bit. */
  private static boolean sameBiases(FactorModel a, FactorModel b) {
    if (a.hasBiases() != b.hasBiases()) {
      return false;
    }
    if (!a.hasBiases()) {
      return true;
    }
    if (Double.doubleToLongBits(a.globalMean()) != Double.doubleToLongBits(b.globalMean())) {
      return false;
    }
    for (int u = 0; u < a.numUsers(); u++) {
      if (Float.floatToIntBits(a.userBias(u)) != Float.floatToIntBits(b.userBias(u))) {
        return false;
      }
    }
    for (int i = 0; i < a.numItems(); i++) {
      if (Float.floatToIntBits(a.itemBias(i)) != Float.floatToIntBits(b.itemBias(i))) {
        return false;
      }
    }
    return true;
  }

  private static double median(double[] v) {
    double[] s = v.clone();
    java.util.Arrays.sort(s);
    return s[s.length / 2];
  }
}
