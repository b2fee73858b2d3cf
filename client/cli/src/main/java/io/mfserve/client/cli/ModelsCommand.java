package io.mfserve.client.cli;

import io.mfserve.proto.v1.DamagedModel;
import io.mfserve.proto.v1.ListModelsRequest;
import io.mfserve.proto.v1.ListModelsResponse;
import io.mfserve.proto.v1.ModelInfo;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParentCommand;

/** {@code mfctl models}: every model the server holds, and damaged snapshots. */
@Command(name = "models", mixinStandardHelpOptions = true,
    description = {"Lists the models the server holds, with their aliases.",
        "Models in the server's repository are listed too: RESIDENT says whether this replica "
            + "holds one in memory now (others are loaded on their first request). Snapshots "
            + "in the repository that failed their checks are listed after them."})
final class ModelsCommand implements Callable<Integer> {
  @ParentCommand
  Mfctl mfctl;

  @Override
  public Integer call() {
    ListModelsResponse r = mfctl.client().listModels(ListModelsRequest.getDefaultInstance());
    if (mfctl.json()) {
      mfctl.out().println(Json.proto(r));
      return Mfctl.EXIT_OK;
    }
    if (r.getModelsCount() == 0) {
      mfctl.out().println("no models; train one with: mfctl fit FILE");
    } else {
      // Aliases last: the one column of free width.
      Table t = new Table("MODEL", "SOLVER", "USERS", "ITEMS", "FACTORS", "ITERATIONS",
          "TRAIN RMSE", "FIT TIME", "MEMORY", "RESIDENT", "CREATED", "ALIASES");
      for (ModelInfo m : r.getModelsList()) {
        t.add(m.getModelId(), m.getSolver(), Fmt.count(m.getNumUsers()),
            Fmt.count(m.getNumItems()), m.getNumFactors(),
            m.getIterations(), Fmt.score(m.getTrainingRmse()), Fmt.seconds(m.getFitSeconds()),
            Fmt.bytes(m.getMemoryBytes()), m.getResident() ? "yes" : "no",
            Fmt.time(m.getCreateTime()), String.join(",", m.getAliasesList()));
      }
      t.print(mfctl.out(), "");
    }
    if (r.getDamagedModelsCount() > 0) {
      mfctl.out().println();
      mfctl.out().println("damaged snapshots (they failed their checks and are never served):");
      Table d = new Table("MODEL", "REASON");
      for (DamagedModel m : r.getDamagedModelsList()) {
        d.add(m.getModelId(), Mfctl.oneLine(m.getReason()));
      }
      d.print(mfctl.out(), "");
    }
    return Mfctl.EXIT_OK;
  }
}
