package io.mfserve.server.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import io.mfserve.proto.v1.Alias;
import io.mfserve.proto.v1.DeleteAliasRequest;
import io.mfserve.proto.v1.DeleteModelRequest;
import io.mfserve.proto.v1.ListAliasesRequest;
import io.mfserve.proto.v1.ListModelsRequest;
import io.mfserve.proto.v1.MatrixFactorizationGrpc;
import io.mfserve.proto.v1.MatrixFactorizationGrpc.MatrixFactorizationBlockingStub;
import io.mfserve.proto.v1.ModelInfo;
import io.mfserve.proto.v1.UploadMatrixResponse;
import io.mfserve.server.ServerConfig;
import io.mfserve.server.grpc.LimitsInterceptor;
import io.mfserve.server.model.fit.FitExecutor;
import io.mfserve.server.model.matrix.MatrixStore;
import io.mfserve.server.model.store.Limits;
import io.mfserve.server.model.store.Limits.Limit;
import io.mfserve.server.model.store.MemoryBudget;
import io.mfserve.server.model.store.ModelStore;
import io.mfserve.server.testing.InProcessMfServer;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * Coverage-guided fuzzing (Jazzer) of every mfserve.v1 RPC through the service: the request
 * mapping, the limits and the validation. An input names an RPC and carries its request
 * messages, length-delimited; the seeds (in {@code RequestFuzzTestInputs/}) are a valid request
 * of every RPC and the malformed-request corpus, written by {@link FuzzSeeds}.
 *
 * <p>Each input must end with a mapped status, never UNKNOWN or INTERNAL, and leave nothing
 * behind: no model or alias it did not successfully create, no uploaded matrix, no fit running,
 * no upload slot, and a budget that holds exactly the resident models' bytes. Run as a test it
 * replays the seeds and every crash kept beside them; with {@code JAZZER_FUZZ=1} it fuzzes
 * (see the README's Reliability section for the bounded CI run and a longer one).
 */
class RequestFuzzTest {
  /** The models every input finds: one with int64 ids, one with string keys. */
  static final List<String> BASE_MODELS = List.of("ints", "keys");
  private static final Set<Status.Code> MAPPED = EnumSet.of(Status.Code.OK,
      Status.Code.INVALID_ARGUMENT, Status.Code.NOT_FOUND, Status.Code.ALREADY_EXISTS,
      Status.Code.RESOURCE_EXHAUSTED, Status.Code.FAILED_PRECONDITION,
      Status.Code.UNIMPLEMENTED, Status.Code.DATA_LOSS, Status.Code.DEADLINE_EXCEEDED);

  private static final InProcessMfServer SERVER = new InProcessMfServer();
  private static MatrixFactorizationBlockingStub stub;
  private static Map<String, MethodDescriptor<?, ?>> methods;
  private static List<MethodDescriptor<?, ?>> ordered;

  /** Small limits and budget, so that inputs reach them; a short upload TTL is not needed. */
  static ServerConfig fuzzConfig() {
    Limits small = Limits.defaults().with(Limit.ROWS, 2000).with(Limit.COLS, 2000)
        .with(Limit.REQUEST_ENTRIES, 20_000).with(Limit.UPLOAD_ENTRIES, 50_000)
        .with(Limit.FACTORS, 16).with(Limit.K, 200).with(Limit.IDS, 5000)
        .with(Limit.KEY_LENGTH, 64).with(Limit.PARAMS, 8).with(Limit.UPLOADS, 4)
        .with(Limit.MODELS, 20);
    return InProcessMfServer.testConfig().withMemoryBudget(64L << 20).withLimits(small);
  }

  @BeforeAll
  static void start() {
    stub = SERVER.start(fuzzConfig(), null);
    methods = new HashMap<>();
    ordered = new ArrayList<>();
    for (MethodDescriptor<?, ?> m : MatrixFactorizationGrpc.getServiceDescriptor()
        .getMethods()) {
      methods.put(m.getBareMethodName(), m);
      ordered.add(m);
    }
    ordered.sort(Comparator.comparing(MethodDescriptor::getFullMethodName));
    restoreBaseModels();
  }

  @AfterAll
  static void stop() throws Exception {
    SERVER.afterEach(null);
  }

  static void restoreBaseModels() {
    List<String> held = new ArrayList<>();
    for (ModelInfo m : stub.listModels(ListModelsRequest.getDefaultInstance())
        .getModelsList()) {
      held.add(m.getModelId());
    }
    if (!held.contains("ints")) {
      stub.fit(FuzzSeeds.intsFit().build());
    }
    if (!held.contains("keys")) {
      stub.fit(FuzzSeeds.keysFit().build());
    }
  }

  @FuzzTest(maxDuration = "45s")
  void anyRequest_endsWithAMappedStatus_andLeavesNothingBehind(byte[] input) throws Exception {
    run(input);
  }

  /** The same target for a long run on demand: select it with -Dtest=...#longRun. */
  @FuzzTest(maxDuration = "30m")
  void longRun(byte[] input) throws Exception {
    run(input);
  }

  private static void run(byte[] input) throws Exception {
    if (input.length == 0) {
      return;
    }
    int nameLength = input[0] & 0xff;
    MethodDescriptor<?, ?> method = null;
    int from = 1;
    if (nameLength > 0 && 1 + nameLength <= input.length) {
      method = methods.get(new String(input, 1, nameLength, StandardCharsets.US_ASCII));
      from = 1 + nameLength;
    }
    if (method == null) {
      method = ordered.get(nameLength % ordered.size());
      from = 1;
    }
    List<Object> messages = new ArrayList<>();
    InputStream in = new ByteArrayInputStream(input, from, input.length - from);
    try {
      while (in.available() > 0 && messages.size() < 64) {
        int size = com.google.protobuf.CodedInputStream.readRawVarint32(in.read(), in);
        if (size < 0 || size > in.available()) {
          return; // not a framing the fuzzer should spend time on
        }
        byte[] one = in.readNBytes(size);
        messages.add(method.getRequestMarshaller().parse(new ByteArrayInputStream(one)));
      }
    } catch (IOException | RuntimeException e) {
      return; // bytes that do not parse as this RPC's request never reach the service
    }
    if (messages.isEmpty()) {
      return;
    }
    List<Object> created = new ArrayList<>();
    Status status = call(method, messages, created);
    assertTrue(MAPPED.contains(status.getCode()), method.getBareMethodName() + " ended with "
        + status);
    assertNothingLeftBehind(method.getBareMethodName(), created);
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private static Status call(MethodDescriptor method, List<Object> messages,
      List<Object> created) throws InterruptedException {
    ManagedChannel channel = SERVER.channel();
    CallOptions options = CallOptions.DEFAULT.withDeadlineAfter(20, TimeUnit.SECONDS);
    try {
      switch (method.getType()) {
        case UNARY:
          created.add(ClientCalls.blockingUnaryCall(channel, method, options, messages.get(0)));
          return Status.OK;
        case SERVER_STREAMING: {
          var it = ClientCalls.blockingServerStreamingCall(channel, method, options,
              messages.get(0));
          int n = 0;
          while (it.hasNext() && n++ < 10_000) {
            created.add(it.next());
          }
          return Status.OK;
        }
        case CLIENT_STREAMING: {
          CompletableFuture<Object> done = new CompletableFuture<>();
          ClientCall c = channel.newCall(method, options);
          StreamObserver out = ClientCalls.asyncClientStreamingCall(c, new StreamObserver() {
            @Override
            public void onNext(Object value) {
              done.complete(value);
            }

            @Override
            public void onError(Throwable t) {
              done.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {
              done.complete(null);
            }
          });
          for (Object m : messages) {
            out.onNext(m);
          }
          out.onCompleted();
          created.add(done.get(30, TimeUnit.SECONDS));
          return Status.OK;
        }
        default:
          throw new AssertionError("no bidi RPC expected: " + method.getFullMethodName());
      }
    } catch (StatusRuntimeException e) {
      return e.getStatus();
    } catch (ExecutionException e) {
      return Status.fromThrowable(e.getCause());
    } catch (TimeoutException e) {
      throw new AssertionError(method.getBareMethodName() + " never answered", e);
    }
  }

  /**
   * Removes what the input made, then checks that only the base models remain, with the
   * budget holding exactly their bytes.
   */
  private static void assertNothingLeftBehind(String rpc, List<Object> responses)
      throws InterruptedException {
    for (Object r : responses) {
      if (r instanceof UploadMatrixResponse u) {
        stub.deleteMatrix(io.mfserve.proto.v1.DeleteMatrixRequest.newBuilder()
            .setMatrixId(u.getMatrixId()).build());
      }
    }
    FitExecutor fits = SERVER.injector().getInstance(FitExecutor.class);
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (fits.running() + fits.queued() > 0 && System.nanoTime() < until) {
      Thread.sleep(5);
    }
    assertEquals(0, fits.running() + fits.queued(), rpc + ": a fit still runs");
    for (Alias a : stub.listAliases(ListAliasesRequest.getDefaultInstance()).getAliasesList()) {
      stub.deleteAlias(DeleteAliasRequest.newBuilder().setAlias(a.getAlias()).build());
    }
    ModelStore store = SERVER.injector().getInstance(ModelStore.class);
    List<ModelInfo> listed = stub.listModels(ListModelsRequest.getDefaultInstance())
        .getModelsList();
    // Every model listed is whole: resident, described, with its factors.
    assertEquals(listed.size(), store.residentCount(), rpc + ": listed vs resident");
    for (ModelInfo m : listed) {
      assertTrue(m.getResident() && m.getNumFactors() > 0, rpc + ": " + m);
      if (!BASE_MODELS.contains(m.getModelId())) {
        stub.deleteModel(DeleteModelRequest.newBuilder().setModelId(m.getModelId()).build());
      }
    }
    restoreBaseModels();
    MatrixStore matrices = SERVER.injector().getInstance(MatrixStore.class);
    assertEquals(0, matrices.size(), rpc + ": an uploaded matrix was kept");
    LimitsInterceptor limits = SERVER.injector().getInstance(LimitsInterceptor.class);
    until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (limits.openUploads() > 0 && System.nanoTime() < until) {
      Thread.sleep(1);
    }
    assertEquals(0, limits.openUploads(), rpc + ": an upload slot is held");
    MemoryBudget budget = SERVER.injector().getInstance(MemoryBudget.class);
    assertEquals(store.residentBytes(), budget.usedBytes(), rpc + ": budget");
    assertEquals(BASE_MODELS.size(), store.residentCount(), rpc + ": models");
  }
}
