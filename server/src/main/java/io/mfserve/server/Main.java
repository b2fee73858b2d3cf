package io.mfserve.server;

import com.google.inject.Guice;
import com.google.inject.Injector;
import com.google.inject.Module;
import com.google.inject.Stage;
import io.grpc.ServerInterceptor;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.mfserve.server.inject.ConfigModule;
import io.mfserve.server.inject.ModelModule;
import io.mfserve.server.inject.SolverModule;
import io.mfserve.server.inject.TransportModule;
import io.mfserve.server.logging.JsonFormatter;
import io.mfserve.server.metrics.MetricsModule;
import io.mfserve.server.model.ann.AnnSettings;
import io.mfserve.server.model.ann.AnnTarget;
import io.mfserve.server.model.ann.Metric;
import io.mfserve.server.model.fit.SolverDefaults;
import io.mfserve.server.model.fit.SolverRegistry;
import io.mfserve.server.model.store.Limits;
import io.mfserve.server.model.store.MemoryBudget;
import io.mfserve.server.model.store.ModelStore;
import io.mfserve.server.repository.RepositoryConfig;
import io.mfserve.server.security.ServerTls;
import io.mfserve.server.security.TokenAuth;
import io.mfserve.server.security.TokenFile;
import java.io.IOException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.logging.Handler;
import java.util.logging.Logger;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Starts the mfserve server: {@code java -jar server/target/mfserve-server.jar [flags]}. Every
 * flag has an environment-variable equivalent, listed by {@code --help}.
 */
@Command(name = "mfserve-server", mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = "Serves matrix-factorization training and queries over gRPC"
        + " (mfserve.v1.MatrixFactorization, grpc.health.v1, server reflection).",
    sortOptions = false)
public final class Main implements Callable<Integer> {
  private static final Logger LOG = Logger.getLogger(Main.class.getName());

  @Option(names = "--port", defaultValue = "${env:MFSERVE_PORT:-50051}",
      description = "TCP port to listen on; 0 picks a free one (env MFSERVE_PORT;"
          + " default ${DEFAULT-VALUE}).")
  int port;

  @Option(names = "--plugins-dir", defaultValue = "${env:MFSERVE_PLUGINS_DIR}",
      description = "Directory of solver plugin jars, found with ServiceLoader"
          + " (env MFSERVE_PLUGINS_DIR).")
  Path pluginsDir;

  @Option(names = "--solver-default", paramLabel = "SOLVER.PARAM=VALUE",
      description = "Repeatable. The default of one solver parameter for this server, e.g."
          + " spark-als.master=spark://host:7077 or spark-als.spark_conf=spark.executor.memory"
          + "=8g;spark.cores.max=32: a fit that leaves the parameter unset gets it, one that"
          + " sets it overrides it; ListSolvers shows it. Checked against the solver's"
          + " declaration at start-up (env MFSERVE_SOLVER_DEFAULTS: entries one a line).")
  List<String> solverDefaults = new ArrayList<>();

  @Option(names = "--memory-budget", defaultValue = "${env:MFSERVE_MEMORY_BUDGET:-60%}",
      description = "Memory for models, uploaded matrices and fits, e.g. 8g, 512m, or a"
          + " percentage of the JVM heap (env MFSERVE_MEMORY_BUDGET; default ${DEFAULT-VALUE})."
          + " A request that would exceed it is RESOURCE_EXHAUSTED.")
  String memoryBudget;

  @Option(names = "--max-inbound-message-size",
      defaultValue = "${env:MFSERVE_MAX_INBOUND_MESSAGE_SIZE:-4m}",
      description = "Largest request message accepted, e.g. 4m, 64m (env"
          + " MFSERVE_MAX_INBOUND_MESSAGE_SIZE; default ${DEFAULT-VALUE}). Larger matrices go"
          + " through UploadMatrix.")
  String maxInboundMessageSize;

  @Option(names = "--max-rows", defaultValue = "${env:MFSERVE_MAX_ROWS:-50000000}",
      description = "Rows (users, documents) of one matrix, or users of an imported model"
          + " (env MFSERVE_MAX_ROWS; default ${DEFAULT-VALUE}).")
  long maxRows;

  @Option(names = "--max-cols", defaultValue = "${env:MFSERVE_MAX_COLS:-50000000}",
      description = "Columns (items, terms) of one matrix, or items of an imported model"
          + " (env MFSERVE_MAX_COLS; default ${DEFAULT-VALUE}).")
  long maxCols;

