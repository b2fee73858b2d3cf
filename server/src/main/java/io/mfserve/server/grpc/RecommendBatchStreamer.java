package io.mfserve.server.grpc;

import io.grpc.stub.ServerCallStreamObserver;
import io.mfserve.proto.v1.RecommendBatchRequest;
import io.mfserve.proto.v1.RecommendBatchResponse;
import io.mfserve.server.model.ModelQueries;
import io.mfserve.server.model.Ranked;

/**
 * Streams a RecommendBatch: computes the users in windows of {@value #WINDOW} (each window
 * spread over every core by {@link ModelQueries.Batch#compute}) and writes one message per
 * user, in request order, only while the transport is ready (outbound flow control), so a slow
 * reader holds back the computing instead of making the server buffer every answer. Stops at
 * once when the client cancels.
 */
final class RecommendBatchStreamer {
  /** Users computed at a time: enough to keep every core busy, few enough to hold. */
  static final int WINDOW = 256;

  private final ModelQueries.Batch batch;
  private final RecommendBatchRequest request;
  private final ServerCallStreamObserver<RecommendBatchResponse> call;
  private Ranked[] window = new Ranked[0];
  private int windowStart;
  private int next;
  private boolean done;

  RecommendBatchStreamer(ModelQueries.Batch batch, RecommendBatchRequest request,
      ServerCallStreamObserver<RecommendBatchResponse> call) {
    this.batch = batch;
    this.request = request;
    this.call = call;
  }

  void start() {
    call.setOnCancelHandler(() -> {
      synchronized (this) {
        done = true;
      }
    });
    call.setOnReadyHandler(this::drain);
    drain();
  }

  private synchronized void drain() {
    try {
      while (!done && call.isReady()) {
        if (next == windowStart + window.length) {
          windowStart = next;
          window = batch.compute(next, Math.min(batch.size(), next + WINDOW));
        }
        call.onNext(message(next, window[next - windowStart]));
        next++;
        if (next == batch.size()) {
          done = true;
          call.onCompleted();
        }
      }
    } catch (RuntimeException | OutOfMemoryError e) {
      if (!done) {
        done = true;
        try {
          call.onError(StatusMapper.toStatus(e));
        } catch (RuntimeException cancelled) {
          // Cancelled while failing: there is no one to tell.
        }
      }
    }
  }

  private RecommendBatchResponse message(int j, Ranked r) {
    RecommendBatchResponse.Builder b = RecommendBatchResponse.newBuilder()
        .addAllItems(ProtoMapper.scoredItems(r));
    if (request.getUserIdsCount() > 0) {
      b.setUserId(request.getUserIds(j));
    } else {
      b.setUserKey(request.getUserKeys(j));
    }
    return b.build();
  }
}
