package io.mfserve.server.grpc;

import com.google.protobuf.ByteString;
import io.grpc.stub.ServerCallStreamObserver;
import io.mfserve.proto.v1.ExportModelResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Streams a snapshot file in chunks of {@link #CHUNK_BYTES} under outbound flow control, then
 * deletes it. ExportModel writes the snapshot to a temporary file on the handler pool first
 * (so the model is never held twice in memory); the streamer is started in the call itself,
 * as gRPC requires of its handlers, and writes once {@link #ready} hands it the file.
 */
final class SnapshotFileStreamer extends FlowControlledStreamer<ExportModelResponse> {
  static final int CHUNK_BYTES = 1 << 20;

  private Path file;
  private InputStream in;
  private long total;
  private long sent;
  private boolean first = true;
  private boolean stopped;

  SnapshotFileStreamer(ServerCallStreamObserver<ExportModelResponse> call) {
    super(call);
  }

  /** Hands over the written snapshot and starts sending it. */
  void ready(Path snapshot) throws IOException {
    synchronized (this) {
      if (stopped) {
        Files.deleteIfExists(snapshot);
        return;
      }
      file = snapshot;
      total = Files.size(snapshot);
      in = Files.newInputStream(snapshot);
    }
    resume();
  }

  @Override
  synchronized boolean hasNextReady() {
    if (call().isCancelled()) {
      cleanUp();
      return false;
    }
    return in != null;
  }

  @Override
  ExportModelResponse nextMessage() {
    try {
      byte[] chunk = in.readNBytes((int) Math.min(CHUNK_BYTES, total - sent));
      sent += chunk.length;
      ExportModelResponse.Builder b = ExportModelResponse.newBuilder()
          .setData(ByteString.copyFrom(chunk));
      if (first) {
        b.setTotalBytes(total);
        first = false;
      }
      if (sent == total) {
        cleanUp();
      }
      return b.build();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  boolean finished() {
    return sent == total && !first;
  }

  @Override
  void failed(Throwable e) {
    cleanUp();
    Calls.error(call(), e instanceof UncheckedIOException u ? u.getCause() : e);
  }

  private synchronized void cleanUp() {
    stopped = true;
    try {
      if (in != null) {
        in.close();
      }
      if (file != null) {
        Files.deleteIfExists(file);
      }
    } catch (IOException ignored) {
      // a temporary file; the OS cleans its temp directory
    }
  }
}
