package io.mfserve.client.cli;

import io.mfserve.client.cli.InputFiles.InputException;
import io.mfserve.proto.v1.ModelInfo;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code mfctl import FILE}: serves a snapshot written by {@code mfctl export}. */
@Command(name = "import", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Serves a model snapshot written by 'mfctl export'.",
        "The server checks the snapshot (or a repository file), stores it in its repository "
            + "and serves it. On a terminal a progress bar on stderr shows the MiB sent; "
            + "--quiet turns it off."})
final class ImportCommand implements Callable<Integer> {
  @ParentCommand
  Mfctl mfctl;

  @Parameters(paramLabel = "FILE", description = "The snapshot; '-' for standard input.")
  String file;

  @Option(names = "--model-id", paramLabel = "ID", defaultValue = "",
      description = "Serve it under this id. Default: the id stored in the snapshot.")
  String modelId;

  @Mixin
  QuietOption quiet;

  @Override
  public Integer call() throws IOException {
    mfctl.client();
    ModelInfo info;
    long size = -1;
    String name = file.equals("-") ? "standard input" : file;
    if (file.equals("-")) {
      info = send(System.in, -1);
    } else {
      Path path = Path.of(file);
      try (InputStream in = new BufferedInputStream(Files.newInputStream(path), 1 << 16)) {
        size = Files.size(path);
        info = send(in, size);
      } catch (NoSuchFileException e) {
        throw new InputException("cannot read " + file + ": no such file");
      } catch (AccessDeniedException e) {
        throw new InputException("cannot read " + file + ": permission denied");
      }
    }
    if (mfctl.json()) {
      mfctl.out().println(Json.proto(info));
    } else {
      mfctl.out().println("imported " + name + (size >= 0 ? " (" + Fmt.bytes(size) + ")" : "")
          + " as model " + info.getModelId());
      Views.modelInfo(mfctl.out(), info);
    }
    return Mfctl.EXIT_OK;
  }

  private ModelInfo send(InputStream in, long size) throws IOException {
    try (Progress.TransferBar bar = mfctl.progress(quiet.quiet).transfer("import "
        + (file.equals("-") ? "stdin" : Path.of(file).getFileName()))) {
      return mfctl.client().importModel(in, modelId, size, bar);
    }
  }
}
