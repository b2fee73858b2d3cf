package io.mfserve.server.grpc;

import io.grpc.Context;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import io.mfserve.proto.v1.DamagedModel;
import io.mfserve.proto.v1.DeleteAliasRequest;
import io.mfserve.proto.v1.DeleteAliasResponse;
import io.mfserve.proto.v1.DeleteMatrixRequest;
import io.mfserve.proto.v1.DeleteMatrixResponse;
import io.mfserve.proto.v1.DeleteModelRequest;
import io.mfserve.proto.v1.DeleteModelResponse;
import io.mfserve.proto.v1.ExplainRequest;
import io.mfserve.proto.v1.ExplainResponse;
import io.mfserve.proto.v1.ExportModelRequest;
import io.mfserve.proto.v1.ExportModelResponse;
import io.mfserve.proto.v1.FitRequest;
import io.mfserve.proto.v1.FitResponse;
import io.mfserve.proto.v1.FitWithProgressRequest;
import io.mfserve.proto.v1.FitWithProgressResponse;
import io.mfserve.proto.v1.FoldInRequest;
import io.mfserve.proto.v1.FoldInResponse;
import io.mfserve.proto.v1.GetAliasRequest;
import io.mfserve.proto.v1.GetAliasResponse;
import io.mfserve.proto.v1.GetFactorsRequest;
import io.mfserve.proto.v1.GetFactorsResponse;
import io.mfserve.proto.v1.GetModelRequest;
import io.mfserve.proto.v1.GetModelResponse;
import io.mfserve.proto.v1.GetServerInfoRequest;
import io.mfserve.proto.v1.GetServerInfoResponse;
import io.mfserve.proto.v1.GetTopicsRequest;
import io.mfserve.proto.v1.GetTopicsResponse;
import io.mfserve.proto.v1.ImportFactorsRequest;
import io.mfserve.proto.v1.ImportFactorsResponse;
import io.mfserve.proto.v1.ImportModelRequest;
import io.mfserve.proto.v1.ImportModelResponse;
import io.mfserve.proto.v1.ListAliasesRequest;
import io.mfserve.proto.v1.ListAliasesResponse;
import io.mfserve.proto.v1.ListModelsRequest;
import io.mfserve.proto.v1.ListModelsResponse;
import io.mfserve.proto.v1.ListSolversRequest;
import io.mfserve.proto.v1.ListSolversResponse;
import io.mfserve.proto.v1.MatrixFactorizationGrpc;
import io.mfserve.proto.v1.ModelInfo;
import io.mfserve.proto.v1.PredictRequest;
import io.mfserve.proto.v1.PredictResponse;
import io.mfserve.proto.v1.PredictRowRequest;
import io.mfserve.proto.v1.PredictRowResponse;
import io.mfserve.proto.v1.RecommendBatchRequest;
import io.mfserve.proto.v1.RecommendBatchResponse;
import io.mfserve.proto.v1.RecommendRequest;
import io.mfserve.proto.v1.RecommendResponse;
import io.mfserve.proto.v1.SetAliasRequest;
import io.mfserve.proto.v1.SetAliasResponse;
import io.mfserve.proto.v1.SimilarItemsRequest;
import io.mfserve.proto.v1.SimilarItemsResponse;
import io.mfserve.proto.v1.SimilarUsersRequest;
import io.mfserve.proto.v1.SimilarUsersResponse;
import io.mfserve.proto.v1.Topic;
import io.mfserve.proto.v1.UploadMatrixRequest;
import io.mfserve.proto.v1.UploadMatrixResponse;
import io.mfserve.server.model.ann.AnnIndexes;
import io.mfserve.server.model.ann.AnnTarget;
import io.mfserve.server.model.errors.InvalidRequestException;
import io.mfserve.server.model.fit.FitListener;
import io.mfserve.server.model.fit.FitOrchestrator;
import io.mfserve.server.model.ids.IdRefs;
import io.mfserve.server.model.matrix.MatrixAccumulator;
import io.mfserve.server.model.matrix.MatrixUploads;
import io.mfserve.server.model.matrix.PreparedMatrix;
import io.mfserve.server.model.query.ModelQueries;
import io.mfserve.server.model.query.ModelService;
import io.mfserve.server.model.query.Ranked;
import io.mfserve.server.model.query.RecommendQuery;
import io.mfserve.server.model.query.Topics;
import io.mfserve.server.model.query.UserHistory;
import io.mfserve.server.model.store.ServedModel;
import io.mfserve.server.model.store.StoredModel;
import io.mfserve.server.model.tune.TuneTrial;
import io.mfserve.solver.IterationProgress;
import io.mfserve.solver.SolverProvider;
import jakarta.inject.Inject;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.ToLongFunction;

