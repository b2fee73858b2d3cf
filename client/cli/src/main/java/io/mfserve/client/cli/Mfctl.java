package io.mfserve.client.cli;

import io.grpc.ChannelCredentials;
import io.grpc.ClientInterceptor;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.mfserve.client.MfChannels;
import io.mfserve.client.MfClient;
import io.mfserve.client.MfServeException;
import io.mfserve.client.cli.InputFiles.InputException;
import io.mfserve.proto.v1.ModelInfo;
import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.logging.Level;
import java.util.logging.Logger;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * {@code mfctl}, the command line of mfserve: trains models from rating files, shows them, and
 * queries them, through the {@link MfClient} library only.
 *
 * <p>Output is human-readable by default (aligned tables) and JSON with {@code --json}. Every
 * failure prints one line on standard error and exits non-zero: {@value #EXIT_USAGE} for a usage
 * error or an unreadable input file, {@value #EXIT_SERVER} for an error returned by the server,
 * {@value #EXIT_UNREACHABLE} when the server cannot be reached.
 *
 * <p>Tests run it in-process with {@link #run(String[], PrintStream, PrintStream, Function)},
 * passing a channel factory that returns an in-process channel.
 */
@Command(
    name = "mfctl",
    mixinStandardHelpOptions = true,
    scope = ScopeType.INHERIT,
    versionProvider = Mfctl.Version.class,
    sortOptions = false,
    usageHelpAutoWidth = true,
    description = "Trains matrix-factorization models on an mfserve server and queries them.",
    synopsisSubcommandLabel = "COMMAND",
    subcommands = {FitCommand.class, EvalCommand.class, FactorsCommand.class, PredictCommand.class,
        RecommendCommand.class, ModelsCommand.class, ModelCommand.class, DeleteCommand.class,
        AliasCommand.class, ExportCommand.class, ImportCommand.class,
        ImportFactorsCommand.class, SolversCommand.class, PlotCommand.class,
        SimilarCommand.class, ExplainCommand.class, LoadtestCommand.class, RecallCommand.class,
        TopicsCommand.class, LimitsCommand.class})
public final class Mfctl implements Callable<Integer> {
  /** The largest answer mfctl takes: a PredictRow of about 40 million items. */
  static final int MAX_INBOUND_BYTES = 512 << 20;

  /** The server used when neither {@code --target} nor {@code MFSERVE_TARGET} says otherwise. */
  public static final String DEFAULT_TARGET = "localhost:50051";

  /** Exit code of a successful command. */
  public static final int EXIT_OK = 0;

  /** Exit code when the server returned an error. */
  public static final int EXIT_SERVER = 1;

  /** Exit code of a usage error or an unreadable input file. */
  public static final int EXIT_USAGE = 2;

  /** Exit code when the server cannot be reached. */
  public static final int EXIT_UNREACHABLE = 3;

  // Set on the top command only: as an annotation attribute, scope INHERIT would copy it into
  // every subcommand's help.
  private static final String[] FOOTER = {"", "Examples:",
      "  mfctl fit ml-100k/u.data --factors 20 --model-id ml100k",
      "  mfctl recommend ml100k --user 196 -k 5 --exclude-seen",
      "  mfctl similar ml100k --item 50 -k 5",
      "  mfctl loadtest --rpc recommend --model ml100k --concurrency 32 --duration 30s",
      "  mfctl --json models",
      "  mfctl alias set prod ml100k --expect ml100k-old",
      "  mfctl export prod -o prod.mfsnap",
      "  mfctl plot ml100k --loss loss.png --embedding items.png",
      "", "Exit codes: 0 ok, 1 server error, 2 usage or input file error, 3 server unreachable."};

  /** Held strongly: java.util.logging forgets the level of a logger that was collected. */
  private static final Logger GRPC_LOGGER = Logger.getLogger("io.grpc");

  static final String START_HINT = "start it with: java -jar server/target/mfserve-server.jar";

  @Option(names = "--target", paramLabel = "HOST:PORT", scope = ScopeType.INHERIT,
      defaultValue = "${env:MFSERVE_TARGET:-" + DEFAULT_TARGET + "}",
      description = "The server (default: ${DEFAULT-VALUE}; env MFSERVE_TARGET).")
  String target;

  @Option(names = "--json", scope = ScopeType.INHERIT,
      description = "Print machine-readable JSON instead of tables.")
  boolean json;

  // Not inherited: a subcommand with progress output takes its own --quiet (QuietOption), so
  // that it may come before or after the command name.
  @Option(names = "--quiet", scope = ScopeType.LOCAL,
      description = "No progress bars on stderr (they are drawn only on a terminal, never "
          + "with --json).")
  boolean quiet;

  @Option(names = "--timeout", paramLabel = "SECONDS", scope = ScopeType.INHERIT,
      description = "Deadline of each call, in seconds (default: 600 for fit, factors, "
          + "export, import and import-factors, 30 for the others).")
  Double timeoutSeconds;

  @Option(names = "--tls", scope = ScopeType.INHERIT,
      description = "Connect with TLS, trusting the JVM's CAs or --ca (implied by --ca, --cert).")
  boolean tls;

  @Option(names = "--ca", paramLabel = "PEM", scope = ScopeType.INHERIT,
      defaultValue = "${env:MFSERVE_CA}",
      description = "CA certificates (PEM) the server's certificate must chain to (env"
          + " MFSERVE_CA).")
  File ca;

  @Option(names = "--cert", paramLabel = "PEM", scope = ScopeType.INHERIT,
      defaultValue = "${env:MFSERVE_CERT}",
      description = "Client certificate (PEM) for mutual TLS, with --key (env MFSERVE_CERT).")
  File cert;

  @Option(names = "--key", paramLabel = "PEM", scope = ScopeType.INHERIT,
      defaultValue = "${env:MFSERVE_KEY}",
      description = "Private key of --cert (PKCS#8 PEM; env MFSERVE_KEY).")
  File key;

  @Option(names = "--token", paramLabel = "TOKEN", scope = ScopeType.INHERIT,
      defaultValue = "${env:MFSERVE_TOKEN}", showDefaultValue = CommandLine.Help.Visibility.NEVER,
      description = "Bearer token sent with every call, for a server run with --auth-tokens"
          + " (env MFSERVE_TOKEN, which keeps it out of the process list).")
  String token;

  @Spec
  CommandSpec spec;

  private final PrintStream out;
  private final PrintStream err;
  private final Function<String, ManagedChannel> channels;
  private final LoadChannels.Opener loadChannels;
  private ManagedChannel channel;
  private MfClient client;

  private Mfctl(PrintStream out, PrintStream err, Function<String, ManagedChannel> channels,
      LoadChannels.Opener loadChannels) {
    this.out = out;
    this.err = err;
    this.channels = channels;
    this.loadChannels = loadChannels;
  }

  /**
   * Runs mfctl and exits the JVM with its exit code.
   *
   * @param args the command line
   */
  public static void main(String[] args) {
    if (System.getenv("MFCTL_DEBUG") == null) {
      // grpc-java logs transport failures (an unknown host, a refused connection) through
      // java.util.logging with stack traces; mfctl reports them itself, in one line.
      GRPC_LOGGER.setLevel(Level.OFF);
    }
    System.exit(run(args, System.out, System.err));
  }

  /**
   * Runs mfctl against a real server at {@code --target}, over TLS when --tls, --ca or --cert
   * says so, plaintext otherwise.
   *
   * @param args the command line, without the program name
   * @param out where results go
   * @param err where errors go, one line each
   * @return the exit code: 0 ok, 1 server error, 2 usage error, 3 server unreachable
   */
  public static int run(String[] args, PrintStream out, PrintStream err) {
    return run(args, out, err, null, null);
  }

  /**
   * Runs mfctl with channels from the given factory; the channel is shut down before returning.
   *
   * @param args the command line, without the program name
   * @param out where results go
   * @param err where errors go, one line each
   * @param channels makes a channel to a target ({@code --target}); tests pass an in-process one
   * @return the exit code: 0 ok, 1 server error, 2 usage error, 3 server unreachable
   */
  public static int run(String[] args, PrintStream out, PrintStream err,
      Function<String, ManagedChannel> channels) {
    return run(args, out, err, channels,
        (target, count) -> LoadChannels.over(channels, target, count));
  }

  private static int run(String[] args, PrintStream out, PrintStream err,
      Function<String, ManagedChannel> channels, LoadChannels.Opener loadChannels) {
    Mfctl mfctl = new Mfctl(out, err, channels, loadChannels);
    CommandLine cl = new CommandLine(mfctl);
    cl.getCommandSpec().usageMessage().footer(FOOTER);
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    cl.setParameterExceptionHandler(mfctl::onUsageError);
    cl.setExecutionExceptionHandler((e, command, parsed) -> mfctl.onFailure(e, command));
    try {
      return cl.execute(args);
    } finally {
      mfctl.closeChannel();
      out.flush();
      err.flush();
    }
  }

  /** Transport credentials from --tls, --ca, --cert and --key. */
  private ChannelCredentials credentials() {
    boolean secure = tls || ca != null || cert != null || key != null;
    if (!secure) {
      return InsecureChannelCredentials.create();
    }
    if ((cert == null) != (key == null)) {
      throw new ParameterException(spec.commandLine(), "--cert and --key go together");
    }
    try {
      return MfChannels.tls(ca, cert, key);
    } catch (IOException | IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), "cannot read the TLS files (--ca, --cert,"
          + " --key): " + oneLine(e.getMessage()));
    }
  }

  private List<ClientInterceptor> interceptors() {
    return token == null || token.isBlank() ? List.of()
        : List.of(MfChannels.tokenInterceptor(token));
  }

  /** {@code mfctl} with no command: a usage error. */
  @Override
  public Integer call() {
    throw new ParameterException(spec.commandLine(),
        "missing command: one of " + String.join(", ", spec.subcommands().keySet()));
  }

  // ---------------------------------------------------------------------------------------
  // Shared by the commands.

  /** The client, connected on first use. */
  MfClient client() {
    if (client == null) {
      if (target == null || target.isBlank()) {
        throw new ParameterException(spec.commandLine(),
            "--target is empty; give the server as host:port");
      }
      if (timeoutSeconds != null && !(timeoutSeconds > 0)) {
        throw new ParameterException(spec.commandLine(),
            "--timeout must be a positive number of seconds, got " + timeoutSeconds);
      }
      try {
        channel = channels != null ? channels.apply(target)
            // A PredictRow answer names every item (up to 12 bytes each): 1.7 million items
            // made 11.9 MB, past gRPC's default 4 MiB. mfctl trusts the server it is pointed at.
            : Grpc.newChannelBuilder(target, credentials())
                .maxInboundMessageSize(MAX_INBOUND_BYTES).build();
      } catch (IllegalArgumentException e) {
        throw new ParameterException(spec.commandLine(),
            "invalid --target '" + target + "': " + e.getMessage() + "; expected host:port");
      }
      client = new MfClient(MfChannels.withToken(channel, token));
      if (timeoutSeconds != null) {
        Duration d = Duration.ofNanos((long) (timeoutSeconds * 1e9));
        client = client.withFitDeadline(d).withCallDeadline(d);
      }
    }
    return client;
  }

  /**
   * {@code count} new channels to {@code --target}, owned (and closed) by the caller: loadtest
   * spreads its calls over them. Netty channels on event loops of their own when mfctl runs
   * for real; from the same factory as {@link #client()}'s in tests.
   */
  LoadChannels loadChannels(int count) {
    client();
    return loadChannels != null ? loadChannels.open(target, count)
        : LoadChannels.netty(target, count, credentials(), interceptors());
  }

  boolean json() {
    return json;
  }

  /** Whether {@code mfctl --quiet} was given: no progress output on stderr. */
  boolean quiet() {
    return quiet;
  }

  /**
   * Progress bars on stderr, drawn unless --quiet (before or after the command), --json, or not
   * on a terminal.
   *
   * @param commandQuiet the command's own --quiet
   */
  Progress progress(boolean commandQuiet) {
    return new Progress(err, !quiet && !commandQuiet && !json);
  }

  PrintStream out() {
    return out;
  }

  /** The model's id form decides how --user and --item values are sent. */
  ModelInfo model(String modelId) {
    return client().getModel(modelId);
  }

  private void closeChannel() {
    if (channel != null) {
      channel.shutdownNow();
      try {
        channel.awaitTermination(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  // ---------------------------------------------------------------------------------------
  // Errors: one line on stderr, an exit code, no stack trace for anything expected.

  private int onUsageError(ParameterException e, String[] args) {
    String command = e.getCommandLine().getCommandName();
    String qualified = e.getCommandLine().getCommandSpec().qualifiedName();
    String message = oneLine(e.getMessage());
    if (e instanceof CommandLine.UnmatchedArgumentException u && command.equals("mfctl")
        && !u.getUnmatched().isEmpty() && !u.getUnmatched().get(0).startsWith("-")) {
      message = "unknown command '" + u.getUnmatched().get(0) + "'; the commands are "
          + String.join(", ", e.getCommandLine().getSubcommands().keySet());
    }
    err.println(qualified + ": " + message + " (see '" + qualified + " --help')");
    return EXIT_USAGE;
  }

  private int onFailure(Exception e, CommandLine command) {
    String qualified = command.getCommandSpec().qualifiedName();
    if (e instanceof MfServeException m) {
      if (m.isConnectionFailure()) {
        err.println("mfctl: cannot reach mfserve at " + target + reason(m)
            + ": is the server running? " + START_HINT);
        return EXIT_UNREACHABLE;
      }
      String hint = hint(m, qualified);
      err.println(qualified + ": " + oneLine(m.getMessage()) + (hint.isEmpty() ? "" : "; " + hint));
      return EXIT_SERVER;
    }
    if (e instanceof InputException) {
      err.println(qualified + ": " + oneLine(e.getMessage()));
      return EXIT_USAGE;
    }
    if (e instanceof IOException) {
      err.println(qualified + ": " + oneLine(e.getMessage()));
      return EXIT_SERVER;
    }
    if (e instanceof IllegalArgumentException) {
      err.println(qualified + ": " + oneLine(e.getMessage()) + " (see '" + qualified
          + " --help')");
      return EXIT_USAGE;
    }
    // Not expected: still one line, with a way to get the stack trace for a bug report.
    err.println(qualified + ": unexpected error: " + e.getClass().getName() + ": "
        + oneLine(String.valueOf(e.getMessage()))
        + " (set MFCTL_DEBUG=1 for a stack trace, and please report it)");
    if (System.getenv("MFCTL_DEBUG") != null) {
      e.printStackTrace(err);
    }
    return EXIT_SERVER;
  }

  private static String reason(MfServeException m) {
    for (Throwable c = m.getCause(); c != null; c = c.getCause()) {
      String msg = String.valueOf(c.getMessage()).toLowerCase(Locale.ROOT);
      if (c instanceof java.net.UnknownHostException || msg.contains("unable to resolve")) {
        return " (unknown host)";
      }
      if (msg.contains("refused")) {
        return " (connection refused)";
      }
      if (msg.contains("timed out")) {
        return " (connection timed out)";
      }
    }
    return "";
  }

  private static String hint(MfServeException m, String qualified) {
    Status.Code code = m.code();
    String d = m.description().toLowerCase(Locale.ROOT);
    return switch (code) {
      case NOT_FOUND -> d.contains("solver") ? "list the solvers with: mfctl solvers"
          : d.contains("matrix") ? "upload it again"
          : d.contains("alias") ? "list the aliases with: mfctl alias list"
          : "list the models with: mfctl models";
      case INVALID_ARGUMENT -> "check the arguments: " + qualified + " --help";
      case FAILED_PRECONDITION -> d.contains("alias")
          ? "see where it points now with: mfctl alias get ALIAS" : "";
      case ALREADY_EXISTS -> "choose another --model-id, or delete the old model with: "
          + "mfctl delete MODEL";
      case RESOURCE_EXHAUSTED -> d.contains("message") && d.contains("size")
          ? "the message is larger than the server accepts (--max-inbound-message-size)"
          : "free memory with: mfctl delete MODEL, or fit with fewer factors or a smaller"
              + " matrix";
      case DEADLINE_EXCEEDED -> "allow more time with --timeout SECONDS";
      case UNAVAILABLE -> "the server is shutting down or overloaded; try again shortly";
      case UNIMPLEMENTED -> "the server does not offer this call: is it an mfserve v1 server?";
      case UNAUTHENTICATED -> "give a token with --token or MFSERVE_TOKEN";
      case PERMISSION_DENIED -> "this needs a write token";
      default -> "";
    };
  }

  static String oneLine(String s) {
    return s == null ? "" : s.replaceAll("\\s*[\\r\\n]+\\s*", " ").strip();
  }

  /** Reads the version from the jar manifest; "dev" when run from classes. */
  static final class Version implements IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = Mfctl.class.getPackage().getImplementationVersion();
      return new String[] {"mfctl " + (v == null ? "dev" : v) + " (mfserve.v1 API, Java "
            + System.getProperty("java.version") + ")"};
    }
  }
}
