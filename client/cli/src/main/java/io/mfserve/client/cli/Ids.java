package io.mfserve.client.cli;

import io.mfserve.proto.v1.IdForm;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;

/** Users and items given on the command line, read in the model's id form. */
final class Ids {
  private Ids() {}

  static long parse(CommandSpec spec, String option, String value, String modelId, String side) {
    try {
      return Long.parseLong(value.strip());
    } catch (NumberFormatException e) {
      throw new ParameterException(spec.commandLine(), option + " '" + value
          + "' is not an integer; model " + modelId + " names its " + side + " by int64 ids");
    }
  }

  static void json(Json j, String value, IdForm form) {
    if (form == IdForm.ID_FORM_STRING) {
      j.value(value);
    } else {
      j.value(Long.parseLong(value.strip()));
    }
  }
}
