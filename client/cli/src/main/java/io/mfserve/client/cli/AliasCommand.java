package io.mfserve.client.cli;

import io.mfserve.proto.v1.Alias;
import io.mfserve.proto.v1.DeleteAliasResponse;
import io.mfserve.proto.v1.ListAliasesResponse;
import io.mfserve.proto.v1.SetAliasResponse;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code mfctl alias set|get|list|delete}: stable names for models, accepted by every command in
 * place of a model id and resolved by the server once per request.
 */
@Command(name = "alias", mixinStandardHelpOptions = true, synopsisSubcommandLabel = "COMMAND",
    description = {"Manages aliases: stable names (e.g. prod) for models, accepted wherever a "
          + "model id is.",
        "Moving an alias can be a compare-and-set (--expect), so two deployers cannot overwrite "
            + "each other's switch unnoticed."},
    subcommands = {AliasCommand.Set.class, AliasCommand.Get.class, AliasCommand.ListAliases.class,
        AliasCommand.Delete.class})
final class AliasCommand implements Callable<Integer> {
  @ParentCommand
  Mfctl mfctl;

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() {
    throw new ParameterException(spec.commandLine(),
        "missing command: one of " + String.join(", ", spec.subcommands().keySet()));
  }

  /** {@code mfctl alias set ALIAS MODEL}. */
  @Command(name = "set", mixinStandardHelpOptions = true, sortOptions = false,
      description = "Points ALIAS at MODEL, creating or moving it.")
  static final class Set implements Callable<Integer> {
    @ParentCommand
    AliasCommand parent;

    @Parameters(index = "0", paramLabel = "ALIAS",
        description = "The alias ([A-Za-z0-9._-], up to 128 characters).")
    String alias;

    @Parameters(index = "1", paramLabel = "MODEL", description = "The model id to point it at.")
    String modelId;

    @ArgGroup(exclusive = true)
    Expectation expectation;

    /** At most one condition. */
    static final class Expectation {
      @Option(names = "--expect", paramLabel = "MODEL",
          description = "Only if the alias points at MODEL now (compare-and-set); else the "
              + "server refuses with FAILED_PRECONDITION.")
      String model;

      @Option(names = "--expect-absent",
          description = "Only if the alias does not exist yet.")
      boolean absent;
    }

    @Override
    public Integer call() {
      String expected = expectation == null ? null
          : expectation.absent ? "" : expectation.model;
      Mfctl mfctl = parent.mfctl;
      SetAliasResponse r = mfctl.client().setAlias(alias, modelId, expected);
      if (mfctl.json()) {
        mfctl.out().println(Json.proto(r));
      } else {
        String was = r.getPreviousModelId();
        mfctl.out().println("alias " + r.getAlias().getAlias() + " -> "
            + r.getAlias().getModelId() + (was.isEmpty() ? " (new)"
            : was.equals(r.getAlias().getModelId()) ? " (unchanged)" : " (was " + was + ")"));
      }
      return Mfctl.EXIT_OK;
    }
  }

  /** {@code mfctl alias get ALIAS}. */
  @Command(name = "get", mixinStandardHelpOptions = true,
      description = "Prints the model ALIAS points at.")
  static final class Get implements Callable<Integer> {
    @ParentCommand
    AliasCommand parent;

    @Parameters(paramLabel = "ALIAS", description = "The alias.")
    String alias;

    @Override
    public Integer call() {
      Mfctl mfctl = parent.mfctl;
      Alias a = mfctl.client().getAlias(alias);
      mfctl.out().println(mfctl.json() ? Json.proto(a) : a.getModelId());
      return Mfctl.EXIT_OK;
    }
  }

  /** {@code mfctl alias list}. */
  @Command(name = "list", mixinStandardHelpOptions = true,
      description = "Lists every alias with its model.")
  static final class ListAliases implements Callable<Integer> {
    @ParentCommand
    AliasCommand parent;

    @Override
    public Integer call() {
      Mfctl mfctl = parent.mfctl;
      List<Alias> aliases = mfctl.client().listAliases();
      if (mfctl.json()) {
        mfctl.out().println(Json.proto(ListAliasesResponse.newBuilder().addAllAliases(aliases)));
      } else if (aliases.isEmpty()) {
        mfctl.out().println("no aliases; create one with: mfctl alias set ALIAS MODEL");
      } else {
        Table t = new Table("ALIAS", "MODEL");
        aliases.forEach(a -> t.add(a.getAlias(), a.getModelId()));
        t.print(mfctl.out(), "");
      }
      return Mfctl.EXIT_OK;
    }
  }

  /** {@code mfctl alias delete ALIAS}. */
  @Command(name = "delete", mixinStandardHelpOptions = true, sortOptions = false,
      description = "Removes ALIAS; the model stays.")
  static final class Delete implements Callable<Integer> {
    @ParentCommand
    AliasCommand parent;

    @Parameters(paramLabel = "ALIAS", description = "The alias.")
    String alias;

    @Option(names = "--expect", paramLabel = "MODEL",
        description = "Only if the alias points at MODEL now; else the server refuses with "
            + "FAILED_PRECONDITION.")
    String expected;

    @Override
    public Integer call() {
      Mfctl mfctl = parent.mfctl;
      DeleteAliasResponse r = mfctl.client().deleteAlias(alias, expected);
      if (mfctl.json()) {
        mfctl.out().println(new Json().beginObject().field("alias", alias)
            .field("previous_model_id", r.getPreviousModelId()).endObject());
      } else {
        mfctl.out().println("deleted alias " + alias + " (it pointed at "
            + r.getPreviousModelId() + ")");
      }
      return Mfctl.EXIT_OK;
    }
  }
}
