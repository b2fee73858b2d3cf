package io.mfserve.server.grpc;

import io.grpc.stub.StreamObserver;
import java.util.function.Supplier;

/**
 * Answers a call without ever throwing to gRPC (which would reach the client as UNKNOWN): a
 * failure leaves through {@code onError} with the status {@link StatusMapper} chose, and a
 * call the client cancelled meanwhile is simply not answered.
 */
final class Calls {
  private Calls() { }

  static <T> void unary(StreamObserver<T> responses, Supplier<T> handler) {
    T reply;
    try {
      reply = handler.get();
    } catch (RuntimeException | OutOfMemoryError e) {
      error(responses, e);
      return;
    }
    reply(responses, reply);
  }

  static <T> void reply(StreamObserver<T> responses, T reply) {
    try {
      responses.onNext(reply);
      responses.onCompleted();
    } catch (RuntimeException e) {
      // The call was cancelled meanwhile; there is no one to answer.
    }
  }

  static <T> void next(StreamObserver<T> responses, T message) {
    try {
      responses.onNext(message);
    } catch (RuntimeException e) {
      // The call was cancelled meanwhile; the fit sees the cancellation and stops.
    }
  }

  static void error(StreamObserver<?> responses, Throwable failure) {
    try {
      responses.onError(StatusMapper.toStatus(failure));
    } catch (RuntimeException e) {
      // The call was cancelled meanwhile; there is no one to answer.
    }
  }
}
