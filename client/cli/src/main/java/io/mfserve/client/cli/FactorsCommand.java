package io.mfserve.client.cli;

import io.mfserve.client.Factors;
import io.mfserve.proto.v1.IdForm;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code mfctl factors MODEL}: a model's user and item factors. */
@Command(name = "factors", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Prints a model's user and item factors (and biases), or writes them as CSV."})
final class FactorsCommand implements Callable<Integer> {
  @ParentCommand
  Mfctl mfctl;

  @Parameters(paramLabel = "MODEL", description = "The model id.")
  String modelId;

  @Option(names = {"-o", "--output"}, paramLabel = "FILE",
      description = "Write CSV to FILE instead: a header 'side,id,f0,...[,bias]'; for a model "
          + "with biases a line 'global,,...,MEAN' (the global mean in the bias column); then "
          + "one line per user ('user',...) and per item ('item',...). String keys are quoted."
          + " 'mfctl import-factors FILE' reads it back.")
  Path output;

  @Override
  public Integer call() throws IOException {
    Factors f = mfctl.client().getFactors(modelId);
    if (output != null) {
      FactorsCsv.write(f, output);
      if (mfctl.json()) {
        mfctl.out().println(new Json().beginObject().field("model_id", modelId)
            .field("output", output.toString()).field("users", f.numUsers())
            .field("items", f.numItems()).field("factors", f.numFactors()).endObject());
      } else {
        mfctl.out().println("wrote " + Fmt.count(f.numUsers()) + " user and "
            + Fmt.count(f.numItems()) + " item rows of " + f.numFactors() + " factors to "
            + output);
      }
      return Mfctl.EXIT_OK;
    }
    if (mfctl.json()) {
      printJson(f);
    } else {
      printTables(f, mfctl.out());
    }
    return Mfctl.EXIT_OK;
  }

  private void printJson(Factors f) {
    Json j = new Json().beginObject().proto("model", f.info()).field("num_factors", f.numFactors());
    if (f.hasBiases()) {
      j.field("global_bias", f.globalBias());
    }
    side(j.name("users"), f, true);
    side(j.name("items"), f, false);
    mfctl.out().println(j.endObject());
  }

  private static void side(Json j, Factors f, boolean users) {
    int rows = users ? f.numUsers() : f.numItems();
    boolean keys = (users ? f.userIdForm() : f.itemIdForm()) == IdForm.ID_FORM_STRING;
    j.beginObject().name(keys ? "keys" : "ids").beginArray();
    if (keys) {
      for (String k : users ? f.userKeys() : f.itemKeys()) {
        j.value(k);
      }
    } else {
      for (long id : users ? f.userIds() : f.itemIds()) {
        j.value(id);
      }
    }
    j.endArray();
    if (f.hasBiases()) {
      j.name("biases").beginArray();
      for (float b : users ? f.userBiases() : f.itemBiases()) {
        j.value(b);
      }
      j.endArray();
    }
    float[] flat = users ? f.userFactorsFlat() : f.itemFactorsFlat();
    int k = f.numFactors();
    j.name("factors").beginArray();
    for (int r = 0; r < rows; r++) {
      j.beginArray();
      for (int c = 0; c < k; c++) {
        j.value(flat[r * k + c]);
      }
      j.endArray();
    }
    j.endArray().endObject();
  }

  private static void printTables(Factors f, PrintStream out) {
    out.println("model " + f.modelId() + ": " + Fmt.count(f.numUsers()) + " users x "
        + Fmt.count(f.numItems()) + " items, " + f.numFactors() + " factors"
        + (f.hasBiases() ? ", global bias " + Fmt.score(f.globalBias()) : ""));
    out.println();
    out.println("user factors");
    table(f, true).print(out, "");
    out.println();
    out.println("item factors");
    table(f, false).print(out, "");
  }

  private static Table table(Factors f, boolean users) {
    int k = f.numFactors();
    String[] headers = new String[k + 1 + (f.hasBiases() ? 1 : 0)];
    headers[0] = users ? "USER" : "ITEM";
    for (int c = 0; c < k; c++) {
      headers[c + 1] = "F" + c;
    }
    if (f.hasBiases()) {
      headers[k + 1] = "BIAS";
    }
    Table t = new Table(headers);
    int rows = users ? f.numUsers() : f.numItems();
    float[] flat = users ? f.userFactorsFlat() : f.itemFactorsFlat();
    float[] biases = users ? f.userBiases() : f.itemBiases();
    for (int r = 0; r < rows; r++) {
      Object[] cells = new Object[headers.length];
      cells[0] = users ? f.userName(r) : f.itemName(r);
      for (int c = 0; c < k; c++) {
        cells[c + 1] = Fmt.score(flat[r * k + c]);
      }
      if (f.hasBiases()) {
        cells[k + 1] = Fmt.score(biases[r]);
      }
      t.add(cells);
    }
    return t;
  }
}
