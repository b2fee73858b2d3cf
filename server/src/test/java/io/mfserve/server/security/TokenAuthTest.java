package io.mfserve.server.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Channel;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import io.mfserve.proto.v1.DeleteModelRequest;
import io.mfserve.proto.v1.ListModelsRequest;
import io.mfserve.proto.v1.MatrixFactorizationGrpc;
import io.mfserve.server.MfServer;
import io.mfserve.server.testing.Requests;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bearer tokens and roles, checked by {@link TokenAuth} in front of an in-process server. */
class TokenAuthTest {
  static final String READ = "read-token-123";
  static final String WRITE = "write-token-456";

  @TempDir
  Path dir;
  MfServer server;
  ManagedChannel channel;

  static String hash(String token) {
    return HexFormat.of().formatHex(TokenFile.sha256(token));
  }

  Path tokenFile(String... lines) throws Exception {
    Path f = dir.resolve("tokens");
    Files.write(f, List.of(lines), StandardCharsets.UTF_8);
    return f;
  }

  void start(Path tokens, boolean authReflection) throws Exception {
    String name = InProcessServerBuilder.generateName();
    server = SecureServers.start(InProcessServerBuilder.forName(name),
        new MfServer.Guards(new TokenAuth(TokenFile.load(tokens, 0)), authReflection, null,
            List.of()), SecureServers.GatedProvider.open());
    channel = InProcessChannelBuilder.forName(name).directExecutor().build();
  }

  @AfterEach
  void stop() throws Exception {
    if (channel != null) {
      channel.shutdownNow();
    }
    if (server != null) {
      server.close();
    }
  }

  MatrixFactorizationGrpc.MatrixFactorizationBlockingStub as(String token) {
    Channel c = channel;
    if (token != null) {
      Metadata h = new Metadata();
      h.put(TokenAuth.AUTHORIZATION, "Bearer " + token);
      c = ClientInterceptors.intercept(channel, MetadataUtils.newAttachHeadersInterceptor(h));
    }
    return MatrixFactorizationGrpc.newBlockingStub(c).withDeadlineAfter(20, TimeUnit.SECONDS);
  }

  static Status.Code code(Runnable call) {
    try {
      call.run();
      return Status.Code.OK;
    } catch (StatusRuntimeException e) {
      return e.getStatus().getCode();
    }
  }

  Status.Code fit(String token) {
    return code(() -> as(token).fit(Requests.fit("gated", 2, Requests.seedMatrix(3, 4, 1))
        .build()));
  }

  @Test
  void call_withoutToken_isUnauthenticated() throws Exception {
    start(tokenFile(hash(READ) + " read"), false);
    assertEquals(Status.Code.UNAUTHENTICATED,
        code(() -> as(null).listModels(ListModelsRequest.getDefaultInstance())));
  }

  @Test
  void call_withUnknownToken_isUnauthenticated() throws Exception {
    start(tokenFile(hash(READ) + " read"), false);
    assertEquals(Status.Code.UNAUTHENTICATED,
        code(() -> as("guess").listModels(ListModelsRequest.getDefaultInstance())));
  }

  @Test
  void readToken_query_isServedAndFitIsPermissionDenied() throws Exception {
    start(tokenFile("# ops", hash(READ) + " read dashboards", hash(WRITE) + " write ci"), false);
    assertEquals(Status.Code.OK,
        code(() -> as(READ).listModels(ListModelsRequest.getDefaultInstance())));
    assertEquals(Status.Code.PERMISSION_DENIED, fit(READ));
    assertEquals(Status.Code.PERMISSION_DENIED, code(() -> as(READ).deleteModel(
        DeleteModelRequest.newBuilder().setModelId("x").build())));
  }

  @Test
  void writeToken_fit_isServed() throws Exception {
    start(tokenFile(hash(READ) + " read", hash(WRITE) + " write"), false);
    assertEquals(Status.Code.OK, fit(WRITE));
    assertEquals(Status.Code.OK,
        code(() -> as(WRITE).listModels(ListModelsRequest.getDefaultInstance())));
  }

