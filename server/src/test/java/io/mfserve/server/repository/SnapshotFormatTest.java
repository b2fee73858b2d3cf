package io.mfserve.server.repository;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mfserve.server.model.ids.IdIndex;
import io.mfserve.server.model.store.MemoryBudget;
import io.mfserve.server.model.store.ModelMetadata;
import io.mfserve.server.model.store.ModelRepository;
import io.mfserve.server.model.store.Popularity;
import io.mfserve.server.model.store.ScanIndex;
import io.mfserve.server.model.store.SeenItems;
import io.mfserve.server.model.store.ServedModel;
import io.mfserve.server.model.tune.TuneMetric;
import io.mfserve.server.model.tune.TuneReport;
import io.mfserve.server.model.tune.TuneTrial;
import io.mfserve.solver.AbsentEntries;
import io.mfserve.solver.FactorModel;
import io.mfserve.solver.IterationProgress;
import io.mfserve.solver.Parameters;
import io.mfserve.solver.SolverConfig;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class SnapshotFormatTest {
  private final MemoryBudget budget = new MemoryBudget(1L << 30);
  private final ModelRepository.Reserver reserver = budget::reserve;
  private final SnapshotFormat.ConfigResolver configs = info -> new SolverConfig(
      info.numFactors(), info.metadata().seed(), info.metadata().absentEntries(),
      Parameters.resolve(List.of(), Map.of()));

  /** A model with int64 ids on one side, keys on the other, biases and seen items. */
  static ServedModel model(MemoryBudget budget, int users, int items, int k, boolean biases,
      long seed) {
    Random rnd = new Random(seed);
    float[] u = new float[users * k];
    float[] v = new float[items * k];
    for (int i = 0; i < u.length; i++) {
      u[i] = (float) rnd.nextGaussian();
    }
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) rnd.nextGaussian();
    }
    FactorModel.Biases b = null;
    if (biases) {
      float[] bu = new float[users];
      float[] bi = new float[items];
      for (int i = 0; i < users; i++) {
        bu[i] = rnd.nextFloat();
      }
      for (int i = 0; i < items; i++) {
        bi[i] = rnd.nextFloat();
      }
      b = new FactorModel.Biases(3.5, bu, bi);
    }
    FactorModel f = new FactorModel(users, items, k, u, v, b,
        List.of(new IterationProgress(1, 2.5, 1000, Double.NaN),
            new IterationProgress(2, 1.25, 2000, 0.9)));
    IdIndex.LongBuilder ub = IdIndex.longBuilder();
    for (int i = 0; i < users; i++) {
      ub.intern(1_000_000_007L * (i + 1) - 5 * i);
    }
    IdIndex.StringBuilder ib = IdIndex.stringBuilder();
    for (int i = 0; i < items; i++) {
      ib.intern("item-" + i + (i % 3 == 0 ? "-é✓" : ""));
    }
    int[] ptr = new int[users + 1];
    int[] cols = new int[users * 2];
    for (int i = 0; i < users; i++) {
      cols[2 * i] = i % items;
      cols[2 * i + 1] = Math.max(i % items + 1, 1) % items == i % items ? i % items
          : (i % items + 1) % items;
      Arrays.sort(cols, 2 * i, 2 * i + 2);
      if (cols[2 * i] == cols[2 * i + 1]) {
        cols[2 * i + 1] = cols[2 * i] + 1 < items ? cols[2 * i] + 1 : cols[2 * i] - 1;
        Arrays.sort(cols, 2 * i, 2 * i + 2);
      }
      ptr[i + 1] = 2 * i + 2;
    }
    float[] values = new float[cols.length];
    for (int p = 0; p < values.length; p++) {
      values[p] = 1 + rnd.nextInt(5);
    }
    SeenItems seen = SeenItems.of(ptr, cols, users, items).withValues(values);
    ModelMetadata meta = new ModelMetadata("m-" + seed, "als", k, Map.of("regularization",
        "0.1"), seed, AbsentEntries.UNKNOWN, 1234, 56, 3.5, 0.91, 1.5, Instant.ofEpochSecond(
            1_700_000_000L, 123), "test", "abc", "req-fp", "");
    return new ServedModel(f, ub.build(), ib.build(), seen, ScanIndex.of(f), meta,
        new SolverConfig(k, seed, AbsentEntries.UNKNOWN, Parameters.resolve(List.of(),
            Map.of())), budget.reserve(0, "test"));
  }

  private static byte[] write(ServedModel m) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    SnapshotFormat.write(m, out);
    return out.toByteArray();
  }

  private ServedModel read(byte[] bytes) throws IOException {
    return SnapshotFormat.read(new ByteArrayInputStream(bytes), null, reserver, configs);
  }

  @Test
  void roundTrip_everyPart_bitForBit() throws IOException {
    ServedModel m = model(budget, 300, 1500, 7, true, 1);
    ServedModel back = read(write(m));
    FactorModel a = m.factors();
    FactorModel b = back.factors();
    assertArrayEquals(a.copyUserFactors(0, 300), b.copyUserFactors(0, 300));
    assertArrayEquals(a.copyItemFactors(0, 1500), b.copyItemFactors(0, 1500));
    for (int u = 0; u < 300; u++) {
      assertEquals(Float.floatToRawIntBits(a.userBias(u)), Float.floatToRawIntBits(b.userBias(u)));
      assertEquals(m.users().idAt(u), back.users().idAt(u));
      assertArrayEquals(m.seen().items(u), back.seen().items(u));
      assertArrayEquals(m.seen().values(u), back.seen().values(u));
    }
    for (int i = 0; i < 1500; i++) {
      assertEquals(m.items().keyAt(i), back.items().keyAt(i));
      assertEquals(a.itemBias(i), b.itemBias(i));
    }
    assertEquals(a.globalMean(), b.globalMean());
    assertEquals(a.history(), b.history());
    assertEquals(m.metadata(), back.metadata());
    // The format is deterministic: writing the read model gives the same bytes.
    assertArrayEquals(write(m), write(back));
  }

  @Test
  void roundTrip_positionsAndNoBiases_keepsShape() throws IOException {
    FactorModel f = new FactorModel(3, 4, 2, new float[6], new float[] {1, 2, 3, 4, 5, 6, 7, 8},
        null, List.of());
    ModelMetadata meta = new ModelMetadata("dense", "nmf", 2, Map.of(), 1, AbsentEntries.ZERO,
        12, 0, 0, 0, 0, Instant.EPOCH, "t", "", "", "");
    ServedModel m = new ServedModel(f, IdIndex.positions(3), IdIndex.positions(4),
        SeenItems.of(new int[] {0, 0, 0, 0}, new int[0], 3, 4), ScanIndex.of(f), meta,
        new SolverConfig(2, 1, AbsentEntries.ZERO, Parameters.resolve(List.of(), Map.of())),
        budget.reserve(0, "t"));
    ServedModel back = read(write(m));
    assertTrue(back.users().isPositions());
    assertFalse(back.factors().hasBiases());
    assertArrayEquals(f.copyItemFactors(0, 4), back.factors().copyItemFactors(0, 4));
  }

  @Test
  void everyTruncation_isRefused() throws IOException {
    byte[] bytes = write(model(budget, 40, 30, 3, true, 2));
    for (int len = 0; len < bytes.length; len += len < 200 ? 1 : 37) {
      byte[] cut = Arrays.copyOf(bytes, len);
      assertThrows(SnapshotFormatException.class, () -> read(cut), "length " + len);
    }
  }

  @Test
  void everyBitFlip_isRefused() throws IOException {
    byte[] bytes = write(model(budget, 20, 25, 3, true, 3));
    Random rnd = new Random(4);
    for (int at = 0; at < bytes.length; at++) {
      byte[] bad = bytes.clone();
      bad[at] ^= (byte) (1 << rnd.nextInt(8));
      long before = budget.usedBytes();
      // Version 2 here too is refused: this model has SEEN_VALUES, an optional section of
      // version 3 (a version-3 snapshot with none reads as version 2: versionTwo_isStillRead).
      assertThrows(IOException.class, () -> read(bad), "flip at byte " + at);
      assertEquals(before, budget.usedBytes(), "a refused snapshot keeps no memory");
    }
  }

  @Test
  void otherVersion_isRefusedByName() throws IOException {
    byte[] bytes = write(model(budget, 5, 5, 2, false, 5));
    bytes[8] = 4;
    SnapshotFormatException e = assertThrows(SnapshotFormatException.class, () -> read(bytes));
    assertTrue(e.getMessage().contains("version 4"), e.getMessage());
  }

  @Test
  void seenValues_roundTrip_andTheirBytesAreCounted() throws IOException {
    ServedModel m = model(budget, 30, 40, 3, true, 12);
    ServedModel back = read(write(m));
    assertTrue(back.seen().hasValues());
    for (int u = 0; u < 30; u++) {
      assertArrayEquals(m.seen().values(u), back.seen().values(u));
    }
    assertEquals(SeenItems.estimateBytes(30, 60, true), back.seen().memoryBytes());
    assertTrue(back.memoryBytes() >= back.seen().memoryBytes() + back.factors().memoryBytes());
  }

  /**
   * A version-2 snapshot is a version-3 one without optional sections: read without values, as
   * a model whose values are unknown is written by this writer too.
   */
  @Test
  void versionTwo_isStillRead_withoutValues() throws IOException {
    ServedModel m = model(budget, 10, 8, 2, true, 13);
    ServedModel noValues = new ServedModel(m.factors(), m.users(), m.items(),
        SnapshotFormatTest.withoutValues(m.seen(), 10, 8), m.scanIndex(), m.metadata(),
        m.config(), budget.reserve(0, "t"));
    byte[] bytes = write(noValues);
    bytes[8] = 2;
    ServedModel back = read(bytes);
    assertFalse(back.seen().hasValues());
    assertArrayEquals(m.seen().items(3), back.seen().items(3));
    // A version-2 reader knows no optional sections: one holding SEEN_VALUES is refused.
    byte[] withValues = write(m);
    withValues[8] = 2;
    assertThrows(SnapshotFormatException.class, () -> read(withValues));
  }

  private static SeenItems withoutValues(SeenItems seen, int users, int items) {
    int[] ptr = new int[users + 1];
    int[] cols = new int[(int) seen.entries()];
    seen.copyOffsets(0, ptr);
    seen.copyEntries(0, cols);
    return SeenItems.of(ptr, cols, users, items);
  }

  @Test
  void popularity_roundTripsWithItsMeans() throws IOException {
    ServedModel m = model(budget, 30, 40, 3, true, 8);
    int[] counts = new int[40];
    float[] means = new float[40];
    for (int i = 0; i < 40; i++) {
      counts[i] = (i * 7) % 11;
      means[i] = counts[i] == 0 ? 0 : 1 + (i % 5) / 3f;
    }
    ServedModel withValues = new ServedModel(m.factors(), m.users(), m.items(), m.seen(),
        m.scanIndex(), Popularity.of(counts, means, 3.25), m.metadata(), m.config(),
        budget.reserve(0, "t"));
    ServedModel back = read(write(withValues));
    assertTrue(back.popularity().hasMeans());
    assertEquals(3.25, back.popularity().globalMean());
    for (int i = 0; i < 40; i++) {
      assertEquals(counts[i], back.popularity().count(i));
      assertEquals(means[i], back.popularity().mean(i));
    }
    assertArrayEquals(withValues.popularity().top(true), back.popularity().top(true));
  }

  /**
   * A snapshot written by the version-1 writer (before item popularity was stored; made with
   * that writer from {@code model(budget, 12, 9, 3, true, 11)}): still read, its counts taken
   * from the seen items.
   */
  @Test
  void versionOne_isStillRead_countsFromTheSeenItems() throws IOException {
    byte[] bytes;
    try (java.io.InputStream in = getClass().getResourceAsStream("/snapshots/v1-model.mfsnap")) {
      bytes = in.readAllBytes();
    }
    assertEquals(1, bytes[8]);
    ServedModel back = read(bytes);
    ServedModel m = model(budget, 12, 9, 3, true, 11);
    assertArrayEquals(m.factors().copyItemFactors(0, 9), back.factors().copyItemFactors(0, 9));
    assertFalse(back.popularity().hasMeans());
    int[] expect = new int[9];
    for (int u = 0; u < 12; u++) {
      for (int i : m.seen().items(u)) {
        expect[i]++;
      }
    }
    assertArrayEquals(expect, back.popularity().counts());
    // Written again, it is a current snapshot.
    assertEquals(SnapshotFormat.VERSION, write(back)[8]);
  }

  /**
   * A snapshot written by the version-2 writer (before tune trials were stored; made with that
   * writer from {@code model(budget, 12, 9, 3, true, 11)}): still read, with no trials.
   */
  @Test
  void versionTwo_isStillRead_withoutTrials() throws IOException {
    byte[] bytes;
    try (java.io.InputStream in = getClass().getResourceAsStream("/snapshots/v2-model.mfsnap")) {
      bytes = in.readAllBytes();
    }
    assertEquals(2, bytes[8]);
    ServedModel back = read(bytes);
    ServedModel m = model(budget, 12, 9, 3, true, 11);
    assertArrayEquals(m.factors().copyUserFactors(0, 12), back.factors().copyUserFactors(0, 12));
    assertArrayEquals(m.popularity().counts(), back.popularity().counts());
    assertEquals(m.metadata(), back.metadata());
    assertEquals(null, back.metadata().tune());
    // Written again, it is a current snapshot, and without trials no TUNE section is written.
    byte[] again = write(back);
    assertEquals(SnapshotFormat.VERSION, again[8]);
    assertEquals(bytes.length, again.length);
  }

  /** A tuned model with a failed trial, a non-ASCII value and a NaN score. */
  private ServedModel tuned(ServedModel m) {
    Map<String, String> s1 = new java.util.LinkedHashMap<>();
    s1.put("regularization", "12.5");
    s1.put("num_factors", "7");
    Map<String, String> s2 = new java.util.LinkedHashMap<>();
    s2.put("regularization", "0.001");
    s2.put("num_factors", "3");
    List<TuneTrial> trials = List.of(
        new TuneTrial(1, s1, 0, 0, 3, 0.95, 0.25, null, false),
        new TuneTrial(2, s2, 0, 0, 3, Double.NaN, 0.5, "diverged: λ trop petit", false),
        new TuneTrial(4, s1, 1, 0, 9, 0.9125, 1.75, null, true));
    TuneReport report = new TuneReport(TuneMetric.RMSE, trials, s1);
    ModelMetadata a = m.metadata();
    ModelMetadata meta = new ModelMetadata(a.modelId(), a.solver(), a.numFactors(), a.params(),
        a.seed(), a.absentEntries(), a.numEntries(), a.numValidationEntries(), a.trainingMean(),
        a.trainingRmse(), a.fitSeconds(), a.createTime(), a.mfserveVersion(),
        a.dataFingerprint(), a.requestFingerprint(), a.warmStartModelId(), report);
    return new ServedModel(m.factors(), m.users(), m.items(), m.seen(), m.scanIndex(),
        m.popularity(), meta, m.config(), budget.reserve(0, "t"));
  }

  @Test
  void tuneTrials_roundTripInTheirOrder() throws IOException {
    ServedModel m = tuned(model(budget, 20, 30, 3, true, 12));
    byte[] bytes = write(m);
    assertEquals(3, bytes[8]);
    ServedModel back = read(bytes);
    TuneReport a = m.metadata().tune();
    TuneReport b = back.metadata().tune();
    assertEquals(a, b);
    assertEquals(List.copyOf(a.trials().get(0).setting().keySet()),
        List.copyOf(b.trials().get(0).setting().keySet()));
    assertTrue(Double.isNaN(b.trials().get(1).metric()));
    assertEquals(m.metadata(), back.metadata());
    assertArrayEquals(bytes, write(back));
    // Loaded under another id, the trials stay.
    ServedModel renamed = SnapshotFormat.read(new ByteArrayInputStream(bytes), "other",
        reserver, configs);
    assertEquals("other", renamed.metadata().modelId());
    assertEquals(a, renamed.metadata().tune());
  }

  @Test
  void tuneSection_damagedOrRepeatedOrUnknown_isRefused() throws IOException {
    byte[] bytes = write(tuned(model(budget, 6, 5, 2, false, 13)));
    // Every truncation and every bit flip of the TUNE section (the last before END's 16).
    int end = bytes.length - 16;
    int start = lastTuneHeader(bytes);
    for (int cut = start; cut < bytes.length; cut += 7) {
      byte[] shorter = Arrays.copyOf(bytes, cut);
      assertThrows(SnapshotFormatException.class, () -> read(shorter), "cut at " + cut);
    }
    for (int at = start; at < end; at++) {
      byte[] flipped = bytes.clone();
      flipped[at] ^= 0x10;
      assertThrows(SnapshotFormatException.class, () -> read(flipped), "flip at " + at);
    }
    // An unknown tag where the optional sections are: refused by name.
    byte[] unknown = bytes.clone();
    unknown[start] = 99;
    SnapshotFormatException e = assertThrows(SnapshotFormatException.class,
        () -> read(unknown));
    assertTrue(e.getMessage().contains("99"), e.getMessage());
  }

  /** The offset of the TUNE header: the section before END. */
  private static int lastTuneHeader(byte[] bytes) {
    for (int at = bytes.length - 16 - 12; at >= 12; at--) {
      java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(bytes).order(
          java.nio.ByteOrder.LITTLE_ENDIAN);
      if (b.getInt(at) == 9 && at + 12 + b.getLong(at + 4) + 4 == bytes.length - 16) {
        return at;
      }
    }
    throw new AssertionError("no TUNE section");
  }

  @Test
  void load_reservesBeforeAllocating_andRefusesOverBudget() throws IOException {
    byte[] bytes = write(model(budget, 200, 300, 8, true, 6));
    MemoryBudget tiny = new MemoryBudget(10_000);
    assertThrows(io.mfserve.server.model.errors.ResourceExhaustedException.class,
        () -> SnapshotFormat.read(new ByteArrayInputStream(bytes), null, tiny::reserve, configs));
    assertEquals(0, tiny.usedBytes());
  }
}
