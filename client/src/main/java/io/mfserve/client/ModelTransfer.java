package io.mfserve.client;

import com.google.protobuf.ByteString;
import io.grpc.Channel;
import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.mfserve.proto.v1.AbsentEntries;
import io.mfserve.proto.v1.ExportModelRequest;
import io.mfserve.proto.v1.ExportModelResponse;
import io.mfserve.proto.v1.ImportFactorsHeader;
import io.mfserve.proto.v1.ImportFactorsRequest;
import io.mfserve.proto.v1.ImportFactorsResponse;
import io.mfserve.proto.v1.ImportModelRequest;
import io.mfserve.proto.v1.ImportModelResponse;
import io.mfserve.proto.v1.MatrixFactorizationGrpc;
import io.mfserve.proto.v1.ModelInfo;
import io.mfserve.proto.v1.SparseMatrix;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The streaming calls that move whole models in and out of a server: ExportModel (a snapshot
 * streamed to an {@link OutputStream}), ImportModel (a snapshot streamed from an {@link
 * InputStream}) and ImportFactors (plain {@link Factors} streamed as GetFactors-shaped row
 * chunks). {@link MfClient} delegates to it; it holds no state of its own beyond the channel,
 * the deadline of these bulk calls and the chunk size.
 *
 * <p>Every message it sends stays within {@code chunkBytes} serialized (1 MiB by default), far
 * under gRPC's default 4 MiB limit, and is sent only when the transport is ready (see {@link
 * ClientStreams}), so a snapshot or factor set of any size streams in constant memory on the
 * sending side. Immutable and thread-safe.
 */
final class ModelTransfer {
  /**
   * Room in each message for its wrappers and field tags beyond the payload counted: the
   * request message, the rows or seen message, the dense matrix and packed-field lengths.
   */
  static final int OVERHEAD_BYTES = 64;

  private final Channel channel;
  private final Duration deadline;
  private final int chunkBytes;

  /**
   * @param channel the caller's channel
   * @param deadline the deadline of each call, counted from its start
   * @param chunkBytes the most bytes one message may take, serialized
   */
  ModelTransfer(Channel channel, Duration deadline, int chunkBytes) {
    this.channel = Objects.requireNonNull(channel, "channel");
    this.deadline = Objects.requireNonNull(deadline, "deadline");
    if (chunkBytes <= OVERHEAD_BYTES) {
      throw new IllegalArgumentException("chunkBytes too small: " + chunkBytes);
    }
    this.chunkBytes = chunkBytes;
  }

  private MatrixFactorizationGrpc.MatrixFactorizationStub asyncStub() {
    return MatrixFactorizationGrpc.newStub(channel).withDeadline(newDeadline());
  }

  private Deadline newDeadline() {
    return Deadline.after(deadline.toNanos(), TimeUnit.NANOSECONDS);
  }

  // ---------------------------------------------------------------------------------------
  // ExportModel

  /**
   * Streams a model's snapshot into {@code out} (not closed), chunk by chunk as it arrives.
   *
   * @return the bytes written
   * @throws MfServeException if the call fails, or {@code INTERNAL} when the stream is empty or
   *     its length differs from the total its first chunk announced
   * @throws IOException if writing fails; the call is cancelled
   */
  long exportModel(String modelId, OutputStream out, Consumer<TransferProgress> progress)
      throws IOException {
    Objects.requireNonNull(out, "out");
    ExportModelRequest request = ExportModelRequest.newBuilder().setModelId(modelId).build();
    Context.CancellableContext context = Context.current().withCancellation();
    Context previous = context.attach();
    try {
      Iterator<ExportModelResponse> stream = MatrixFactorizationGrpc.newBlockingStub(channel)
          .withDeadline(newDeadline()).exportModel(request);
      long written = 0;
      long total = -1;
      int chunks = 0;
      while (stream.hasNext()) {
        ExportModelResponse chunk = stream.next();
        if (chunks == 0 && chunk.getTotalBytes() > 0) {
          total = chunk.getTotalBytes();
        }
        chunk.getData().writeTo(out);
        written += chunk.getData().size();
        chunks++;
        if (total >= 0 && written > total) {
          throw malformed("ExportModel sent more than the " + total + " bytes it announced");
        }
        if (progress != null) {
          progress.accept(new TransferProgress(chunks, written, total,
              total >= 0 && written == total));
        }
      }
      if (chunks == 0) {
        throw malformed("ExportModel ended without a chunk");
      }
      if (total >= 0 && written != total) {
        throw malformed("ExportModel ended after " + written + " of the " + total
            + " bytes it announced");
      }
      if (progress != null && total < 0) {
        progress.accept(new TransferProgress(chunks, written, written, true));
      }
      return written;
    } catch (StatusRuntimeException e) {
      throw MfServeException.from(e);
    } finally {
      context.detach(previous);
      context.cancel(null);
    }
  }

  // ---------------------------------------------------------------------------------------
  // ImportModel

