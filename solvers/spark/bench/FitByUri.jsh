// (jshell reads a statement per line: a call chain stays on one line.)
// Fits spark-als by source_uri through a running mfserve server and prints the fit time and
// the held-out RMSE. Run by run-bench.sh: jshell --class-path mfctl.jar -R-D... FitByUri.jsh
import io.mfserve.client.*;
import io.mfserve.proto.v1.*;
import java.nio.file.*;
String target = System.getProperty("target");
var ch = io.grpc.ManagedChannelBuilder.forTarget(target).usePlaintext().maxInboundMessageSize(64 << 20).build();
var c = new MfClient(ch, java.time.Duration.ofHours(2), java.time.Duration.ofMinutes(5));
var req = FitRequest.newBuilder().setSolver(System.getProperty("solver", "spark-als")).setModelId(System.getProperty("model")).setNumFactors(Integer.getInteger("rank", 10)).setMaxIterations(Integer.getInteger("iterations", 10)).setRegularization(Double.parseDouble(System.getProperty("reg", "0.1"))).setSeed(Long.getLong("seed", 42));
if (req.getSolver().equals("spark-als")) {
  req.putParams("source_uri", Path.of(System.getProperty("train")).toUri().toString()).putParams("csv_header", "false").putParams("csv_separator", "\\t").putParams("user_col", "_c0").putParams("item_col", "_c1").putParams("rating_col", "_c2").putParams("master", System.getProperty("master")).putParams("num_blocks", System.getProperty("blocks", "0")).putParams("collect_seen", System.getProperty("seen", "true"));
} else {
  // als at Spark's settings: weighted λ, no biases.
  req.putParams("weighted_lambda", "true").putParams("biases", "false");
  var m = SparseMatrix.newBuilder();
  for (String line : Files.readAllLines(Path.of(System.getProperty("train")))) {
    String[] f = line.split("\t");
    m.addRowIds(Long.parseLong(f[0])).addColIds(Long.parseLong(f[1])).addValues(Float.parseFloat(f[2]));
  }
  req.setMatrix(Matrix.newBuilder().setSparse(m));
}
long t0 = System.nanoTime();
var info = c.fit(req.build());
double seconds = (System.nanoTime() - t0) / 1e9;
var test = Files.readAllLines(Path.of(System.getProperty("test")));
double sum = 0;
for (int from = 0; from < test.size(); from += 50_000) {
  int to = Math.min(test.size(), from + 50_000);
  long[] u = new long[to - from];
  long[] i = new long[to - from];
  float[] r = new float[to - from];
  for (int n = from; n < to; n++) {
    String[] f = test.get(n).split("\t");
    u[n - from] = Long.parseLong(f[0]);
    i[n - from] = Long.parseLong(f[1]);
    r[n - from] = Float.parseFloat(f[2]);
  }
  float[] p = c.predict(info.getModelId(), u, i);
  for (int n = 0; n < p.length; n++) {
    sum += (p[n] - r[n]) * (double) (p[n] - r[n]);
  }
}
System.out.printf("RESULT solver=%s master=%s seen=%s fit_call_s=%.2f server_fit_s=%.2f rmse=%.4f entries=%d%n", req.getSolver(), System.getProperty("master", "-"), System.getProperty("seen", "-"), seconds, info.getFitSeconds(), Math.sqrt(sum / test.size()), info.getNumEntries());
/exit
