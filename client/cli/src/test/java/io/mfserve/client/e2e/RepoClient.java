package io.mfserve.client.e2e;

import io.grpc.Channel;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.mfserve.proto.v1.DeleteAliasRequest;
import io.mfserve.proto.v1.DeleteModelRequest;
import io.mfserve.proto.v1.DenseMatrix;
import io.mfserve.proto.v1.FitRequest;
import io.mfserve.proto.v1.GetAliasRequest;
import io.mfserve.proto.v1.GetFactorsRequest;
import io.mfserve.proto.v1.GetFactorsResponse;
import io.mfserve.proto.v1.GetModelRequest;
import io.mfserve.proto.v1.ListAliasesRequest;
import io.mfserve.proto.v1.ListModelsRequest;
import io.mfserve.proto.v1.ListModelsResponse;
import io.mfserve.proto.v1.Matrix;
import io.mfserve.proto.v1.MatrixFactorizationGrpc;
import io.mfserve.proto.v1.MatrixFactorizationGrpc.MatrixFactorizationBlockingStub;
import io.mfserve.proto.v1.ModelInfo;
import io.mfserve.proto.v1.SetAliasRequest;
import io.mfserve.proto.v1.SetAliasResponse;
import io.mfserve.proto.v1.SparseMatrix;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * The repository RPCs over the generated blocking stub, with a deadline on every call, and
 * the helpers the repository end-to-end tests share: small random fit requests and a
 * bit-exact fingerprint of a model's factors.
 */
final class RepoClient implements AutoCloseable {
  private final ManagedChannel channel;
  private final long deadlineMillis;

  RepoClient(String host, int port, long deadlineMillis) {
    this.channel = ManagedChannelBuilder.forAddress(host, port).usePlaintext().build();
    this.deadlineMillis = deadlineMillis;
  }

  Channel channel() {
    return channel;
  }

  MatrixFactorizationBlockingStub stub() {
    return MatrixFactorizationGrpc.newBlockingStub(channel)
        .withDeadlineAfter(deadlineMillis, TimeUnit.MILLISECONDS);
  }

  ModelInfo fit(FitRequest r) {
    return MatrixFactorizationGrpc.newBlockingStub(channel)
        .withDeadlineAfter(Math.max(deadlineMillis, 120_000), TimeUnit.MILLISECONDS)
        .fit(r).getModel();
  }

  void deleteModel(String id) {
    stub().deleteModel(DeleteModelRequest.newBuilder().setModelId(id).build());
  }

  ModelInfo getModel(String name) {
    return stub().getModel(GetModelRequest.newBuilder().setModelId(name).build()).getModel();
  }

