package io.mfserve.client.cli;

import io.mfserve.proto.v1.DeleteModelResponse;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code mfctl delete MODEL}: removes a model and frees its memory. */
@Command(name = "delete", mixinStandardHelpOptions = true,
    description = "Deletes a model and frees its memory.")
final class DeleteCommand implements Callable<Integer> {
  @ParentCommand
  Mfctl mfctl;

  @Parameters(paramLabel = "MODEL", description = "The model id.")
  String modelId;

  @Override
  public Integer call() {
    DeleteModelResponse r = mfctl.client().deleteModel(modelId);
    if (mfctl.json()) {
      mfctl.out().println(new Json().beginObject().field("model_id", modelId)
          .field("freed_bytes", r.getFreedBytes()).endObject());
    } else {
      mfctl.out().println("deleted model " + modelId + " (freed " + Fmt.bytes(r.getFreedBytes())
          + ")");
    }
    return Mfctl.EXIT_OK;
  }
}
