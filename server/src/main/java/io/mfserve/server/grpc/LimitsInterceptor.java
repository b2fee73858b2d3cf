package io.mfserve.server.grpc;

import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.StatusRuntimeException;
import io.mfserve.proto.v1.MatrixFactorizationGrpc;
import io.mfserve.server.model.store.Limits;
import jakarta.inject.Inject;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Holds every {@code mfserve.v1.MatrixFactorization} call to the server's {@link Limits} at the
 * boundary: each request message is checked by {@link RequestLimits} before the service sees
 * it, and the streams that bring data in (UploadMatrix, ImportModel, ImportFactors) are
 * counted against {@link Limits.Limit#UPLOADS}.
 *
 * <p>A refused call is closed here with the status {@link StatusMapper} gives, and its handler
 * is told the client cancelled (for a client stream that has started), so that it frees what it
 * had collected exactly as when a client gives up; the handler never sees the refused message.
 */
public final class LimitsInterceptor implements ServerInterceptor {
  private static final Set<String> UPLOADS = Set.of(
      MatrixFactorizationGrpc.getUploadMatrixMethod().getFullMethodName(),
      MatrixFactorizationGrpc.getImportModelMethod().getFullMethodName(),
      MatrixFactorizationGrpc.getImportFactorsMethod().getFullMethodName());

  private final Limits limits;
  private final AtomicInteger openUploads = new AtomicInteger();

  /** Checks calls against {@code limits}. */
  @Inject
  public LimitsInterceptor(Limits limits) {
    this.limits = limits;
  }

  /** Returns the upload streams open now (for tests: it must come back to zero). */
  public int openUploads() {
    return openUploads.get();
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
      ServerCallHandler<Q, R> next) {
    if (!MatrixFactorizationGrpc.SERVICE_NAME.equals(call.getMethodDescriptor()
        .getServiceName())) {
      return next.startCall(call, headers);
    }
    boolean upload = UPLOADS.contains(call.getMethodDescriptor().getFullMethodName());
    AtomicBoolean slot = new AtomicBoolean();
    if (upload) {
      int now = openUploads.incrementAndGet();
      slot.set(true);
      try {
        limits.check(Limits.Limit.UPLOADS, "open upload streams", now);
      } catch (RuntimeException e) {
        release(slot);
        close(call, e);
        return new ServerCall.Listener<>() { };
      }
    }
    RequestLimits checks = new RequestLimits(limits);
    ServerCall.Listener<Q> delegate = next.startCall(call, headers);
    return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(delegate) {
      private boolean refused;

      @Override
      public void onMessage(Q message) {
        if (refused) {
          return;
        }
        try {
          checks.check(message);
        } catch (RuntimeException e) {
          refused = true;
          close(call, e);
          // A client stream's handler holds what earlier messages brought: let it free that
          // as for a cancelled call. A unary or server-streaming handler has nothing yet.
          if (call.getMethodDescriptor().getType().clientSendsOneMessage()) {
            return;
          }
          super.onCancel();
          return;
        }
        super.onMessage(message);
      }

      @Override
      public void onHalfClose() {
        if (!refused) {
          super.onHalfClose();
        }
      }

      @Override
      public void onReady() {
        if (!refused) {
          super.onReady();
        }
      }

      @Override
      public void onCancel() {
        release(slot);
        if (!refused) {
          super.onCancel();
        }
      }

      @Override
      public void onComplete() {
        release(slot);
        if (!refused) {
          super.onComplete();
        }
      }
    };
  }

  private void release(AtomicBoolean slot) {
    if (slot.compareAndSet(true, false)) {
      openUploads.decrementAndGet();
    }
  }

  private static void close(ServerCall<?, ?> call, RuntimeException e) {
    StatusRuntimeException s = StatusMapper.toStatus(e);
    call.close(s.getStatus(), s.getTrailers() == null ? new Metadata() : s.getTrailers());
  }
}