  /** Returns whether {@code id} exists (GetModel is OK), false on NOT_FOUND. */
  boolean exists(String id) {
    try {
      getModel(id);
      return true;
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() == Status.Code.NOT_FOUND) {
        return false;
      }
      throw e;
    }
  }

  ListModelsResponse listModels() {
    return stub().listModels(ListModelsRequest.getDefaultInstance());
  }

  /** Every model id ListModels reports (resident or only stored). */
  Set<String> modelIds() {
    Set<String> ids = new HashSet<>();
    for (ModelInfo m : listModels().getModelsList()) {
      ids.add(m.getModelId());
    }
    return ids;
  }

  /** Sets an alias; {@code expected} null for an unconditional switch. */
  SetAliasResponse setAlias(String alias, String modelId, String expected) {
    SetAliasRequest.Builder b = SetAliasRequest.newBuilder().setAlias(alias).setModelId(modelId);
    if (expected != null) {
      b.setExpectedModelId(expected);
    }
    return stub().setAlias(b.build());
  }

  String deleteAlias(String alias, String expected) {
    DeleteAliasRequest.Builder b = DeleteAliasRequest.newBuilder().setAlias(alias);
    if (expected != null) {
      b.setExpectedModelId(expected);
    }
    return stub().deleteAlias(b.build()).getPreviousModelId();
  }

  /** The model {@code alias} points at, or null on NOT_FOUND. */
  String getAlias(String alias) {
    try {
      return stub().getAlias(GetAliasRequest.newBuilder().setAlias(alias).build()).getAlias()
          .getModelId();
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() == Status.Code.NOT_FOUND) {
        return null;
      }
      throw e;
    }
  }

  Map<String, String> listAliases() {
    Map<String, String> out = new TreeMap<>();
    stub().listAliases(ListAliasesRequest.getDefaultInstance()).getAliasesList()
        .forEach(a -> out.put(a.getAlias(), a.getModelId()));
    return out;
  }

  /**
   * A model's factors, ids and biases as GetFactors streams them, reduced to a SHA-256 of the
   * chunks' bytes (without the ModelInfo, whose residency and memory fields change), and the
   * ModelInfo with those fields cleared.
   */
  record Fingerprint(String factorsSha256, ModelInfo info) {
    @Override
    public String toString() {
      return factorsSha256.substring(0, 16) + " " + info.getModelId() + " "
          + info.getSolver() + " " + info.getNumUsers() + "×" + info.getNumItems() + " k="
          + info.getNumFactors();
    }
  }

  Fingerprint fingerprint(String name) {
    MessageDigest md;
    try {
      md = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    ModelInfo info = null;
    Iterator<GetFactorsResponse> it = stub().getFactors(GetFactorsRequest.newBuilder()
        .setModelId(name).build());
    while (it.hasNext()) {
      GetFactorsResponse r = it.next();
      if (r.hasModel()) {
        info = stable(r.getModel());
      }
      md.update(r.toBuilder().clearModel().build().toByteArray());
    }
    if (info == null) {
      throw new AssertionError("GetFactors(" + name + ") sent no ModelInfo");
    }
    return new Fingerprint(HexFormat.of().formatHex(md.digest()), info);
  }

  /** A ModelInfo without what legitimately changes between replicas and restarts. */
  static ModelInfo stable(ModelInfo m) {
    return m.toBuilder().clearResident().clearMemoryBytes().clearAliases().build();
  }

  /**
   * A small random fit: dense or sparse (int64 ids or string keys), als, sgd or nmf, a few
   * iterations; values in [0, 5] so every solver accepts them.
   */
  static FitRequest randomFit(Random rnd, String modelId) {
    FitRequest.Builder b = FitRequest.newBuilder().setModelId(modelId)
        .setSolver(new String[] {"als", "sgd", "nmf"}[rnd.nextInt(3)])
        .setNumFactors(2 + rnd.nextInt(3))
        .setMaxIterations(2 + rnd.nextInt(4))
        .setSeed(rnd.nextLong());
    Matrix.Builder m = Matrix.newBuilder();
    int kind = rnd.nextInt(3);
    if (kind == 0) {
      int rows = 4 + rnd.nextInt(20);
      int cols = 4 + rnd.nextInt(20);
      DenseMatrix.Builder d = DenseMatrix.newBuilder().setRows(rows).setCols(cols);
      for (int i = 0; i < rows * cols; i++) {
        d.addValues(rnd.nextInt(6));
      }
      m.setDense(d);
    } else {
      int users = 5 + rnd.nextInt(25);
      int items = 5 + rnd.nextInt(25);
      long userBase = rnd.nextLong() >>> 8;
      long itemBase = rnd.nextLong() >>> 8;
      SparseMatrix.Builder s = SparseMatrix.newBuilder();
      Set<Long> seen = new HashSet<>();
      // Every user and every item has an entry (so the matrix is users × items, wider than
      // num_factors), then random ones.
      int entries = users + items + users * items / 4;
      for (int n = 0; n < entries; n++) {
        int u = n < users ? n : rnd.nextInt(users);
        int i = n >= users && n < users + items ? n - users : rnd.nextInt(items);
        if (!seen.add((long) u * items + i)) {
          continue;
        }
        if (kind == 1) {
          s.addRowIds(userBase + u * 7L).addColIds(itemBase + i * 13L);
        } else {
          s.addRowKeys("user-" + u).addColKeys("item/" + i);
        }
        s.addValues(1 + rnd.nextInt(5));
      }
      m.setSparse(s);
    }
    return b.setMatrix(m).build();
  }

  @Override
  public void close() {
    channel.shutdownNow();
    try {
      channel.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
