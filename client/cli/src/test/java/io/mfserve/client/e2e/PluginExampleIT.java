package io.mfserve.client.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.mfserve.client.MfClient;
import io.mfserve.proto.v1.FitRequest;
import io.mfserve.proto.v1.Matrix;
import io.mfserve.proto.v1.ModelInfo;
import io.mfserve.proto.v1.SolverInfo;
import io.mfserve.proto.v1.SparseMatrix;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The example plugin (solvers/example-baseline), built as a third party builds a solver,
 * dropped into the real server's {@code --plugins-dir}: ListSolvers shows it beside the
 * built-in solvers, it fits, and its predictions are μ + b_u + b_i by the closed forms of its
 * first sweep.
 */
class PluginExampleIT {
  @TempDir
  Path plugins;

  @Test
  void baselinePlugin_inPluginsDir_listedFittedAndPredicting() throws Exception {
    Path jar = ServerProcess.jar("mfserve.example.plugin.jar");
    Files.copy(jar, plugins.resolve(jar.getFileName()));
    try (ServerProcess server = ServerProcess.start("--plugins-dir", plugins.toString())) {
      ManagedChannel ch = ManagedChannelBuilder.forTarget(server.target()).usePlaintext()
          .build();
      try {
        MfClient client = new MfClient(ch);
        SolverInfo info = client.listSolvers().stream()
            .filter(s -> s.getName().equals("baseline")).findFirst()
            .orElseThrow(() -> new AssertionError("baseline not listed\n" + server.logText()));
        assertEquals(4, client.listSolvers().size(), "als, nmf, sgd and the plugin");
        assertEquals("max_iterations user_regularization item_regularization",
            String.join(" ", info.getParametersList().stream().map(p -> p.getName()).toList()));

        // r(1, 10) = 5, r(1, 20) = 3, r(2, 10) = 4; mu = 4; lambda_u = lambda_i = 1, one
        // sweep: b_u = 0 for both users, b_10 = (1 + 0) / 3, b_20 = -1 / 2.
        ModelInfo m = client.fit(FitRequest.newBuilder().setSolver("baseline")
            .setModelId("base").setNumFactors(1).setMaxIterations(1)
            .putParams("user_regularization", "1").putParams("item_regularization", "1")
            .setMatrix(Matrix.newBuilder().setSparse(SparseMatrix.newBuilder()
                .addRowIds(1).addColIds(10).addValues(5)
                .addRowIds(1).addColIds(20).addValues(3)
                .addRowIds(2).addColIds(10).addValues(4)))
            .build());
        assertEquals("baseline", m.getSolver());
        float[] p = client.predict("base", new long[] {1, 2, 2}, new long[] {10, 10, 20});
        assertEquals(4 + 1.0 / 3, p[0], 1e-5);
        assertEquals(4 + 1.0 / 3, p[1], 1e-5);
        assertEquals(4 - 0.5, p[2], 1e-5);
        assertTrue(server.logText().contains("baseline"), server.logText());
      } finally {
        ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }
}