  @Option(names = "--max-request-entries",
      defaultValue = "${env:MFSERVE_MAX_REQUEST_ENTRIES:-16777216}",
      description = "Entries of an inline matrix, one UploadMatrix chunk or one ImportFactors"
          + " message (env MFSERVE_MAX_REQUEST_ENTRIES; default ${DEFAULT-VALUE}).")
  long maxRequestEntries;

  @Option(names = "--max-upload-entries",
      defaultValue = "${env:MFSERVE_MAX_UPLOAD_ENTRIES:-1000000000}",
      description = "Entries of one uploaded matrix, all chunks together, and seen pairs of"
          + " one ImportFactors (env MFSERVE_MAX_UPLOAD_ENTRIES; default ${DEFAULT-VALUE}).")
  long maxUploadEntries;

  @Option(names = "--max-factors", defaultValue = "${env:MFSERVE_MAX_FACTORS:-1024}",
      description = "num_factors of a fit or an imported model, at most 1024"
          + " (env MFSERVE_MAX_FACTORS; default ${DEFAULT-VALUE}).")
  long maxFactors;

  @Option(names = "--max-k", defaultValue = "${env:MFSERVE_MAX_K:-10000}",
      description = "Results of one query: k + offset of Recommend, RecommendBatch,"
          + " SimilarItems/Users, num_terms of GetTopics (env MFSERVE_MAX_K;"
          + " default ${DEFAULT-VALUE}).")
  long maxK;

  @Option(names = "--max-ids-per-request",
      defaultValue = "${env:MFSERVE_MAX_IDS_PER_REQUEST:-1000000}",
      description = "Ids and keys in one query request, all lists together: Predict pairs,"
          + " RecommendBatch users, allowed/denied items, a user history"
          + " (env MFSERVE_MAX_IDS_PER_REQUEST; default ${DEFAULT-VALUE}).")
  long maxIdsPerRequest;

  @Option(names = "--max-key-length", defaultValue = "${env:MFSERVE_MAX_KEY_LENGTH:-1024}",
      description = "Characters of one string key, params name or value"
          + " (env MFSERVE_MAX_KEY_LENGTH; default ${DEFAULT-VALUE}).")
  long maxKeyLength;

  @Option(names = "--max-name-length", defaultValue = "${env:MFSERVE_MAX_NAME_LENGTH:-128}",
      description = "Characters of a model id, alias, matrix id or solver name, at most 128"
          + " (env MFSERVE_MAX_NAME_LENGTH; default ${DEFAULT-VALUE}).")
  long maxNameLength;

  @Option(names = "--max-params", defaultValue = "${env:MFSERVE_MAX_PARAMS:-64}",
      description = "Entries of a fit's or an import's params map (env MFSERVE_MAX_PARAMS;"
          + " default ${DEFAULT-VALUE}).")
  long maxParams;

  @Option(names = "--max-concurrent-uploads",
      defaultValue = "${env:MFSERVE_MAX_CONCURRENT_UPLOADS:-16}",
      description = "UploadMatrix, ImportModel and ImportFactors streams open at once"
          + " (env MFSERVE_MAX_CONCURRENT_UPLOADS; default ${DEFAULT-VALUE}).")
  long maxConcurrentUploads;

  @Option(names = "--max-models", defaultValue = "${env:MFSERVE_MAX_MODELS:-1000}",
      description = "Models held (serving, loading or being fitted); a new fit or import"
          + " beyond it is RESOURCE_EXHAUSTED (env MFSERVE_MAX_MODELS; default"
          + " ${DEFAULT-VALUE}). Every limit is listed by 'mfctl limits'.")
  long maxModels;

  @Option(names = "--worker-threads", defaultValue = "${env:MFSERVE_WORKER_THREADS:-0}",
      description = "Threads for long calls (fits, uploads, streams, queries over large"
          + " models; short queries run on the transport threads); 0 means 2 × cores, at least"
          + " 4 (env MFSERVE_WORKER_THREADS).")
  int workerThreads;

  @Option(names = "--training-threads", defaultValue = "${env:MFSERVE_TRAINING_THREADS:-0}",
      description = "Threads the solvers share; 0 means all cores (env"
          + " MFSERVE_TRAINING_THREADS).")
  int trainingThreads;