/**
 * The {@code mfserve.v1.MatrixFactorization} service: checks the request's shape, maps it with
 * {@link ProtoMapper}, calls {@link ModelService}, and maps the result back. Every failure
 * leaves through {@code onError} with the status {@link StatusMapper} chose; nothing is thrown
 * to gRPC, which would reach the client as UNKNOWN.
 *
 * <p>Queries whose cost depends on the model (predict, recommend, similar, rows, fold-in,
 * topics) estimate their multiply-adds from it and let {@link CallExecutors#run} decide whether
 * they run on the transport thread or on the handler pool.
 */
public final class MatrixFactorizationService
    extends MatrixFactorizationGrpc.MatrixFactorizationImplBase {
  private final FitOrchestrator fits;
  private final MatrixUploads uploads;
  private final ModelService models;
  private final ModelQueries queries;
  private final CallExecutors calls;
  private final RepositoryCalls repository;
  private final ServerInfo info;

  /** Wires the service. */
  @Inject
  public MatrixFactorizationService(FitOrchestrator fits, MatrixUploads uploads,
      ModelService models, ModelQueries queries, CallExecutors calls, ServerInfo info) {
    this.fits = fits;
    this.uploads = uploads;
    this.info = info;
    this.models = models;
    this.queries = queries;
    this.calls = calls;
    this.repository = new RepositoryCalls(models, calls);
  }

  /** Fit for callers holding the generated types; the server binds {@link #fitMessage}. */
  @Override
  public void fit(FitRequest request, StreamObserver<FitResponse> responses) {
    fitMessage(FitMessage.of(request, ""), responses);
  }

  /** Fit, from its request as {@link FitMessageMarshaller} reads it. */
  void fitMessage(FitMessage request, StreamObserver<FitResponse> responses) {
    try {
      startFit(request, null).whenComplete((model, failure) -> {
        if (failure != null) {
          Calls.error(responses, failure);
        } else {
          Calls.reply(responses, FitResponse.newBuilder()
              .setModel(ProtoMapper.toProto(model, models.aliasesOf(model.id()))).build());
        }
      });
    } catch (RuntimeException | OutOfMemoryError e) {
      Calls.error(responses, e);
    }
  }

  /**
   * FitWithProgress for callers holding the generated types; the server binds {@link
   * #fitWithProgressMessage}.
   */
  @Override
  public void fitWithProgress(FitWithProgressRequest request,
      StreamObserver<FitWithProgressResponse> responses) {
    fitWithProgressMessage(FitMessage.of(request.getFit(), "fit."), responses);
  }

  /** FitWithProgress, from its request as {@link FitMessageMarshaller} reads it. */
  void fitWithProgressMessage(FitMessage request,
      StreamObserver<FitWithProgressResponse> responses) {
    ServerCallStreamObserver<FitWithProgressResponse> stream =
        (ServerCallStreamObserver<FitWithProgressResponse>) responses;
    try {
      startFit(request, new FitListener() {
        @Override
        public void onIteration(String modelId, int maxIterations, IterationProgress p) {
          // Progress events are small and one per iteration: no need to wait for isReady.
          synchronized (stream) {
            Calls.next(stream, FitWithProgressResponse.newBuilder()
                .setProgress(ProtoMapper.toProgress(modelId, maxIterations, p)).build());
          }
        }

        @Override
        public void onTrial(String modelId, TuneTrial trial) {
          synchronized (stream) {
            Calls.next(stream, FitWithProgressResponse.newBuilder()
                .setTrial(ProtoMapper.toProto(trial)).build());
          }
        }
      }).whenComplete((model, failure) -> {
        synchronized (stream) {
          if (failure != null) {
            Calls.error(stream, failure);
          } else {
            Calls.reply(stream, FitWithProgressResponse.newBuilder()
                .setModel(ProtoMapper.toProto(model, models.aliasesOf(model.id()))).build());
          }
        }
      });
    } catch (RuntimeException | OutOfMemoryError e) {
      Calls.error(responses, e);
    }
  }

  /**
   * Collects the request's inline matrix, if any, and starts the fit, which owns that matrix
   * from then on and releases it, also when the request is refused ({@link
   * ProtoMapper#toFitCommandOrRelease}, {@link FitOrchestrator#fit}). Runs on the call's thread,
   * so the fit sees this call's cancellation.
   *
   * @param listener gets each iteration's progress; null for none
   */
  private CompletableFuture<ServedModel> startFit(FitMessage request, FitListener listener) {
    Context call = Context.current();
    PreparedMatrix inline = prepareInline(request);
    return fits.fit(ProtoMapper.toFitCommandOrRelease(request.request(), inline),
        call::isCancelled, listener);
  }

  /**
   * Collects a request's inline matrix; null when it names an uploaded one or none (a solver
   * may read its own data; the application layer decides).
   */
  private PreparedMatrix prepareInline(FitMessage request) {
    if (request.matrix() == null && !request.request().hasMatrix()) {
      return null;
    }
    try (MatrixAccumulator acc = uploads.newMatrix("matrix")) {
      if (request.matrix() != null) {
        acc.appendSparse(request.matrix());
      } else {
        ProtoMapper.append(acc, request.request().getMatrix(), "matrix");
      }
      return acc.finish();
    }
  }

  /**
   * The binding the server adds: the generated {@link #bindService}, with the requests that
   * bring matrices read by marshallers that decode id-keyed sparse matrices straight into
   * arrays: UploadMatrix's by {@link UploadChunkMarshaller}, handled by {@link #uploadChunks},
   * Fit's and FitWithProgress's by {@link FitMessageMarshaller}, handled by {@link #fitMessage}
   * and {@link #fitWithProgressMessage}.
   */
  public ServerServiceDefinition definition() {
    return DecodedMethods.replace(bindService(), List.of(
        ServerMethodDefinition.create(UploadChunkMarshaller.method(),
            ServerCalls.asyncClientStreamingCall(this::uploadChunks)),
        ServerMethodDefinition.create(FitMessageMarshaller.fitMethod(),
            ServerCalls.asyncUnaryCall(this::fitMessage)),
        ServerMethodDefinition.create(FitMessageMarshaller.fitWithProgressMethod(),
            ServerCalls.asyncServerStreamingCall(this::fitWithProgressMessage))));
  }

  /** UploadMatrix for callers holding the generated types; the server binds uploadChunks. */
  @Override
  public StreamObserver<UploadMatrixRequest> uploadMatrix(
      StreamObserver<UploadMatrixResponse> responses) {
    StreamObserver<UploadChunk> chunks = uploadChunks(responses);
    return new StreamObserver<>() {
      @Override
      public void onNext(UploadMatrixRequest chunk) {
        chunks.onNext(UploadChunk.of(chunk));
      }

      @Override
      public void onError(Throwable t) {
        chunks.onError(t);
      }

      @Override
      public void onCompleted() {
        chunks.onCompleted();
      }
    };
  }

  /** UploadMatrix: collects the chunks into one matrix, stored under the id it answers. */
  StreamObserver<UploadChunk> uploadChunks(StreamObserver<UploadMatrixResponse> responses) {
    return new StreamObserver<>() {
      private MatrixAccumulator acc;
      private boolean failed;

      @Override
      public void onNext(UploadChunk chunk) {
        if (failed) {
          return;
        }
        try {
          if (acc == null) {
            acc = uploads.newMatrix("chunk");
          }
          if (chunk.sparse() != null) {
            acc.appendSparse(chunk.sparse());
          } else {
            ProtoMapper.append(acc, chunk.request().getChunk(), "chunk");
          }
        } catch (RuntimeException | OutOfMemoryError e) {
          failed = true;
          if (acc != null) {
            acc.close();
          }
          Calls.error(responses, e);
        }
      }

      @Override
      public void onError(Throwable t) {
        // The client gave up: give the partial matrix's memory back.
        if (acc != null) {
          acc.close();
        }
      }

      @Override
      public void onCompleted() {
        if (failed) {
          return;
        }
        try {
          if (acc == null) {
            throw new InvalidRequestException("chunk", "no chunk was sent; send at least one");
          }
          long chunks = acc.chunks();
          PreparedMatrix m = acc.finish();
          String id = uploads.store(m);
          Calls.reply(responses, UploadMatrixResponse.newBuilder()
              .setMatrixId(id)
              .setRows(m.rows())
              .setCols(m.cols())
              .setEntries(m.entries())
              .setChunks(chunks)
              .setMemoryBytes(m.memoryBytes())
              .setTtlSeconds(uploads.ttl().toSeconds())
              .build());
        } catch (RuntimeException | OutOfMemoryError e) {
          if (acc != null) {
            acc.close();
          }
          Calls.error(responses, e);
        }
      }
    };
  }

  @Override
  public void deleteMatrix(DeleteMatrixRequest request,
      StreamObserver<DeleteMatrixResponse> responses) {
    Calls.unary(responses, () -> DeleteMatrixResponse.newBuilder()
        .setFreedBytes(uploads.delete(request.getMatrixId())).build());
  }

  @Override
  public void getFactors(GetFactorsRequest request,
      StreamObserver<GetFactorsResponse> responses) {
    ServerCallStreamObserver<GetFactorsResponse> call =
        (ServerCallStreamObserver<GetFactorsResponse>) responses;
    try {
      if (models.store().peek(request.getModelId()) != null) {
        new FactorStreamer(models.getModel(request.getModelId()), call).start();
        return;
      }
      // Not resident: the streamer's handlers must be installed in the call itself, and the
      // load must not block a transport thread, so it starts empty and the pool fills it.
      FactorStreamer streamer = new FactorStreamer(call);
      streamer.start();
      calls.run(Long.MAX_VALUE, () -> {
        try {
          streamer.ready(models.getModel(request.getModelId()));
        } catch (RuntimeException | OutOfMemoryError e) {
          streamer.abort(e);
        }
      });
    } catch (RuntimeException | OutOfMemoryError e) {
      Calls.error(responses, e);
    }
  }

  @Override
  public void predict(PredictRequest request, StreamObserver<PredictResponse> responses) {
    long pairs = Math.max(request.getUserIdsCount() + request.getUserKeysCount(),
        request.getItemIdsCount() + request.getItemKeysCount());
    query(responses, request.getModelId(), m -> pairs * factors(m), id -> {
      IdRefs users = ProtoMapper.refs(request.getUserIdsList(), request.getUserKeysList(),
          "user_ids", "user_keys");
      IdRefs items = ProtoMapper.refs(request.getItemIdsList(), request.getItemKeysList(),
          "item_ids", "item_keys");
      float[] scores = models.predict(id, users, items,
          ProtoMapper.toDomain(request.getUnknownIds(), request.getUnknownIdsValue()));
      PredictResponse.Builder b = PredictResponse.newBuilder();
      for (float s : scores) {
        b.addScores(s);
      }
      return b.build();
    });
  }

  @Override
  public void recommend(RecommendRequest request, StreamObserver<RecommendResponse> responses) {
    int entries = request.getUserHistory().getItemIdsCount()
        + request.getUserHistory().getItemKeysCount();
    query(responses, request.getModelId(), m -> topK(m, AnnTarget.RECOMMEND, request.getExact())
        + foldInWork(m, entries), id -> {
      UserHistory history = request.getUserCase() == RecommendRequest.UserCase.USER_HISTORY
          ? ProtoMapper.toDomain(request.getUserHistory(), "user_history") : null;
      IdRefs user = ProtoMapper.user(request.hasUserId(), request.getUserId(),
          request.hasUserKey(), request.getUserKey());
      Ranked r = queries.recommend(new RecommendQuery(id, user, history,
          request.getK(), request.getOffset(),
          request.hasExcludeSeen() ? request.getExcludeSeen() : null,
          ProtoMapper.refs(request.getAllowedItemIdsList(), request.getAllowedItemKeysList(),
              "allowed_item_ids", "allowed_item_keys"),
          ProtoMapper.refs(request.getDeniedItemIdsList(), request.getDeniedItemKeysList(),
              "denied_item_ids", "denied_item_keys"), request.getExact(),
          ProtoMapper.toDomain(request.getUnknownUser(), request.getUnknownUserValue())));
      return RecommendResponse.newBuilder().addAllItems(ProtoMapper.scoredItems(r))
          .setFallback(r.fallback()).build();
    });
  }

  @Override
  public void recommendBatch(RecommendBatchRequest request,
      StreamObserver<RecommendBatchResponse> responses) {
    ServerCallStreamObserver<RecommendBatchResponse> call =
        (ServerCallStreamObserver<RecommendBatchResponse>) responses;
    try {
      if (models.store().peek(request.getModelId()) != null) {
        new RecommendBatchStreamer(prepareBatch(request), request, call).start();
        return;
      }
      RecommendBatchStreamer streamer = new RecommendBatchStreamer(request, call);
      streamer.start();
      calls.run(Long.MAX_VALUE, () -> {
        try {
          streamer.ready(prepareBatch(request));
        } catch (RuntimeException | OutOfMemoryError e) {
          streamer.abort(e);
        }
      });
    } catch (RuntimeException | OutOfMemoryError e) {
      Calls.error(responses, e);
    }
  }

  private ModelQueries.Batch prepareBatch(RecommendBatchRequest request) {
    return queries.prepareBatch(request.getModelId(),
        ProtoMapper.refs(request.getUserIdsList(), request.getUserKeysList(), "user_ids",
            "user_keys"),
        request.getK(), request.hasExcludeSeen() ? request.getExcludeSeen() : null,
        ProtoMapper.refs(request.getAllowedItemIdsList(), request.getAllowedItemKeysList(),
            "allowed_item_ids", "allowed_item_keys"),
        ProtoMapper.refs(request.getDeniedItemIdsList(), request.getDeniedItemKeysList(),
            "denied_item_ids", "denied_item_keys"), request.getExact(),
        ProtoMapper.toDomain(request.getUnknownUser(), request.getUnknownUserValue()));
  }

  @Override
  public void similarItems(SimilarItemsRequest request,
      StreamObserver<SimilarItemsResponse> responses) {
    query(responses, request.getModelId(), m -> topK(m, AnnTarget.SIMILAR_ITEMS,
        request.getExact() || request.getSimilarity() == io.mfserve.proto.v1.Similarity
            .SIMILARITY_DOT), id -> {
      Ranked r = queries.similarItems(id,
          ProtoMapper.item(request.hasItemId(), request.getItemId(), request.hasItemKey(),
              request.getItemKey()),
          request.getK(),
          ProtoMapper.toDomain(request.getSimilarity(), request.getSimilarityValue()),
          request.getExact());
      return SimilarItemsResponse.newBuilder().addAllItems(ProtoMapper.scoredItems(r)).build();
    });
  }

  @Override
  public void similarUsers(SimilarUsersRequest request,
      StreamObserver<SimilarUsersResponse> responses) {
    query(responses, request.getModelId(), m -> topK(m, AnnTarget.SIMILAR_USERS,
        request.getExact() || request.getSimilarity() == io.mfserve.proto.v1.Similarity
            .SIMILARITY_DOT), id -> {
      Ranked r = queries.similarUsers(id,
          ProtoMapper.user(request.hasUserId(), request.getUserId(), request.hasUserKey(),
              request.getUserKey()),
          request.getK(),
          ProtoMapper.toDomain(request.getSimilarity(), request.getSimilarityValue()),
          request.getExact());
      return SimilarUsersResponse.newBuilder().addAllUsers(ProtoMapper.scoredUsers(r)).build();
    });
  }

  @Override
  public void predictRow(PredictRowRequest request,
      StreamObserver<PredictRowResponse> responses) {
    int entries = request.getUserHistory().getItemIdsCount()
        + request.getUserHistory().getItemKeysCount();
    query(responses, request.getModelId(), m -> scan(m, false) + foldInWork(m, entries), id -> {
      UserHistory history = request.getUserCase() == PredictRowRequest.UserCase.USER_HISTORY
          ? ProtoMapper.toDomain(request.getUserHistory(), "user_history") : null;
      return ProtoMapper.toProto(queries.predictRow(id,
          ProtoMapper.user(request.hasUserId(), request.getUserId(), request.hasUserKey(),
              request.getUserKey()), history));
    });
  }

  @Override
  public void foldIn(FoldInRequest request, StreamObserver<FoldInResponse> responses) {
    int entries = request.getUserHistory().getItemIdsCount()
        + request.getUserHistory().getItemKeysCount();
    query(responses, request.getModelId(), m -> foldInWork(m, entries),
        id -> ProtoMapper.toProto(queries.foldIn(id,
            request.hasUserHistory() ? ProtoMapper.toDomain(request.getUserHistory(),
                "user_history") : null)));
  }

  @Override
  public void explain(ExplainRequest request, StreamObserver<ExplainResponse> responses) {
    query(responses, request.getModelId(), m -> explainWork(m, request),
        id -> ProtoMapper.toProto(queries.explain(id,
            ProtoMapper.user(request.hasUserId(), request.getUserId(), request.hasUserKey(),
                request.getUserKey()),
            ProtoMapper.item(request.hasItemId(), request.getItemId(), request.hasItemKey(),
                request.getItemKey()),
            request.getK())));
  }

  @Override
  public void getTopics(GetTopicsRequest request, StreamObserver<GetTopicsResponse> responses) {
    query(responses, request.getModelId(), m -> scan(m, false), id -> {
      GetTopicsResponse.Builder b = GetTopicsResponse.newBuilder();
      for (Topics.Topic t : Topics.of(models.getModel(id),
          request.getNumTerms(), request.getTopicsList())) {
        b.addTopics(Topic.newBuilder().setIndex(t.index())
            .addAllTerms(ProtoMapper.scoredItems(t.terms())));
      }
      return b.build();
    });
  }


  @Override
  public void getModel(GetModelRequest request, StreamObserver<GetModelResponse> responses) {
    offTransportIfNotResident(responses, request.getModelId(), () -> Calls.unary(responses,
        () -> {
          ServedModel m = models.getModel(request.getModelId());
          return GetModelResponse.newBuilder()
              .setModel(ProtoMapper.toProto(m, models.aliasesOf(m.id()))).build();
        }));
  }

  @Override
  public void listModels(ListModelsRequest request,
      StreamObserver<ListModelsResponse> responses) {
    // Describing models this replica has not loaded reads their snapshots' first sections.
    calls.run(Long.MAX_VALUE, () -> Calls.unary(responses, () -> {
      ListModelsResponse.Builder b = ListModelsResponse.newBuilder();
      java.util.List<ModelInfo> all = new java.util.ArrayList<>();
      for (ServedModel m : models.listModels()) {
        all.add(ProtoMapper.toProto(m, models.aliasesOf(m.id())));
      }
      for (StoredModel m : models.listStoredModels()) {
        all.add(ProtoMapper.toProto(m, models.aliasesOf(m.metadata().modelId())));
      }
      all.sort(java.util.Comparator.comparing(ModelInfo::getModelId));
      b.addAllModels(all);
      for (java.util.Map.Entry<String, String> e : models.damagedModels().entrySet()) {
        b.addDamagedModels(DamagedModel.newBuilder().setModelId(e.getKey())
            .setReason(e.getValue()));
      }
      return b.build();
    }));
  }

  @Override
  public void deleteModel(DeleteModelRequest request,
      StreamObserver<DeleteModelResponse> responses) {
    Calls.unary(responses, () -> DeleteModelResponse.newBuilder()
        .setFreedBytes(models.deleteModel(request.getModelId())).build());
  }

  @Override
  public void listSolvers(ListSolversRequest request,
      StreamObserver<ListSolversResponse> responses) {
    Calls.unary(responses, () -> {
      ListSolversResponse.Builder b = ListSolversResponse.newBuilder();
      for (SolverProvider p : models.listSolvers()) {
        b.addSolvers(ProtoMapper.toProto(p));
      }
      return b.build();
    });
  }

  @Override
  public void setAlias(SetAliasRequest request, StreamObserver<SetAliasResponse> responses) {
    calls.run(Long.MAX_VALUE, () -> repository.setAlias(request, responses));
  }

  @Override
  public void getAlias(GetAliasRequest request, StreamObserver<GetAliasResponse> responses) {
    calls.run(Long.MAX_VALUE, () -> repository.getAlias(request, responses));
  }

  @Override
  public void listAliases(ListAliasesRequest request,
      StreamObserver<ListAliasesResponse> responses) {
    repository.listAliases(responses);
  }

  @Override
  public void deleteAlias(DeleteAliasRequest request,
      StreamObserver<DeleteAliasResponse> responses) {
    calls.run(Long.MAX_VALUE, () -> repository.deleteAlias(request, responses));
  }

  @Override
  public void exportModel(ExportModelRequest request,
      StreamObserver<ExportModelResponse> responses) {
    repository.exportModel(request, responses);
  }

  @Override
  public StreamObserver<ImportModelRequest> importModel(
      StreamObserver<ImportModelResponse> responses) {
    return repository.importModel(responses);
  }

  @Override
  public StreamObserver<ImportFactorsRequest> importFactors(
      StreamObserver<ImportFactorsResponse> responses) {
    return repository.importFactors(responses);
  }

  @Override
  public void getServerInfo(GetServerInfoRequest request,
      StreamObserver<GetServerInfoResponse> responses) {
    Calls.unary(responses, info::describe);
  }

  /**
   * Runs {@code body} here if the model a request names is in memory, else on the handler
   * pool, where a load from the repository may block.
   */
  private void offTransportIfNotResident(StreamObserver<?> responses, String modelId,
      Runnable body) {
    try {
      if (models.store().peek(modelId == null ? "" : modelId) != null) {
        body.run();
      } else {
        calls.run(Long.MAX_VALUE, () -> {
          try {
            body.run();
          } catch (RuntimeException | OutOfMemoryError e) {
            Calls.error(responses, e);
          }
        });
      }
    } catch (RuntimeException | OutOfMemoryError e) {
      Calls.error(responses, e);
    }
  }

  /**
   * Answers a unary query, on this transport thread or on the handler pool as
   * {@link CallExecutors#run} decides from {@code work}'s estimate for the model the request
   * names.
   */
  private <T> void query(StreamObserver<T> responses, String modelId,
      ToLongFunction<ServedModel> work, java.util.function.Function<String, T> handler) {
    // An alias is resolved here, once: every lookup of this request names the same model.
    String id = modelId == null ? "" : models.store().resolve(modelId);
    long estimate;
    ServedModel resident = models.store().peek(id);
    if (resident != null) {
      estimate = work.applyAsLong(resident);
    } else {
      // Not in memory: either no such model (the handler fails at once) or one to load from
      // the repository, which must not block a transport thread.
      estimate = id.isEmpty() ? 0 : Long.MAX_VALUE;
    }
    try {
      calls.run(estimate, () -> Calls.unary(responses, () -> handler.apply(id)));
    } catch (RejectedExecutionException e) {
      Calls.error(responses, Status.UNAVAILABLE.withDescription("the server is shutting down")
          .asRuntimeException());
    }
  }

  private static long factors(ServedModel m) {
    return m.factors().numFactors();
  }

  /**
   * Multiply-adds of a top-k query: a pass over every row, or, through a ready approximate
   * index, about ef × 2M visited rows (a search visits a few times ef nodes, each with up to 2M
   * neighbours on the bottom layer), each costing k scalar multiply-adds and a random read worth
   * about {@link #VISIT_COST} of the scan's SIMD ones. So a search counts as more than the
   * inline limit and runs on the handler pool: at ef 100 it measured 0.3 to 0.5 ms on this
   * project's 2-core machine, where 84 µs of scan is the most an event loop may be held.
   */
  private static long topK(ServedModel m, AnnTarget target, boolean exact) {
    AnnIndexes.Status s = m.ann().status(target);
    if (!exact && m.ann().get(target) != null && s != null) {
      return (long) s.efSearch() * 2 * s.maxConn() * (factors(m) + VISIT_COST);
    }
    return scan(m, target == AnnTarget.SIMILAR_USERS);
  }

  /** A visited graph row's random read, in multiply-adds of a SIMD scan (100 ns / 0.04 ns). */
  private static final long VISIT_COST = 2500;

  /** Multiply-adds of a top-k pass over every item (or every user). */
  private static long scan(ServedModel m, boolean users) {
    return (long) (users ? m.factors().numUsers() : m.factors().numItems()) * factors(m);
  }

  /** An explanation's work: a fold-in's system over the user's entries (one if unknown). */
  private static long explainWork(ServedModel m, ExplainRequest request) {
    int u = request.hasUserId() ? m.users().indexOf(request.getUserId())
        : m.users().indexOf(request.getUserKey());
    return foldInWork(m, u < 0 ? 1 : Math.max(1, m.seen().count(u)));
  }

  /** Multiply-adds of solving for a new user from {@code entries} entries: a k × k system. */
  private static long foldInWork(ServedModel m, int entries) {
    long k = factors(m);
    return entries == 0 ? 0 : entries * k * k + k * k * k;
  }
}
