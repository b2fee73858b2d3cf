package io.mfserve.server.repository;

import io.mfserve.server.model.ids.IdForm;
import io.mfserve.server.model.ids.IdIndex;
import io.mfserve.server.model.store.MemoryBudget;
import io.mfserve.server.model.store.ModelMetadata;
import io.mfserve.server.model.store.ModelRepository;
import io.mfserve.server.model.store.Popularity;
import io.mfserve.server.model.store.ScanIndex;
import io.mfserve.server.model.store.SeenItems;
import io.mfserve.server.model.store.ServedModel;
import io.mfserve.server.model.tune.TuneReport;
import io.mfserve.solver.AbsentEntries;
import io.mfserve.solver.FactorModel;
import io.mfserve.solver.FitDivergedException;
import io.mfserve.solver.IterationProgress;
import io.mfserve.solver.SolverConfig;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.CRC32C;

/**
 * The snapshot format, version 3: one served model as a stream of checksummed sections,
 * written and read back bit for bit. Laid out in this package's README.md; in short:
 *
 * <pre>
 * magic      8 bytes  0x89 'M' 'F' 'S' 'N' 'A' 'P' 0x0A
 * version    int32    3
 * sections   INFO, USER_IDS, ITEM_IDS, USER_FACTORS, ITEM_FACTORS, [BIASES], SEEN,
 *            POPULARITY, optional sections (any order, each at most once), END
 *   each     int32 tag, int64 payload length, payload, int32 CRC-32C of the payload
 * </pre>
 *
 * <p>The optional sections of version 3, each present only when the model has what it holds:
 * TUNE (tag 9), a tuned fit's trials ({@link TuneSection}); SEEN_VALUES (tag 10), the value of
 * every SEEN entry in SEEN's order, float32, for explaining a score by the user's history,
 * absent for a model whose values are unknown (imported factors). Versions 1 and 2 are still
 * read, without either (explanations then need a refit); version 1 has no POPULARITY either:
 * its items' counts are taken from SEEN, and it has no values to rank by mean.
 *
 * <p>Every number is little-endian (numpy's {@code '<f4'}). A reader checks the magic, the
 * version, each section's tag, length and checksum, and the consistency of what it read (ids
 * unique, seen items ascending and in range, factors finite) before anything is served. Large
 * sections are streamed through a 64 KiB buffer both ways: a snapshot is never held whole in
 * memory, and a load reserves the model's bytes against the memory budget, from the sizes in
 * INFO, before allocating any array. A newer format gets a new version number; readers of
 * this one refuse it by name.
 */
public final class SnapshotFormat {
  /** The current format version. */
  public static final int VERSION = 3;
  /** The oldest version still read. */
  static final int OLDEST_VERSION = 1;

  static final byte[] MAGIC = {(byte) 0x89, 'M', 'F', 'S', 'N', 'A', 'P', '\n'};
  static final int INFO = 1;
  static final int USER_IDS = 2;
  static final int ITEM_IDS = 3;
  static final int USER_FACTORS = 4;
  static final int ITEM_FACTORS = 5;
  static final int BIASES = 6;
  static final int SEEN = 7;
  static final int POPULARITY = 8;
  /** Optional from version 3: a tuned fit's search ({@link TuneSection}). */
  static final int TUNE = 9;
  /** Optional from version 3: the values of the SEEN entries. */
  static final int SEEN_VALUES = 10;
  static final int END = 0x454e44; // "END"

  /** Rows copied out of the model per write, so that a write allocates a bounded buffer. */
  private static final int ROWS_PER_COPY = 4096;
  /** The largest array a section may ask for (what the JVM can allocate). */
  private static final long MAX_ARRAY = Integer.MAX_VALUE - 8;

  private SnapshotFormat() { }

  // ---------------------------------------------------------------- writing