  @Option(names = "--max-concurrent-fits",
      defaultValue = "${env:MFSERVE_MAX_CONCURRENT_FITS:-2}",
      description = "Fits that train at once; more wait in a queue of 16"
          + " (env MFSERVE_MAX_CONCURRENT_FITS; default ${DEFAULT-VALUE}).")
  int maxConcurrentFits;

  @Option(names = "--upload-ttl", defaultValue = "${env:MFSERVE_UPLOAD_TTL:-1h}",
      description = "How long an unused uploaded matrix is kept, e.g. 30m, 1h, 90s"
          + " (env MFSERVE_UPLOAD_TTL; default ${DEFAULT-VALUE}).")
  String uploadTtl;

  @Option(names = "--shutdown-grace", defaultValue = "${env:MFSERVE_SHUTDOWN_GRACE:-20s}",
      description = "How long in-flight calls may finish after SIGTERM before they are"
          + " cancelled (env MFSERVE_SHUTDOWN_GRACE; default ${DEFAULT-VALUE}).")
  String shutdownGrace;

  @Option(names = "--keepalive-time", defaultValue = "${env:MFSERVE_KEEPALIVE_TIME:-60s}",
      description = "Ping a connection idle this long, to find dead peers and keep it alive"
          + " through NATs and balancers; off for never (env MFSERVE_KEEPALIVE_TIME;"
          + " default ${DEFAULT-VALUE}). Clients may ping every 30 s, also without calls.")
  String keepaliveTime;

  @Option(names = "--keepalive-timeout",
      defaultValue = "${env:MFSERVE_KEEPALIVE_TIMEOUT:-20s}",
      description = "Close a connection whose ping is not answered within this (env"
          + " MFSERVE_KEEPALIVE_TIMEOUT; default ${DEFAULT-VALUE}).")
  String keepaliveTimeout;

  @Option(names = "--max-connection-age",
      defaultValue = "${env:MFSERVE_MAX_CONNECTION_AGE:-5m}",
      description = "Send GOAWAY on a connection this old (gRPC adds ±10%% jitter), so that"
          + " clients reconnect and a balancer spreads them over new replicas; off for never"
          + " (env MFSERVE_MAX_CONNECTION_AGE; default ${DEFAULT-VALUE}).")
  String maxConnectionAge;

  @Option(names = "--max-connection-age-grace",
      defaultValue = "${env:MFSERVE_MAX_CONNECTION_AGE_GRACE:-10m}",
      description = "How long calls in flight at that GOAWAY may still run (default"
          + " ${DEFAULT-VALUE}, mfctl's longest deadline, so long fits are not cut off); off for"
          + " as long as they take (env MFSERVE_MAX_CONNECTION_AGE_GRACE).")
  String maxConnectionAgeGrace;

  @Option(names = "--model-store", defaultValue = "${env:MFSERVE_MODEL_STORE}",
      description = "Model repository every replica shares: file:///path (a directory or"
          + " shared volume) or s3://bucket/prefix; without it models live in memory only"
          + " (env MFSERVE_MODEL_STORE).")
  String modelStore;

  @Option(names = "--s3-endpoint", defaultValue = "${env:MFSERVE_S3_ENDPOINT}",
      description = "Endpoint of an S3-compatible store (MinIO, Ceph RGW, ...), e.g."
          + " http://minio:9000 (env MFSERVE_S3_ENDPOINT); credentials come from the AWS SDK's"
          + " default chain (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, profiles, ...).")
  String s3Endpoint;

  @Option(names = "--s3-path-style", negatable = false,
      defaultValue = "${env:MFSERVE_S3_PATH_STYLE:-false}",
      description = "Address buckets as a path (http://host/bucket), as most S3-compatible"
          + " servers need (env MFSERVE_S3_PATH_STYLE=true).")
  boolean s3PathStyle;

  @Option(names = "--s3-region", defaultValue = "${env:MFSERVE_S3_REGION}",
      description = "S3 region (env MFSERVE_S3_REGION; default: the SDK's chain, or us-east-1"
          + " with --s3-endpoint).")
  String s3Region;

  @Option(names = "--preload", defaultValue = "${env:MFSERVE_PRELOAD:-all}",
      description = "Which repository models to load before health turns SERVING: all,"
          + " aliases (only models an alias points at) or none; the rest load on their first"
          + " request (env MFSERVE_PRELOAD; default ${DEFAULT-VALUE}).")
  String preload;

