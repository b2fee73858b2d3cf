package io.mfserve.server.model.matrix;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mfserve.server.model.ids.IdIndex;
import io.mfserve.server.model.store.MemoryBudget;
import io.mfserve.solver.AbsentEntries;
import io.mfserve.solver.TrainingMatrix;
import java.util.ArrayList;
import java.util.List;
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
}
