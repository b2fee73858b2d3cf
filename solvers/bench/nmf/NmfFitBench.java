import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.mfserve.client.Factors;
import io.mfserve.client.MfClient;
import io.mfserve.proto.v1.DenseMatrix;
import io.mfserve.proto.v1.FitRequest;
import io.mfserve.proto.v1.Matrix;
import io.mfserve.proto.v1.ModelInfo;
import io.mfserve.proto.v1.SparseMatrix;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Times mfserve's NMF as a client sees it: uploads a matrix once (UploadMatrix, not timed), then
 * times the Fit RPC alone on the uploaded matrix_id, a warm-up fit and then {@code repeats}
 * timed ones, and reports the median seconds and the relative error ‖X − W Hᵀ‖ / ‖X‖ over every
 * entry (absent ones are zeros), computed here from the factors GetFactors returns.
 *
 * <p>Run as a single-file program against the client jar:
 * <pre>
 *   java -cp client/target/mfctl.jar solvers/bench/nmf/NmfFitBench.java \
 *       --target localhost:50051 --udata u.data --k 10 [--param name=value ...]
 *   java -cp client/target/mfctl.jar solvers/bench/nmf/NmfFitBench.java \
 *       --target localhost:50051 --dense /tmp/nmf-bench-dense-2000x1000.f32 --rows 2000
 *       --cols 1000 --k 20
 *   java -cp ... --mtx counts.mtx --k 20 [--topics planted.f32] (planted topics, rank × cols)
 *   (--seed S sets the fit's seed; the server's default is 42)
 * </pre>
 * Prints one tab-separated line: label, k, median seconds, the three times, relative error,
 * iterations (and, with --topics, the mean best-match cosine of the found topics), then the
 * median of the server's own {@code fit_seconds} and the ratio of the client's median to it.
 *
 * <p>{@code --inline true} sends the matrix inside every timed Fit request instead of uploading
 * it once: the time then covers what a client of a small matrix pays (serialising the request,
 * the transport, the server collecting and checking the matrix, the fit, the bookkeeping after
 * it). {@code --solver als} (or any solver) fits another solver with its defaults; the relative
 * error is then NaN (it is an NMF measure over every entry).
 */
public final class NmfFitBench {
  private NmfFitBench() { }

  /** A matrix in coordinate form, 0-based, with its shape. */
  record Coo(int rows, int cols, int[] r, int[] c, float[] v, boolean dense) { }