  @Option(names = "--store-poll", defaultValue = "${env:MFSERVE_STORE_POLL:-10s}",
      description = "How often to poll the repository for models and aliases changed by other"
          + " replicas, e.g. 10s, 500ms (env MFSERVE_STORE_POLL; default ${DEFAULT-VALUE}).")
  String storePoll;

  @Option(names = "--ann-min-rows", defaultValue = "${env:MFSERVE_ANN_MIN_ROWS:-200000}",
      paramLabel = "N",
      description = "Models with at least N items get approximate (HNSW) indexes for Recommend"
          + " and cosine SimilarItems, and with N users for SimilarUsers, built in the"
          + " background after the model is ready or loaded (exact scans until then); 0 turns"
          + " them off. Requests can ask for the exact scan (exact = true). Default from"
          + " measurements: below it an exact scan is fast enough (README, Approximate top-k;"
          + " env MFSERVE_ANN_MIN_ROWS; default ${DEFAULT-VALUE}).")
  int annMinRows;

  @Option(names = "--ann-ef-search", defaultValue = "${env:MFSERVE_ANN_EF_SEARCH:-600}",
      paramLabel = "EF",
      description = "Candidates an approximate top-10 search collects at most (ef; in"
          + " proportion more for a larger k + offset): each index is calibrated to the"
          + " smallest ef up to this that keeps --ann-recall-target, or searches with this ef"
          + " when the target is 0; higher means better recall and slower queries (env"
          + " MFSERVE_ANN_EF_SEARCH; default ${DEFAULT-VALUE}).")
  int annEfSearch;

  @Option(names = "--ann-recall-target",
      defaultValue = "${env:MFSERVE_ANN_RECALL_TARGET:-0.95}", paramLabel = "R",
      description = "Recall@10 each approximate index is calibrated to after its build: the"
          + " server measures 100 sampled queries against brute force and keeps the smallest"
          + " ef (up to --ann-ef-search) that reaches R with 90%% confidence; an index that"
          + " misses R even there is not used (exact scans); 0 turns the calibration off (env"
          + " MFSERVE_ANN_RECALL_TARGET; default ${DEFAULT-VALUE}).")
  double annRecallTarget;

  @Option(names = "--ann-max-conn", defaultValue = "${env:MFSERVE_ANN_MAX_CONN:-16}",
      paramLabel = "M",
      description = "HNSW's M: neighbours per node (2M on the bottom layer); memory per row grows"
          + " with it (env MFSERVE_ANN_MAX_CONN; default ${DEFAULT-VALUE}).")
  int annMaxConn;

  @Option(names = "--ann-beam-width", defaultValue = "${env:MFSERVE_ANN_BEAM_WIDTH:-100}",
      paramLabel = "B",
      description = "HNSW's beam while building (efConstruction): higher means a better graph"
          + " and a slower build (env MFSERVE_ANN_BEAM_WIDTH; default ${DEFAULT-VALUE}).")
  int annBeamWidth;

  @Option(names = "--ann-mip", defaultValue = "${env:MFSERVE_ANN_MIP:-dot}", paramLabel = "HOW",
      description = "How the Recommend graph links items: dot (inner product, with the item"
          + " bias) or bachrach (inner product reduced to angles, Bachrach et al. 2014); queries"
          + " rank by the exact prediction either way (env MFSERVE_ANN_MIP; default"
          + " ${DEFAULT-VALUE}).")
  String annMip;

  @Option(names = "--ann-build-threads",
      defaultValue = "${env:MFSERVE_ANN_BUILD_THREADS:-1}", paramLabel = "N",
      description = "Threads each approximate index is built on; more finish sooner and take"
          + " cores from the queries meanwhile (env MFSERVE_ANN_BUILD_THREADS; default"
          + " ${DEFAULT-VALUE}).")
  int annBuildThreads;

  @Option(names = "--ann-indexes",
      defaultValue = "${env:MFSERVE_ANN_INDEXES:-recommend,similar_items,similar_users}",
      paramLabel = "LIST",
      description = "Which approximate indexes a model large enough gets, comma-separated:"
          + " recommend, similar_items, similar_users (or all); the others scan exactly. Each"
          + " graph takes minutes per million rows to build and 300 to 400 bytes a row (env"
          + " MFSERVE_ANN_INDEXES; default ${DEFAULT-VALUE}).")
  String annIndexes;

