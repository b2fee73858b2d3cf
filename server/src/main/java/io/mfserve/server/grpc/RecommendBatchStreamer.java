package io.mfserve.server.grpc;

import io.grpc.stub.ServerCallStreamObserver;
import io.mfserve.proto.v1.RecommendBatchRequest;
import io.mfserve.proto.v1.RecommendBatchResponse;
import io.mfserve.server.model.query.ModelQueries;
import io.mfserve.server.model.query.Ranked;

/**
 * Streams a RecommendBatch: computes the users in windows of {@value #WINDOW} (each window
 * spread over every core by {@link ModelQueries.Batch#compute}) and writes one message per
 * user, in request order, only while the transport is ready (outbound flow control), so a slow
 * reader holds back the computing instead of making the server buffer every answer. Stops at
 * once when the client cancels.
 */
final class RecommendBatchStreamer extends FlowControlledStreamer<RecommendBatchResponse> {
  /** Users computed at a time: enough to keep every core busy, few enough to hold. */
  static final int WINDOW = 256;

  private ModelQueries.Batch batch;
  private final RecommendBatchRequest request;
  private Ranked[] window = new Ranked[0];
  private int windowStart;
  private int next;

  RecommendBatchStreamer(ModelQueries.Batch batch, RecommendBatchRequest request,
      ServerCallStreamObserver<RecommendBatchResponse> call) {
    super(call);
    this.batch = batch;
    this.request = request;
  }

  /** A streamer whose batch is still being prepared; {@link #ready} hands it over. */
  RecommendBatchStreamer(RecommendBatchRequest request,
      ServerCallStreamObserver<RecommendBatchResponse> call) {
    this(null, request, call);
  }

  /** Hands over a batch prepared on another thread (its model was loading) and starts. */
  void ready(ModelQueries.Batch prepared) {
    synchronized (this) {
      batch = prepared;
    }
    resume();
  }

  @Override
  synchronized boolean hasNextReady() {
    return batch != null;
  }

  @Override
  RecommendBatchResponse nextMessage() {
    if (next == windowStart + window.length) {
      windowStart = next;
      window = batch.compute(next, Math.min(batch.size(), next + WINDOW));
    }
    RecommendBatchResponse message = message(next, window[next - windowStart]);
    next++;
    return message;
  }

  @Override
  boolean finished() {
    return batch != null && next == batch.size();
  }

  @Override
  void failed(Throwable e) {
    try {
      call().onError(StatusMapper.toStatus(e));
    } catch (RuntimeException cancelled) {
      // Cancelled while failing: there is no one to tell.
    }
  }

  private RecommendBatchResponse message(int j, Ranked r) {
    RecommendBatchResponse.Builder b = RecommendBatchResponse.newBuilder()
        .addAllItems(ProtoMapper.scoredItems(r)).setFallback(r.fallback());
    if (request.getUserIdsCount() > 0) {
      b.setUserId(request.getUserIds(j));
    } else {
      b.setUserKey(request.getUserKeys(j));
    }
    return b.build();
  }
}
