package io.mfserve.client;

import io.grpc.Channel;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.mfserve.proto.v1.AbsentEntries;
import io.mfserve.proto.v1.FitRequest;
import io.mfserve.proto.v1.ImportFactorsHeader;
import io.mfserve.proto.v1.Matrix;
import io.mfserve.proto.v1.ModelInfo;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * The quickest way to factorize a matrix on an mfserve server: give it the matrix and a rank,
 * call {@link #fit()}, read the factors.
 *
 * <pre>{@code
 * try (MatrixFactorization model = new MatrixFactorization("localhost:50051", ratings, 5)) {
 *   model.fit();
 *   Factors f = model.getFactors();
 *   float[][] userFactors = f.userFactors();   // users × 5
 *   float[][] itemFactors = f.itemFactors();   // items × 5
 * }
 * }</pre>
 *
 * <p>The matrix is a dense {@code float[][]} or {@code double[][]} (rows are users, columns
 * items, named by position) or a sparse {@link Ratings}. Options are set with fluent setters
 * before {@link #fit()}: {@link #solver} (default {@value #DEFAULT_SOLVER}), {@link
 * #maxIterations}, {@link #regularization}, {@link #learningRate}, {@link #seed}, {@link #param},
 * {@link #absentEntries}, {@link #validationFraction}, {@link #modelId}, {@link #warmStart};
 * unset options take the server's defaults. Large matrices are uploaded in chunks
 * automatically (see {@link MfClient}).
 * {@link #fit(FitListener)} trains the same way and reports each iteration (loss, validation RMSE,
 * ETA) and each uploaded chunk as they happen; throwing from the listener cancels the fit.
 *
 * <p>Factors trained elsewhere become a served model with {@link #fromFactors}, which imports
 * them (ImportFactors) and returns an object that answers queries as if it had been fitted:
 *
 * <pre>{@code
 * Factors factors = Factors.builder().users(userIds, userFactors).items(itemIds, itemFactors)
 *     .build();
 * try (MatrixFactorization model = MatrixFactorization.fromFactors("localhost:50051", factors)) {
 *   List<Recommendation> top = model.recommend(42L, 10, true);
 * }
 * }</pre>
 *
 * <p>Constructed from a target ({@code "host:port"}), it opens a plaintext channel and closes it
 * in {@link #close()}; constructed from a {@link Channel} or an {@link MfClient}, the caller keeps
 * ownership and {@link #close()} leaves the channel open. Errors are thrown as {@link
 * MfServeException}. The trained model stays on the server until deleted (for example with
 * {@code mfctl delete}).
 *
 * <p>Not thread-safe: configure and fit on one thread. The {@link Factors} it returns are
 * immutable.
 */
public final class MatrixFactorization implements AutoCloseable {
  /** The solver used unless {@link #solver(String)} says otherwise. */
  public static final String DEFAULT_SOLVER = "als";

  private final ManagedChannel ownedChannel;
  private final MfClient client;
  private final Matrix matrix;
  private final int numTopics;

  private String solver = DEFAULT_SOLVER;
  private Integer maxIterations;
  private Double regularization;
  private Double learningRate;
  private Long seed;
  private final Map<String, String> params = new LinkedHashMap<>();
  private AbsentEntries absentEntries = AbsentEntries.ABSENT_ENTRIES_UNSPECIFIED;
  private Double validationFraction;
  private String requestedModelId = "";
  private String warmStart = "";

  private ModelInfo info;
  private Factors factors;

  /**
   * Connects to a server and prepares to factorize a dense matrix.
   *
   * @param target the server, {@code "host:port"}; a plaintext channel is opened and closed by
   *     {@link #close()}
   * @param ratings the matrix, rows are users and columns items; copied
   * @param numTopics the number of latent factors (the rank)
   * @throws IllegalArgumentException if the matrix is empty or ragged
   */
  public MatrixFactorization(String target, float[][] ratings, int numTopics) {
    this(Matrices.dense(ratings), open(target), numTopics);
  }

  /**
   * Connects to a server and prepares to factorize a dense matrix of doubles (sent as float32).
   *
   * @param target the server, {@code "host:port"}; a plaintext channel is opened and closed by
   *     {@link #close()}
   * @param ratings the matrix, rows are users and columns items; copied
   * @param numTopics the number of latent factors (the rank)
   * @throws IllegalArgumentException if the matrix is empty or ragged
   */
  public MatrixFactorization(String target, double[][] ratings, int numTopics) {
    this(Matrices.dense(ratings), open(target), numTopics);
  }

  /**
   * Connects to a server and prepares to factorize a sparse matrix.
   *
   * @param target the server, {@code "host:port"}; a plaintext channel is opened and closed by
   *     {@link #close()}
   * @param ratings the entries; a snapshot is taken now
   * @param numTopics the number of latent factors (the rank)
   */
  public MatrixFactorization(String target, Ratings ratings, int numTopics) {
    this(ratings.toMatrix(), open(target), numTopics);
  }

  /**
   * Prepares to factorize a dense matrix on a channel the caller owns.
   *
   * @param channel the channel to the server; left open by {@link #close()}
   * @param ratings the matrix, rows are users and columns items; copied
   * @param numTopics the number of latent factors (the rank)
   * @throws IllegalArgumentException if the matrix is empty or ragged
   */
  public MatrixFactorization(Channel channel, float[][] ratings, int numTopics) {
    this(new MfClient(channel), Matrices.dense(ratings), numTopics);
  }

  /**
   * Prepares to factorize a dense matrix of doubles (sent as float32) on a channel the caller
   * owns.
   *
   * @param channel the channel to the server; left open by {@link #close()}
   * @param ratings the matrix, rows are users and columns items; copied
   * @param numTopics the number of latent factors (the rank)
   * @throws IllegalArgumentException if the matrix is empty or ragged
   */
  public MatrixFactorization(Channel channel, double[][] ratings, int numTopics) {
    this(new MfClient(channel), Matrices.dense(ratings), numTopics);
  }

  /**
   * Prepares to factorize a sparse matrix on a channel the caller owns.
   *
   * @param channel the channel to the server; left open by {@link #close()}
   * @param ratings the entries; a snapshot is taken now
   * @param numTopics the number of latent factors (the rank)
   */
  public MatrixFactorization(Channel channel, Ratings ratings, int numTopics) {
    this(new MfClient(channel), ratings.toMatrix(), numTopics);
  }

  /**
   * Prepares to factorize any matrix message with a configured client (for its deadlines).
   *
   * @param client the client; its channel stays the caller's
   * @param matrix the matrix, dense or sparse
   * @param numTopics the number of latent factors (the rank)
   */
  public MatrixFactorization(MfClient client, Matrix matrix, int numTopics) {
    this(null, Objects.requireNonNull(client, "client"), matrix, numTopics);
  }

  // The matrix comes first so that it is built (and can fail) before a channel is opened.
  private MatrixFactorization(Matrix matrix, ManagedChannel owned, int numTopics) {
    this(owned, new MfClient(owned), matrix, numTopics);
  }

  private MatrixFactorization(ManagedChannel owned, MfClient client, Matrix matrix,
      int numTopics) {
    this.ownedChannel = owned;
    this.client = client;
    this.matrix = Objects.requireNonNull(matrix, "matrix");
    this.numTopics = numTopics;
  }

  /** A model imported from factors: no matrix, already on the server. */
  private MatrixFactorization(ManagedChannel owned, MfClient client, ModelInfo imported) {
    this.ownedChannel = owned;
    this.client = client;
    this.matrix = null;
    this.numTopics = imported.getNumFactors();
    this.info = imported;
  }

  /**
   * Imports factors trained anywhere as a served model, with the server's defaults (a new id,
   * absent entries unknown, least-squares fold-in), and returns it ready for queries.
   *
   * @param target the server, {@code "host:port"}; a plaintext channel is opened and closed by
   *     {@link #close()} (or at once, if the import fails)
   * @param factors the factors: from {@link Factors#builder()}, or {@link #getFactors()} of
   *     another model
   * @return the imported model; {@link #fit()} is not available on it
   * @throws MfServeException if the server rejects the factors or the call fails
   */
  public static MatrixFactorization fromFactors(String target, Factors factors) {
    return fromFactors(target, factors, ImportFactorsHeader.getDefaultInstance(), null);
  }

  /**
   * Imports factors as a served model with the header's options and the pairs seen in training.
   *
   * @param target the server, {@code "host:port"}; a plaintext channel is opened and closed by
   *     {@link #close()} (or at once, if the import fails)
   * @param factors the factors
   * @param header the new model's id ({@code ""}: the server makes one), absent entries,
   *     fold-in solver, regularization and provenance params; num_factors, has_biases and
   *     global_mean come from {@code factors}
   * @param seen the (user, item) pairs seen in training, for {@code recommend(..., true)}, or
   *     null; the values are ignored
   * @return the imported model
   * @throws MfServeException if the server rejects the factors or the call fails
   */
  public static MatrixFactorization fromFactors(String target, Factors factors,
      ImportFactorsHeader header, Ratings seen) {
    Objects.requireNonNull(factors, "factors");
    ManagedChannel channel = open(target);
    try {
      MfClient client = new MfClient(channel);
      return new MatrixFactorization(channel, client, importInto(client, factors, header, seen));
    } catch (RuntimeException | Error e) {
      channel.shutdownNow();
      throw e;
    }
  }

  /**
   * Imports factors as a served model on a channel the caller owns.
   *
   * @param channel the channel to the server; left open by {@link #close()}
   * @param factors the factors
   * @return the imported model
   * @throws MfServeException if the server rejects the factors or the call fails
   */
  public static MatrixFactorization fromFactors(Channel channel, Factors factors) {
    return fromFactors(new MfClient(channel), factors, ImportFactorsHeader.getDefaultInstance(),
        null);
  }

  /**
   * Imports factors as a served model with a configured client (for its deadlines).
   *
   * @param client the client; its channel stays the caller's
   * @param factors the factors
   * @param header as for {@link #fromFactors(String, Factors, ImportFactorsHeader, Ratings)}
   * @param seen the (user, item) pairs seen in training, or null
   * @return the imported model
   * @throws MfServeException if the server rejects the factors or the call fails
   */
  public static MatrixFactorization fromFactors(MfClient client, Factors factors,
      ImportFactorsHeader header, Ratings seen) {
    Objects.requireNonNull(client, "client");
    return new MatrixFactorization(null, client,
        importInto(client, Objects.requireNonNull(factors, "factors"), header, seen));
  }

  private static ModelInfo importInto(MfClient client, Factors factors,
      ImportFactorsHeader header, Ratings seen) {
    return client.importFactors(factors, header == null
        ? ImportFactorsHeader.getDefaultInstance() : header, seen == null ? null : seen.toProto());
  }

  private static ManagedChannel open(String target) {
    return ManagedChannelBuilder.forTarget(Objects.requireNonNull(target, "target"))
        .usePlaintext().build();
  }

  /**
   * Chooses the solver by name: {@code "als"}, {@code "sgd"}, {@code "nmf"} or a plugin's name.
   *
   * @param name the solver's name, as listed by {@link MfClient#listSolvers()}
   * @return this, for chaining
   */
  public MatrixFactorization solver(String name) {
    this.solver = Objects.requireNonNull(name, "name");
    return this;
  }

  /**
   * Sets the maximum number of iterations (sweeps, epochs).
   *
   * @param n the maximum
   * @return this, for chaining
   */
  public MatrixFactorization maxIterations(int n) {
    this.maxIterations = n;
    return this;
  }

  /**
   * Sets the regularisation strength.
   *
   * @param lambda the strength
   * @return this, for chaining
   */
  public MatrixFactorization regularization(double lambda) {
    this.regularization = lambda;
    return this;
  }

  /**
   * Sets the learning rate, for solvers that have one (SGD).
   *
   * @param rate the learning rate
   * @return this, for chaining
   */
  public MatrixFactorization learningRate(double rate) {
    this.learningRate = rate;
    return this;
  }

  /**
   * Sets the random seed; the same seed and data give the same model.
   *
   * @param seed the seed, read as unsigned 64 bits
   * @return this, for chaining
   */
  public MatrixFactorization seed(long seed) {
    this.seed = seed;
    return this;
  }

  /**
   * Sets one solver-specific parameter; the server checks it against what the solver declares.
   *
   * @param name the parameter's name
   * @param value its value, as text
   * @return this, for chaining
   */
  public MatrixFactorization param(String name, String value) {
    params.put(Objects.requireNonNull(name, "name"), Objects.requireNonNull(value, "value"));
    return this;
  }

  /**
   * Sets several solver-specific parameters, adding to those set before.
   *
   * @param values the parameters by name, values as text
   * @return this, for chaining
   */
  public MatrixFactorization params(Map<String, String> values) {
    values.forEach(this::param);
    return this;
  }

  /**
   * Says what an entry absent from a sparse matrix means: unknown (ratings), zero (counts) or
   * implicit feedback. Unset means the solver's default.
   *
   * @param meaning the meaning
   * @return this, for chaining
   */
  public MatrixFactorization absentEntries(AbsentEntries meaning) {
    this.absentEntries = Objects.requireNonNull(meaning, "meaning");
    return this;
  }

  /**
   * Holds out a seeded fraction of the observed entries to report a validation RMSE per
   * iteration.
   *
   * @param fraction the fraction, 0 ≤ f &lt; 1
   * @return this, for chaining
   */
  public MatrixFactorization validationFraction(double fraction) {
    this.validationFraction = fraction;
    return this;
  }

  /**
   * Names the model to be trained; by default the server makes an id. Fitting again with the
   * same id and identical options returns the model already trained.
   *
   * @param id the id, {@code [A-Za-z0-9._-]}, at most 128 characters
   * @return this, for chaining
   */
  public MatrixFactorization modelId(String id) {
    this.requestedModelId = Objects.requireNonNull(id, "id");
    return this;
  }

  /**
   * Starts the fit from another model's factors (FitRequest.warm_start_model_id), for the users
   * and items both share; new ones start as in a cold fit. A nightly refit on the new day's data
   * then converges in a few iterations. The model must have the same number of factors.
   *
   * @param modelId the model to start from, by id or alias; {@code ""} for a cold start
   * @return this, for chaining
   */
  public MatrixFactorization warmStart(String modelId) {
    this.warmStart = Objects.requireNonNull(modelId, "modelId");
    return this;
  }

  /**
   * The request {@link #fit()} sends, with the options set so far.
   *
   * @return the fit request, matrix inline
   * @throws IllegalStateException for a model made by {@link #fromFactors}, which has no matrix
   */
  public FitRequest fitRequest() {
    if (matrix == null) {
      throw new IllegalStateException("this model was imported from factors: it has no matrix"
          + " to fit; fit a new MatrixFactorization with warmStart(\"" + modelId() + "\") to"
          + " continue from it");
    }
    FitRequest.Builder b = FitRequest.newBuilder()
        .setSolver(solver)
        .setNumFactors(numTopics)
        .setMatrix(matrix)
        .setModelId(requestedModelId)
        .putAllParams(params)
        .setAbsentEntries(absentEntries)
        .setWarmStartModelId(warmStart);
    if (maxIterations != null) {
      b.setMaxIterations(maxIterations);
    }
    if (regularization != null) {
      b.setRegularization(regularization);
    }
    if (learningRate != null) {
      b.setLearningRate(learningRate);
    }
    if (seed != null) {
      b.setSeed(seed);
    }
    if (validationFraction != null) {
      b.setValidationFraction(validationFraction);
    }
    return b.build();
  }

  /**
   * Trains the model on the server and remembers its id for the other methods.
   *
   * @return the trained model's description
   * @throws MfServeException if the server rejects the request or the call fails
   * @throws IllegalStateException for a model made by {@link #fromFactors}
   */
  public ModelInfo fit() {
    return remember(client.fit(fitRequest()));
  }

  /**
   * Trains the model like {@link #fit()}, reporting live progress: one event per completed
   * iteration (loss, validation RMSE, ETA) and, for a large matrix, one per uploaded chunk.
   *
   * <pre>{@code
   * model.fit(p -> System.err.printf("%d/%d loss %.4g%n",
   *     p.getIteration(), p.getMaxIterations(), p.getLoss()));
   * }</pre>
   *
   * @param listener called on this thread, in order; if it throws, or the thread is interrupted,
   *     the fit is cancelled on the server (see {@link MfClient#fitWithProgress})
   * @return the trained model's description
   * @throws MfServeException if the server rejects the request or the call fails
   */
  public ModelInfo fit(FitListener listener) {
    return remember(client.fitWithProgress(fitRequest(), listener));
  }

  private ModelInfo remember(ModelInfo trained) {
    this.info = trained;
    this.factors = null;
    return trained;
  }

  /**
   * Downloads the trained model's factors (once; later calls return the same value).
   *
   * @return the factors: {@code userFactors()} users × k and {@code itemFactors()} items × k
   * @throws IllegalStateException before {@link #fit()}
   * @throws MfServeException if the call fails (NOT_FOUND if the model was deleted)
   */
  public Factors getFactors() {
    if (factors == null) {
      factors = client.getFactors(trainedId());
    }
    return factors;
  }

  /**
   * Scores (user, item) pairs; for matrices with int64 ids (a dense matrix's ids are positions).
   *
   * @param users the user of each pair
   * @param items the item of each pair, as many as users
   * @return one score per pair
   * @throws IllegalStateException before {@link #fit()}
   * @throws MfServeException {@code INVALID_ARGUMENT} for an unknown id
   */
  public float[] predict(long[] users, long[] items) {
    return client.predict(trainedId(), users, items);
  }

  /**
   * Scores (user, item) pairs; for matrices with string keys.
   *
   * @param users the user of each pair
   * @param items the item of each pair, as many as users
   * @return one score per pair
   * @throws IllegalStateException before {@link #fit()}
   * @throws MfServeException {@code INVALID_ARGUMENT} for an unknown key
   */
  public float[] predict(String[] users, String[] items) {
    return client.predict(trainedId(), users, items);
  }

  /**
   * The top {@code k} items for a user, best first; for matrices with int64 user ids.
   *
   * @param user the user's id (its row position for a dense matrix)
   * @param k how many items
   * @param excludeSeen whether to leave out the items the user has in the training data
   * @return the items with their scores
   * @throws IllegalStateException before {@link #fit()}
   * @throws MfServeException {@code INVALID_ARGUMENT} for an unknown user
   */
  public List<Recommendation> recommend(long user, int k, boolean excludeSeen) {
    return client.recommend(trainedId(), user, k, excludeSeen);
  }

  /**
   * The top {@code k} items for a user, best first; for matrices with string user keys.
   *
   * @param user the user's key
   * @param k how many items
   * @param excludeSeen whether to leave out the items the user has in the training data
   * @return the items with their scores
   * @throws IllegalStateException before {@link #fit()}
   * @throws MfServeException {@code INVALID_ARGUMENT} for an unknown user
   */
  public List<Recommendation> recommend(String user, int k, boolean excludeSeen) {
    return client.recommend(trainedId(), user, k, excludeSeen);
  }

  /**
   * The trained model's id.
   *
   * @return the id the server gave (or kept), or null before {@link #fit()}
   */
  public String modelId() {
    return info == null ? null : info.getModelId();
  }

  /**
   * The trained model's description, as returned by {@link #fit()}.
   *
   * @return the model info, or null before {@link #fit()}
   */
  public ModelInfo info() {
    return info;
  }

  /**
   * The client this object calls through, for the calls it does not wrap.
   *
   * @return the client
   */
  public MfClient client() {
    return client;
  }

  /**
   * Closes the channel this object opened (when constructed from a target), waiting up to 5
   * seconds for calls in flight. A channel passed in by the caller is left open. The model stays
   * on the server.
   */
  @Override
  public void close() {
    if (ownedChannel == null) {
      return;
    }
    ownedChannel.shutdown();
    try {
      if (!ownedChannel.awaitTermination(5, TimeUnit.SECONDS)) {
        ownedChannel.shutdownNow();
      }
    } catch (InterruptedException e) {
      ownedChannel.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }

  private String trainedId() {
    if (info == null) {
      throw new IllegalStateException("no model yet: call fit() first");
    }
    return info.getModelId();
  }
}
