package io.mfserve.client.cli;

import io.mfserve.proto.v1.ListModelsResponse;
import io.mfserve.proto.v1.ModelInfo;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParentCommand;

/** {@code mfctl models}: every model the server holds. */
@Command(name = "models", mixinStandardHelpOptions = true,
    description = "Lists the models the server holds.")
final class ModelsCommand implements Callable<Integer> {
  @ParentCommand
  Mfctl mfctl;

  @Override
  public Integer call() {
    List<ModelInfo> models = mfctl.client().listModels();
    if (mfctl.json()) {
      mfctl.out().println(Json.proto(ListModelsResponse.newBuilder().addAllModels(models)));
      return Mfctl.EXIT_OK;
    }
    if (models.isEmpty()) {
      mfctl.out().println("no models; train one with: mfctl fit FILE");
      return Mfctl.EXIT_OK;
    }
    Table t = new Table("MODEL", "SOLVER", "USERS", "ITEMS", "FACTORS", "ITERATIONS",
        "TRAIN RMSE", "FIT TIME", "MEMORY", "CREATED");
    for (ModelInfo m : models) {
      t.add(m.getModelId(), m.getSolver(), Fmt.count(m.getNumUsers()),
          Fmt.count(m.getNumItems()), m.getNumFactors(),
          m.getIterations(), Fmt.score(m.getTrainingRmse()), Fmt.seconds(m.getFitSeconds()),
          Fmt.bytes(m.getMemoryBytes()), Fmt.time(m.getCreateTime()));
    }
    t.print(mfctl.out(), "");
    return Mfctl.EXIT_OK;
  }
}