  @Option(names = "--no-warmup", negatable = false,
      defaultValue = "${env:MFSERVE_NO_WARMUP:-false}",
      description = "Skip the warm-up before health turns SERVING: a short fit of each solver on"
          + " a small synthetic matrix and a few hundred queries of each kind, in a sandbox that"
          + " leaves no model, snapshot or budget use behind, so that the first real fit and"
          + " query do not run cold (1 to 4 s on 2 cores; env MFSERVE_NO_WARMUP=true).")
  boolean noWarmup;

  @Option(names = "--no-reflection", negatable = false,
      defaultValue = "${env:MFSERVE_NO_REFLECTION:-false}",
      description = "Turn server reflection off (env MFSERVE_NO_REFLECTION=true).")
  boolean noReflection;

  @Option(names = "--metrics-port", defaultValue = "${env:MFSERVE_METRICS_PORT:-0}",
      description = "Serve Prometheus metrics at http://0.0.0.0:PORT/metrics; 0 means off"
          + " (env MFSERVE_METRICS_PORT; default off).")
  int metricsPort;

  @Option(names = "--log-format", defaultValue = "${env:MFSERVE_LOG_FORMAT:-text}",
      description = "Log lines as text or as one JSON object per line, for log shippers"
          + " (env MFSERVE_LOG_FORMAT; default ${DEFAULT-VALUE}).")
  String logFormat;

  @Option(names = "--tls-cert", defaultValue = "${env:MFSERVE_TLS_CERT}", paramLabel = "PEM",
      description = "Server certificate chain (PEM); with --tls-key turns TLS on. Re-read when"
          + " the file changes (see --tls-refresh) without a restart (env MFSERVE_TLS_CERT).")
  Path tlsCert;

  @Option(names = "--tls-key", defaultValue = "${env:MFSERVE_TLS_KEY}", paramLabel = "PEM",
      description = "Private key of --tls-cert (PKCS#8 PEM, BEGIN PRIVATE KEY; convert others with"
          + " openssl pkcs8 -topk8 -nocrypt; env MFSERVE_TLS_KEY).")
  Path tlsKey;

  @Option(names = "--tls-client-ca", defaultValue = "${env:MFSERVE_TLS_CLIENT_CA}",
      paramLabel = "PEM",
      description = "CA certificates (PEM) client certificates must chain to: mutual TLS, a"
          + " client without a valid certificate is refused in the handshake; re-read when it"
          + " changes (env MFSERVE_TLS_CLIENT_CA).")
  Path tlsClientCa;

  @Option(names = "--tls-refresh", defaultValue = "${env:MFSERVE_TLS_REFRESH:-60s}",
      description = "How often the TLS files are checked for changes, e.g. 60s, 500ms"
          + " (env MFSERVE_TLS_REFRESH; default ${DEFAULT-VALUE}).")
  String tlsRefresh;

  @Option(names = "--health-port", defaultValue = "${env:MFSERVE_HEALTH_PORT:--1}",
      description = "With TLS on, a plaintext port that serves only grpc.health.v1 (Kubernetes'"
          + " gRPC probe cannot speak TLS); -1 means none, 0 picks a free one"
          + " (env MFSERVE_HEALTH_PORT).")
  int healthPort;

  @Option(names = "--auth-tokens", defaultValue = "${env:MFSERVE_AUTH_TOKENS}", paramLabel = "FILE",
      description = "Require a bearer token on every mfserve.v1 call; FILE holds one"
          + " '<sha256 hex> read|write [name]' per line (# comments), hashes made with"
          + " 'printf %%s TOKEN | sha256sum'. No or unknown token: UNAUTHENTICATED; read token"
          + " on a call that changes state: PERMISSION_DENIED. Health is always open. Re-read"
          + " when it changes, checked every 2 s (env MFSERVE_AUTH_TOKENS).")
  Path authTokens;

  @Option(names = "--auth-reflection", negatable = false,
      defaultValue = "${env:MFSERVE_AUTH_REFLECTION:-false}",
      description = "With --auth-tokens, server reflection needs a (read) token too; by default"
          + " it stays open, as it only describes the API (env MFSERVE_AUTH_REFLECTION=true).")
  boolean authReflection;

