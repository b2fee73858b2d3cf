package io.mfserve.server.model.matrix;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mfserve.server.model.ids.IdForm;
import io.mfserve.server.model.ids.IdIndex;
import io.mfserve.server.model.store.MemoryBudget;
import io.mfserve.solver.AbsentEntries;
import io.mfserve.solver.TrainingMatrix;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** PreparedMatrix keeps the training matrix its first fit builds. */
class PreparedMatrixTest {
  private static PreparedMatrix sparse(MemoryBudget budget) {
    IdIndex.LongBuilder rows = IdIndex.longBuilder();
    IdIndex.LongBuilder cols = IdIndex.longBuilder();
    int[] r = {rows.intern(10), rows.intern(11), rows.intern(10)};
    int[] c = {cols.intern(7), cols.intern(8), cols.intern(8)};
    return PreparedMatrix.sparse(rows.build(), cols.build(), r, c, new float[] {1, 2, 3},
        budget.reserve(36, "matrix"));
  }

  @Test
  void toTrainingMatrix_secondFit_reusesTheKeptMatrixAndCountsIt() {
    MemoryBudget budget = new MemoryBudget(1 << 20);
    PreparedMatrix m = sparse(budget);
    assertFalse(m.keepsTrainingMatrix());
    TrainingMatrix first = m.toTrainingMatrix(AbsentEntries.ZERO, "matrix");
    assertTrue(m.keepsTrainingMatrix());
    assertEquals(36 + first.memoryBytes(), budget.usedBytes());
    assertEquals(36 + first.memoryBytes(), m.memoryBytes());
    assertSame(first, m.toTrainingMatrix(AbsentEntries.ZERO, "matrix"));
    TrainingMatrix unknown = m.toTrainingMatrix(AbsentEntries.UNKNOWN, "matrix");
    assertEquals(AbsentEntries.UNKNOWN, unknown.absentEntries());
    assertEquals(3, unknown.nnz());
    assertEquals(36 + first.memoryBytes(), budget.usedBytes(), "a view costs nothing more");
    m.release();
    assertFalse(m.keepsTrainingMatrix());
    assertEquals(0, budget.usedBytes());
  }

  @Test
  void toTrainingMatrix_noRoomToKeep_returnsItUnkept() {
    MemoryBudget budget = new MemoryBudget(40);
    PreparedMatrix m = sparse(budget);
    TrainingMatrix t = m.toTrainingMatrix(AbsentEntries.ZERO, "matrix");
    assertEquals(3, t.nnz());
    assertFalse(m.keepsTrainingMatrix());
    assertEquals(36, budget.usedBytes());
    m.release();
    assertEquals(0, budget.usedBytes());
  }

  @Test
  void toTrainingMatrix_afterRelease_buildsWithoutKeeping() {
    MemoryBudget budget = new MemoryBudget(1 << 20);
    PreparedMatrix m = sparse(budget);
    m.release();
    assertEquals(3, m.toTrainingMatrix(AbsentEntries.ZERO, "matrix").nnz());
    assertFalse(m.keepsTrainingMatrix());
    assertEquals(0, budget.usedBytes());
  }

  @Test
  void toTrainingMatrix_concurrentFirstFits_buildOnceAndShareIt() throws Exception {
    MemoryBudget budget = new MemoryBudget(1 << 20);
    PreparedMatrix m = sparse(budget);
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Callable<TrainingMatrix>> calls = new ArrayList<>();
      for (int n = 0; n < 8; n++) {
        calls.add(() -> m.toTrainingMatrix(AbsentEntries.ZERO, "matrix"));
      }
      List<Future<TrainingMatrix>> got = pool.invokeAll(calls);
      for (Future<TrainingMatrix> f : got) {
        assertSame(got.get(0).get(), f.get());
      }
      assertEquals(36 + got.get(0).get().memoryBytes(), budget.usedBytes());
    } finally {
      pool.shutdownNow();
    }
    m.release();
    assertEquals(0, budget.usedBytes());
  }

  /** The fingerprint as first written: every field put into a ByteBuffer one at a time. */
  private static String reference(PreparedMatrix m, boolean dense, int[] r, int[] c,
      float[] v) throws Exception {
    MessageDigest sha = MessageDigest.getInstance("SHA-256");
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    DataOutputStream out = new DataOutputStream(bytes);
    out.writeByte(dense ? 1 : 0);
    out.writeInt(m.rows());
    out.writeInt(m.cols());
    for (IdIndex index : new IdIndex[] {m.rowIndex(), m.colIndex()}) {
      for (int p = 0; !index.isPositions() && p < index.size(); p++) {
        if (index.form() == IdForm.INT64) {
          out.writeLong(index.idAt(p));
        } else {
          out.write(index.keyAt(p).getBytes(StandardCharsets.UTF_8));
          out.writeByte(0);
        }
      }
    }
    for (int n = 0; n < v.length; n++) {
      if (!dense) {
        out.writeInt(r[n]);
        out.writeInt(c[n]);
      }
      out.writeInt(Float.floatToRawIntBits(v[n]));
    }
    out.flush();
    return HexFormat.of().formatHex(sha.digest(bytes.toByteArray()));
  }

  @Test
  void fingerprint_equalsTheFieldByFieldHash_sparseDenseAndKeyed() throws Exception {
    Random random = new Random(23);
    MemoryBudget budget = new MemoryBudget(1L << 30);
    // 20,000 entries: several 64 KB chunks, and a last one partly filled.
    int n = 20_000;
    IdIndex.LongBuilder rows = IdIndex.longBuilder();
    IdIndex.StringBuilder cols = IdIndex.stringBuilder();
    int[] r = new int[n];
    int[] c = new int[n];
    float[] v = new float[n];
    for (int e = 0; e < n; e++) {
      r[e] = rows.intern(random.nextLong());
      c[e] = cols.intern("item-" + random.nextInt(3000));
      v[e] = random.nextInt(9) == 0 ? Float.NaN : (float) random.nextGaussian();
    }
    PreparedMatrix sparse = PreparedMatrix.sparse(rows.build(), cols.build(), r, c, v,
        budget.reserve(12L * n, "matrix"));
    assertEquals(reference(sparse, false, r, c, v), sparse.fingerprint());
    float[] d = new float[300 * 70];
    for (int e = 0; e < d.length; e++) {
      d[e] = (float) random.nextGaussian();
    }
    PreparedMatrix dense = PreparedMatrix.dense(300, 70, d, budget.reserve(4L * d.length,
        "matrix"));
    assertEquals(reference(dense, true, null, null, d), dense.fingerprint());
    PreparedMatrix small = sparse(budget);
    assertEquals(reference(small, false, new int[] {0, 1, 0}, new int[] {0, 1, 1},
        new float[] {1, 2, 3}), small.fingerprint());
    assertEquals(small.fingerprint(), sparse(budget).fingerprint(),
        "the same entries, the same fingerprint");
  }
}
