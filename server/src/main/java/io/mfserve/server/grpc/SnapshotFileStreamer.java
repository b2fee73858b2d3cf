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
 * deletes it: ExportModel writes the snapshot to a temporary file first, so the model is never
 * held twice in memory and a slow reader holds back only file reads.
 */
final class SnapshotFileStreamer extends FlowControlledStreamer<ExportModelResponse> {
  static final int CHUNK_BYTES = 1 << 20;

  private final Path file;
  private final InputStream in;
  private final long total;
  private long sent;
  private boolean first = true;

  SnapshotFileStreamer(Path file, ServerCallStreamObserver<ExportModelResponse> call)
      throws IOException {
    super(call);
    this.file = file;
    this.total = Files.size(file);
    this.in = Files.newInputStream(file);
    call.setOnCloseHandler(this::cleanUp);
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
    try {
      call().onError(StatusMapper.toStatus(e instanceof UncheckedIOException u ? u.getCause()
          : e));
    } catch (RuntimeException ignored) {
      // cancelled meanwhile
    }
  }

  private synchronized void cleanUp() {
    try {
      in.close();
      Files.deleteIfExists(file);
    } catch (IOException ignored) {
      // a temporary file; the OS cleans its temp directory
    }
  }
}
