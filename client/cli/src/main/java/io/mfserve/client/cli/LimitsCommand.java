package io.mfserve.client.cli;

import io.mfserve.proto.v1.GetServerInfoResponse;
import io.mfserve.proto.v1.LimitInfo;
import java.io.PrintStream;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParentCommand;

/** {@code mfctl limits}: the server's version and every limit, with the flag that sets it. */
@Command(name = "limits", mixinStandardHelpOptions = true,
    description = "Shows the server's limits (GetServerInfo): each value, the server flag that"
        + " sets it, and the status a request over it gets.")
final class LimitsCommand implements Callable<Integer> {
  @ParentCommand
  Mfctl mfctl;

  @Override
  public Integer call() {
    GetServerInfoResponse info = mfctl.client().getServerInfo();
    PrintStream out = mfctl.out();
    if (mfctl.json()) {
      out.println(Json.proto(info));
      return Mfctl.EXIT_OK;
    }
    out.println("mfserve " + info.getVersion());
    Table t = new Table("LIMIT", "VALUE", "FLAG", "OVER IT", "BOUNDS");
    for (LimitInfo l : info.getLimitsList()) {
      t.add(l.getName(), l.getName().endsWith("_bytes") ? Fmt.bytes(l.getValue())
          : Long.toString(l.getValue()), l.getFlag(), l.getStatus(),
          Mfctl.oneLine(l.getDescription()));
    }
    t.print(out, "");
    return Mfctl.EXIT_OK;
  }
}
