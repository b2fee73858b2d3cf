package io.mfserve.server.repository;

import io.mfserve.server.model.tune.TuneMetric;
import io.mfserve.server.model.tune.TuneReport;
import io.mfserve.server.model.tune.TuneTrial;
import java.io.ByteArrayOutputStream;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The payload of a snapshot's TUNE section (tag 9, from version 3): a tuned fit's search, so
 * that a model loaded from the repository still shows the trials it was chosen by. Laid out
 * in this package's README.md:
 *
 * <pre>
 * int32 metric (0 RMSE, 1 NDCG), int32 trial count, then per trial:
 *   int32 number, int32 bracket, int32 rung, int32 iterations, float64 metric (NaN: failed),
 *   float64 seconds, int32 flags (bit 0: chosen, bit 1: has an error), [string error],
 *   int32 setting count, setting count × (string name, string value) in the spec's order
 * </pre>
 *
 * Strings are int32 length + UTF-8, numbers little-endian, as in INFO. The chosen setting is
 * not stored apart: it is the setting of the trial marked chosen.
 */
final class TuneSection {
  private static final int CHOSEN = 1;
  private static final int HAS_ERROR = 2;

  private TuneSection() {}

  static byte[] encode(TuneReport report) {
    Out out = new Out();
    out.i32(report.metric() == TuneMetric.RMSE ? 0 : 1);
    out.i32(report.trials().size());
    for (TuneTrial t : report.trials()) {
      out.i32(t.number());
      out.i32(t.bracket());
      out.i32(t.rung());
      out.i32(t.iterations());
      out.i64(Double.doubleToRawLongBits(t.metric()));
      out.i64(Double.doubleToRawLongBits(t.seconds()));
      out.i32((t.best() ? CHOSEN : 0) | (t.error() != null ? HAS_ERROR : 0));
      if (t.error() != null) {
        out.string(t.error());
      }
      out.i32(t.setting().size());
      for (Map.Entry<String, String> e : t.setting().entrySet()) {
        out.string(e.getKey());
        out.string(e.getValue());
      }
    }
    return out.bytes.toByteArray();
  }

  static TuneReport decode(byte[] payload) throws SnapshotFormatException {
    ByteBuffer b = ByteBuffer.wrap(payload).order(ByteOrder.LITTLE_ENDIAN);
    try {
      int metricCode = b.getInt();
      if (metricCode != 0 && metricCode != 1) {
        throw new SnapshotFormatException("TUNE: metric " + metricCode);
      }
      int n = b.getInt();
      // Each trial takes at least 40 bytes: a count beyond that is corrupt, not a big search.
      if (n < 0 || n > b.remaining() / 40) {
        throw new SnapshotFormatException("TUNE: " + n + " trials");
      }
      List<TuneTrial> trials = new ArrayList<>(n);
      Map<String, String> chosen = null;
      for (int i = 0; i < n; i++) {
        int number = b.getInt();
        int bracket = b.getInt();
        int rung = b.getInt();
        int iterations = b.getInt();
        double metric = Double.longBitsToDouble(b.getLong());
        double seconds = Double.longBitsToDouble(b.getLong());
        int flags = b.getInt();
        if ((flags & ~(CHOSEN | HAS_ERROR)) != 0 || number < 1 || bracket < 0 || rung < 0
            || iterations < 0 || !(seconds >= 0)) {
          throw new SnapshotFormatException("TUNE: trial " + i + " is inconsistent");
        }
        String error = (flags & HAS_ERROR) != 0 ? string(b) : null;
        int settings = b.getInt();
        if (settings < 0 || settings > b.remaining() / 8) {
          throw new SnapshotFormatException("TUNE: a setting of " + settings + " values");
        }
        Map<String, String> setting = new LinkedHashMap<>();
        for (int s = 0; s < settings; s++) {
          setting.put(string(b), string(b));
        }
        boolean best = (flags & CHOSEN) != 0;
        if (best) {
          if (chosen != null) {
            throw new SnapshotFormatException("TUNE: two trials marked chosen");
          }
          chosen = setting;
        }
        trials.add(new TuneTrial(number, setting, bracket, rung, iterations, metric, seconds,
            error, best));
      }
      if (b.hasRemaining()) {
        throw new SnapshotFormatException("TUNE: " + b.remaining() + " bytes left over");
      }
      return new TuneReport(metricCode == 0 ? TuneMetric.RMSE : TuneMetric.NDCG, trials,
          chosen == null ? Map.of() : chosen);
    } catch (BufferUnderflowException e) {
      throw new SnapshotFormatException("TUNE section is truncated");
    }
  }

  private static String string(ByteBuffer b) throws SnapshotFormatException {
    int len = b.getInt();
    if (len < 0 || len > b.remaining()) {
      throw new SnapshotFormatException("TUNE: a string of " + len + " bytes");
    }
    String s = new String(b.array(), b.arrayOffset() + b.position(), len,
        StandardCharsets.UTF_8);
    b.position(b.position() + len);
    return s;
  }

  /** A little-endian byte sink. */
  private static final class Out {
    final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final ByteBuffer scratch = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);

    void i32(int v) {
      bytes.write(scratch.clear().putInt(v).array(), 0, 4);
    }

    void i64(long v) {
      bytes.write(scratch.clear().putLong(v).array(), 0, 8);
    }

    void string(String s) {
      byte[] b = s.getBytes(StandardCharsets.UTF_8);
      i32(b.length);
      bytes.write(b, 0, b.length);
    }
  }
}
