package io.mfserve.server.logging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.mfserve.proto.v1.MatrixFactorizationGrpc.MatrixFactorizationBlockingStub;
import io.mfserve.server.model.fit.FitOrchestrator;
import io.mfserve.server.testing.InProcessMfServer;
import io.mfserve.server.testing.Requests;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.StreamHandler;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class JsonFormatterTest {
  @RegisterExtension
  final InProcessMfServer server = new InProcessMfServer();

  private static List<JsonObject> parseLines(String out) {
    assertTrue(out.endsWith("\n"), "each record ends its line");
    List<JsonObject> objects = new ArrayList<>();
    for (String line : out.split("\n", -1)) {
      if (!line.isEmpty()) {
        objects.add(JsonParser.parseString(line).getAsJsonObject());
      }
    }
    return objects;
  }

  @Test
  void format_plainAndStructuredAndThrown_oneJsonObjectPerLine() {
    JsonFormatter f = new JsonFormatter();
    LogRecord plain = new LogRecord(Level.WARNING, "two\nlines and \"quotes\" {0}");
    plain.setLoggerName("a.b");
    plain.setParameters(new Object[] {"x"});
    LogRecord thrown = new LogRecord(Level.SEVERE, "boom");
    thrown.setLoggerName("a.b");
    thrown.setThrown(new IllegalStateException("bad\tthing"));
    LogEvent event = LogEvent.of("fit").put("model", "m 1").put("rows", 10)
        .put("seconds", 1.23456).put("tiny", 0.000012345).put("ok", true)
        .put("message", "shadowed");
    Logger logger = Logger.getLogger("test.json." + System.nanoTime());
    logger.setUseParentHandlers(false);
    List<LogRecord> captured = new ArrayList<>();
    logger.addHandler(new Handler() {
      @Override public void publish(LogRecord r) {
        captured.add(r);
      }

      @Override public void flush() { }

      @Override public void close() { }
    });
    event.log(logger);

    String out = f.format(plain) + f.format(thrown) + f.format(captured.get(0));
    List<JsonObject> lines = parseLines(out);
    assertEquals(3, lines.size());
    assertEquals("WARNING", lines.get(0).get("level").getAsString());
    assertEquals("a.b", lines.get(0).get("logger").getAsString());
    assertEquals("two\nlines and \"quotes\" x", lines.get(0).get("message").getAsString());
    assertTrue(lines.get(0).get("timestamp").getAsString().endsWith("Z"));
    assertTrue(lines.get(1).get("exception").getAsString().contains("bad\tthing"));
    JsonObject e = lines.get(2);
    assertEquals("fit", e.get("event").getAsString());
    assertEquals("m 1", e.get("model").getAsString());
    assertEquals(10, e.get("rows").getAsInt());
    assertEquals(1.235, e.get("seconds").getAsDouble());
    assertEquals("1.235", e.get("seconds").toString());
    assertTrue(e.get("ok").getAsBoolean());
    assertEquals("0.000012", e.get("tiny").toString());
    assertEquals("shadowed", e.get("field_message").getAsString());
    assertEquals(event.text(), e.get("message").getAsString());
  }

  @Test
  void text_valuesWithSpacesOrQuotes_areQuoted() {
    assertEquals("event=fit model=\"a b\" q=\"x\\\"y\" n=3 empty=\"\"",
        LogEvent.of("fit").put("model", "a b").put("q", "x\"y").put("n", 3).put("empty", "")
            .text());
  }

  @Test
  void fit_jsonFormat_oneStructuredLineWithSolverShapeSecondsAndResult() {
    Logger logger = Logger.getLogger(FitOrchestrator.class.getName());
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    StreamHandler h = new StreamHandler(buf, new JsonFormatter());
    logger.addHandler(h);
    try {
      MatrixFactorizationBlockingStub stub = server.start();
      stub.fit(Requests.fit("als", 2, Requests.seedMatrix(5, 6, 1)).setModelId("logged")
          .setMaxIterations(3).build());
      h.flush();
    } finally {
      logger.removeHandler(h);
    }
    List<JsonObject> lines = parseLines(buf.toString(StandardCharsets.UTF_8));
    List<JsonObject> fits = lines.stream()
        .filter(o -> o.has("event") && o.get("event").getAsString().equals("fit")).toList();
    assertEquals(1, fits.size(), lines.toString());
    JsonObject fit = fits.get(0);
    assertEquals("logged", fit.get("model").getAsString());
    assertEquals("als", fit.get("solver").getAsString());
    assertEquals("ok", fit.get("result").getAsString());
    assertEquals(5, fit.get("rows").getAsInt());
    assertEquals(6, fit.get("cols").getAsInt());
    assertEquals(2, fit.get("k").getAsInt());
    assertTrue(fit.get("params").getAsString().contains("max_iterations=3"));
    assertTrue(fit.get("seconds").getAsDouble() >= 0);
    assertFalse(fit.get("message").getAsString().contains("\n"));
  }
}
