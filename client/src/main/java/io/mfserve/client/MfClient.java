package io.mfserve.client;

import io.grpc.Channel;
import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.mfserve.proto.v1.Alias;
import io.mfserve.proto.v1.DeleteAliasRequest;
import io.mfserve.proto.v1.DeleteAliasResponse;
import io.mfserve.proto.v1.DeleteMatrixRequest;
import io.mfserve.proto.v1.DeleteMatrixResponse;
import io.mfserve.proto.v1.DeleteModelRequest;
import io.mfserve.proto.v1.DeleteModelResponse;
import io.mfserve.proto.v1.FitProgress;
import io.mfserve.proto.v1.FitRequest;
import io.mfserve.proto.v1.FitWithProgressRequest;
import io.mfserve.proto.v1.FitWithProgressResponse;
import io.mfserve.proto.v1.FoldInRequest;
import io.mfserve.proto.v1.FoldInResponse;
import io.mfserve.proto.v1.GetAliasRequest;
import io.mfserve.proto.v1.GetFactorsRequest;
import io.mfserve.proto.v1.GetModelRequest;
import io.mfserve.proto.v1.GetTopicsRequest;
import io.mfserve.proto.v1.GetTopicsResponse;
import io.mfserve.proto.v1.ImportFactorsHeader;
import io.mfserve.proto.v1.ListAliasesRequest;
import io.mfserve.proto.v1.ListModelsRequest;
import io.mfserve.proto.v1.ListModelsResponse;
import io.mfserve.proto.v1.ListSolversRequest;
import io.mfserve.proto.v1.Matrix;
import io.mfserve.proto.v1.MatrixFactorizationGrpc;
import io.mfserve.proto.v1.MatrixFactorizationGrpc.MatrixFactorizationBlockingStub;
import io.mfserve.proto.v1.ModelInfo;
import io.mfserve.proto.v1.PredictRequest;
import io.mfserve.proto.v1.PredictResponse;
import io.mfserve.proto.v1.PredictRowRequest;
import io.mfserve.proto.v1.PredictRowResponse;
import io.mfserve.proto.v1.RecommendRequest;
import io.mfserve.proto.v1.RecommendResponse;
import io.mfserve.proto.v1.SetAliasRequest;
import io.mfserve.proto.v1.SetAliasResponse;
import io.mfserve.proto.v1.SimilarItemsRequest;
import io.mfserve.proto.v1.SimilarItemsResponse;
import io.mfserve.proto.v1.SimilarUsersRequest;
import io.mfserve.proto.v1.SimilarUsersResponse;
import io.mfserve.proto.v1.SolverInfo;
import io.mfserve.proto.v1.SparseMatrix;
import io.mfserve.proto.v1.UploadMatrixResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * A typed client for the {@code mfserve.v1.MatrixFactorization} service.
 *
 * <p>The client wraps a {@link Channel} that the caller creates and owns (and shuts down): one
 * channel can serve many clients. Every call carries a deadline: {@link #fitDeadline()} (10
 * minutes by default) for the bulk calls ({@link #fit}, {@link #fitWithProgress}, {@link
 * #uploadMatrix}, {@link #getFactors}, {@link #exportModel}, {@link #importModel}, {@link
 * #importFactors}), {@link #callDeadline()} (30 seconds by default) for the rest; change them
 * with {@link #withFitDeadline} and {@link #withCallDeadline}.
 *
 * <p>Models move between servers, and in from other trainers, with {@link #exportModel} and
 * {@link #importModel} (a snapshot in the repository's binary format, streamed in chunks of
 * about 1 MiB) and {@link #importFactors} (plain {@link Factors}, as {@link #getFactors} returns
 * them or built from arrays). Aliases ({@link #setAlias}, {@link #getAlias}, {@link
 * #listAliases}, {@link #deleteAlias}) give models stable names that any call accepts in place
 * of a model id; moving one can be a compare-and-set.
 *
 * <p>Live progress: {@link #fitWithProgress} streams one event per iteration (loss, validation
 * RMSE, ETA) to a {@link FitListener}, upload progress included, and cancels the fit on the
 * server if the listener throws or the thread is interrupted.
 *
 * <p>Large inputs need no special handling: {@link #fit} sends a matrix inline while the request
 * stays under {@value #INLINE_FIT_LIMIT_BYTES} bytes, and otherwise uploads it in chunks of at
 * most about 1 MiB with {@link #uploadMatrix}, fits with the uploaded matrix's id and deletes it
 * afterwards, so any input fits in the default 4 MiB gRPC message limit.
 *
 * <p>Failures are thrown as the unchecked {@link MfServeException}, which carries the status
 * code and the server's field violations.
 *
 * <p>Immutable and thread-safe, like the gRPC stubs it holds.
 */
public final class MfClient {
  /** The default deadline of {@link #fit}, {@link #uploadMatrix} and {@link #getFactors}. */
  public static final Duration DEFAULT_FIT_DEADLINE = Duration.ofMinutes(10);

  /** The default deadline of every other call. */
  public static final Duration DEFAULT_CALL_DEADLINE = Duration.ofSeconds(30);

  /**
   * The largest serialized {@link FitRequest} sent inline; larger ones go through UploadMatrix.
   * 3.5 MiB leaves room under gRPC's default 4 MiB limit for framing and metadata.
   */
  public static final int INLINE_FIT_LIMIT_BYTES = 3_670_016;

  /** The target size of one UploadMatrix chunk, serialized. */
  public static final int UPLOAD_CHUNK_BYTES = 1 << 20;

  private final Channel channel;
  private final Duration fitDeadline;
  private final Duration callDeadline;
  private final int inlineLimitBytes;
  private final int chunkBytes;
  private final ModelTransfer transfer;
  private final MatrixUploader uploader;

  /**
   * A client with the default deadlines.
   *
   * @param channel the channel to the server; the caller owns it and shuts it down
   */
  public MfClient(Channel channel) {
    this(channel, DEFAULT_FIT_DEADLINE, DEFAULT_CALL_DEADLINE);
  }

  /**
   * A client with the given deadlines.
   *
   * @param channel the channel to the server; the caller owns it and shuts it down
   * @param fitDeadline the deadline of fit, uploadMatrix and getFactors
   * @param callDeadline the deadline of every other call
   */
  public MfClient(Channel channel, Duration fitDeadline, Duration callDeadline) {
    this(channel, fitDeadline, callDeadline, INLINE_FIT_LIMIT_BYTES, UPLOAD_CHUNK_BYTES);
  }

  MfClient(Channel channel, Duration fitDeadline, Duration callDeadline, int inlineLimitBytes,
      int chunkBytes) {
    this.channel = Objects.requireNonNull(channel, "channel");
    this.fitDeadline = checkPositive(fitDeadline, "fitDeadline");
    this.callDeadline = checkPositive(callDeadline, "callDeadline");
    if (chunkBytes <= MatrixUploader.CHUNK_OVERHEAD_BYTES || inlineLimitBytes <= 0) {
      throw new IllegalArgumentException("chunk and inline limits must be positive");
    }
    this.inlineLimitBytes = inlineLimitBytes;
    this.chunkBytes = chunkBytes;
    this.transfer = new ModelTransfer(channel, fitDeadline, chunkBytes);
    this.uploader = new MatrixUploader(channel, chunkBytes);
  }

  /**
   * A copy of this client with another deadline for fit, uploadMatrix and getFactors.
   *
   * @param deadline the new deadline, counted from the start of each call
   * @return a new client on the same channel
   */
  public MfClient withFitDeadline(Duration deadline) {
    return new MfClient(channel, deadline, callDeadline, inlineLimitBytes, chunkBytes);
  }

  /**
   * A copy of this client with another deadline for the calls other than fit, uploadMatrix and
   * getFactors.
   *
   * @param deadline the new deadline, counted from the start of each call
   * @return a new client on the same channel
   */
  public MfClient withCallDeadline(Duration deadline) {
    return new MfClient(channel, fitDeadline, deadline, inlineLimitBytes, chunkBytes);
  }

  /**
   * The deadline of fit, uploadMatrix and getFactors.
   *
   * @return the duration allowed to each of those calls
   */
  public Duration fitDeadline() {
    return fitDeadline;
  }

  /**
   * The deadline of every other call.
   *
   * @return the duration allowed to each of those calls
   */
  public Duration callDeadline() {
    return callDeadline;
  }

  /**
   * Trains a model and returns its description.
   *
   * <p>When the request carries a matrix inline and would serialize to more than {@value
   * #INLINE_FIT_LIMIT_BYTES} bytes, the matrix is uploaded first ({@link #uploadMatrix}), the fit
   * names it by {@code matrix_id}, and the uploaded matrix is deleted afterwards, whether the fit
   * succeeded or not. Upload and fit share one deadline, {@link #fitDeadline()}.
   *
   * @param request the fit request
   * @return the trained model's description
   * @throws MfServeException if the server rejects the request or the call fails
   */
  public ModelInfo fit(FitRequest request) {
    Deadline deadline = deadline(fitDeadline);
    return withInput(request, deadline, null,
        r -> call(() -> stub(deadline).fit(r).getModel()));
  }

  /**
   * Trains a model like {@link #fit}, and reports its progress live: the server streams one
   * {@link FitProgress} per completed iteration (the FitWithProgress RPC), which goes to {@code
   * listener} as it arrives, and then the model.
   *
   * <p>A matrix too large to send inline is uploaded first, exactly as by {@link #fit}, with one
   * {@link FitListener#onUpload} call per chunk, and deleted afterwards. Upload and fit share one
   * deadline, {@link #fitDeadline()}.
   *
   * <p>The listener runs on this thread, in order. If it throws, or this thread is interrupted,
   * the call is cancelled, so the server stops the fit within an iteration and frees its memory;
   * the listener's exception is rethrown as is, an interruption becomes {@code CANCELLED} (the
   * thread stays interrupted). A server without FitWithProgress ({@code UNIMPLEMENTED}) gets a
   * plain Fit instead, and the listener sees no iterations.
   *
   * @param request the fit request
   * @param listener receives upload and iteration progress
   * @return the trained model's description
   * @throws MfServeException if the server rejects the request or the call fails
   */
  public ModelInfo fitWithProgress(FitRequest request, FitListener listener) {
    Objects.requireNonNull(listener, "listener");
    Deadline deadline = deadline(fitDeadline);
    return withInput(request, deadline, listener::onUpload, r -> {
      int[] events = new int[1];
      try {
        return streamFit(r, deadline, listener, events);
      } catch (MfServeException e) {
        if (e.code() != Status.Code.UNIMPLEMENTED || events[0] > 0) {
          throw e;
        }
        // An older server: train all the same, without progress.
        return call(() -> stub(deadline).fit(r).getModel());
      }
    });
  }

  /**
   * Runs {@code fit} with the request as is, or, when its inline matrix is over the inline limit,
   * uploads the matrix, runs {@code fit} with its id and deletes it, whatever the outcome.
   */
  private ModelInfo withInput(FitRequest request, Deadline deadline,
      Consumer<UploadProgress> uploads, Function<FitRequest, ModelInfo> fit) {
    if (request.getInputCase() != FitRequest.InputCase.MATRIX
        || request.getSerializedSize() <= inlineLimitBytes) {
      return fit.apply(request);
    }
    UploadMatrixResponse upload = uploader.upload(request.getMatrix(), deadline, uploads);
    RuntimeException failure = null;
    try {
      return fit.apply(request.toBuilder().setMatrixId(upload.getMatrixId()).build());
    } catch (RuntimeException e) {
      failure = e;
      throw e;
    } finally {
      // An interrupted thread would cancel the clean-up call at once: clear the flag meanwhile.
      boolean interrupted = Thread.interrupted();
      try {
        deleteMatrix(upload.getMatrixId());
      } catch (MfServeException e) {
        // The server frees unused uploads after their TTL: a failed clean-up must not turn a
        // trained model into an error, nor hide the fit's own error.
        if (failure != null) {
          failure.addSuppressed(e);
        }
      } finally {
        if (interrupted) {
          Thread.currentThread().interrupt();
        }
      }
    }
  }

  /**
   * One FitWithProgress call, in a context of its own so that leaving early (the listener threw,
   * the thread was interrupted) cancels it on the server too. Counts the events in {@code
   * events[0]}.
   */
  private ModelInfo streamFit(FitRequest request, Deadline deadline, FitListener listener,
      int[] events) {
    FitWithProgressRequest wrapped = FitWithProgressRequest.newBuilder().setFit(request).build();
    Context.CancellableContext context = Context.current().withCancellation();
    Throwable failure = null;
    Context previous = context.attach();
    try {
      Iterator<FitWithProgressResponse> stream = stub(deadline).fitWithProgress(wrapped);
      ModelInfo model = null;
      while (stream.hasNext()) {
        FitWithProgressResponse event = stream.next();
        events[0]++;
        if (event.hasProgress()) {
          listener.onProgress(event.getProgress());
        } else if (event.hasTrial()) {
          listener.onTrial(event.getTrial());
        } else if (event.hasModel()) {
          model = event.getModel();
        }
        if (Thread.currentThread().isInterrupted()) {
          throw new MfServeException(Status.CANCELLED
              .withDescription("the fitting thread was interrupted"), List.of());
        }
      }
      if (model == null) {
        throw new MfServeException(Status.INTERNAL
            .withDescription("FitWithProgress ended without the model"), List.of());
      }
      return model;
    } catch (StatusRuntimeException e) {
      failure = e;
      throw MfServeException.from(e);
    } catch (RuntimeException | Error e) {
      failure = e;
      throw e;
    } finally {
      context.detach(previous);
      context.cancel(failure);
    }
  }

  /**
   * Uploads a matrix in chunks of at most about 1 MiB each, serialized, for later fits by {@code
   * matrix_id}: a dense matrix as consecutive blocks of rows, a sparse one as consecutive runs of
   * entries. Chunks are sent as fast as the transport accepts them (flow control is respected).
   *
   * <p>A dense row is never split, so a single row wider than about 260,000 columns makes a
   * chunk larger than 1 MiB.
   *
   * @param matrix the matrix; dense or sparse
   * @return the server's summary, with the id to pass as {@code FitRequest.matrix_id}
   * @throws MfServeException if the server rejects the matrix or the call fails
   * @throws IllegalArgumentException if the matrix has neither form set, or a dense matrix's
   *     values do not number rows × cols
   */
  public UploadMatrixResponse uploadMatrix(Matrix matrix) {
    return uploader.upload(matrix, deadline(fitDeadline), null);
  }

  /**
   * Uploads a matrix like {@link #uploadMatrix(Matrix)}, reporting each chunk as it is sent.
   *
   * @param matrix the matrix; dense or sparse
   * @param progress called on this thread after each chunk; throwing cancels the upload and is
   *     rethrown
   * @return the server's summary, with the id to pass as {@code FitRequest.matrix_id}
   * @throws MfServeException if the server rejects the matrix or the call fails
   */
  public UploadMatrixResponse uploadMatrix(Matrix matrix, Consumer<UploadProgress> progress) {
    return uploader.upload(matrix, deadline(fitDeadline),
        Objects.requireNonNull(progress, "progress"));
  }

  /**
   * Frees a matrix uploaded with {@link #uploadMatrix}.
   *
   * @param matrixId the id returned by the upload
   * @return the memory freed
   * @throws MfServeException {@code NOT_FOUND} if there is no such matrix
   */
  public DeleteMatrixResponse deleteMatrix(String matrixId) {
    DeleteMatrixRequest request = DeleteMatrixRequest.newBuilder().setMatrixId(matrixId).build();
    return call(() -> stub(deadline(callDeadline)).deleteMatrix(request));
  }

  /**
   * Downloads a model's factors, reassembled from the GetFactors stream.
   *
   * @param modelId the model
   * @return the factors
   * @throws MfServeException {@code NOT_FOUND} if there is no such model, {@code INTERNAL} if
   *     the stream is inconsistent
   */
  public Factors getFactors(String modelId) {
    GetFactorsRequest request = GetFactorsRequest.newBuilder().setModelId(modelId).build();
    return callStream(
        () -> Factors.assemble(stub(deadline(fitDeadline)).getFactors(request)));
  }

  /**
   * Scores (user, item) pairs. A request too large for one message (more than
   * {@link #INLINE_FIT_LIMIT_BYTES}) is sent as several calls of about
   * {@link #UPLOAD_CHUNK_BYTES} each, whose scores are concatenated in order.
   *
   * @param request the pairs, in the model's id forms
   * @return one score per pair, in request order
   * @throws MfServeException {@code INVALID_ARGUMENT} for an unknown id (by default) or unequal
   *     numbers of users and items
   */
  public PredictResponse predict(PredictRequest request) {
    int size = request.getSerializedSize();
    int pairs = Math.max(request.getUserIdsCount(), request.getUserKeysCount());
    int itemCount = Math.max(request.getItemIdsCount(), request.getItemKeysCount());
    if (size <= INLINE_FIT_LIMIT_BYTES || pairs < 2 || pairs != itemCount) {
      return call(() -> stub(deadline(callDeadline)).predict(request));
    }
    // Too many pairs for one message under the default 4 MiB limit: score them in batches of
    // about UPLOAD_CHUNK_BYTES each and concatenate, so callers never meet the limit.
    int perBatch = (int) Math.max(1, (long) pairs * UPLOAD_CHUNK_BYTES / size);
    PredictResponse.Builder all = PredictResponse.newBuilder();
    for (int from = 0; from < pairs; from += perBatch) {
      int to = Math.min(pairs, from + perBatch);
      PredictRequest.Builder batch = PredictRequest.newBuilder()
          .setModelId(request.getModelId())
          .setUnknownIds(request.getUnknownIds());
      if (request.getUserIdsCount() > 0) {
        batch.addAllUserIds(request.getUserIdsList().subList(from, to));
      } else {
        batch.addAllUserKeys(request.getUserKeysList().subList(from, to));
      }
      if (request.getItemIdsCount() > 0) {
        batch.addAllItemIds(request.getItemIdsList().subList(from,
            Math.min(to, request.getItemIdsCount())));
      } else {
        batch.addAllItemKeys(request.getItemKeysList().subList(from,
            Math.min(to, request.getItemKeysCount())));
      }
      PredictRequest part = batch.build();
      all.addAllScores(call(() -> stub(deadline(callDeadline)).predict(part)).getScoresList());
    }
    return all.build();
  }

  /**
   * Scores (user, item) pairs of a model with int64 ids.
   *
   * @param modelId the model
   * @param users the user of each pair
   * @param items the item of each pair, as many as users
   * @return one score per pair, in order
   * @throws MfServeException {@code INVALID_ARGUMENT} for an unknown id
   * @throws IllegalArgumentException if the arrays differ in length
   */
  public float[] predict(String modelId, long[] users, long[] items) {
    if (users.length != items.length) {
      throw new IllegalArgumentException(
          users.length + " users but " + items.length + " items: give one item per user");
    }
    PredictRequest.Builder b = PredictRequest.newBuilder().setModelId(modelId);
    for (int i = 0; i < users.length; i++) {
      b.addUserIds(users[i]).addItemIds(items[i]);
    }
    return toArray(predict(b.build()));
  }

  /**
   * Scores (user, item) pairs of a model with string keys.
   *
   * @param modelId the model
   * @param users the user of each pair
   * @param items the item of each pair, as many as users
   * @return one score per pair, in order
   * @throws MfServeException {@code INVALID_ARGUMENT} for an unknown key
   * @throws IllegalArgumentException if the arrays differ in length
   */
  public float[] predict(String modelId, String[] users, String[] items) {
    if (users.length != items.length) {
      throw new IllegalArgumentException(
          users.length + " users but " + items.length + " items: give one item per user");
    }
    PredictRequest request = PredictRequest.newBuilder().setModelId(modelId)
        .addAllUserKeys(List.of(users)).addAllItemKeys(List.of(items)).build();
    return toArray(predict(request));
  }

  /**
   * Returns the top items for one user, best first.
   *
   * @param request the model, the user, k and whether to leave out seen items
   * @return the scored items
   * @throws MfServeException {@code NOT_FOUND} for an unknown model, {@code INVALID_ARGUMENT}
   *     for an unknown user
   */
  public RecommendResponse recommend(RecommendRequest request) {
    return call(() -> stub(deadline(callDeadline)).recommend(request));
  }

  /**
   * Returns the top items for one user without blocking: the future completes with the
   * response, or exceptionally with a {@link MfServeException}. Used to keep several
   * Recommend calls in flight (callers bound how many); the call's deadline is {@link
   * #callDeadline()}.
   *
   * @param request as for {@link #recommend(RecommendRequest)}
   * @return the response, when it arrives
   */
  public CompletableFuture<RecommendResponse> recommendAsync(RecommendRequest request) {
    CompletableFuture<RecommendResponse> result = new CompletableFuture<>();
    MatrixFactorizationGrpc.newStub(channel).withDeadline(deadline(callDeadline)).recommend(
        request, new io.grpc.stub.StreamObserver<>() {
          @Override
          public void onNext(RecommendResponse value) {
            result.complete(value);
          }

          @Override
          public void onError(Throwable t) {
            result.completeExceptionally(MfServeException.fromThrowable(t));
          }

          @Override
          public void onCompleted() {
            if (!result.isDone()) {
              result.completeExceptionally(MfServeException.fromThrowable(Status.INTERNAL
                  .withDescription("Recommend completed without a response")
                  .asRuntimeException()));
            }
          }
        });
    return result;
  }

  /**
   * Returns the top items for many users in one streaming call (RecommendBatch), one response
   * per user in request order, read to the end. The whole stream shares one deadline, {@link
   * #callDeadline()}: callers with very many users send them in several batches.
   *
   * @param request the model, the users, k and the filters
   * @return one response per user, in request order
   * @throws MfServeException {@code UNIMPLEMENTED} from a server without RecommendBatch,
   *     {@code NOT_FOUND} for an unknown model, {@code INVALID_ARGUMENT} for an unknown user
   */
  public List<io.mfserve.proto.v1.RecommendBatchResponse> recommendBatch(
      io.mfserve.proto.v1.RecommendBatchRequest request) {
    return callStream(() -> {
      List<io.mfserve.proto.v1.RecommendBatchResponse> out = new ArrayList<>();
      stub(deadline(callDeadline)).recommendBatch(request).forEachRemaining(out::add);
      return out;
    });
  }

  /**
   * Returns the top {@code k} items for a user of a model with int64 user ids, best first.
   *
   * @param modelId the model
   * @param user the user's id
   * @param k how many items; 0 means the server default, 10
   * @param excludeSeen whether to leave out the items the user has in the training data
   * @return the items, best first
   * @throws MfServeException {@code NOT_FOUND} for an unknown model, {@code INVALID_ARGUMENT}
   *     for an unknown user
   */
  public List<Recommendation> recommend(String modelId, long user, int k, boolean excludeSeen) {
    return toList(recommend(RecommendRequest.newBuilder().setModelId(modelId).setUserId(user)
        .setK(k).setExcludeSeen(excludeSeen).build()));
  }

  /**
   * Returns the top {@code k} items for a user of a model with string user keys, best first.
   *
   * @param modelId the model
   * @param user the user's key
   * @param k how many items; 0 means the server default, 10
   * @param excludeSeen whether to leave out the items the user has in the training data
   * @return the items, best first
   * @throws MfServeException {@code NOT_FOUND} for an unknown model, {@code INVALID_ARGUMENT}
   *     for an unknown user
   */
  public List<Recommendation> recommend(String modelId, String user, int k, boolean excludeSeen) {
    return toList(recommend(RecommendRequest.newBuilder().setModelId(modelId).setUserKey(user)
        .setK(k).setExcludeSeen(excludeSeen).build()));
  }

  /**
   * Returns the items most similar to an item (cosine by default, or dot product).
   *
   * @param request the model, the item, k and the similarity
   * @return the items, most similar first, the query item never among them
   * @throws MfServeException {@code INVALID_ARGUMENT} for an unknown item
   */
  public SimilarItemsResponse similarItems(SimilarItemsRequest request) {
    return call(() -> stub(deadline(callDeadline)).similarItems(request));
  }

  /**
   * Returns the users most similar to a user (cosine by default, or dot product).
   *
   * @param request the model, the user, k and the similarity
   * @return the users, most similar first, the query user never among them
   * @throws MfServeException {@code INVALID_ARGUMENT} for an unknown user
   */
  public SimilarUsersResponse similarUsers(SimilarUsersRequest request) {
    return call(() -> stub(deadline(callDeadline)).similarUsers(request));
  }

  /**
   * Explains a known user's score of an item by the user's history: the entries that
   * contributed most, largest first (for ALS each entry's exact share of the score, base plus
   * every share equal to explained_score; for other solvers, factor cosine with the item).
   *
   * @param request the model, the user, the item and how many entries to return
   * @return the score, the method, and the entries that contributed most
   * @throws MfServeException {@code INVALID_ARGUMENT} for an unknown user or item,
   *     {@code FAILED_PRECONDITION} for a model without its entries' values (imported factors,
   *     or one stored before snapshot version 3)
   */
  public io.mfserve.proto.v1.ExplainResponse explain(io.mfserve.proto.v1.ExplainRequest request) {
    return call(() -> stub(deadline(callDeadline)).explain(request));
  }

  /**
   * Returns the predicted score of every item for one user, known or folded in from a history.
   *
   * @param request the model and the user (an id, a key, or a history)
   * @return one score per item with the item ids or keys, in the model's item order
   * @throws MfServeException {@code INVALID_ARGUMENT} for an unknown user or a bad history
   */
  public PredictRowResponse predictRow(PredictRowRequest request) {
    return call(() -> stub(deadline(callDeadline)).predictRow(request));
  }

  /**
   * Solves for a new user's factors from their entries, against the model's fixed item factors
   * with the model's own method; the model is unchanged.
   *
   * @param request the model and the user's (item, value) entries
   * @return the user's factors (and bias, for models with biases)
   * @throws MfServeException {@code INVALID_ARGUMENT} for a bad history, {@code UNIMPLEMENTED}
   *     if the model's solver cannot fold in users
   */
  public FoldInResponse foldIn(FoldInRequest request) {
    return call(() -> stub(deadline(callDeadline)).foldIn(request));
  }

  /**
   * The top items (terms) of each factor (topic) of a model, heaviest first, as gensim's
   * {@code show_topics}: for NMF topic models of a document × term matrix.
   *
   * @param request the model, terms per topic, and which topics (empty for all)
   * @return one topic per factor asked for, in order
   * @throws MfServeException {@code NOT_FOUND} for an unknown model, {@code INVALID_ARGUMENT}
   *     for a negative count or a topic index out of range
   */
  public GetTopicsResponse getTopics(GetTopicsRequest request) {
    return call(() -> stub(deadline(callDeadline)).getTopics(request));
  }

  /**
   * Describes one model.
   *
   * @param modelId the model
   * @return its description
   * @throws MfServeException {@code NOT_FOUND} if there is no such model
   */
  public ModelInfo getModel(String modelId) {
    GetModelRequest request = GetModelRequest.newBuilder().setModelId(modelId).build();
    return call(() -> stub(deadline(callDeadline)).getModel(request).getModel());
  }

  /**
   * Describes every model the server holds.
   *
   * @return the models, by id
   * @throws MfServeException if the call fails
   */
  public List<ModelInfo> listModels() {
    return call(() -> stub(deadline(callDeadline))
        .listModels(ListModelsRequest.getDefaultInstance()).getModelsList());
  }

  /**
   * Removes a model and frees its memory.
   *
   * @param modelId the model
   * @return the memory freed
   * @throws MfServeException {@code NOT_FOUND} if there is no such model
   */
  public DeleteModelResponse deleteModel(String modelId) {
    DeleteModelRequest request = DeleteModelRequest.newBuilder().setModelId(modelId).build();
    return call(() -> stub(deadline(callDeadline)).deleteModel(request));
  }

  /**
   * Lists the solvers the server has loaded, with their parameters.
   *
   * @return the solvers, by name
   * @throws MfServeException if the call fails
   */
  public List<SolverInfo> listSolvers() {
    return call(() -> stub(deadline(callDeadline))
        .listSolvers(ListSolversRequest.getDefaultInstance()).getSolversList());
  }

  /**
   * Describes the server: its version and every limit it holds requests to, with the flag
   * that sets each.
   *
   * @throws MfServeException if the call fails
   */
  public io.mfserve.proto.v1.GetServerInfoResponse getServerInfo() {
    return call(() -> stub(deadline(callDeadline))
        .getServerInfo(io.mfserve.proto.v1.GetServerInfoRequest.getDefaultInstance()));
  }

  /**
   * Describes every model the server holds, with the repository's damaged snapshots.
   *
   * @param request the request (it has no fields)
   * @return the models, by id, and the snapshots that failed their checks and are never served
   * @throws MfServeException if the call fails
   */
  public ListModelsResponse listModels(ListModelsRequest request) {
    return call(() -> stub(deadline(callDeadline)).listModels(request));
  }

  // ---------------------------------------------------------------------------------------
  // Aliases

  /**
   * Points an alias at a model, creating it or moving it unconditionally. Every call accepts
   * the alias in place of a model id from then on, resolved once per request.
   *
   * @param alias the alias, {@code [A-Za-z0-9._-]}, at most 128 characters
   * @param modelId the model (an id, not another alias)
   * @return the alias as stored and where it pointed before (empty if it is new)
   * @throws MfServeException {@code NOT_FOUND} for an unknown model, {@code INVALID_ARGUMENT}
   *     for a malformed alias
   */
  public SetAliasResponse setAlias(String alias, String modelId) {
    return setAlias(alias, modelId, null);
  }

  /**
   * Points an alias at a model only if it points where the caller expects now: a
   * compare-and-set, so two deployers cannot overwrite each other's switch unnoticed.
   *
   * @param alias the alias
   * @param modelId the model to point it at
   * @param expectedModelId the model it must point at now; {@code ""} to create it only if it
   *     does not exist; {@code null} for no condition
   * @return the alias as stored and where it pointed before (empty if it is new)
   * @throws MfServeException {@code FAILED_PRECONDITION} when the alias points elsewhere (or
   *     exists, for {@code ""})
   */
  public SetAliasResponse setAlias(String alias, String modelId, String expectedModelId) {
    SetAliasRequest.Builder b = SetAliasRequest.newBuilder().setAlias(alias).setModelId(modelId);
    if (expectedModelId != null) {
      b.setExpectedModelId(expectedModelId);
    }
    SetAliasRequest request = b.build();
    return call(() -> stub(deadline(callDeadline)).setAlias(request));
  }

  /**
   * Where an alias points.
   *
   * @param alias the alias
   * @return the alias and its model
   * @throws MfServeException {@code NOT_FOUND} for an unknown alias
   */
  public Alias getAlias(String alias) {
    GetAliasRequest request = GetAliasRequest.newBuilder().setAlias(alias).build();
    return call(() -> stub(deadline(callDeadline)).getAlias(request).getAlias());
  }

  /**
   * Every alias, by name.
   *
   * @return the aliases with their models
   * @throws MfServeException if the call fails
   */
  public List<Alias> listAliases() {
    return call(() -> stub(deadline(callDeadline))
        .listAliases(ListAliasesRequest.getDefaultInstance()).getAliasesList());
  }

  /**
   * Removes an alias unconditionally; the model stays.
   *
   * @param alias the alias
   * @return the model it pointed at
   * @throws MfServeException {@code NOT_FOUND} for an unknown alias
   */
  public DeleteAliasResponse deleteAlias(String alias) {
    return deleteAlias(alias, null);
  }

  /**
   * Removes an alias only if it points at {@code expectedModelId} now; the model stays.
   *
   * @param alias the alias
   * @param expectedModelId the model it must point at; {@code null} for no condition
   * @return the model it pointed at
   * @throws MfServeException {@code FAILED_PRECONDITION} when it points elsewhere, {@code
   *     NOT_FOUND} for an unknown alias
   */
  public DeleteAliasResponse deleteAlias(String alias, String expectedModelId) {
    DeleteAliasRequest.Builder b = DeleteAliasRequest.newBuilder().setAlias(alias);
    if (expectedModelId != null) {
      b.setExpectedModelId(expectedModelId);
    }
    DeleteAliasRequest request = b.build();
    return call(() -> stub(deadline(callDeadline)).deleteAlias(request));
  }

  // ---------------------------------------------------------------------------------------
  // Moving models: snapshots and plain factors (streamed by ModelTransfer)

  /**
   * Streams a model's snapshot (the repository's versioned binary format, with a checksum per
   * section) into {@code out}, chunk by chunk as the server sends it; {@link #importModel} on
   * any mfserve server reads it back.
   *
   * @param modelId the model, by id or alias
   * @param out where the snapshot goes; not closed
   * @return the bytes written
   * @throws MfServeException {@code NOT_FOUND} for an unknown model; {@code INTERNAL} if the
   *     stream ends short of the size its first chunk announced
   * @throws IOException if writing fails (the call is then cancelled)
   */
  public long exportModel(String modelId, OutputStream out) throws IOException {
    return transfer.exportModel(modelId, out, null);
  }

  /**
   * Streams a model's snapshot into {@code out} like {@link #exportModel(String, OutputStream)},
   * reporting each chunk.
   *
   * @param modelId the model, by id or alias
   * @param out where the snapshot goes; not closed
   * @param progress called on this thread after each chunk is written; throwing cancels the
   *     call and is rethrown
   * @return the bytes written
   * @throws MfServeException if the call fails
   * @throws IOException if writing fails
   */
  public long exportModel(String modelId, OutputStream out, Consumer<TransferProgress> progress)
      throws IOException {
    return transfer.exportModel(modelId, out, Objects.requireNonNull(progress, "progress"));
  }

  /**
   * Streams a snapshot from {@code in} (read to its end, not closed) to the server in chunks of
   * at most about 1 MiB, which checks it, stores it in its repository and serves it.
   *
   * @param in the snapshot, as {@link #exportModel} wrote it
   * @param modelId the id to serve it under; {@code ""} keeps the snapshot's own id
   * @return the imported model
   * @throws MfServeException {@code INVALID_ARGUMENT} for a damaged or truncated snapshot,
   *     {@code ALREADY_EXISTS} for a taken id, {@code RESOURCE_EXHAUSTED} over the memory budget
   * @throws IOException if reading fails (the call is then cancelled)
   */
  public ModelInfo importModel(InputStream in, String modelId) throws IOException {
    return transfer.importModel(in, modelId, -1, null);
  }

  /**
   * Streams a snapshot like {@link #importModel(InputStream, String)}, reporting each chunk.
   *
   * @param in the snapshot
   * @param modelId the id to serve it under; {@code ""} keeps the snapshot's own id
   * @param totalBytes the snapshot's size, for {@link TransferProgress#totalBytes()}; -1 if
   *     unknown
   * @param progress called on this thread after each chunk is sent; throwing cancels the call
   *     and is rethrown
   * @return the imported model
   * @throws MfServeException if the server rejects the snapshot or the call fails
   * @throws IOException if reading fails
   */
  public ModelInfo importModel(InputStream in, String modelId, long totalBytes,
      Consumer<TransferProgress> progress) throws IOException {
    return transfer.importModel(in, modelId, totalBytes,
        Objects.requireNonNull(progress, "progress"));
  }

  /**
   * Creates a served model from factors: those {@link #getFactors} returned (from this server or
   * another) or plain ones from {@link Factors#builder()}. The server makes the id; factors from
   * a server keep their model's absent-entries meaning (and NMF's non-negative fold-in).
   *
   * @param factors the factors
   * @return the new model, which answers every query a fitted one does
   * @throws MfServeException {@code INVALID_ARGUMENT} for duplicate ids or non-finite factors,
   *     {@code RESOURCE_EXHAUSTED} over the memory budget
   */
  public ModelInfo importFactors(Factors factors) {
    return importFactors(factors, ImportFactorsHeader.getDefaultInstance(), null);
  }

  /**
   * Creates a served model from factors, with the header's options and the pairs seen in
   * training (for Recommend's {@code exclude_seen}). The stream is the header, then the user
   * rows, then the item rows, in GetFactors' chunk shape, then the seen pairs; every message
   * stays under about 1 MiB.
   *
   * @param factors the factors
   * @param header the model id ({@code ""}: the server makes one), absent entries (default
   *     UNKNOWN, or the source model's), fold-in solver, regularization and free-form params; its
   *     num_factors, has_biases and global_mean are taken from {@code factors} (leave them unset)
   * @param seen (user, item) pairs seen in training, in the factors' id forms, or null; values
   *     are ignored
   * @return the new model
   * @throws MfServeException if the server rejects the factors or the call fails
   * @throws IllegalArgumentException if the header's shape fields contradict the factors
   */
  public ModelInfo importFactors(Factors factors, ImportFactorsHeader header, SparseMatrix seen) {
    return transfer.importFactors(Objects.requireNonNull(factors, "factors"), header, seen);
  }

  private MatrixFactorizationBlockingStub stub(Deadline deadline) {
    return MatrixFactorizationGrpc.newBlockingStub(channel).withDeadline(deadline);
  }

  private static Deadline deadline(Duration d) {
    return Deadline.after(d.toNanos(), TimeUnit.NANOSECONDS);
  }

  private static <T> T call(Supplier<T> rpc) {
    try {
      return rpc.get();
    } catch (StatusRuntimeException e) {
      throw MfServeException.from(e);
    }
  }

  /**
   * {@link #call} for a server-streaming RPC read with a blocking stub, in a context of its own:
   * a blocking stream left unread stays open until its deadline, so it is cancelled if reading
   * stops early (a malformed stream, an exception) and in any case once done.
   */
  private static <T> T callStream(Supplier<T> rpc) {
    Context.CancellableContext context = Context.current().withCancellation();
    try {
      return context.call(() -> call(rpc));
    } catch (RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalStateException(e);
    } finally {
      context.cancel(null);
    }
  }

  private static float[] toArray(PredictResponse response) {
    float[] scores = new float[response.getScoresCount()];
    for (int i = 0; i < scores.length; i++) {
      scores[i] = response.getScores(i);
    }
    return scores;
  }

  private static List<Recommendation> toList(RecommendResponse response) {
    return response.getItemsList().stream().map(Recommendation::of).toList();
  }

  private static Duration checkPositive(Duration d, String name) {
    Objects.requireNonNull(d, name);
    if (d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException(name + " must be positive, got " + d);
    }
    return d;
  }
}
