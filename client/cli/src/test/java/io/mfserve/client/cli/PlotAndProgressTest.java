package io.mfserve.client.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.google.protobuf.util.JsonFormat;
import io.mfserve.client.FakeMfServer;
import io.mfserve.client.Ratings;
import io.mfserve.proto.v1.FitRequest;
import io.mfserve.proto.v1.ModelInfo;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** {@code mfctl plot} and the progress display of {@code mfctl fit}. */
class PlotAndProgressTest {
  private static final byte[] PNG_SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

  @TempDir
  Path dir;

  private final FakeMfServer fake = new FakeMfServer();
  @RegisterExtension
  final MfctlHarness cli = MfctlHarness.direct(fake);

  @AfterEach
  void terminalOff() {
    Progress.forcedWidth = 0;
    Progress.readBarAfter = Duration.ofMillis(500);
  }

  /** A model of 12 users and 30 items, trained for 8 iterations, with or without validation. */
  private void model(String id, boolean validation) {
    Ratings r = new Ratings();
    for (int i = 0; i < 30; i++) {
      r.add(i % 12, 100 + i, 1 + i % 5);
    }
    FitRequest.Builder request = FitRequest.newBuilder().setNumFactors(3).setMaxIterations(8);
    if (validation) {
      request.setValidationFraction(0.1);
    }
    fake.models.put(id, FakeMfServer.info(id, request.build(), r.toMatrix()));
  }

  private static void assertPng(Path file, int width, int height) throws IOException {
    byte[] bytes = Files.readAllBytes(file);
    assertTrue(bytes.length > 5_000, file + " is only " + bytes.length + " bytes");
    assertArrayEquals(PNG_SIGNATURE, Arrays.copyOf(bytes, 8));
    BufferedImage image = ImageIO.read(file.toFile());
    assertEquals(width, image.getWidth());
    assertEquals(height, image.getHeight());
  }

  private Path uData() throws IOException {
    return Files.writeString(dir.resolve("u.data"),
        "1\t10\t5\t881250949\n1\t20\t3\t881250950\n2\t10\t4\t881250951\n"
            + "3\t30\t1\t881250952\n4\t20\t2\t881250953\n");
  }

  @Test
  void plot_modelWithValidation_writesBothPngs() throws IOException {
    model("v", true);
    Path loss = dir.resolve("loss.png");
    Path items = dir.resolve("items.png");

    assertEquals(0, cli.mfctl("plot", "v", "--loss", loss.toString(), "--embedding",
        items.toString()), cli.err());

    assertPng(loss, 1000, 650);
    assertPng(items, 1000, 650);
    assertEquals("", cli.err());
    assertTrue(cli.out().contains("(8 iterations, with validation RMSE) to " + loss), cli.out());
    assertTrue(cli.out().contains("wrote 30 items (30 labelled) to " + items), cli.out());
  }

  @Test
  void plot_modelWithoutValidation_writesTheLossChartAtTheAskedSize() throws IOException {
    model("n", false);
    Path loss = dir.resolve("curve.png");

    assertEquals(0, cli.mfctl("plot", "n", "--loss", loss.toString(), "--width", "640",
        "--height", "400"), cli.err());

    assertPng(loss, 640, 400);
    assertTrue(cli.out().contains("(8 iterations) to " + loss), cli.out());
  }

  @Test
  void plot_embeddingWithFewLabels_json_printsThePaths() throws IOException {
    model("m", false);
    Path items = dir.resolve("e.png");

    assertEquals(0, cli.mfctl("--json", "plot", "m", "--embedding", items.toString(), "--labels",
        "5"), cli.err());

    assertPng(items, 1000, 650);
    assertEquals("{\"model_id\":\"m\",\"embedding\":\"" + items + "\"}", cli.out().strip());
  }

  @Test
  void plot_nothingAsked_isAUsageError() {
    model("m", false);

    assertEquals(Mfctl.EXIT_USAGE, cli.mfctl("plot", "m"));

    assertEquals(1, cli.err().lines().count(), cli.err());
    assertTrue(cli.err().startsWith("mfctl plot: nothing to plot"), cli.err());
  }