  public static void main(String[] args) throws Exception {
    Map<String, String> opt = new HashMap<>();
    Map<String, String> params = new HashMap<>();
    for (int i = 0; i < args.length; i += 2) {
      if (args[i].equals("--param")) {
        String[] kv = args[i + 1].split("=", 2);
        params.put(kv[0], kv[1]);
      } else {
        opt.put(args[i].substring(2), args[i + 1]);
      }
    }
    int k = Integer.parseInt(opt.getOrDefault("k", "10"));
    int repeats = Integer.parseInt(opt.getOrDefault("repeats", "3"));
    int warmups = Integer.parseInt(opt.getOrDefault("warmups", "1"));
    String label = opt.getOrDefault("label", "mfserve");
    String solver = opt.getOrDefault("solver", "nmf");
    boolean inline = Boolean.parseBoolean(opt.getOrDefault("inline", "false"));
    Coo x;
    if (opt.containsKey("udata")) {
      x = readUdata(Path.of(opt.get("udata")));
    } else if (opt.containsKey("dense")) {
      x = readDense(Path.of(opt.get("dense")), Integer.parseInt(opt.get("rows")),
          Integer.parseInt(opt.get("cols")));
    } else {
      x = readMtx(Path.of(opt.get("mtx")));
    }
    ManagedChannel channel = ManagedChannelBuilder.forTarget(opt.getOrDefault("target",
        "localhost:50051")).usePlaintext().maxInboundMessageSize(64 << 20).build();
    try {
      MfClient client = new MfClient(channel, Duration.ofMinutes(10), Duration.ofMinutes(2));
      Matrix proto = toProto(x);
      String matrixId = inline ? null : client.uploadMatrix(proto).getMatrixId();
      double[] seconds = new double[repeats];
      double[] serverSeconds = new double[repeats];
      ModelInfo last = null;
      for (int run = -warmups; run < repeats; run++) {
        String modelId = "bench-" + label.replaceAll("[^A-Za-z0-9._-]", "_") + "-" + k + "-"
            + (run + warmups);
        FitRequest.Builder rb = FitRequest.newBuilder().setSolver(solver).setNumFactors(k)
            .setModelId(modelId).putAllParams(params);
        if (inline) {
          rb.setMatrix(proto);
        } else {
          rb.setMatrixId(matrixId);
        }
        if (opt.containsKey("seed")) {
          rb.setSeed(Long.parseLong(opt.get("seed")));
        }
        FitRequest req = rb.build();
        long t0 = System.nanoTime();
        ModelInfo info = client.fit(req);
        double s = (System.nanoTime() - t0) / 1e9;
        if (run >= 0) {
          seconds[run] = s;
          serverSeconds[run] = info.getFitSeconds();
        }
        if (run == repeats - 1) {
          last = info;
        } else {
          client.deleteModel(modelId);
        }
      }
      Factors f = client.getFactors(last.getModelId());
      double err = solver.equals("nmf") ? relativeError(x, f) : Double.NaN;
      String extra = "";
      if (opt.containsKey("topics")) {
        extra = String.format(Locale.ROOT, "\t%.4f", bestMatchCosine(Path.of(opt.get("topics")),
            k, x.cols(), f));
      }
      client.deleteModel(last.getModelId());
      if (matrixId != null) {
        client.deleteMatrix(matrixId);
      }
      double[] sorted = seconds.clone();
      Arrays.sort(sorted);
      double[] sortedServer = serverSeconds.clone();
      Arrays.sort(sortedServer);
      StringBuilder times = new StringBuilder();
      for (double s : seconds) {
        times.append(times.length() == 0 ? "" : ",").append(String.format(Locale.ROOT, "%.3f", s));
      }
      double fitS = sortedServer[repeats / 2];
      System.out.printf(Locale.ROOT, "%s\tk=%d\t%.3f\t[%s]\t%.6f\t%d%s\tfit_s=%.3f"
          + "\tclient/fit_s=%.2f%n", label, k, sorted[repeats / 2], times, err,
          last.getIterations(), extra, fitS, sorted[repeats / 2] / fitS);
    } finally {
      channel.shutdownNow();
    }
  }

  /** MovieLens u.data: user item rating timestamp, ids 1-based; a users × items matrix. */
  static Coo readUdata(Path p) throws IOException {
    List<String> lines = Files.readAllLines(p);
    int n = lines.size();
    int[] r = new int[n];
    int[] c = new int[n];
    float[] v = new float[n];
    int rows = 0;
    int cols = 0;
    for (int i = 0; i < n; i++) {
      String[] f = lines.get(i).split("\t");
      r[i] = Integer.parseInt(f[0]) - 1;
      c[i] = Integer.parseInt(f[1]) - 1;
      v[i] = Float.parseFloat(f[2]);
      rows = Math.max(rows, r[i] + 1);
      cols = Math.max(cols, c[i] + 1);
    }
    return new Coo(rows, cols, r, c, v, false);
  }

