package io.mfserve.server.grpc;

import io.grpc.stub.ServerCallStreamObserver;

/**
 * The outbound flow-control skeleton of a server-streaming call: writes the next message only
 * while the transport is ready, resumes when it becomes ready again, completes the call after
 * the last message and stops at once when the client cancels, so a slow reader holds back the
 * producing instead of making the server buffer every message. Subclasses say what the next
 * message is, when there are no more, and what a failure while producing or writing means.
 *
 * <p>Threading: every callback runs under this object's lock, so subclasses' state needs no
 * further synchronisation; {@link #start} is called once, by the thread serving the call.
 *
 * @param <T> the response message type
 */
abstract class FlowControlledStreamer<T> {
  private final ServerCallStreamObserver<T> call;
  private boolean done;

  FlowControlledStreamer(ServerCallStreamObserver<T> call) {
    this.call = call;
  }

  /** Installs the cancel and ready handlers and writes as much as the transport takes now. */
  final void start() {
    call.setOnCancelHandler(() -> {
      synchronized (this) {
        done = true;
      }
    });
    call.setOnReadyHandler(this::drain);
    drain();
  }

  /** The call this streams to, for {@link #failed} to report on. */
  final ServerCallStreamObserver<T> call() {
    return call;
  }

  /**
   * Whether the next message can be built now; false while its source is still being prepared
   * elsewhere, which then calls {@link #resume}. True by default.
   */
  boolean hasNextReady() {
    return true;
  }

  /** Writes what the transport takes now: for a source that became ready on another thread. */
  final void resume() {
    drain();
  }

  /** Reports a failure of the source prepared elsewhere, unless the stream had stopped. */
  final synchronized void fail(Throwable e) {
    if (!done) {
      done = true;
      failed(e);
    }
  }

  /**
   * Ends the call with {@code e}'s status, unless the stream had stopped: for a source that
   * could not be prepared (a model that failed to load).
   */
  final synchronized void abort(Throwable e) {
    if (!done) {
      done = true;
      Calls.error(call, e);
    }
  }

  /** Builds the next message; called only while {@link #finished} is false. */
  abstract T nextMessage();

  /** Whether every message has been written, asked after each one. */
  abstract boolean finished();

  /**
   * Handles a failure while building or writing a message, unless the stream had already
   * stopped; afterwards the stream stops. Throwing here leaves the stream running, as if the
   * failure had never been caught.
   */
  abstract void failed(Throwable e);

  private synchronized void drain() {
    try {
      while (!done && hasNextReady() && call.isReady()) {
        call.onNext(nextMessage());
        if (finished()) {
          done = true;
          call.onCompleted();
        }
      }
    } catch (RuntimeException | OutOfMemoryError e) {
      if (!done) {
        failed(e);
      }
      done = true;
    }
  }
}
