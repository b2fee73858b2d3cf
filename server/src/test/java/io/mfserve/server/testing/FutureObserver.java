package io.mfserve.server.testing;

import io.grpc.stub.StreamObserver;
import java.util.concurrent.CompletableFuture;

/**
 * A StreamObserver that completes a future: with the first response, with null when the call
 * completes without one, or exceptionally with the call's error. For tests that start an
 * asynchronous call and wait on its outcome.
 */
public final class FutureObserver {
  private FutureObserver() { }

  /** An observer that completes {@code into}. */
  public static <T> StreamObserver<T> of(CompletableFuture<T> into) {
    return new StreamObserver<>() {
      @Override
      public void onNext(T value) {
        into.complete(value);
      }

      @Override
      public void onError(Throwable t) {
        into.completeExceptionally(t);
      }

      @Override
      public void onCompleted() {
        into.complete(null);
      }
    };
  }
}
