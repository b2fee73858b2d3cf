package io.mfserve.client.cli;

import io.mfserve.proto.v1.ModelInfo;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code mfctl model MODEL}: one model's description and provenance. */
@Command(name = "model", mixinStandardHelpOptions = true,
    description = "Describes one model: shape, solver, parameters, training curve.")
final class ModelCommand implements Callable<Integer> {
  @ParentCommand
  Mfctl mfctl;

  @Parameters(paramLabel = "MODEL", description = "The model id.")
  String modelId;

  @Override
  public Integer call() {
    ModelInfo m = mfctl.model(modelId);
    if (mfctl.json()) {
      mfctl.out().println(Json.proto(m));
    } else {
      Views.modelInfo(mfctl.out(), m);
    }
    return Mfctl.EXIT_OK;
  }
}
