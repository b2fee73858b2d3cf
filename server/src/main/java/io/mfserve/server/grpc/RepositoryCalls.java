package io.mfserve.server.grpc;

import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.mfserve.proto.v1.Alias;
import io.mfserve.proto.v1.DeleteAliasRequest;
import io.mfserve.proto.v1.DeleteAliasResponse;
import io.mfserve.proto.v1.ExportModelRequest;
import io.mfserve.proto.v1.ExportModelResponse;
import io.mfserve.proto.v1.GetAliasRequest;
import io.mfserve.proto.v1.GetAliasResponse;
import io.mfserve.proto.v1.GetFactorsResponse;
import io.mfserve.proto.v1.ImportFactorsHeader;
import io.mfserve.proto.v1.ImportFactorsRequest;
import io.mfserve.proto.v1.ImportFactorsResponse;
import io.mfserve.proto.v1.ImportModelRequest;
import io.mfserve.proto.v1.ImportModelResponse;
import io.mfserve.proto.v1.ListAliasesResponse;
import io.mfserve.proto.v1.SetAliasRequest;
import io.mfserve.proto.v1.SetAliasResponse;
import io.mfserve.proto.v1.SparseMatrix;
import io.mfserve.server.model.errors.InvalidRequestException;
import io.mfserve.server.model.errors.ResourceExhaustedException;
import io.mfserve.server.model.query.ModelService;
import io.mfserve.server.model.store.FactorImport;
import io.mfserve.server.model.store.MemoryBudget;
import io.mfserve.server.model.store.ModelStore;
import io.mfserve.server.model.store.ServedModel;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The repository's RPCs: aliases, ExportModel, ImportModel and ImportFactors. Like the main
 * service, it only maps messages and calls the application layer; snapshot bytes pass through
 * temporary files so that neither direction holds a model twice in memory.
 */
final class RepositoryCalls {
  private final ModelService models;
  private final CallExecutors calls;

  RepositoryCalls(ModelService models, CallExecutors calls) {
    this.models = models;
    this.calls = calls;
  }

  private ModelStore store() {
    return models.store();
  }

  void setAlias(SetAliasRequest r, StreamObserver<SetAliasResponse> out) {
    Calls.unary(out, () -> {
      String previous = store().setAlias(r.getAlias(), r.getModelId(),
          r.hasExpectedModelId() ? r.getExpectedModelId() : null);
      return SetAliasResponse.newBuilder().setAlias(Alias.newBuilder().setAlias(r.getAlias())
          .setModelId(r.getModelId())).setPreviousModelId(previous).build();
    });
  }

  void getAlias(GetAliasRequest r, StreamObserver<GetAliasResponse> out) {
    Calls.unary(out, () -> GetAliasResponse.newBuilder().setAlias(Alias.newBuilder()
        .setAlias(r.getAlias()).setModelId(store().getAlias(r.getAlias()))).build());
  }

  void listAliases(StreamObserver<ListAliasesResponse> out) {
    Calls.unary(out, () -> {
      ListAliasesResponse.Builder b = ListAliasesResponse.newBuilder();
      for (Map.Entry<String, String> e : store().aliases().entrySet()) {
        b.addAliases(Alias.newBuilder().setAlias(e.getKey()).setModelId(e.getValue()));
      }
      return b.build();
    });
  }

  void deleteAlias(DeleteAliasRequest r, StreamObserver<DeleteAliasResponse> out) {
    Calls.unary(out, () -> DeleteAliasResponse.newBuilder().setPreviousModelId(
        store().deleteAlias(r.getAlias(), r.hasExpectedModelId() ? r.getExpectedModelId()
            : null)).build());
  }

