package io.mfserve.client.cli;

import io.mfserve.client.FitListener;
import io.mfserve.client.MfClient;
import io.mfserve.client.TransferProgress;
import io.mfserve.client.UploadProgress;
import io.mfserve.client.cli.InputFiles.Source;
import io.mfserve.proto.v1.FitProgress;
import io.mfserve.proto.v1.FitRequest;
import java.io.BufferedReader;
import java.io.Console;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.function.Consumer;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Progress bars on standard error for mfctl's long operations: reading a large input file,
 * uploading a large matrix, each iteration of a fit, and a model snapshot's export or import.
 * Standard output is never touched, so results stay parseable.
 *
 * <p>Bars are drawn only for a person at a terminal: never with {@code --quiet} or {@code
 * --json}, and never when the standard streams are not a terminal ({@link System#console()} is
 * null, or on Java 22+ not {@code isTerminal()}). A disabled instance does nothing at all.
 *
 * <p>Used from the command's thread only; the bars redraw themselves from a daemon thread of the
 * progress bar library.
 */
final class Progress {
  /** Reading a file shows a bar only once it has taken this long (tests shorten it). */
  static volatile Duration readBarAfter = Duration.ofMillis(500);

  private static final int MIB = 1 << 20;

  /** For tests: a positive width forces bars on, at that width, whatever the terminal. */
  static volatile int forcedWidth;

  private final PrintStream err;
  private final boolean enabled;

  /**
   * @param err where the bars go (mfctl's standard error)
   * @param wanted false for {@code --quiet} or {@code --json}
   */
  Progress(PrintStream err, boolean wanted) {
    this.err = err;
    this.enabled = wanted && (forcedWidth > 0 || terminal());
  }

  /** Whether bars are drawn. */
  boolean enabled() {
    return enabled;
  }

  /**
   * Whether a person is watching: the JVM has a console that is a terminal (standard input and
   * output are one), and standard error is one too where that can be told.
   */
  static boolean terminal() {
    Console console = System.console();
    if (console == null) {
      return false;
    }
    try {
      // Java 22+ returns a console even when redirected; isTerminal() tells them apart.
      Method isTerminal = Console.class.getMethod("isTerminal");
      if (!(Boolean) isTerminal.invoke(console)) {
        return false;
      }
    } catch (ReflectiveOperationException e) {
      // Java 17 to 21: a console means a terminal.
    }
    return stderrIsTerminal();
  }

  /**
   * Whether standard error is a terminal, which Console does not check: on Linux the target of
   * /proc/self/fd/2 says ({@code 2>log} is a file); elsewhere assume it is.
   */
  private static boolean stderrIsTerminal() {
    Path fd2 = Path.of("/proc/self/fd/2");
    try {
      String target = Files.readSymbolicLink(fd2).toString();
      return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty")
          || target.equals("/dev/console");
    } catch (IOException | UnsupportedOperationException | SecurityException e) {
      return true;
    }
  }

  private ProgressBarBuilder bar(String task) {
    int width = forcedWidth;
    return new ProgressBarBuilder()
        .setTaskName(task)
        .setStyle(ProgressBarStyle.UNICODE_BLOCK)
        .setUpdateIntervalMillis(200)
        // Width -1 asks the terminal (through JLine), so a bar never wraps.
        .setConsumer(new ConsoleProgressBarConsumer(err, width > 0 ? width : -1));
  }

  // ---------------------------------------------------------------------------------------
  // Reading input files

  /**
   * The file as a source whose reading shows a bar (bytes of the file) once it has taken longer
   * than {@link #readBarAfter}; call {@link Reading#close()} when done. Disabled: the plain
   * file source.
   */
  Reading reading(Path file) {
    return new Reading(file);
  }

  /** A file being read, with a bar that appears only if reading takes long. */
  final class Reading implements AutoCloseable {
    private final Path file;
    private final Source source;
    private ProgressBar bar;

    private Reading(Path file) {
      this.file = file;
      this.source = enabled ? counted() : InputFiles.file(file);
    }

    /** The source to read. */
    Source source() {
      return source;
    }

    private Source counted() {
      Source plain = InputFiles.file(file);
      return new Source() {
        @Override
        public String name() {
          return plain.name();
        }

        @Override
        public BufferedReader open() throws IOException {
          long size = Files.size(file);
          InputStream in = new Counting(Files.newInputStream(file), size, System.nanoTime());
          // A reporting decoder, as Files.newBufferedReader uses, so bad UTF-8 still fails.
          return new BufferedReader(new InputStreamReader(in,
              StandardCharsets.UTF_8.newDecoder()));
        }
      };
    }

    /** Counts the bytes read and moves the bar, creating it once reading has taken long. */
    private final class Counting extends FilterInputStream {
      private final long size;
      private final long start;
      private long position;

      Counting(InputStream in, long size, long start) {
        super(in);
        this.size = size;
        this.start = start;
      }

      @Override
      public int read() throws IOException {
        int b = super.read();
        if (b >= 0) {
          advance(1);
        }
        return b;
      }

      @Override
      public int read(byte[] buf, int off, int len) throws IOException {
        int n = super.read(buf, off, len);
        if (n > 0) {
          advance(n);
        }
        return n;
      }

      private void advance(int n) {
        position += n;
        if (bar == null) {
          long elapsed = System.nanoTime() - start;
          if (elapsed < readBarAfter.toNanos()) {
            return;
          }
          bar = bar("read " + file.getFileName()).setInitialMax(size).setUnit(" MiB", MIB)
              .startsFrom(0, Duration.ofNanos(elapsed)).build();
        }
        bar.stepTo(Math.min(position, size));
      }
    }

    @Override
    public void close() {
      if (bar != null) {
        bar.stepTo(bar.getMax());
        bar.close();
        bar = null;
      }
    }
  }

  // ---------------------------------------------------------------------------------------
  // Snapshots

  /**
   * A listener that draws a snapshot's transfer in MiB (export or import), the bar appearing on
   * the first chunk. Disabled: it draws nothing. Close it when the transfer ends.
   *
   * @param task the bar's label, e.g. "export ml"
   */
  TransferBar transfer(String task) {
    return new TransferBar(task);
  }

  /** The bar of one snapshot transfer. */
  final class TransferBar implements Consumer<TransferProgress>, AutoCloseable {
    private final String task;
    private ProgressBar bar;

    private TransferBar(String task) {
      this.task = task;
    }

    @Override
    public void accept(TransferProgress p) {
      if (!enabled) {
        return;
      }
      if (bar == null) {
        bar = bar(task).setInitialMax(p.totalBytes()).setUnit(" MiB", MIB).build();
      }
      if (p.totalBytes() > 0 && bar.getMax() != p.totalBytes()) {
        bar.maxHint(p.totalBytes());
      }
      bar.stepTo(p.bytes());
      bar.setExtraMessage(Fmt.count(p.chunks()) + (p.chunks() == 1 ? " chunk" : " chunks"));
    }

    @Override
    public void close() {
      if (bar != null) {
        bar.close();
        bar = null;
      }
    }
  }

  // ---------------------------------------------------------------------------------------
  // Fitting

  /**
   * A listener that draws the upload (MiB and chunks) and then the fit (iteration / max, loss,
   * validation RMSE, the server's ETA). Disabled: it draws nothing. Close it when the fit ends,
   * however it ends.
   */
  FitBars fit(FitRequest request) {
    return new FitBars(request);
  }

  /** The bars of one fit. */
  final class FitBars implements FitListener, AutoCloseable {
    private final FitRequest request;
    private ProgressBar upload;
    private ProgressBar fit;
    /** The server's estimate of the seconds left, from the latest event; read by the bar. */
    private volatile double etaSeconds = -1;

    private FitBars(FitRequest request) {
      this.request = request;
      // A request that goes inline starts training at once: show the bar from the start, since
      // the first iteration may take a while. A large one shows the upload bar first.
      if (enabled && request.getSerializedSize() <= MfClient.INLINE_FIT_LIMIT_BYTES) {
        startFit();
      }
    }

    private void startFit() {
      long max = request.hasMaxIterations() ? request.getMaxIterations() : -1;
      fit = bar("fit " + (request.getSolver().isEmpty() ? "als" : request.getSolver()))
          .setInitialMax(max)
          .setEtaFunction(state -> etaSeconds < 0 ? Optional.empty()
              : Optional.of(Duration.ofMillis((long) (etaSeconds * 1000))))
          .build();
      fit.setExtraMessage("waiting for the first iteration");
    }

    @Override
    public void onUpload(UploadProgress u) {
      if (!enabled) {
        return;
      }
      if (upload == null) {
        upload = bar("upload").setInitialMax(u.totalBytes()).setUnit(" MiB", MIB).build();
      }
      upload.stepTo(u.bytesSent());
      upload.setExtraMessage(Fmt.count(u.chunksSent()) + (u.chunksSent() == 1 ? " chunk"
          : " chunks"));
      if (u.done()) {
        upload.close();
        upload = null;
        startFit();
      }
    }

    @Override
    public void onProgress(FitProgress p) {
      if (!enabled) {
        return;
      }
      if (fit == null) {
        startFit();
      }
      etaSeconds = p.getEtaSeconds();
      if (p.getMaxIterations() > 0 && fit.getMax() != p.getMaxIterations()) {
        fit.maxHint(p.getMaxIterations());
      }
      fit.stepTo(p.getIteration());
      fit.setExtraMessage(message(p));
    }

    @Override
    public void close() {
      if (upload != null) {
        upload.close();
      }
      if (fit != null) {
        fit.close();
      }
    }
  }

  /** The text after a fit bar: the loss, and the validation RMSE when there is one. */
  static String message(FitProgress p) {
    // A solver that cannot compute its objective (spark-als) reports NaN: show no loss then.
    String loss = Double.isNaN(p.getLoss()) ? "" : "loss " + Fmt.sig(p.getLoss());
    String rmse = p.hasValidationRmse() ? "validation RMSE " + Fmt.score(p.getValidationRmse())
        : "";
    return loss.isEmpty() || rmse.isEmpty() ? loss + rmse : loss + ", " + rmse;
  }
}
