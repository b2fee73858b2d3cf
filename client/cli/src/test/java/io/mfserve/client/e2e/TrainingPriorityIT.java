package io.mfserve.client.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.mfserve.client.MfClient;
import io.mfserve.proto.v1.FitRequest;
import io.mfserve.proto.v1.Matrix;
import io.mfserve.proto.v1.SparseMatrix;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The real server jar started with the JVM flags of {@code deploy/jvm-flags} (the README's
 * command, the Dockerfile's and the manifests'): after a fit, every thread that trained runs at
 * nice 19 and the threads that answer queries at nice 0, as the kernel reports them in
 * {@code /proc}. This is what keeps a fit from starving queries on a small machine; without the
 * flags the JVM ignores Java thread priorities on Linux.
 */
class TrainingPriorityIT {
  @Test
  void withTheDeployFlags_trainingThreadsRunAtNice19_queryThreadsAtNice0() throws Exception {
    assumeTrue(Files.isDirectory(Path.of("/proc/self/task")), "needs /proc (Linux)");
    List<String> jvm = new ArrayList<>(List.of("-Xmx1g"));
    jvm.addAll(List.of(Files.readString(ServerProcess.jar("mfserve.jvm.flags")).trim()
        .split("\\s+")));
    try (ServerProcess server = ServerProcess.builder()
        .jvmArgs(jvm.toArray(String[]::new))
        // Every model gets approximate indexes, built on two threads: their builders are
        // background work too.
        .flags("--no-warmup", "--ann-min-rows", "1", "--ann-build-threads", "2").start()) {
      ManagedChannel ch = ManagedChannelBuilder.forTarget(server.target()).usePlaintext()
          .build();
      try {
        MfClient client = new MfClient(ch);
        client.fit(ratings());
        assertEquals(1, client.predict("m", new long[] {1}, new long[] {2}).length);
      } finally {
        ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
      // Idle pool threads stay for a minute: the fit's are all still there. The index
      // builder's thread starts once the model is ready, so it may take a moment to appear.
      Map<String, Integer> nice = niceByThread(server.process().pid());
      for (int i = 0; i < 300 && nice.keySet().stream()
          .noneMatch(n -> n.startsWith("mfserve-ann-")); i++) {
        Thread.sleep(100);
        nice = niceByThread(server.process().pid());
      }
      List<String> training = nice.keySet().stream()
          .filter(n -> n.startsWith("mfserve-train-") || n.startsWith("mfserve-fit-")
              || n.startsWith("mfserve-ann-")).toList();
      assertFalse(training.isEmpty(), "no training thread found among " + nice.keySet());
      assertTrue(training.stream().anyMatch(n -> n.startsWith("mfserve-ann-")),
          "no index builder thread found among " + nice.keySet());
      for (String t : training) {
        assertEquals(19, nice.get(t), t + " in " + nice + "\n" + server.logText());
      }
      List<String> serving = nice.keySet().stream()
          .filter(n -> n.startsWith("mfserve-netty") || n.startsWith("mfserve-grpc-")).toList();
      assertFalse(serving.isEmpty(), "no gRPC thread found among " + nice.keySet());
      for (String t : serving) {
        assertEquals(0, nice.get(t), t + " in " + nice);
      }
      assertTrue(server.logText().contains("event=fit"), server.logText());
    }
  }

  /** Thread name (the kernel's comm, at most 15 characters, made unique) to nice value. */
  private static Map<String, Integer> niceByThread(long pid) throws IOException {
    Map<String, Integer> out = new TreeMap<>();
    try (Stream<Path> tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
      for (Path task : tasks.toList()) {
        try {
          String comm = Files.readString(task.resolve("comm")).trim();
          String stat = Files.readString(task.resolve("stat"));
          // Fields after "(comm) ": state is field 3; nice is field 19, so index 16 here.
          String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
          out.put(comm + "#" + task.getFileName(), Integer.parseInt(f[16]));
        } catch (IOException gone) {
          // The thread ended between the listing and the read.
        }
      }
    }
    return out;
  }

  /** 300 users x 150 items, 6000 ratings, ALS k = 8 for 5 sweeps, as model "m". */
  private static FitRequest ratings() {
    Random rnd = new Random(7);
    SparseMatrix.Builder s = SparseMatrix.newBuilder();
    java.util.Set<Integer> seen = new java.util.HashSet<>();
    while (s.getValuesCount() < 6000) {
      int u = rnd.nextInt(300);
      int i = rnd.nextInt(150);
      if (seen.add(u * 150 + i)) {
        s.addRowIds(u).addColIds(i).addValues(1 + rnd.nextInt(5));
      }
    }
    return FitRequest.newBuilder().setSolver("als").setNumFactors(8).setMaxIterations(5)
        .setModelId("m").setMatrix(Matrix.newBuilder().setSparse(s)).build();
  }
}
