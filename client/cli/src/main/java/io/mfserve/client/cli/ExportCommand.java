package io.mfserve.client.cli;

import io.mfserve.client.cli.InputFiles.InputException;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/**
 * {@code mfctl export MODEL -o FILE}: a model's snapshot, as {@code mfctl import} reads it on any
 * server. A file is written under a temporary name and renamed when complete, so a failed export
 * never leaves a truncated snapshot under FILE.
 */
@Command(name = "export", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Writes a model's snapshot to a file, for 'mfctl import' on any server.",
        "The snapshot is the repository's versioned binary format, with a checksum per "
            + "section. The file appears only once complete. On a terminal a progress bar on "
            + "stderr shows the MiB received; --quiet turns it off."})
final class ExportCommand implements Callable<Integer> {
  @ParentCommand
  Mfctl mfctl;

  @Parameters(paramLabel = "MODEL", description = "The model id or alias.")
  String modelId;

  @Option(names = {"-o", "--output"}, paramLabel = "FILE", required = true,
      description = "Where the snapshot goes; '-' for standard output.")
  String output;

  @Mixin
  QuietOption quiet;

  @Override
  public Integer call() throws IOException {
    mfctl.client();
    if (output.equals("-")) {
      OutputStream out = mfctl.out();
      try (Progress.TransferBar bar = mfctl.progress(quiet.quiet).transfer("export " + modelId)) {
        mfctl.client().exportModel(modelId, out, bar);
      }
      out.flush();
      return Mfctl.EXIT_OK;
    }
    Path file = Path.of(output);
    Path dir = file.toAbsolutePath().getParent();
    Path part;
    try {
      part = Files.createTempFile(dir, "." + file.getFileName() + ".", ".part");
    } catch (NoSuchFileException e) {
      throw new InputException("cannot write " + file + ": no such directory");
    } catch (AccessDeniedException e) {
      throw new InputException("cannot write " + file + ": permission denied");
    }
    long bytes;
    try {
      try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(part), 1 << 16);
          Progress.TransferBar bar = mfctl.progress(quiet.quiet)
              .transfer("export " + modelId)) {
        bytes = mfctl.client().exportModel(modelId, out, bar);
      }
      move(part, file);
    } finally {
      Files.deleteIfExists(part);
    }
    if (mfctl.json()) {
      mfctl.out().println(new Json().beginObject().field("model_id", modelId)
          .field("output", file.toString()).field("bytes", bytes).endObject());
    } else {
      mfctl.out().println("exported model " + modelId + " (" + Fmt.bytes(bytes) + ") to "
          + file);
    }
    return Mfctl.EXIT_OK;
  }

  private static void move(Path from, Path to) throws IOException {
    try {
      Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
    }
  }
}