  /** Writes {@code model} to {@code out} (flushed, not closed). */
  public static void write(ServedModel model, OutputStream out) throws IOException {
    FactorModel f = model.factors();
    int k = f.numFactors();
    SectionWriter w = new SectionWriter(out);
    out.write(MAGIC);
    out.write(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(VERSION).array());

    byte[] info = info(model);
    w.begin(INFO, info.length);
    w.putBytes(info, 0, info.length);
    w.end();

    writeIds(w, USER_IDS, model.users());
    writeIds(w, ITEM_IDS, model.items());

    w.begin(USER_FACTORS, (long) f.numUsers() * k * Float.BYTES);
    for (int from = 0; from < f.numUsers(); from += ROWS_PER_COPY) {
      w.putFloats(f.copyUserFactors(from, Math.min(f.numUsers(), from + ROWS_PER_COPY)));
    }
    w.end();
    w.begin(ITEM_FACTORS, (long) f.numItems() * k * Float.BYTES);
    for (int from = 0; from < f.numItems(); from += ROWS_PER_COPY) {
      w.putFloats(f.copyItemFactors(from, Math.min(f.numItems(), from + ROWS_PER_COPY)));
    }
    w.end();
    if (f.hasBiases()) {
      w.begin(BIASES, 8 + ((long) f.numUsers() + f.numItems()) * Float.BYTES);
      w.putDouble(f.globalMean());
      for (int u = 0; u < f.numUsers(); u++) {
        w.putFloat(f.userBias(u));
      }
      for (int i = 0; i < f.numItems(); i++) {
        w.putFloat(f.itemBias(i));
      }
      w.end();
    }
    SeenItems seen = model.seen();
    w.begin(SEEN, ((long) f.numUsers() + 1 + seen.entries()) * Integer.BYTES);
    int[] chunk = new int[ROWS_PER_COPY * 16];
    for (int from = 0; from <= f.numUsers(); from += chunk.length) {
      int n = Math.min(chunk.length, f.numUsers() + 1 - from);
      int[] part = n == chunk.length ? chunk : new int[n];
      seen.copyOffsets(from, part);
      w.putInts(part);
    }
    for (long from = 0; from < seen.entries(); from += chunk.length) {
      int n = (int) Math.min(chunk.length, seen.entries() - from);
      int[] part = n == chunk.length ? chunk : new int[n];
      seen.copyEntries((int) from, part);
      w.putInts(part);
    }
    w.end();
    Popularity pop = model.popularity();
    int items = f.numItems();
    w.begin(POPULARITY, 4 + 8 + (long) items * (Integer.BYTES + (pop.hasMeans() ? 4 : 0)));
    w.putInt(pop.hasMeans() ? 1 : 0);
    w.putDouble(pop.globalMean());
    for (int i = 0; i < items; i++) {
      w.putInt(pop.count(i));
    }
    if (pop.hasMeans()) {
      for (int i = 0; i < items; i++) {
        w.putFloat(pop.mean(i));
      }
    }
    w.end();
    if (seen.hasValues()) {
      w.begin(SEEN_VALUES, seen.entries() * Float.BYTES);
      float[] values = new float[chunk.length];
      for (long from = 0; from < seen.entries(); from += values.length) {
        int n = (int) Math.min(values.length, seen.entries() - from);
        float[] part = n == values.length ? values : new float[n];
        seen.copyValues((int) from, part);
        w.putFloats(part);
      }
      w.end();
    }
    if (model.metadata().tune() != null) {
      byte[] tune = TuneSection.encode(model.metadata().tune());
      w.begin(TUNE, tune.length);
      w.putBytes(tune, 0, tune.length);
      w.end();
    }
    w.begin(END, 0);
    w.end();
    out.flush();
  }

