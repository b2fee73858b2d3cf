package io.mfserve.server.reliability;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.mfserve.proto.v1.FitRequest;
import io.mfserve.proto.v1.ImportFactorsHeader;
import io.mfserve.proto.v1.ImportFactorsRequest;
import io.mfserve.proto.v1.ImportFactorsResponse;
import io.mfserve.proto.v1.ImportModelRequest;
import io.mfserve.proto.v1.ImportModelResponse;
import io.mfserve.proto.v1.MatrixFactorizationGrpc;
import io.mfserve.proto.v1.MatrixFactorizationGrpc.MatrixFactorizationBlockingStub;
import io.mfserve.proto.v1.SetAliasRequest;
import io.mfserve.server.repository.RepositoryConfig;
import io.mfserve.server.testing.FutureObserver;
import io.mfserve.server.testing.InProcessMfServer;
import io.mfserve.server.testing.Requests;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The security review's checks that a request cannot reach outside the server's own state:
 * hostile model ids, aliases, solver names and parameters, on a file repository, never load a
 * class (a canary class stays uninitialised), never create a file outside the repository,
 * never name one there outside the storage alphabet; and the log lines of those requests never
 * carry a whole matrix.
 */
class HostileNamesTest {
  @RegisterExtension
  final InProcessMfServer server = new InProcessMfServer();

  @TempDir
  Path dir;

  /** Set when the JVM initialises {@link Canary}: only a class load by name could. */
  static volatile boolean canaryLoaded;

  /** A class a request names; nothing may ever initialise it. */
  static final class Canary {
    static {
      canaryLoaded = true;
    }

    private Canary() { }
  }

  private static final List<String> HOSTILE = List.of("..", ".", "../outside", "a/b", "/etc",
      "..\\win", "%2e%2e", "~root", ".tmp-x", "CON", "nul", "a\u0000b", "\u202e", "é",
      "x".repeat(129), "Canary", HostileNamesTest.Canary.class.getName(),
      "java.lang.Runtime", "file:///etc/passwd", "http://169.254.169.254/", "s3://b/k",
      "${jndi:ldap://x/a}");

  @Test
  void hostileNames_loadNoClass_touchNoFileOutsideTheRepository_andLogNoMatrix()
      throws Exception {
    Path repo = Files.createDirectories(dir.resolve("repo"));
    Path outside = dir;
    List<String> log = new ArrayList<>();
    Handler capture = new Handler() {
      private final SimpleFormatter f = new SimpleFormatter();

      @Override
      public void publish(LogRecord r) {
        synchronized (log) {
          log.add(f.format(r));
        }
      }

      @Override
      public void flush() { }

      @Override
      public void close() { }
    };
    Logger root = Logger.getLogger("");
    root.addHandler(capture);
    try {
      MatrixFactorizationBlockingStub stub = server.start(InProcessMfServer.testConfig(), null,
          RepositoryConfig.at(repo.toUri().toString()));
      // Distinctive values: a log line that printed the matrix would carry them.
      FitRequest.Builder fit = Requests.fit("als", 2, Requests.seedMatrix(6, 5, 3));
      fit.getMatrixBuilder().getDenseBuilder().setValues(0, 4.0625f).setValues(1, 3.8125f)
          .setValues(2, 2.6875f);
      stub.fit(fit.setModelId("good").build());
      ByteArrayOutputStream snapshot = new ByteArrayOutputStream();
      stub.exportModel(io.mfserve.proto.v1.ExportModelRequest.newBuilder().setModelId("good")
          .build()).forEachRemaining(r -> {
            try {
              r.getData().writeTo(snapshot);
            } catch (java.io.IOException e) {
              throw new java.io.UncheckedIOException(e);
            }
          });
      for (String name : HOSTILE) {
        expectRefusedOrContained(() -> stub.fit(fit.clone().setModelId(name).build()));
        expectRefusedOrContained(() -> stub.fit(fit.clone().setModelId("").setSolver(name)
            .build()));
        expectRefusedOrContained(() -> stub.fit(fit.clone().setModelId("")
            .putParams(name, name).build()));
        expectRefusedOrContained(() -> stub.fit(fit.clone().setModelId("")
            .putParams("init", name).build()));
        expectRefusedOrContained(() -> stub.setAlias(SetAliasRequest.newBuilder()
            .setAlias(name).setModelId("good").build()));
        expectRefusedOrContained(() -> stub.setAlias(SetAliasRequest.newBuilder()
            .setAlias("a").setModelId(name).build()));
        expectRefusedOrContained(() -> importModel(name, snapshot.toByteArray()));
        expectRefusedOrContained(() -> importFactors(name));
      }
      assertFalse(canaryLoaded, "a request made the server initialise a class it named");
      try (Stream<Path> all = Files.walk(outside)) {
        List<Path> strays = all.filter(p -> !p.startsWith(repo) && !p.equals(outside))
            .toList();
        assertTrue(strays.isEmpty(), "files outside the repository: " + strays);
      }
      try (Stream<Path> all = Files.walk(repo)) {
        for (Path p : all.filter(p -> !p.equals(repo)).toList()) {
          String n = p.getFileName().toString();
          assertTrue(n.matches("[a-z0-9_=~.-]+") && !n.equals("..") && !n.equals("."),
              "repository file name " + n);
          assertTrue(p.normalize().startsWith(repo));
        }
      }
    } finally {
      root.removeHandler(capture);
    }
    String text;
    synchronized (log) {
      text = String.join("\n", log);
    }
    assertFalse(text.contains("4.0625") && text.contains("3.8125"),
        "a log line carries the matrix:\n" + text);
    assertFalse(text.contains("\u0000") || text.contains("\u202e"),
        "a raw control character from a request reached the log");
  }