  /**
   * Streams a snapshot from {@code in} (read to its end, not closed) in chunks of at most
   * {@code chunkBytes} serialized, the first naming the model id.
   *
   * @param totalBytes the snapshot's size if known (for progress), else -1
   * @throws IOException if reading fails; the call is cancelled
   */
  ModelInfo importModel(InputStream in, String modelId, long totalBytes,
      Consumer<TransferProgress> progress) throws IOException {
    Objects.requireNonNull(in, "in");
    Objects.requireNonNull(modelId, "modelId");
    SnapshotChunks chunks = new SnapshotChunks(in, modelId);
    long[] bytes = new long[1];
    int[] count = new int[1];
    ClientStreams.Sent<ImportModelRequest> report = progress == null ? null : (c, last) -> {
      bytes[0] += c.getData().size();
      count[0]++;
      progress.accept(new TransferProgress(count[0], bytes[0], last ? bytes[0] : totalBytes,
          last));
    };
    try {
      return ClientStreams.<ImportModelRequest, ImportModelResponse>send("ImportModel",
          r -> asyncStub().importModel(r), chunks, report).getModel();
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
  }

  /** Reads the snapshot one chunk ahead, so the sender knows which chunk is the last. */
  private final class SnapshotChunks implements Iterator<ImportModelRequest> {
    private final InputStream in;
    private final String modelId;
    private ImportModelRequest pending;
    private boolean first = true;
    private boolean eof;

    SnapshotChunks(InputStream in, String modelId) {
      this.in = in;
      this.modelId = modelId;
    }

    @Override
    public boolean hasNext() {
      if (pending == null && !eof) {
        pending = read();
      }
      return pending != null;
    }

    @Override
    public ImportModelRequest next() {
      if (!hasNext()) {
        throw new NoSuchElementException();
      }
      ImportModelRequest c = pending;
      pending = null;
      return c;
    }

    private ImportModelRequest read() {
      int room = chunkBytes - OVERHEAD_BYTES - (first ? 3 * modelId.length() : 0);
      byte[] buf = new byte[Math.max(1, room)];
      int n;
      try {
        n = in.readNBytes(buf, 0, buf.length);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      if (n < buf.length) {
        eof = true;
      }
      if (n == 0 && !first) {
        return null;
      }
      // The first chunk goes even when the input is empty, so the server reports it.
      ImportModelRequest.Builder c = ImportModelRequest.newBuilder()
          .setData(ByteString.copyFrom(buf, 0, n));
      if (first) {
        c.setModelId(modelId);
        first = false;
      }
      return c.build();
    }
  }

  // ---------------------------------------------------------------------------------------
  // ImportFactors

  /**
   * Streams factors as a new served model: the header alone first, then the user rows, then
   * the item rows (one side per message, GetFactors' chunk shape), then the seen entries.
   *
   * @param header the header's model id, absent entries, fold-in solver, regularization and
   *     params; its num_factors, has_biases and global_mean are filled in from {@code factors}
   *     (set them only to those same values)
   * @param seen (user, item) pairs seen in training, or null; its values are not sent
   */
  ModelInfo importFactors(Factors factors, ImportFactorsHeader header, SparseMatrix seen) {
    ImportFactorsHeader full = header(factors, header);
    List<Iterator<ImportFactorsRequest>> parts = new ArrayList<>();
    parts.add(List.of(ImportFactorsRequest.newBuilder().setHeader(full).build()).iterator());
    parts.add(ClientStreams.map(factors.toChunks(chunkBytes - OVERHEAD_BYTES),
        rows -> ImportFactorsRequest.newBuilder().setRows(rows).build()));
    if (seen != null && entries(seen) > 0) {
      SparseMatrix pairs = seen.toBuilder().clearValues().build();
      parts.add(ClientStreams.map(MatrixChunks.sparse(pairs, chunkBytes - OVERHEAD_BYTES),
          s -> ImportFactorsRequest.newBuilder().setSeen(s).build()));
    }
    return ClientStreams.<ImportFactorsRequest, ImportFactorsResponse>send("ImportFactors",
        r -> asyncStub().importFactors(r), ClientStreams.concat(parts), null).getModel();
  }

  /**
   * The header with the shape of {@code factors}; for factors downloaded from a server, what
   * absent entries meant there and, for an NMF model, non-negative fold-in, unless the header
   * says otherwise.
   */
  static ImportFactorsHeader header(Factors factors, ImportFactorsHeader header) {
    ImportFactorsHeader h = header == null ? ImportFactorsHeader.getDefaultInstance() : header;
    if (h.getNumFactors() != 0 && h.getNumFactors() != factors.numFactors()) {
      throw new IllegalArgumentException("the header says num_factors " + h.getNumFactors()
          + " but the factors have k = " + factors.numFactors());
    }
    if (h.getHasBiases() && !factors.hasBiases()) {
      throw new IllegalArgumentException(
          "the header says has_biases but the factors have none: add them with biases(...)");
    }
    if (h.getGlobalMean() != 0 && (!factors.hasBiases()
        || Double.compare(h.getGlobalMean(), factors.globalBias()) != 0)) {
      throw new IllegalArgumentException("the header's global_mean " + h.getGlobalMean()
          + " differs from the factors' " + factors.globalBias()
          + "; the global mean comes from the factors");
    }
    ImportFactorsHeader.Builder b = h.toBuilder()
        .setNumFactors(factors.numFactors())
        .setHasBiases(factors.hasBiases())
        .setGlobalMean(factors.hasBiases() ? factors.globalBias() : 0.0);
    ModelInfo source = factors.info();
    if (b.getAbsentEntries() == AbsentEntries.ABSENT_ENTRIES_UNSPECIFIED
        && source.getAbsentEntries() != AbsentEntries.UNRECOGNIZED) {
      b.setAbsentEntries(source.getAbsentEntries());
    }
    if (b.getFoldInSolver().isEmpty() && source.getSolver().equals("nmf")) {
      b.setFoldInSolver("nmf");
    }
    return b.build();
  }

  private static int entries(SparseMatrix m) {
    return Math.max(Math.max(m.getRowIdsCount(), m.getRowKeysCount()),
        Math.max(m.getColIdsCount(), m.getColKeysCount()));
  }

  private static MfServeException malformed(String what) {
    return new MfServeException(Status.INTERNAL.withDescription(what), List.of());
  }
}