  private static byte[] info(ServedModel model) throws IOException {
    ModelMetadata m = model.metadata();
    FactorModel f = model.factors();
    InfoWriter w = new InfoWriter();
    w.string(m.modelId());
    w.string(m.solver());
    w.i32(m.numFactors());
    w.i32(f.numUsers());
    w.i32(f.numItems());
    w.i32(f.hasBiases() ? 1 : 0);
    w.i64(m.seed());
    w.string(m.absentEntries().name());
    w.i64(m.numEntries());
    w.i64(m.numValidationEntries());
    w.f64(m.trainingMean());
    w.f64(m.trainingRmse());
    w.f64(m.fitSeconds());
    w.i64(m.createTime().getEpochSecond());
    w.i32(m.createTime().getNano());
    w.string(m.mfserveVersion());
    w.string(m.dataFingerprint());
    w.string(m.requestFingerprint());
    w.string(m.warmStartModelId());
    w.map(m.params());
    w.map(model.config().parameters().asText());
    w.i32(f.history().size());
    for (IterationProgress p : f.history()) {
      w.i32(p.iteration());
      w.f64(p.loss());
      w.i64(p.elapsedNanos());
      w.f64(p.validationRmse());
    }
    w.i32(kind(model.users()).ordinal());
    w.i32(kind(model.items()).ordinal());
    w.i64(keyBytes(model.users()));
    w.i64(keyBytes(model.items()));
    w.i64(model.seen().entries());
    return w.bytes();
  }

  private static SnapshotInfo.IdKind kind(IdIndex index) {
    if (index.isPositions()) {
      return SnapshotInfo.IdKind.POSITIONS;
    }
    return index.form() == IdForm.INT64 ? SnapshotInfo.IdKind.INT64 : SnapshotInfo.IdKind.STRING;
  }

  private static long keyBytes(IdIndex index) {
    if (kind(index) != SnapshotInfo.IdKind.STRING) {
      return 0;
    }
    long n = 0;
    for (int p = 0; p < index.size(); p++) {
      n += utf8Length(index.keyAt(p));
    }
    return n;
  }

  private static void writeIds(SectionWriter w, int tag, IdIndex index) throws IOException {
    switch (kind(index)) {
      case POSITIONS -> {
        w.begin(tag, 0);
      }
      case INT64 -> {
        w.begin(tag, (long) index.size() * Long.BYTES);
        for (int p = 0; p < index.size(); p++) {
          w.putLong(index.idAt(p));
        }
      }
      case STRING -> {
        w.begin(tag, (long) index.size() * Integer.BYTES + keyBytes(index));
        for (int p = 0; p < index.size(); p++) {
          byte[] key = index.keyAt(p).getBytes(StandardCharsets.UTF_8);
          w.putInt(key.length);
          w.putBytes(key, 0, key.length);
        }
      }
      default -> throw new IllegalStateException();
    }
    w.end();
  }