  private interface Call {
    void run() throws Exception;
  }

  /** The call either succeeds (then its name was stored encoded) or fails with a mapped code. */
  private static void expectRefusedOrContained(Call call) throws Exception {
    try {
      call.run();
    } catch (StatusRuntimeException e) {
      Status.Code c = e.getStatus().getCode();
      assertTrue(c == Status.Code.INVALID_ARGUMENT || c == Status.Code.NOT_FOUND
          || c == Status.Code.ALREADY_EXISTS || c == Status.Code.FAILED_PRECONDITION,
          e.getStatus().toString());
    } catch (java.util.concurrent.ExecutionException e) {
      expectRefusedOrContained(() -> {
        throw (Exception) e.getCause();
      });
    }
  }

  private void importModel(String id, byte[] snapshot) throws Exception {
    CompletableFuture<ImportModelResponse> done = new CompletableFuture<>();
    StreamObserver<ImportModelRequest> in = MatrixFactorizationGrpc.newStub(server.channel())
        .importModel(FutureObserver.of(done));
    in.onNext(ImportModelRequest.newBuilder().setModelId(id)
        .setData(ByteString.copyFrom(snapshot)).build());
    in.onCompleted();
    done.get(30, TimeUnit.SECONDS);
  }

  private void importFactors(String name) throws Exception {
    CompletableFuture<ImportFactorsResponse> done = new CompletableFuture<>();
    StreamObserver<ImportFactorsRequest> in = MatrixFactorizationGrpc.newStub(server.channel())
        .importFactors(FutureObserver.of(done));
    in.onNext(ImportFactorsRequest.newBuilder().setHeader(ImportFactorsHeader.newBuilder()
        .setModelId(name).setNumFactors(1).setFoldInSolver(name).putParams(name, name))
        .setRows(io.mfserve.proto.v1.GetFactorsResponse.newBuilder()
            .setUserFactors(io.mfserve.proto.v1.DenseMatrix.newBuilder().setRows(1).setCols(1)
                .addValues(1)).addUserIds(1)
            .setItemFactors(io.mfserve.proto.v1.DenseMatrix.newBuilder().setRows(1).setCols(1)
                .addValues(1)).addItemIds(2))
        .build());
    in.onCompleted();
    done.get(30, TimeUnit.SECONDS);
  }

}