  /** Raw little-endian float32, row-major. */
  static Coo readDense(Path p, int rows, int cols) throws IOException {
    ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(p)).order(ByteOrder.LITTLE_ENDIAN);
    float[] v = new float[rows * cols];
    b.asFloatBuffer().get(v);
    return new Coo(rows, cols, null, null, v, true);
  }

  /** MatrixMarket coordinate real/integer general, 1-based. */
  static Coo readMtx(Path p) throws IOException {
    List<String> lines = Files.readAllLines(p);
    int i = 0;
    while (lines.get(i).startsWith("%")) {
      i++;
    }
    String[] size = lines.get(i++).trim().split("\\s+");
    int rows = Integer.parseInt(size[0]);
    int cols = Integer.parseInt(size[1]);
    int n = Integer.parseInt(size[2]);
    int[] r = new int[n];
    int[] c = new int[n];
    float[] v = new float[n];
    for (int e = 0; e < n; e++) {
      String[] f = lines.get(i++).trim().split("\\s+");
      r[e] = Integer.parseInt(f[0]) - 1;
      c[e] = Integer.parseInt(f[1]) - 1;
      v[e] = Float.parseFloat(f[2]);
    }
    return new Coo(rows, cols, r, c, v, false);
  }

  static Matrix toProto(Coo x) {
    if (x.dense()) {
      DenseMatrix.Builder d = DenseMatrix.newBuilder().setRows(x.rows()).setCols(x.cols());
      for (float f : x.v()) {
        d.addValues(f);
      }
      return Matrix.newBuilder().setDense(d).build();
    }
    SparseMatrix.Builder s = SparseMatrix.newBuilder();
    for (int e = 0; e < x.v().length; e++) {
      s.addRowIds(x.r()[e]).addColIds(x.c()[e]).addValues(x.v()[e]);
    }
    return Matrix.newBuilder().setSparse(s).build();
  }

  /**
   * ‖X − W Hᵀ‖ / ‖X‖ over every entry: ‖X‖² − 2 Σ_stored x·(w·h) + ⟨WᵀW, HᵀH⟩, in double;
   * rows or columns the model lacks (never the case here) would count with zero factors.
   */
  static double relativeError(Coo x, Factors f) {
    int k = f.numFactors();
    float[][] w = new float[x.rows()][k];
    float[][] h = new float[x.cols()][k];
    float[][] uf = f.userFactors();
    float[][] vf = f.itemFactors();
    long[] uid = f.userIds();
    long[] iid = f.itemIds();
    for (int u = 0; u < uid.length; u++) {
      w[(int) uid[u]] = uf[u];
    }
    for (int i = 0; i < iid.length; i++) {
      h[(int) iid[i]] = vf[i];
    }
    double xx = 0;
    double cross = 0;
    if (x.dense()) {
      for (int r = 0; r < x.rows(); r++) {
        for (int c = 0; c < x.cols(); c++) {
          double v = x.v()[r * x.cols() + c];
          xx += v * v;
          cross += v * dot(w[r], h[c]);
        }
      }
    } else {
      for (int e = 0; e < x.v().length; e++) {
        double v = x.v()[e];
        xx += v * v;
        cross += v * dot(w[x.r()[e]], h[x.c()[e]]);
      }
    }
    double model = 0;
    double[] gw = gram(w, k);
    double[] gh = gram(h, k);
    for (int n = 0; n < gw.length; n++) {
      model += gw[n] * gh[n];
    }
    return Math.sqrt(Math.max(0, xx - 2 * cross + model) / xx);
  }

  /** Mean over planted topics of the best cosine with a found one (columns of H). */
  static double bestMatchCosine(Path planted, int rank, int cols, Factors f) throws IOException {
    Coo p = readDense(planted, rank, cols);
    int k = f.numFactors();
    double[][] found = new double[k][cols];
    float[][] vf = f.itemFactors();
    long[] iid = f.itemIds();
    for (int i = 0; i < iid.length; i++) {
      for (int t = 0; t < k; t++) {
        found[t][(int) iid[i]] = vf[i][t];
      }
    }
    double total = 0;
    for (int a = 0; a < rank; a++) {
      double best = 0;
      for (int t = 0; t < k; t++) {
        double d = 0;
        double na = 0;
        double nb = 0;
        for (int c = 0; c < cols; c++) {
          double x = p.v()[a * cols + c];
          d += x * found[t][c];
          na += x * x;
          nb += found[t][c] * found[t][c];
        }
        if (nb > 0) {
          best = Math.max(best, d / Math.sqrt(na * nb));
        }
      }
      total += best;
    }
    return total / rank;
  }

  private static double dot(float[] a, float[] b) {
    double s = 0;
    for (int t = 0; t < a.length; t++) {
      s += (double) a[t] * b[t];
    }
    return s;
  }

  private static double[] gram(float[][] a, int k) {
    double[] g = new double[k * k];
    for (float[] row : a) {
      for (int s = 0; s < k; s++) {
        for (int t = 0; t < k; t++) {
          g[s * k + t] += (double) row[s] * row[t];
        }
      }
    }
    return g;
  }
}