  /** Runs the server until SIGTERM or SIGINT. */
  public static void main(String[] args) {
    System.setProperty("java.util.logging.SimpleFormatter.format",
        "%1$tFT%1$tT.%1$tL %4$s %3$s: %5$s%6$s%n");
    int code = new CommandLine(new Main())
        .setParameterExceptionHandler((e, a) -> {
          e.getCommandLine().getErr().println("mfserve-server: " + e.getMessage()
              + " (see --help)");
          return 2;
        })
        .execute(args);
    if (code != 0) {
      System.exit(code);
    }
  }

  @Override
  public Integer call() throws Exception {
    ServerConfig config = toConfig();
    configureLogging();
    if (metricsPort < 0 || metricsPort > 65535) {
      throw bad("--metrics-port must be in [0, 65535] (0: off), got " + metricsPort);
    }
    List<Module> modules = new ArrayList<>(List.of(new ConfigModule(config),
        solverModule(config),
        new ModelModule(toRepositoryConfig(), toAnnSettings()),
        new TransportModule()));
    if (metricsPort > 0) {
      modules.add(new MetricsModule(metricsPort));
    }
    Injector injector = Guice.createInjector(Stage.PRODUCTION, modules);
    List<AutoCloseable> owned = new ArrayList<>();
    NettyServerBuilder builder;
    ServerTls tls = loadTls();
    if (tls != null) {
      owned.add(tls);
      builder = NettyServerBuilder.forPort(config.port(), tls.credentials());
    } else {
      builder = NettyServerBuilder.forPort(config.port());
    }
    toConnections().applyTo(builder);
    // Closed after the servers (owned things are), so that no connection outlives its loop.
    EventLoops loops = EventLoops.defaults();
    owned.add(loops);
    loops.applyTo(builder);
    ServerInterceptor auth = null;
    if (authTokens != null) {
      try {
        auth = new TokenAuth(TokenFile.load(authTokens, 2000));
      } catch (IOException | IllegalArgumentException e) {
        throw bad("--auth-tokens: " + e.getMessage());
      }
    }
    if (healthPort < -1 || healthPort > 65535) {
      throw bad("--health-port must be -1 (none) or in [0, 65535], got " + healthPort);
    }
    NettyServerBuilder healthBuilder = healthPort >= 0
        ? loops.applyTo(NettyServerBuilder.forPort(healthPort)) : null;
    MfServer server = new MfServer(builder, injector,
        new MfServer.Guards(auth, authReflection, healthBuilder, owned));
    server.start();
    Runtime.getRuntime().addShutdownHook(new Thread(server::close, "mfserve-shutdown"));
    LOG.info(String.format(Locale.ROOT, "mfserve listening on port %d with solvers %s;"
        + " memory budget %s%s", server.port(),
        injector.getInstance(SolverRegistry.class).all().stream().map(p -> p.name()).toList(),
        MemoryBudget.human(config.memoryBudgetBytes()),
        server.metrics() == null ? "" : "; metrics on port " + server.metrics().port()));
    LOG.info(String.format(Locale.ROOT, "transport: %s%s%s%s",
        tls == null ? "plaintext" : tlsClientCa == null ? "TLS" : "mutual TLS",
        auth == null ? "" : ", bearer tokens required",
        auth != null && authReflection ? " (reflection too)" : "",
        server.healthPort() < 0 ? "" : "; plaintext health on port " + server.healthPort()));
    server.awaitTermination();
    return 0;
  }

  /** The solvers found on the classpath and in --plugins-dir, with --solver-default applied. */
  private SolverModule solverModule(ServerConfig config) {
    try {
      return SolverModule.discover(config.pluginsDir()).withDefaults(toSolverDefaults());
    } catch (IllegalArgumentException e) {
      throw bad(e.getMessage());
    }
  }

  /** The --solver-default entries, else those of env MFSERVE_SOLVER_DEFAULTS, one a line. */
  SolverDefaults toSolverDefaults() {
    List<String> entries = solverDefaults;
    String env = System.getenv("MFSERVE_SOLVER_DEFAULTS");
    if (entries.isEmpty() && env != null) {
      entries = env.lines().map(String::strip).filter(l -> !l.isEmpty()).toList();
    }
    try {
      return SolverDefaults.parse(entries);
    } catch (IllegalArgumentException e) {
      throw bad(e.getMessage());
    }
  }

