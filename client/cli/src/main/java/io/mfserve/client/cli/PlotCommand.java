package io.mfserve.client.cli;

import io.mfserve.client.Factors;
import io.mfserve.proto.v1.ModelInfo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.knowm.xchart.XYChart;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code mfctl plot MODEL}: a model's training curve and item embedding as PNG charts. */
@Command(name = "plot", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Draws a model's training curve and its items as PNG charts.",
        "Needs no display (runs headless)."})
final class PlotCommand implements Callable<Integer> {
  @ParentCommand
  Mfctl mfctl;

  @Spec
  CommandSpec spec;

  @Parameters(paramLabel = "MODEL", description = "The model id.")
  String modelId;

  @Option(names = "--loss", paramLabel = "FILE",
      description = "Write the training loss per iteration to FILE (PNG), with the validation "
          + "RMSE per iteration on a second axis when the model has a validation split.")
  Path loss;

  @Option(names = "--embedding", paramLabel = "FILE",
      description = "Write the items to FILE (PNG) as points on the first two principal "
          + "components of their factors, the most outlying ones labelled with their ids.")
  Path embedding;

  @Option(names = "--labels", paramLabel = "N", defaultValue = "50",
      description = "How many items --embedding labels, outermost first, leaving out labels "
          + "that would overlap (default: ${DEFAULT-VALUE}; 0 for none).")
  int labels;

  @Option(names = "--width", paramLabel = "PIXELS", defaultValue = "1000",
      description = "Width of each chart (default: ${DEFAULT-VALUE}).")
  int width;

  @Option(names = "--height", paramLabel = "PIXELS", defaultValue = "650",
      description = "Height of each chart (default: ${DEFAULT-VALUE}).")
  int height;

  @Override
  public Integer call() throws IOException {
    if (loss == null && embedding == null) {
      throw new ParameterException(spec.commandLine(),
          "nothing to plot: give --loss FILE, --embedding FILE, or both");
    }
    if (labels < 0) {
      throw new ParameterException(spec.commandLine(), "--labels must be 0 or more, got "
          + labels);
    }
    if (width < 200 || height < 150 || width > 10_000 || height > 10_000) {
      throw new ParameterException(spec.commandLine(), "--width and --height must be between "
          + "200x150 and 10000x10000 pixels, got " + width + "x" + height);
    }
    // Fail before downloading anything if a chart could not be written.
    for (Path file : new Path[] {loss, embedding}) {
      Path dir = file == null ? null : file.toAbsolutePath().getParent();
      if (dir != null && !Files.isDirectory(dir)) {
        throw new InputFiles.InputException("cannot write " + file + ": no such directory "
            + dir + "; create it first");
      }
    }
    // Charts are drawn off-screen: no display is needed, or used if there is one.
    System.setProperty("java.awt.headless", "true");
    Factors factors = embedding == null ? null : mfctl.client().getFactors(modelId);
    ModelInfo model = factors != null ? factors.info() : mfctl.model(modelId);
    // Build both charts before writing either, so a model that cannot be drawn writes nothing.
    XYChart lossChart = loss == null ? null : Charts.loss(model, width, height);
    XYChart itemsChart = factors == null ? null
        : Charts.embedding(factors, labels, width, height);
    Json j = new Json().beginObject().field("model_id", modelId);
    if (lossChart != null) {
      Charts.writePng(lossChart, loss);
      j.field("loss", loss.toString());
      if (!mfctl.json()) {
        int n = model.getTrainingLossCount();
        mfctl.out().println("wrote the training curve (" + n + (n == 1 ? " iteration"
            : " iterations") + (model.getValidationRmseCount() > 0 ? ", with validation RMSE"
                : "") + ") to " + loss);
      }
    }
    if (itemsChart != null) {
      Charts.writePng(itemsChart, embedding);
      j.field("embedding", embedding.toString());
      if (!mfctl.json()) {
        mfctl.out().println("wrote " + Fmt.count(factors.numItems()) + " items ("
            + Math.min(labels, factors.numItems()) + " labelled) to " + embedding);
      }
    }
    if (mfctl.json()) {
      mfctl.out().println(j.endObject());
    }
    return Mfctl.EXIT_OK;
  }
}