  @Test
  void plot_missingDirectory_isOneErrorLineAndExitTwo() {
    model("m", false);

    assertEquals(Mfctl.EXIT_USAGE, cli.mfctl("plot", "m", "--loss",
        dir.resolve("no/such/dir/l.png").toString()));

    assertEquals(1, cli.err().lines().count(), cli.err());
    assertTrue(cli.err().contains("no such directory"), cli.err());
  }

  @Test
  void plot_unknownModel_isAServerError() {
    assertEquals(Mfctl.EXIT_SERVER, cli.mfctl("plot", "nope", "--loss",
        dir.resolve("l.png").toString()));
    assertFalse(Files.exists(dir.resolve("l.png")));
  }

  @Test
  void fit_notATerminal_drawsNoProgressAndUsesFitWithProgress() throws IOException {
    assumeTrue(System.console() == null, "the tests run on a terminal");

    assertEquals(0, cli.mfctl("fit", uData().toString(), "--model-id", "a"), cli.err());

    assertEquals("", cli.err());
    assertTrue(cli.out().startsWith("read 5 entries from "), cli.out());
    assertEquals(1, fake.fits.size());
    assertTrue(fake.models.containsKey("a"));
  }

  @Test
  void fit_onATerminal_drawsBarsOnStderrAndLeavesStdoutAlone() throws IOException {
    Path data = uData();
    assertEquals(0, cli.mfctl("fit", data.toString(), "--model-id", "a", "--iterations", "4",
        "--validation-fraction", "0.2"), cli.err());
    String plain = cli.out();
    Progress.forcedWidth = 120;

    assertEquals(0, cli.mfctl("fit", data.toString(), "--model-id", "a", "--iterations", "4",
        "--validation-fraction", "0.2"), cli.err());

    assertEquals(plain, cli.out());
    assertTrue(cli.err().contains("fit als"), cli.err());
    assertTrue(cli.err().contains("4/4"), cli.err());
    assertTrue(cli.err().contains("loss 25, validation RMSE 1.2500"), cli.err());
  }

  @Test
  void fit_onATerminalReadingSlowly_drawsAReadBar() throws IOException {
    Progress.forcedWidth = 120;
    Progress.readBarAfter = Duration.ZERO;

    assertEquals(0, cli.mfctl("fit", uData().toString()), cli.err());

    assertTrue(cli.err().contains("read u.data 100%"), cli.err());
  }

  @Test
  void fit_largeMatrixOnATerminal_drawsTheUploadBarThenTheFitBar() throws IOException {
    // 90,000 entries with long string keys: about 4.5 MB serialized, over the inline limit.
    StringBuilder lines = new StringBuilder("user,item,rating\n");
    for (int i = 0; i < 90_000; i++) {
      lines.append(String.format("customer-%015d,product-%015d,3%n", i, i % 1000));
    }
    Path big = Files.writeString(dir.resolve("big.csv"), lines);
    Progress.forcedWidth = 120;

    assertEquals(0, cli.mfctl("fit", big.toString(), "--iterations", "2"), cli.err());

    int upload = cli.err().indexOf("upload 100%");
    assertTrue(upload >= 0, cli.err());
    assertTrue(cli.err().indexOf("fit als 100%") > upload, cli.err());
    assertEquals(1, fake.uploads.size());
    assertEquals(fake.fits.get(0).getMatrixId(), fake.deletedMatrices.get(0));
  }

  @Test
  void fit_onATerminalWithJsonOrQuiet_drawsNothing() throws IOException {
    Path data = uData();
    Progress.forcedWidth = 120;

    assertEquals(0, cli.mfctl("--json", "fit", data.toString(), "--model-id", "j"), cli.err());
    assertEquals("", cli.err());
    ModelInfo.Builder parsed = ModelInfo.newBuilder();
    JsonFormat.parser().merge(cli.out(), parsed);
    assertEquals("j", parsed.getModelId());
    assertEquals(1, cli.out().lines().count());

    assertEquals(0, cli.mfctl("fit", data.toString(), "--quiet", "--model-id", "q"), cli.err());
    assertEquals("", cli.err());
    assertTrue(cli.out().startsWith("read 5 entries from "), cli.out());
  }
}