  /** Applies {@code --log-format} to the root logger's handlers. */
  private void configureLogging() {
    String f = logFormat.trim().toLowerCase(Locale.ROOT);
    if (f.equals("json")) {
      for (Handler h : Logger.getLogger("").getHandlers()) {
        h.setFormatter(new JsonFormatter());
      }
    } else if (!f.equals("text")) {
      throw bad("--log-format must be text or json, got " + logFormat);
    }
  }

  private ServerConfig toConfig() {
    ServerConfig d = ServerConfig.defaults();
    if (port < 0 || port > 65535) {
      throw new CommandLine.ParameterException(new CommandLine(this),
          "--port must be in [0, 65535], got " + port);
    }
    long heap = Runtime.getRuntime().maxMemory();
    long budget = parseSize(memoryBudget, "--memory-budget", heap);
    long maxMessage = parseSize(maxInboundMessageSize, "--max-inbound-message-size", 0);
    if (maxMessage < 1024 || maxMessage > Integer.MAX_VALUE) {
      throw bad("--max-inbound-message-size must be between 1k and 2047m, got "
          + maxInboundMessageSize);
    }
    if (maxConcurrentFits < 1) {
      throw bad("--max-concurrent-fits must be at least 1, got " + maxConcurrentFits);
    }
    if (workerThreads < 0 || trainingThreads < 0) {
      throw bad("--worker-threads and --training-threads must be 0 (automatic) or more");
    }
    return new ServerConfig(port, pluginsDir, budget, (int) maxMessage,
        workerThreads == 0 ? d.workerThreads() : workerThreads,
        trainingThreads == 0 ? d.trainingThreads() : trainingThreads,
        maxConcurrentFits, d.maxQueuedFits(),
        parseDuration(uploadTtl, "--upload-ttl"), parseDuration(shutdownGrace,
            "--shutdown-grace"), !noReflection, !noWarmup, toLimits());
  }

  /** The explicit limits from their flags; one out of its range is a usage error. */
  Limits toLimits() {
    Limits l = Limits.defaults();
    long[] given = {maxRows, maxCols, maxRequestEntries, maxUploadEntries, maxFactors, maxK,
        maxIdsPerRequest, maxKeyLength, maxNameLength, maxParams, maxConcurrentUploads,
        maxModels};
    Limits.Limit[] which = {Limits.Limit.ROWS, Limits.Limit.COLS,
        Limits.Limit.REQUEST_ENTRIES, Limits.Limit.UPLOAD_ENTRIES, Limits.Limit.FACTORS,
        Limits.Limit.K, Limits.Limit.IDS, Limits.Limit.KEY_LENGTH, Limits.Limit.NAME_LENGTH,
        Limits.Limit.PARAMS, Limits.Limit.UPLOADS, Limits.Limit.MODELS};
    for (int i = 0; i < which.length; i++) {
      try {
        l = l.with(which[i], given[i]);
      } catch (IllegalArgumentException e) {
        throw bad(e.getMessage());
      }
    }
    return l;
  }

  Connections toConnections() {
    Duration time = parseOptionalDuration(keepaliveTime, "--keepalive-time");
    Duration timeout = parseDuration(keepaliveTimeout, "--keepalive-timeout");
    Duration age = parseOptionalDuration(maxConnectionAge, "--max-connection-age");
    Duration grace = parseOptionalDuration(maxConnectionAgeGrace, "--max-connection-age-grace");
    if (time != null && time.isZero() || timeout.isZero()) {
      throw bad("--keepalive-time and --keepalive-timeout must be positive (or off for the"
          + " time)");
    }
    if (age != null && age.compareTo(Duration.ofSeconds(1)) < 0) {
      throw bad("--max-connection-age must be at least 1s (or off), got " + maxConnectionAge);
    }
    return new Connections(time, timeout, age, grace);
  }

  /** As {@link #parseDuration}, and "off" (or "never", "infinite") gives null. */
  private Duration parseOptionalDuration(String text, String flag) {
    String t = text.trim().toLowerCase(Locale.ROOT);
    if (t.equals("off") || t.equals("never") || t.equals("infinite")) {
      return null;
    }
    return parseDuration(text, flag);
  }