  void exportModel(ExportModelRequest r, StreamObserver<ExportModelResponse> out) {
    SnapshotFileStreamer streamer =
        new SnapshotFileStreamer((ServerCallStreamObserver<ExportModelResponse>) out);
    streamer.start();
    try {
      calls.run(Long.MAX_VALUE, () -> {
        Path tmp = null;
        try {
          ServedModel m = models.getModel(r.getModelId());
          tmp = Files.createTempFile("mfserve-export-", ".mfsnap");
          try (OutputStream o = new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 16)) {
            models.exportSnapshot(m, o);
          }
          streamer.ready(tmp);
          tmp = null;
        } catch (IOException | RuntimeException | OutOfMemoryError e) {
          streamer.fail(e);
        } finally {
          deleteQuietly(tmp);
        }
      });
    } catch (RuntimeException e) {
      streamer.fail(e);
    }
  }

  StreamObserver<ImportModelRequest> importModel(StreamObserver<ImportModelResponse> out) {
    return new StreamObserver<>() {
      private Path tmp;
      private OutputStream file;
      private String modelId = "";
      private long bytes;
      private boolean failed;

      @Override
      public void onNext(ImportModelRequest chunk) {
        if (failed) {
          return;
        }
        try {
          if (file == null) {
            modelId = chunk.getModelId();
            tmp = Files.createTempFile("mfserve-import-", ".mfsnap");
            file = new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 16);
          }
          bytes += chunk.getData().size();
          long limit = store().budgetLimit();
          if (bytes > limit) {
            throw new ResourceExhaustedException("the snapshot is larger than the server's"
                + " memory budget of " + MemoryBudget.human(limit) + " (--memory-budget)");
          }
          chunk.getData().writeTo(file);
        } catch (IOException | RuntimeException e) {
          fail(e);
        }
      }

      private void fail(Throwable e) {
        failed = true;
        closeQuietly();
        Calls.error(out, e);
      }

      private void closeQuietly() {
        try {
          if (file != null) {
            file.close();
          }
        } catch (IOException ignored) {
          // the file is deleted next
        }
        deleteQuietly(tmp);
      }

      @Override
      public void onError(Throwable t) {
        closeQuietly();
      }

      @Override
      public void onCompleted() {
        if (failed) {
          return;
        }
        if (file == null) {
          fail(new InvalidRequestException("data", "no chunk was sent"));
          return;
        }
        try {
          file.close();
        } catch (IOException e) {
          fail(e);
          return;
        }
        calls.run(Long.MAX_VALUE, () -> {
          try (InputStream in = Files.newInputStream(tmp)) {
            ServedModel m = models.importSnapshot(new java.io.BufferedInputStream(in, 1 << 16),
                modelId);
            Calls.reply(out, ImportModelResponse.newBuilder()
                .setModel(ProtoMapper.toProto(m, store().aliasesOf(m.id()))).build());
          } catch (IOException | RuntimeException e) {
            Calls.error(out, e);
          } finally {
            deleteQuietly(tmp);
          }
        });
      }
    };
  }

  StreamObserver<ImportFactorsRequest> importFactors(StreamObserver<ImportFactorsResponse> out) {
    return new StreamObserver<>() {
      private ImportFactorsHeader header;
      private FactorImport imp;
      private boolean failed;

      @Override
      public synchronized void onNext(ImportFactorsRequest msg) {
        if (failed) {
          return;
        }
        try {
          if (imp == null) {
            if (!msg.hasHeader()) {
              throw new InvalidRequestException("header", "is not set; the first message"
                  + " carries the header");
            }
            header = msg.getHeader();
            imp = models.startImport(header.getNumFactors(), header.getHasBiases());
          } else if (msg.hasHeader()) {
            throw new InvalidRequestException("header", "is sent twice; only the first message"
                + " carries it");
          }
          if (msg.hasRows()) {
            addRows(msg.getRows());
          }
          if (msg.hasSeen()) {
            SparseMatrix s = msg.getSeen();
            imp.addSeen(s.getRowIdsCount() > 0 ? longs(s.getRowIdsList()) : null,
                s.getRowIdsCount() > 0 ? null : s.getRowKeysList().toArray(new String[0]),
                s.getColIdsCount() > 0 ? longs(s.getColIdsList()) : null,
                s.getColIdsCount() > 0 ? null : s.getColKeysList().toArray(new String[0]));
          }
        } catch (RuntimeException | OutOfMemoryError e) {
          fail(e);
        }
      }

      private void addRows(GetFactorsResponse rows) {
        if (rows.getUserFactors().getRows() > 0 || rows.getUserIdsCount() > 0
            || rows.getUserKeysCount() > 0) {
          imp.addUsers(rows.getUserIdsCount() > 0 ? longs(rows.getUserIdsList()) : null,
              rows.getUserIdsCount() > 0 ? null : rows.getUserKeysList().toArray(new String[0]),
              floats(rows.getUserFactors().getValuesList()), floats(rows.getUserBiasesList()));
        }
        if (rows.getItemFactors().getRows() > 0 || rows.getItemIdsCount() > 0
            || rows.getItemKeysCount() > 0) {
          imp.addItems(rows.getItemIdsCount() > 0 ? longs(rows.getItemIdsList()) : null,
              rows.getItemIdsCount() > 0 ? null : rows.getItemKeysList().toArray(new String[0]),
              floats(rows.getItemFactors().getValuesList()), floats(rows.getItemBiasesList()));
        }
      }

      private void fail(Throwable e) {
        failed = true;
        if (imp != null) {
          imp.close();
        }
        Calls.error(out, e);
      }

      @Override
      public synchronized void onError(Throwable t) {
        if (imp != null) {
          imp.close();
        }
      }

      @Override
      public synchronized void onCompleted() {
        if (failed) {
          return;
        }
        if (imp == null) {
          fail(new InvalidRequestException("header", "no message was sent"));
          return;
        }
        FactorImport done = imp;
        ImportFactorsHeader h = header;
        calls.run(Long.MAX_VALUE, () -> {
          try {
            ServedModel m = models.finishImport(done, h.getModelId(), h.getGlobalMean(),
                ProtoMapper.toDomainAbsent(h.getAbsentEntries(), h.getAbsentEntriesValue()),
                h.getFoldInSolver(), h.hasRegularization() ? h.getRegularization() : null,
                h.getParamsMap());
            Calls.reply(out, ImportFactorsResponse.newBuilder()
                .setModel(ProtoMapper.toProto(m, store().aliasesOf(m.id()))).build());
          } catch (RuntimeException | OutOfMemoryError e) {
            done.close();
            Calls.error(out, e);
          }
        });
      }
    };
  }

  private static long[] longs(List<Long> list) {
    long[] a = new long[list.size()];
    for (int i = 0; i < a.length; i++) {
      a[i] = list.get(i);
    }
    return a;
  }

  private static float[] floats(List<Float> list) {
    float[] a = new float[list.size()];
    for (int i = 0; i < a.length; i++) {
      a[i] = list.get(i);
    }
    return a;
  }

  private static void deleteQuietly(Path p) {
    if (p != null) {
      try {
        Files.deleteIfExists(p);
      } catch (IOException ignored) {
        // a temporary file
      }
    }
  }
}
