package io.mfserve.server.model.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mfserve.server.model.errors.InvalidRequestException;
import io.mfserve.server.model.errors.ResourceExhaustedException;
import io.mfserve.server.model.ids.IdForm;
import io.mfserve.server.model.ids.IdIndex;
import io.mfserve.server.model.matrix.MatrixAccumulator;
import io.mfserve.server.model.matrix.PreparedMatrix;
import io.mfserve.server.model.matrix.SparseChunk;
import org.junit.jupiter.api.Test;

class StoresTest {
  @Test
  void memoryBudget_reserveGrowShrinkClose_accountsExactly() {
    MemoryBudget b = new MemoryBudget(1000);
    MemoryBudget.Reservation r = b.reserve(400, "a");
    r.grow(300, "b");
    assertEquals(700, b.usedBytes());
    ResourceExhaustedException e = assertThrows(ResourceExhaustedException.class,
        () -> b.reserve(301, "the big one"));
    assertTrue(e.getMessage().contains("the big one"));
    r.shrink(200);
    assertEquals(500, b.usedBytes());
    r.close();
    r.close();
    assertEquals(0, b.usedBytes());
  }

  @Test
  void idIndex_longsAndStrings_roundTrip() {
    IdIndex.LongBuilder lb = IdIndex.longBuilder();
    assertEquals(0, lb.intern(99));
    assertEquals(1, lb.intern(-5));
    assertEquals(0, lb.intern(99));
    IdIndex li = lb.build();
    assertEquals(2, li.size());
    assertEquals(-5, li.idAt(1));
    assertEquals(1, li.indexOf(-5));
    assertEquals(-1, li.indexOf(7));
    IdIndex.StringBuilder sb = IdIndex.stringBuilder();
    sb.intern("x");
    sb.intern("y");
    IdIndex si = sb.build();
    assertEquals(1, si.indexOf("y"));
    assertEquals("x", si.keyAt(0));
    assertEquals(IdForm.STRING, si.form());
    assertEquals(-1, si.indexOf(0L));
    assertEquals(3, IdIndex.positions(5).indexOf(3L));
    assertEquals(-1, IdIndex.positions(5).indexOf(5L));
  }

  @Test
  void accumulator_denseBlocks_concatenateRows() {
    MemoryBudget b = new MemoryBudget(1 << 20);
    MatrixAccumulator acc = new MatrixAccumulator(b, "chunk");
    acc.appendDense(1, 3, new float[] {1, 2, 3});
    acc.appendDense(2, 3, new float[] {4, 5, 6, 7, 8, 9});
    PreparedMatrix m = acc.finish();
    assertEquals(3, m.rows());
    assertEquals(3, m.cols());
    assertEquals(9, m.entries());
    assertEquals(36, m.memoryBytes());
    assertEquals(36, b.usedBytes());
    m.release();
    assertEquals(0, b.usedBytes());
  }

  @Test
  void accumulator_sparse_numbersIdsInAscendingOrder() {
    MemoryBudget b = new MemoryBudget(1 << 20);
    MatrixAccumulator acc = new MatrixAccumulator(b, "matrix");
    acc.appendSparse(new SparseChunk(new long[] {50, 7, 50}, null, null,
        new String[] {"y", "x", "x"}, new float[] {1, 2, 3}));
    PreparedMatrix m = acc.finish();
    assertEquals(2, m.rows());
    assertEquals(2, m.cols());
    assertEquals(7, m.rowIndex().idAt(0));
    assertEquals(50, m.rowIndex().idAt(1));
    assertEquals(1, m.rowIndex().indexOf(50));
    assertEquals("x", m.colIndex().keyAt(0));
    assertEquals(1, m.colIndex().indexOf("y"));
    // The entries follow their ids: row 50 holds (y, 1) and (x, 3), row 7 holds (x, 2).
    io.mfserve.solver.TrainingMatrix t =
        m.toTrainingMatrix(io.mfserve.solver.AbsentEntries.UNKNOWN, "matrix");
    assertEquals(1, t.rowEnd(0) - t.rowStart(0));
    assertEquals(0, t.rowColumn(t.rowStart(0)));
    assertEquals(2f, t.rowValue(t.rowStart(0)));
    assertEquals(0, t.rowColumn(t.rowStart(1)));
    assertEquals(3f, t.rowValue(t.rowStart(1)));
    assertEquals(1, t.rowColumn(t.rowStart(1) + 1));
    assertEquals(1f, t.rowValue(t.rowStart(1) + 1));
    InvalidRequestException dup = assertThrows(InvalidRequestException.class, () -> {
      MatrixAccumulator a2 = new MatrixAccumulator(b, "matrix");
      a2.appendSparse(new SparseChunk(new long[] {1, 1}, null, new long[] {2, 2}, null,
          new float[] {1, 2}));
      a2.finish().toTrainingMatrix(io.mfserve.solver.AbsentEntries.UNKNOWN, "matrix");
    });
    assertTrue(dup.getMessage().contains("row 1, column 2"), dup.getMessage());
  }
}