  private ServerTls loadTls() {
    if (tlsCert == null && tlsKey == null) {
      if (tlsClientCa != null) {
        throw bad("--tls-client-ca needs --tls-cert and --tls-key");
      }
      return null;
    }
    if (tlsCert == null || tlsKey == null) {
      throw bad("--tls-cert and --tls-key go together");
    }
    Duration refresh = parseDuration(tlsRefresh, "--tls-refresh");
    if (refresh.isZero()) {
      throw bad("--tls-refresh must be positive, got " + tlsRefresh);
    }
    try {
      return ServerTls.load(tlsCert, tlsKey, tlsClientCa, refresh);
    } catch (IOException | GeneralSecurityException | RuntimeException e) {
      throw bad("cannot load TLS files (" + tlsCert + ", " + tlsKey
          + (tlsClientCa == null ? "" : ", " + tlsClientCa) + "): " + e.getMessage());
    }
  }

  private RepositoryConfig toRepositoryConfig() {
    ModelStore.Preload p;
    try {
      p = ModelStore.Preload.valueOf(preload.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw bad("--preload must be all, aliases or none, got " + preload);
    }
    Duration poll = parseDuration(storePoll, "--store-poll");
    if (poll.isZero()) {
      throw bad("--store-poll must be positive, got " + storePoll);
    }
    String uri = modelStore == null || modelStore.isBlank() ? null : modelStore.trim();
    return new RepositoryConfig(uri, s3Endpoint, s3PathStyle, s3Region, p, poll);
  }

  /** The {@code --ann-*} flags, checked. */
  AnnSettings toAnnSettings() {
    try {
      return new AnnSettings(annMinRows, annMaxConn, annBeamWidth, annEfSearch,
          Metric.ofInnerProduct(annMip), AnnSettings.DEFAULT_RECALL_SAMPLES, annBuildThreads,
          annRecallTarget, AnnTarget.parseList(annIndexes));
    } catch (IllegalArgumentException e) {
      throw bad(e.getMessage().startsWith("--") ? e.getMessage() : "--ann-mip: "
          + e.getMessage());
    }
  }

  private CommandLine.ParameterException bad(String message) {
    return new CommandLine.ParameterException(new CommandLine(this), message);
  }

  /** Parses 512, 64k, 512m, 8g, or (when {@code whole} > 0) a percentage of {@code whole}. */
  long parseSize(String text, String flag, long whole) {
    String t = text.trim().toLowerCase(Locale.ROOT);
    try {
      if (t.endsWith("%") && whole > 0) {
        double pct = Double.parseDouble(t.substring(0, t.length() - 1));
        if (pct <= 0 || pct > 100) {
          throw bad(flag + " percentage must be in (0, 100], got " + text);
        }
        return (long) (whole * pct / 100);
      }
      long mult = 1;
      char last = t.isEmpty() ? ' ' : t.charAt(t.length() - 1);
      if (last == 'k' || last == 'm' || last == 'g' || last == 't') {
        mult = 1L << (10 * ("kmgt".indexOf(last) + 1));
        t = t.substring(0, t.length() - 1);
      }
      long v = (long) (Double.parseDouble(t) * mult);
      if (v <= 0) {
        throw bad(flag + " must be positive, got " + text);
      }
      return v;
    } catch (NumberFormatException e) {
      throw bad(flag + " must look like 512m, 8g" + (whole > 0 ? " or 60%" : "") + ", got "
          + text);
    }
  }

  private Duration parseDuration(String text, String flag) {
    String t = text.trim().toLowerCase(Locale.ROOT);
    try {
      long mult = 1;
      if (t.endsWith("ms")) {
        return Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2)));
      } else if (t.endsWith("s")) {
        t = t.substring(0, t.length() - 1);
      } else if (t.endsWith("m")) {
        mult = 60;
        t = t.substring(0, t.length() - 1);
      } else if (t.endsWith("h")) {
        mult = 3600;
        t = t.substring(0, t.length() - 1);
      }
      long v = Long.parseLong(t) * mult;
      if (v < 0) {
        throw bad(flag + " must not be negative, got " + text);
      }
      return Duration.ofSeconds(v);
    } catch (NumberFormatException e) {
      throw bad(flag + " must look like 90s, 30m or 1h, got " + text);
    }
  }

  /** Reports the version from the jar's manifest. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = Main.class.getPackage().getImplementationVersion();
      return new String[] {"mfserve-server " + (v == null ? "dev" : v)};
    }
  }
}
