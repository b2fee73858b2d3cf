package io.mfserve.client.cli;

import io.mfserve.proto.v1.AbsentEntries;
import io.mfserve.proto.v1.ListSolversResponse;
import io.mfserve.proto.v1.ParameterInfo;
import io.mfserve.proto.v1.SolverInfo;
import java.io.PrintStream;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParentCommand;

/** {@code mfctl solvers}: the solvers the server has loaded and their parameters. */
@Command(name = "solvers", mixinStandardHelpOptions = true,
    description = "Lists the server's solvers with their parameters.")
final class SolversCommand implements Callable<Integer> {
  @ParentCommand
  Mfctl mfctl;

  @Override
  public Integer call() {
    List<SolverInfo> solvers = mfctl.client().listSolvers();
    PrintStream out = mfctl.out();
    if (mfctl.json()) {
      out.println(Json.proto(ListSolversResponse.newBuilder().addAllSolvers(solvers)));
      return Mfctl.EXIT_OK;
    }
    if (solvers.isEmpty()) {
      out.println("the server has no solvers loaded; check its plugins directory and class path");
      return Mfctl.EXIT_OK;
    }
    boolean first = true;
    for (SolverInfo s : solvers) {
      if (!first) {
        out.println();
      }
      first = false;
      out.println(s.getName() + ": " + Mfctl.oneLine(s.getDescription()));
      out.println("  absent entries: " + absent(s));
      if (s.getParametersCount() == 0) {
        out.println("  no parameters");
        continue;
      }
      Table t = new Table("PARAMETER", "TYPE", "DEFAULT", "RANGE", "DESCRIPTION");
      for (ParameterInfo p : s.getParametersList()) {
        String range = p.getAllowedValuesCount() > 0
            ? String.join("|", p.getAllowedValuesList()) : p.getValidRange();
        t.add(p.getName(), Fmt.type(p.getType()), p.getDefaultValue(), range,
            Mfctl.oneLine(p.getDoc()));
      }
      t.print(out, "  ");
    }
    return Mfctl.EXIT_OK;
  }

  private static String absent(SolverInfo s) {
    StringBuilder sb = new StringBuilder();
    for (AbsentEntries a : s.getSupportedAbsentEntriesList()) {
      if (sb.length() > 0) {
        sb.append(", ");
      }
      sb.append(Fmt.absent(a));
      if (a == s.getDefaultAbsentEntries()) {
        sb.append(" (default)");
      }
    }
    if (sb.length() == 0) {
      sb.append(Fmt.absent(s.getDefaultAbsentEntries())).append(" (default)");
    }
    return sb.toString();
  }
}
