package io.mfserve.client.cli;

import picocli.CommandLine.Option;

/**
 * {@code --quiet} for a command that draws progress bars, so that it may also follow the command
 * name ({@code mfctl fit FILE --quiet}); {@code mfctl --quiet COMMAND} works for every command.
 */
final class QuietOption {
  @Option(names = "--quiet", description = "No progress bars on stderr (they are drawn only on "
      + "a terminal, never with --json).")
  boolean quiet;
}