  @Test
  void health_withoutToken_isServing() throws Exception {
    start(tokenFile(hash(READ) + " read"), true);
    assertEquals(ServingStatus.SERVING, HealthGrpc.newBlockingStub(channel)
        .check(HealthCheckRequest.getDefaultInstance()).getStatus());
  }

  @Test
  void reflection_withAuthReflection_needsToken() throws Exception {
    start(tokenFile(hash(READ) + " read"), true);
    assertEquals(Status.Code.UNAUTHENTICATED, reflect(channel));
  }

  @Test
  void reflection_byDefault_isOpen() throws Exception {
    start(tokenFile(hash(READ) + " read"), false);
    assertEquals(Status.Code.OK, reflect(channel));
  }

  static Status.Code reflect(Channel c) throws Exception {
    CompletableFuture<Status.Code> done = new CompletableFuture<>();
    StreamObserver<ServerReflectionRequest> req = ServerReflectionGrpc.newStub(c)
        .serverReflectionInfo(new StreamObserver<ServerReflectionResponse>() {
          @Override
          public void onNext(ServerReflectionResponse r) {
          }

          @Override
          public void onError(Throwable t) {
            done.complete(Status.fromThrowable(t).getCode());
          }

          @Override
          public void onCompleted() {
            done.complete(Status.Code.OK);
          }
        });
    req.onNext(ServerReflectionRequest.newBuilder().setListServices("").build());
    req.onCompleted();
    return done.get(10, TimeUnit.SECONDS);
  }

  @Test
  void tokenFile_changed_isPickedUp() throws Exception {
    Path f = tokenFile(hash(READ) + " read");
    start(f, false);
    assertEquals(Status.Code.UNAUTHENTICATED, fit(WRITE));
    Files.write(f, List.of(hash(READ) + " read", hash(WRITE) + " write  release bot"),
        StandardCharsets.UTF_8);
    assertEquals(Status.Code.OK, fit(WRITE));
    // Revoked: the read token is gone.
    Files.write(f, List.of(hash(WRITE) + " write"), StandardCharsets.UTF_8);
    assertEquals(Status.Code.UNAUTHENTICATED,
        code(() -> as(READ).listModels(ListModelsRequest.getDefaultInstance())));
  }

  @Test
  void tokenFile_malformed_namesTheLine() throws Exception {
    Path f = tokenFile("# c", hash(READ) + " admin");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> TokenFile.load(f, 0));
    assertTrue(e.getMessage().contains("line 2"), e.getMessage());
    assertThrows(IllegalArgumentException.class,
        () -> TokenFile.load(tokenFile("abc read"), 0));
  }

  @Test
  void tokenFile_badUpdate_keepsPreviousTokens() throws Exception {
    Path f = tokenFile(hash(READ) + " read");
    TokenFile tokens = TokenFile.load(f, 0);
    Files.writeString(f, "garbage line that is long enough to change the size\n");
    assertEquals(TokenFile.Role.READ, tokens.lookup(READ));
    assertNull(tokens.lookup(WRITE));
  }

  @Test
  void needsWrite_everyMutatingMethod_needsWrite() {
    for (String m : List.of("Fit", "FitWithProgress", "UploadMatrix", "DeleteMatrix",
        "DeleteModel", "SetAlias", "DeleteAlias", "ImportModel", "ImportFactors")) {
      assertTrue(TokenAuth.needsWrite(MatrixFactorizationGrpc.SERVICE_NAME + "/" + m), m);
    }
    for (var m : MatrixFactorizationGrpc.getServiceDescriptor().getMethods()) {
      String bare = m.getBareMethodName();
      assertEquals(!TokenAuth.READ_METHODS.contains(bare), TokenAuth.needsWrite(
          m.getFullMethodName()), bare);
    }
  }
}
