import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.ServerServiceDefinition;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import io.mfserve.client.MfClient;
import io.mfserve.proto.v1.Matrix;
import io.mfserve.proto.v1.SparseMatrix;
import io.mfserve.proto.v1.UploadMatrixResponse;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * UploadMatrix's throughput against the loopback throughput of a plain gRPC byte stream of the
 * same size (issue 22). Both servers are separate JVMs on the same machine: mfserve, and this
 * program started with {@code --serve PORT}, a client-streaming method that only counts the
 * bytes of the chunks it receives (byte[] messages, no protobuf parsing) and answers the count.
 *
 * <p>The client sends the matrix read from a ratings file (user item rating, whitespace
 * separated, as gen_synth.py writes) with {@link MfClient#uploadMatrix} (chunks of
 * {@link MfClient#UPLOAD_CHUNK_BYTES}), and the byte stream the same number of bytes in chunks of
 * the same size; alternately, {@code --repeats} times each after {@code --warmups} untimed
 * rounds of each (default 1), and prints the median throughputs and their ratio. Building the
 * Matrix message is not timed. More warm-up rounds let the JIT settle in all three JVMs; the
 * byte stream gains more from them than the upload does (0.13 s against 0.15-0.24 s after one).
 * <pre>
 *   java -Xmx6g -cp client/target/mfctl.jar solvers/bench/upload/UploadBench.java --serve 50992 &amp;
 *   java -Xmx6g -cp client/target/mfctl.jar solvers/bench/upload/UploadBench.java \
 *       --target localhost:50993 --sink localhost:50992 --train /tmp/synth/synth-10m.train.tsv
 * </pre>
 */
public final class UploadBench {
  private UploadBench() { }

  /** byte[] messages as themselves: the byte stream does no (de)serialisation work. */
  static final MethodDescriptor.Marshaller<byte[]> BYTES = new MethodDescriptor.Marshaller<>() {
    @Override
    public InputStream stream(byte[] value) {
      return new ByteArrayInputStream(value);
    }

    @Override
    public byte[] parse(InputStream stream) {
      try {
        return stream.readAllBytes();
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
    }
  };

  static final MethodDescriptor<byte[], byte[]> SINK = MethodDescriptor.<byte[], byte[]>newBuilder()
      .setType(MethodDescriptor.MethodType.CLIENT_STREAMING)
      .setFullMethodName("bench.ByteSink/Send").setRequestMarshaller(BYTES)
      .setResponseMarshaller(BYTES).build();

  public static void main(String[] args) throws Exception {
    Map<String, String> opt = new HashMap<>();
    for (int i = 0; i < args.length; i += 2) {
      opt.put(args[i].substring(2), args[i + 1]);
    }
    if (opt.containsKey("serve")) {
      serve(Integer.parseInt(opt.get("serve")));
      return;
    }
    int repeats = Integer.parseInt(opt.getOrDefault("repeats", "3"));
    int warmups = Integer.parseInt(opt.getOrDefault("warmups", "1"));
    Matrix m = read(Path.of(opt.get("train")));
    long bytes = m.getSerializedSize();
    ManagedChannel mf = ManagedChannelBuilder.forTarget(opt.get("target")).usePlaintext()
        .build();
    ManagedChannel sink = ManagedChannelBuilder.forTarget(opt.get("sink")).usePlaintext()
        .build();
    MfClient client = new MfClient(mf, Duration.ofMinutes(10), Duration.ofMinutes(2));
    double[] upload = new double[repeats];
    double[] stream = new double[repeats];
    for (int run = -warmups; run < repeats; run++) {
      long t0 = System.nanoTime();
      UploadMatrixResponse r = client.uploadMatrix(m);
      double u = (System.nanoTime() - t0) / 1e9;
      client.deleteMatrix(r.getMatrixId());
      t0 = System.nanoTime();
      long got = sendBytes(sink, bytes, MfClient.UPLOAD_CHUNK_BYTES);
      double s = (System.nanoTime() - t0) / 1e9;
      if (got != bytes) {
        throw new IllegalStateException("the sink counted " + got + " of " + bytes + " bytes");
      }
      if (run >= 0) {
        upload[run] = u;
        stream[run] = s;
      }
      System.err.printf(Locale.ROOT, "# run %d: upload %.3f s (%d entries, %d chunks), bytes"
          + " %.3f s%n", run, u, r.getEntries(), r.getChunks(), s);
    }
    double mu = median(upload);
    double ms = median(stream);
    double mb = bytes / 1e6;
    System.out.printf(Locale.ROOT, "upload\t%d entries\t%.1f MB\tUploadMatrix %.3f s %.1f MB/s\t"
        + "byte stream %.3f s %.1f MB/s\tratio %.2f%n", m.getSparse().getValuesCount(), mb, mu,
        mb / mu, ms, mb / ms, ms / mu);
    mf.shutdownNow();
    sink.shutdownNow();
  }

  /** Sends {@code total} bytes in chunks of {@code chunk}; returns the count the sink saw. */
  static long sendBytes(ManagedChannel ch, long total, int chunk) throws Exception {
    CompletableFuture<Long> done = new CompletableFuture<>();
    StreamObserver<byte[]> out = ClientCalls.asyncClientStreamingCall(
        ch.newCall(SINK, CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.MINUTES)),
        new StreamObserver<>() {
          @Override
          public void onNext(byte[] v) {
            done.complete(Long.parseLong(new String(v, java.nio.charset.StandardCharsets.UTF_8)));
          }

          @Override
          public void onError(Throwable t) {
            done.completeExceptionally(t);
          }

          @Override
          public void onCompleted() { }
        });
    // A fresh array per chunk, as a serialised message is: the copy is part of any sender's work.
    byte[] template = new byte[chunk];
    Arrays.fill(template, (byte) 7);
    for (long sent = 0; sent < total; sent += chunk) {
      out.onNext(Arrays.copyOf(template, (int) Math.min(chunk, total - sent)));
    }
    out.onCompleted();
    return done.get(10, TimeUnit.MINUTES);
  }

  /** The byte sink: counts the bytes of every message on a stream, answers the count. */
  static void serve(int port) throws Exception {
    ServerServiceDefinition def = ServerServiceDefinition.builder("bench.ByteSink")
        .addMethod(SINK, ServerCalls.asyncClientStreamingCall(UploadBench::count)).build();
    Server s = ServerBuilder.forPort(port).addService(def).maxInboundMessageSize(64 << 20).build()
        .start();
    System.err.println("byte sink listening on port " + port);
    s.awaitTermination();
  }

  static StreamObserver<byte[]> count(StreamObserver<byte[]> responses) {
    return new StreamObserver<byte[]>() {
          private long n;

          @Override
          public void onNext(byte[] v) {
            n += v.length;
          }

          @Override
          public void onError(Throwable t) { }

          @Override
          public void onCompleted() {
            responses.onNext(Long.toString(n).getBytes(java.nio.charset.StandardCharsets.UTF_8));
            responses.onCompleted();
          }
        };
  }

  /** A ratings file (user item rating [...]) as one sparse Matrix with the ids as given. */
  static Matrix read(Path p) throws IOException {
    SparseMatrix.Builder s = SparseMatrix.newBuilder();
    try (BufferedReader in = Files.newBufferedReader(p)) {
      String line;
      while ((line = in.readLine()) != null) {
        int a = line.indexOf('\t');
        int b = line.indexOf('\t', a + 1);
        int c = line.indexOf('\t', b + 1);
        s.addRowIds(Long.parseLong(line, 0, a, 10)).addColIds(Long.parseLong(line, a + 1, b, 10))
            .addValues(Float.parseFloat(line.substring(b + 1, c < 0 ? line.length() : c)));
      }
    }
    return Matrix.newBuilder().setSparse(s).build();
  }

  static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    return s[s.length / 2];
  }
}
