package io.mfserve.server.grpc;

import io.grpc.stub.ServerCallStreamObserver;
import io.mfserve.proto.v1.DenseMatrix;
import io.mfserve.proto.v1.GetFactorsResponse;
import io.mfserve.server.model.ids.IdForm;
import io.mfserve.server.model.ids.IdIndex;
import io.mfserve.server.model.store.ServedModel;
import io.mfserve.solver.FactorModel;

/**
 * Streams one model's factors in chunks of about {@link #CHUNK_BYTES}, user rows first, then
 * item rows, each chunk with those rows' ids and biases. Writes only while the transport is
 * ready (outbound flow control), so a slow reader never makes the server buffer a whole model.
 */
final class FactorStreamer extends FlowControlledStreamer<GetFactorsResponse> {
  /** Target serialised size of one chunk: well under gRPC's default 4 MiB message limit. */
  static final int CHUNK_BYTES = 1 << 20;

  private ServedModel model;
  private int nextUser;
  private int nextItem;
  private boolean first = true;

  FactorStreamer(ServedModel model, ServerCallStreamObserver<GetFactorsResponse> call) {
    super(call);
    this.model = model;
  }

  /** A streamer whose model is still loading; {@link #ready} hands it over. */
  FactorStreamer(ServerCallStreamObserver<GetFactorsResponse> call) {
    this(null, call);
  }

  /** Hands over the loaded model and starts sending it. */
  void ready(ServedModel loaded) {
    synchronized (this) {
      model = loaded;
    }
    resume();
  }

  @Override
  synchronized boolean hasNextReady() {
    return model != null;
  }

  @Override
  boolean finished() {
    return model != null && nextUser == model.users().size() && nextItem == model.items().size();
  }

  @Override
  void failed(Throwable e) {
    if (e instanceof OutOfMemoryError oom) {
      // Not this stream's to handle: it propagates, as any error does.
      throw oom;
    }
    // Cancelled while writing: stop quietly.
  }

  @Override
  GetFactorsResponse nextMessage() {
    FactorModel f = model.factors();
    int k = f.numFactors();
    GetFactorsResponse.Builder b = GetFactorsResponse.newBuilder();
    if (first) {
      first = false;
      b.setModel(ProtoMapper.toProto(model)).setGlobalBias(f.globalMean());
    }
    long room = CHUNK_BYTES;
    int users = model.users().size();
    int from = nextUser;
    while (nextUser < users && (room > 0 || nextUser == from)) {
      room -= rowBytes(k, model.users(), nextUser, f.hasBiases());
      nextUser++;
    }
    b.setUserFactors(side(f.copyUserFactors(from, nextUser), nextUser - from, k));
    addIds(b, model.users(), from, nextUser, true);
    if (f.hasBiases()) {
      for (int u = from; u < nextUser; u++) {
        b.addUserBiases(f.userBias(u));
      }
    }
    int items = model.items().size();
    int itemFrom = nextItem;
    if (nextUser == users) {
      // Fill the rest of the chunk with item rows.
      while (nextItem < items && room > 0) {
        room -= rowBytes(k, model.items(), nextItem, f.hasBiases());
        nextItem++;
      }
    }
    b.setItemFactors(side(f.copyItemFactors(itemFrom, nextItem), nextItem - itemFrom, k));
    addIds(b, model.items(), itemFrom, nextItem, false);
    if (f.hasBiases()) {
      for (int i = itemFrom; i < nextItem; i++) {
        b.addItemBiases(f.itemBias(i));
      }
    }
    return b.build();
  }

  private static long rowBytes(int k, IdIndex ids, int row, boolean biases) {
    long idBytes = ids.form() == IdForm.INT64 ? 10 : ids.keyAt(row).length() * 3L + 3;
    return k * 4L + idBytes + (biases ? 4 : 0) + 4;
  }

  private static DenseMatrix side(float[] values, int rows, int k) {
    DenseMatrix.Builder d = DenseMatrix.newBuilder().setRows(rows).setCols(k);
    for (float v : values) {
      d.addValues(v);
    }
    return d.build();
  }

  private static void addIds(GetFactorsResponse.Builder b, IdIndex ids, int from, int to,
      boolean users) {
    for (int p = from; p < to; p++) {
      if (ids.form() == IdForm.INT64) {
        if (users) {
          b.addUserIds(ids.idAt(p));
        } else {
          b.addItemIds(ids.idAt(p));
        }
      } else if (users) {
        b.addUserKeys(ids.keyAt(p));
      } else {
        b.addItemKeys(ids.keyAt(p));
      }
    }
  }
}
