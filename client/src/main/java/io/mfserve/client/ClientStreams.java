package io.mfserve.client;

import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.StreamObserver;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.function.Function;

/**
 * Sends the messages of one client-streaming call (UploadMatrix, ImportModel, ImportFactors)
 * as fast as the transport accepts them, and waits for the single response.
 *
 * <p>Flow control is respected: the next message is taken from the iterator only when the
 * call is ready, so a large input is read and sent chunk by chunk instead of being queued in
 * memory. The iterator and the callback run on the calling thread.
 *
 * <p>Failures: an error status from the server is thrown as {@link MfServeException}; an
 * interrupt of the calling thread cancels the call and is thrown as {@code CANCELLED} (the thread
 * stays interrupted); a runtime exception from the iterator or the callback cancels the call and
 * is rethrown as is. Stateless: one static method.
 */
final class ClientStreams {
  private ClientStreams() {}

  /** Called on the sending thread after each message is handed to the transport. */
  @FunctionalInterface
  interface Sent<Q> {
    /**
     * @param message the message just sent
     * @param last whether it was the last one
     */
    void accept(Q message, boolean last);
  }

  /**
   * Starts the call, sends every message, half-closes, and returns the response.
   *
   * @param rpc the RPC's name, for the error when the server sends no response
   * @param start starts the call on an async stub (with its deadline) given the response
   *     observer, and returns the request observer
   * @param messages the messages, taken lazily; at least one is expected
   * @param sent called after each message, or null
   * @return the server's response
   * @throws MfServeException if the call fails, is cancelled or ends without a response
   */
  static <Q, R> R send(String rpc, Function<StreamObserver<R>, StreamObserver<Q>> start,
      Iterator<Q> messages, Sent<Q> sent) {
    Object lock = new Object();
    CompletableFuture<R> result = new CompletableFuture<>();
    ClientResponseObserver<Q, R> responses = new ClientResponseObserver<>() {
      private R response;

      @Override
      public void beforeStart(ClientCallStreamObserver<Q> requests) {
        requests.setOnReadyHandler(this::wake);
      }

      @Override
      public void onNext(R value) {
        response = value;
      }

      @Override
      public void onError(Throwable t) {
        result.completeExceptionally(t);
        wake();
      }

      @Override
      public void onCompleted() {
        if (response == null) {
          result.completeExceptionally(Status.INTERNAL
              .withDescription(rpc + " completed without a response").asRuntimeException());
        } else {
          result.complete(response);
        }
        wake();
      }

      private void wake() {
        synchronized (lock) {
          lock.notifyAll();
        }
      }
    };
    @SuppressWarnings("unchecked")
    ClientCallStreamObserver<Q> requests = (ClientCallStreamObserver<Q>) start.apply(responses);
    try {
      while (messages.hasNext() && !result.isDone()) {
        if (Thread.interrupted()) {
          throw new InterruptedException();
        }
        // The next message is made before waiting: building it (serializing a chunk) then
        // overlaps the transport's sending of the previous one. One message is held at most.
        Q message = messages.next();
        synchronized (lock) {
          while (!requests.isReady() && !result.isDone()) {
            // The timeout only guards against a missed wake-up; readiness normally notifies.
            lock.wait(100);
          }
        }
        if (!result.isDone()) {
          requests.onNext(message);
          if (sent != null) {
            sent.accept(message, !messages.hasNext());
          }
        }
      }
      if (!result.isDone()) {
        requests.onCompleted();
      }
      return result.get();
    } catch (InterruptedException e) {
      requests.cancel("the sending thread was interrupted", e);
      Thread.currentThread().interrupt();
      throw new MfServeException(
          Status.CANCELLED.withDescription(rpc + " interrupted").withCause(e), List.of());
    } catch (ExecutionException e) {
      throw MfServeException.fromThrowable(e.getCause());
    } catch (RuntimeException | Error e) {
      requests.cancel("the client failed while sending", e);
      throw e;
    }
  }

  /** {@code in}'s messages, each turned into another by {@code f}, lazily. */
  static <A, B> Iterator<B> map(Iterator<A> in, Function<A, B> f) {
    return new Iterator<>() {
      @Override
      public boolean hasNext() {
        return in.hasNext();
      }

      @Override
      public B next() {
        return f.apply(in.next());
      }
    };
  }

  /** The messages of each iterator in turn, lazily. */
  static <T> Iterator<T> concat(List<Iterator<T>> parts) {
    return new Iterator<>() {
      private int part;

      @Override
      public boolean hasNext() {
        while (part < parts.size() && !parts.get(part).hasNext()) {
          part++;
        }
        return part < parts.size();
      }

      @Override
      public T next() {
        if (!hasNext()) {
          throw new NoSuchElementException();
        }
        return parts.get(part).next();
      }
    };
  }
}