  static long utf8Length(String s) {
    long n = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 0x80) {
        n += 1;
      } else if (c < 0x800) {
        n += 2;
      } else if (Character.isHighSurrogate(c) && i + 1 < s.length()
          && Character.isLowSurrogate(s.charAt(i + 1))) {
        n += 4;
        i++;
      } else {
        n += 3;
      }
    }
    return n;
  }

  // ---------------------------------------------------------------- reading

  /**
   * Reads a snapshot's first section only: enough to list a model, check a retried request's
   * fingerprint, or size a load.
   *
   * @throws SnapshotFormatException if it is not a readable snapshot (version 1 to 3)
   */
  public static SnapshotInfo readInfo(InputStream in) throws IOException {
    return new Reader(in).info();
  }

  /** Builds the solver configuration of a model being loaded, from what its snapshot says. */
  @FunctionalInterface
  public interface ConfigResolver {
    /** Returns the configuration of {@code info}'s model (for fold-in). */
    SolverConfig resolve(SnapshotInfo info);
  }

  /**
   * Reads a whole snapshot into a model: first its INFO, then (after reserving the memory it
   * needs) every section, checking each section's checksum and the contents' consistency.
   *
   * @param modelId the id to serve it under, or null for the snapshot's own
   * @throws SnapshotFormatException if anything is wrong with it; nothing is then kept
   */
  public static ServedModel read(InputStream in, String modelId,
      ModelRepository.Reserver reserver, ConfigResolver configs) throws IOException {
    Reader r = new Reader(in);
    SnapshotInfo info = r.info();
    MemoryBudget.Reservation reservation = reserver.reserve(info.estimateBytes(),
        "loading model '" + info.metadata().modelId() + "' (" + info.numUsers() + " × "
            + info.numItems() + ", " + info.numFactors() + " factors)");
    boolean done = false;
    try {
      ServedModel m = r.model(info, modelId, reservation, configs);
      done = true;
      return m;
    } finally {
      if (!done) {
        reservation.close();
      }
    }
  }

  /** Reads sections from a stream, checking tags, lengths and checksums. */
  private static final class Reader {
    private final SectionReader in;
    private boolean headerRead;
    private int version;

    Reader(InputStream raw) {
      this.in = new SectionReader(raw);
    }

    SnapshotInfo info() throws IOException {
      byte[] magic = in.rawBytes(MAGIC.length, "magic");
      if (!Arrays.equals(magic, MAGIC)) {
        throw new SnapshotFormatException("not an mfserve snapshot (bad magic bytes)");
      }
      version = ByteBuffer.wrap(in.rawBytes(4, "format version"))
          .order(ByteOrder.LITTLE_ENDIAN).getInt();
      if (version < OLDEST_VERSION || version > VERSION) {
        throw new SnapshotFormatException("snapshot format version " + version + " is not"
            + " supported; this server reads versions " + OLDEST_VERSION + " to " + VERSION);
      }
      long len = in.begin(INFO, "INFO");
      if (len > 64L << 20) {
        throw new SnapshotFormatException("INFO section of " + len + " bytes is implausible");
      }
      byte[] payload = new byte[(int) len];
      in.getBytes(payload, 0, payload.length);
      in.end("INFO");
      headerRead = true;
      return parseInfo(ByteBuffer.wrap(payload).order(ByteOrder.LITTLE_ENDIAN));
    }

    ServedModel model(SnapshotInfo info, String modelId, MemoryBudget.Reservation reservation,
        ConfigResolver configs) throws IOException {
      if (!headerRead) {
        throw new IllegalStateException("info() first");
      }
      int k = info.numFactors();
      int users = info.numUsers();
      int items = info.numItems();
      IdIndex userIds = readIds(USER_IDS, "USER_IDS", info.userIds(), users, info.userKeyBytes());
      IdIndex itemIds = readIds(ITEM_IDS, "ITEM_IDS", info.itemIds(), items, info.itemKeyBytes());
      float[] u = new float[(int) checkedProduct(users, k, "user factors")];
      in.begin(USER_FACTORS, "USER_FACTORS", (long) u.length * Float.BYTES);
      in.getFloats(u);
      in.end("USER_FACTORS");
      float[] v = new float[(int) checkedProduct(items, k, "item factors")];
      in.begin(ITEM_FACTORS, "ITEM_FACTORS", (long) v.length * Float.BYTES);
      in.getFloats(v);
      in.end("ITEM_FACTORS");
      FactorModel.Biases biases = null;
      if (info.hasBiases()) {
        in.begin(BIASES, "BIASES", 8 + ((long) users + items) * Float.BYTES);
        double mean = in.getDouble();
        float[] bu = new float[users];
        float[] bi = new float[items];
        in.getFloats(bu);
        in.getFloats(bi);
        in.end("BIASES");
        biases = new FactorModel.Biases(mean, bu, bi);
      }
      if (info.seenEntries() > MAX_ARRAY) {
        throw new SnapshotFormatException("SEEN holds " + info.seenEntries() + " entries");
      }
      in.begin(SEEN, "SEEN", ((long) users + 1 + info.seenEntries()) * Integer.BYTES);
      int[] ptr = new int[users + 1];
      int[] cols = new int[(int) info.seenEntries()];
      in.getInts(ptr);
      in.getInts(cols);
      in.end("SEEN");
      int[] counts = null;
      float[] means = null;
      double popularityMean = 0;
      if (version >= 2) {
        long len = in.begin(POPULARITY, "POPULARITY");
        int flags = in.getInt();
        if ((flags & ~1) != 0 || len != 4 + 8 + (long) items * (Integer.BYTES
            + ((flags & 1) != 0 ? Float.BYTES : 0))) {
          throw new SnapshotFormatException("POPULARITY section of " + len + " bytes (flags "
              + flags + ") does not match " + items + " items");
        }
        popularityMean = in.getDouble();
        counts = new int[items];
        in.getInts(counts);
        if ((flags & 1) != 0) {
          means = new float[items];
          in.getFloats(means);
        }
        in.end("POPULARITY");
      }
      TuneReport tune = null;
      float[] seenValues = null;
      if (version >= 3) {
        // Optional sections until END, so that a later one is one more case here.
        for (int tag = in.beginAny("END"); tag != END; tag = in.beginAny("END")) {
          if (tag == SEEN_VALUES && seenValues == null) {
            if (in.length() != info.seenEntries() * Float.BYTES) {
              throw new SnapshotFormatException("SEEN_VALUES is " + in.length() + " bytes where"
                  + " INFO implies " + info.seenEntries() * Float.BYTES);
            }
            seenValues = new float[cols.length];
            in.getFloats(seenValues);
            in.end("SEEN_VALUES");
          } else if (tag == TUNE && tune == null) {
            if (in.length() > 64L << 20) {
              throw new SnapshotFormatException("TUNE section of " + in.length() + " bytes is"
                  + " implausible");
            }
            byte[] payload = new byte[(int) in.length()];
            in.getBytes(payload, 0, payload.length);
            in.end("TUNE");
            tune = TuneSection.decode(payload);
          } else {
            throw new SnapshotFormatException("unexpected section tag " + tag + " in a version "
                + version + " snapshot");
          }
        }
        if (in.length() != 0) {
          throw new SnapshotFormatException("END is " + in.length() + " bytes where INFO"
              + " implies 0");
        }
      } else {
        in.begin(END, "END", 0);
      }
      in.end("END");
      SeenItems seen;
      FactorModel factors;
      Popularity popularity;
      try {
        seen = SeenItems.of(ptr, cols, users, items);
        if (seenValues != null) {
          seen = seen.withValues(seenValues);
        }
        popularity = counts == null ? Popularity.of(seen, items)
            : Popularity.of(counts, means, popularityMean);
        factors = new FactorModel(users, items, k, u, v, biases, info.history());
      } catch (IllegalArgumentException | FitDivergedException e) {
        throw new SnapshotFormatException(e.getMessage());
      }
      v = null;
      ModelMetadata meta = info.metadata();
      if ((modelId != null && !modelId.equals(meta.modelId())) || tune != null) {
        meta = new ModelMetadata(modelId == null ? meta.modelId() : modelId, meta.solver(),
            meta.numFactors(), meta.params(), meta.seed(), meta.absentEntries(),
            meta.numEntries(), meta.numValidationEntries(), meta.trainingMean(),
            meta.trainingRmse(), meta.fitSeconds(), meta.createTime(), meta.mfserveVersion(),
            meta.dataFingerprint(), meta.requestFingerprint(), meta.warmStartModelId(), tune);
      }
      ScanIndex scan = ScanIndex.of(factors);
      long exact = factors.memoryBytes() + seen.memoryBytes() + userIds.memoryBytes()
          + itemIds.memoryBytes() + scan.memoryBytes() + popularity.memoryBytes();
      reservation.shrink(reservation.bytes() - Math.min(exact, reservation.bytes()));
      return new ServedModel(factors, userIds, itemIds, seen, scan, popularity, meta,
          configs.resolve(info), reservation);
    }

    private IdIndex readIds(int tag, String name, SnapshotInfo.IdKind kind, int n, long keyBytes)
        throws IOException {
      switch (kind) {
        case POSITIONS -> {
          in.begin(tag, name, 0);
          in.end(name);
          return IdIndex.positions(n);
        }
        case INT64 -> {
          in.begin(tag, name, (long) n * Long.BYTES);
          IdIndex.LongBuilder b = IdIndex.longBuilder();
          for (int p = 0; p < n; p++) {
            long id = in.getLong();
            if (b.intern(id) != p) {
              throw new SnapshotFormatException(name + " repeats id " + id);
            }
          }
          in.end(name);
          return b.build();
        }
        case STRING -> {
          in.begin(tag, name, (long) n * Integer.BYTES + keyBytes);
          IdIndex.StringBuilder b = IdIndex.stringBuilder();
          byte[] buf = new byte[256];
          for (int p = 0; p < n; p++) {
            int len = in.getInt();
            if (len < 0 || len > keyBytes) {
              throw new SnapshotFormatException(name + " has a key of " + len + " bytes");
            }
            if (buf.length < len) {
              buf = new byte[len];
            }
            in.getBytes(buf, 0, len);
            String key = new String(buf, 0, len, StandardCharsets.UTF_8);
            if (b.intern(key) != p) {
              throw new SnapshotFormatException(name + " repeats key '" + key + "'");
            }
          }
          in.end(name);
          return b.build();
        }
        default -> throw new IllegalStateException();
      }
    }
  }

  private static long checkedProduct(long rows, long k, String what)
      throws SnapshotFormatException {
    long n = rows * k;
    if (rows < 0 || n > MAX_ARRAY) {
      throw new SnapshotFormatException(what + " of " + rows + " × " + k + " do not fit one"
          + " array");
    }
    return n;
  }

  private static SnapshotInfo parseInfo(ByteBuffer b) throws SnapshotFormatException {
    try {
      String modelId = string(b);
      String solver = string(b);
      int k = b.getInt();
      int users = b.getInt();
      int items = b.getInt();
      boolean hasBiases = b.getInt() != 0;
      long seed = b.getLong();
      AbsentEntries absent = AbsentEntries.valueOf(string(b));
      long entries = b.getLong();
      long validation = b.getLong();
      double mean = b.getDouble();
      double rmse = b.getDouble();
      double seconds = b.getDouble();
      Instant created = Instant.ofEpochSecond(b.getLong(), b.getInt());
      String version = string(b);
      String dataFingerprint = string(b);
      String requestFingerprint = string(b);
      String warmStart = string(b);
      Map<String, String> params = map(b);
      Map<String, String> configParams = map(b);
      int n = b.getInt();
      if (n < 0 || n > b.remaining() / 28) {
        throw new SnapshotFormatException("INFO: history of " + n + " iterations");
      }
      List<IterationProgress> history = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        history.add(new IterationProgress(b.getInt(), b.getDouble(), b.getLong(), b.getDouble()));
      }
      SnapshotInfo.IdKind[] kinds = SnapshotInfo.IdKind.values();
      int uk = b.getInt();
      int ik = b.getInt();
      long ukb = b.getLong();
      long ikb = b.getLong();
      long seen = b.getLong();
      if (k < 1 || users < 0 || items < 0 || uk < 0 || uk >= kinds.length || ik < 0
          || ik >= kinds.length || ukb < 0 || ikb < 0 || seen < 0 || b.hasRemaining()) {
        throw new SnapshotFormatException("INFO: inconsistent shape or id kinds");
      }
      ModelMetadata meta = new ModelMetadata(modelId, solver, k, params, seed, absent, entries,
          validation, mean, rmse, seconds, created, version, dataFingerprint, requestFingerprint,
          warmStart);
      return new SnapshotInfo(meta, configParams, history, users, items, hasBiases, kinds[uk],
          kinds[ik], ukb, ikb, seen);
    } catch (java.nio.BufferUnderflowException | IllegalArgumentException e) {
      throw new SnapshotFormatException("INFO section is malformed: " + e);
    }
  }

  private static String string(ByteBuffer b) throws SnapshotFormatException {
    int len = b.getInt();
    if (len < 0 || len > b.remaining()) {
      throw new SnapshotFormatException("INFO: a string of " + len + " bytes");
    }
    String s = new String(b.array(), b.arrayOffset() + b.position(), len, StandardCharsets.UTF_8);
    b.position(b.position() + len);
    return s;
  }

  private static Map<String, String> map(ByteBuffer b) throws SnapshotFormatException {
    int n = b.getInt();
    if (n < 0 || n > b.remaining() / 8) {
      throw new SnapshotFormatException("INFO: a map of " + n + " entries");
    }
    Map<String, String> m = new LinkedHashMap<>();
    for (int i = 0; i < n; i++) {
      m.put(string(b), string(b));
    }
    return m;
  }

  /** Builds INFO's payload. */
  private static final class InfoWriter {
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final ByteBuffer scratch = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);

    void i32(int v) {
      bytes.write(scratch.clear().putInt(v).array(), 0, 4);
    }

    void i64(long v) {
      bytes.write(scratch.clear().putLong(v).array(), 0, 8);
    }

    void f64(double v) {
      i64(Double.doubleToRawLongBits(v));
    }

    void string(String s) {
      byte[] b = (s == null ? "" : s).getBytes(StandardCharsets.UTF_8);
      i32(b.length);
      bytes.write(b, 0, b.length);
    }

    void map(Map<String, String> m) {
      Map<String, String> sorted = new TreeMap<>(m);
      i32(sorted.size());
      for (Map.Entry<String, String> e : sorted.entrySet()) {
        string(e.getKey());
        string(e.getValue());
      }
    }

    byte[] bytes() {
      return bytes.toByteArray();
    }
  }

  /**
   * Moves {@code n} elements, from element {@code from} of an array, between it and a view of
   * the buffer at its position (a bulk copy, not a loop over elements).
   */
  @FunctionalInterface
  private interface Bulk {
    void run(ByteBuffer buffer, int from, int n);
  }

  /** Writes sections through a 64 KiB little-endian buffer, checksumming each payload. */
  private static final class SectionWriter {
    private final OutputStream out;
    private final ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
    private final CRC32C crc = new CRC32C();
    private long remaining;
    private int tag;

    SectionWriter(OutputStream out) {
      this.out = out;
    }

    void begin(int tag, long length) throws IOException {
      this.tag = tag;
      ByteBuffer h = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
      out.write(h.putInt(tag).putLong(length).array());
      remaining = length;
      crc.reset();
    }

    private void room(int n) throws IOException {
      if (buf.remaining() < n) {
        flush();
      }
      remaining -= n;
      if (remaining < 0) {
        throw new IllegalStateException("section " + tag + " overflows its length");
      }
    }

    void putInt(int v) throws IOException {
      room(4);
      buf.putInt(v);
    }

    void putLong(long v) throws IOException {
      room(8);
      buf.putLong(v);
    }

    void putFloat(float v) throws IOException {
      room(4);
      buf.putFloat(v);
    }

    void putDouble(double v) throws IOException {
      room(8);
      buf.putDouble(v);
    }

    void putFloats(float[] a) throws IOException {
      putFourByteElements(a.length, (b, from, n) -> b.asFloatBuffer().put(a, from, n));
    }

    void putInts(int[] a) throws IOException {
      putFourByteElements(a.length, (b, from, n) -> b.asIntBuffer().put(a, from, n));
    }

    /** Copies {@code length} 4-byte elements into the buffer in runs as long as it has room. */
    private void putFourByteElements(int length, Bulk copy) throws IOException {
      int i = 0;
      while (i < length) {
        if (buf.remaining() < 4) {
          flush();
        }
        int n = Math.min(length - i, buf.remaining() / 4);
        remaining -= 4L * n;
        copy.run(buf, i, n);
        buf.position(buf.position() + 4 * n);
        i += n;
      }
      if (remaining < 0) {
        throw new IllegalStateException("section " + tag + " overflows its length");
      }
    }

    void putBytes(byte[] a, int off, int len) throws IOException {
      while (len > 0) {
        if (!buf.hasRemaining()) {
          flush();
        }
        int n = Math.min(len, buf.remaining());
        remaining -= n;
        buf.put(a, off, n);
        off += n;
        len -= n;
      }
    }

    private void flush() throws IOException {
      crc.update(buf.array(), 0, buf.position());
      out.write(buf.array(), 0, buf.position());
      buf.clear();
    }

    void end() throws IOException {
      flush();
      if (remaining != 0) {
        throw new IllegalStateException("section " + tag + " is " + remaining
            + " bytes short of its length");
      }
      out.write(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN)
          .putInt((int) crc.getValue()).array());
    }
  }

  /** Reads sections through a 64 KiB buffer that never reads past the current payload. */
  private static final class SectionReader {
    private final InputStream in;
    private final ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
    private final CRC32C crc = new CRC32C();
    /** Payload bytes of the current section not yet pulled into the buffer. */
    private long unread;
    /** The current section's payload length. */
    private long length;

    SectionReader(InputStream in) {
      this.in = in;
      buf.limit(0);
    }

    byte[] rawBytes(int n, String what) throws IOException {
      byte[] b = in.readNBytes(n);
      if (b.length != n) {
        throw new SnapshotFormatException("snapshot truncated in its " + what);
      }
      return b;
    }

    /** Begins the next section, which must carry {@code expectedTag}. */
    long begin(int expectedTag, String name) throws IOException {
      int tag = beginAny(name);
      if (tag != expectedTag) {
        throw new SnapshotFormatException("expected section " + name + " but found tag " + tag);
      }
      return length;
    }

    /**
     * Starts the next section whatever its tag (an optional one, or {@code name}) and returns
     * the tag; {@link #length()} is then its payload's length.
     */
    int beginAny(String name) throws IOException {
      ByteBuffer h = ByteBuffer.wrap(rawBytes(12, name + " header"))
          .order(ByteOrder.LITTLE_ENDIAN);
      int tag = h.getInt();
      length = h.getLong();
      if (length < 0) {
        throw new SnapshotFormatException("section " + tag + " has a negative length");
      }
      unread = length;
      crc.reset();
      buf.clear().limit(0);
      return tag;
    }

    /** Returns the payload length of the section begun last. */
    long length() {
      return length;
    }

    void begin(int expectedTag, String name, long expectedLength) throws IOException {
      long length = begin(expectedTag, name);
      if (length != expectedLength) {
        throw new SnapshotFormatException(name + " is " + length + " bytes where INFO implies "
            + expectedLength);
      }
    }

    private void need(int n) throws IOException {
      if (buf.remaining() >= n) {
        return;
      }
      buf.compact();
      while (buf.position() < n) {
        int want = (int) Math.min(buf.remaining(), unread);
        if (want == 0) {
          buf.flip();
          throw new SnapshotFormatException("a section is shorter than what it holds");
        }
        int got = in.read(buf.array(), buf.position(), want);
        if (got < 0) {
          buf.flip();
          throw new SnapshotFormatException("snapshot truncated");
        }
        crc.update(buf.array(), buf.position(), got);
        buf.position(buf.position() + got);
        unread -= got;
      }
      buf.flip();
    }

    int getInt() throws IOException {
      need(4);
      return buf.getInt();
    }

    long getLong() throws IOException {
      need(8);
      return buf.getLong();
    }

    double getDouble() throws IOException {
      need(8);
      return buf.getDouble();
    }

    void getBytes(byte[] dst, int off, int len) throws IOException {
      while (len > 0) {
        need(1);
        int n = Math.min(len, buf.remaining());
        buf.get(dst, off, n);
        off += n;
        len -= n;
      }
    }

    void getFloats(float[] dst) throws IOException {
      getFourByteElements(dst.length, (b, from, n) -> b.asFloatBuffer().get(dst, from, n));
    }

    void getInts(int[] dst) throws IOException {
      getFourByteElements(dst.length, (b, from, n) -> b.asIntBuffer().get(dst, from, n));
    }

    /** Copies {@code length} 4-byte elements out of the buffer, refilling it as it empties. */
    private void getFourByteElements(int length, Bulk copy) throws IOException {
      int i = 0;
      while (i < length) {
        need(4);
        int n = Math.min(length - i, buf.remaining() / 4);
        copy.run(buf, i, n);
        buf.position(buf.position() + 4 * n);
        i += n;
      }
    }

    void end(String name) throws IOException {
      if (buf.hasRemaining() || unread != 0) {
        throw new SnapshotFormatException(name + " holds more bytes than its contents");
      }
      int expected = (int) crc.getValue();
      int stored = ByteBuffer.wrap(rawBytes(4, name + " checksum"))
          .order(ByteOrder.LITTLE_ENDIAN).getInt();
      if (stored != expected) {
        throw new SnapshotFormatException(name + " section fails its CRC-32C checksum");
      }
    }
  }
}
