package io.mfserve.solver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class TrainingMatrixTest {

  @Test
  void fromCoordinates_unsortedEntries_buildsSortedCsrAndCsc() {
    // 2 × 3: (1,2)=5, (0,1)=1, (1,0)=3, (0,2)=2
    TrainingMatrix m = TrainingMatrix.fromCoordinates(2, 3, new int[] {1, 0, 1, 0},
        new int[] {2, 1, 0, 2}, new float[] {5, 1, 3, 2}, AbsentEntries.UNKNOWN);
    assertEquals(4, m.nnz());
    assertEquals(2, m.rowLength(0));
    assertEquals(1, m.rowColumn(m.rowStart(0)));
    assertEquals(1f, m.rowValue(m.rowStart(0)));
    assertEquals(2, m.rowColumn(m.rowStart(0) + 1));
    assertEquals(0, m.rowColumn(m.rowStart(1)));
    assertEquals(3f, m.rowValue(m.rowStart(1)));
    // Column 2 holds rows 0 and 1 in order.
    assertEquals(2, m.colLength(2));
    assertEquals(0, m.colRow(m.colStart(2)));
    assertEquals(2f, m.colValue(m.colStart(2)));
    assertEquals(1, m.colRow(m.colStart(2) + 1));
    assertEquals(5f, m.colValue(m.colStart(2) + 1));
    assertEquals(0, m.colLength(1) - 1);
    assertEquals(2.75, m.mean(), 1e-12);
    assertTrue(m.contains(1, 2));
    assertFalse(m.contains(1, 1));
    assertFalse(m.isDense());
  }

  @Test
  void copyValues_denseMatrix_copiesRunsOfRowsAndColumns() {
    // 2 × 3 row-major: [1 2 3; 4 5 6].
    TrainingMatrix m = TrainingMatrix.fromDense(2, 3, new float[] {1, 2, 3, 4, 5, 6},
        AbsentEntries.ZERO);
    float[] dst = new float[4];
    m.copyRowValues(m.rowStart(1) + 1, dst, 1, 2);
    assertEquals(5f, dst[1]);
    assertEquals(6f, dst[2]);
    m.copyColValues(m.colStart(2), dst, 0, 2);
    assertEquals(3f, dst[0]);
    assertEquals(6f, dst[1]);
    assertThrows(IndexOutOfBoundsException.class, () -> m.copyRowValues(5, dst, 0, 2));
  }

  @Test
  void fromCoordinates_duplicatePair_isRejected() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> TrainingMatrix.fromCoordinates(2, 2, new int[] {0, 1, 0}, new int[] {1, 1, 1},
            new float[] {1, 2, 3}, AbsentEntries.UNKNOWN));
    assertTrue(e.getMessage().contains("repeats"), e.getMessage());
  }

  @Test
  void fromCoordinates_indexOutOfRange_isRejected() {
    assertThrows(IllegalArgumentException.class,
        () -> TrainingMatrix.fromCoordinates(2, 2, new int[] {2}, new int[] {0},
            new float[] {1}, AbsentEntries.UNKNOWN));
  }

  @Test
  void fromCoordinates_nonFiniteValue_isRejected() {
    assertThrows(IllegalArgumentException.class,
        () -> TrainingMatrix.fromCoordinates(1, 1, new int[] {0}, new int[] {0},
            new float[] {Float.NaN}, AbsentEntries.UNKNOWN));
  }

  @Test
  void fromDense_everyEntryStored() {
    TrainingMatrix m = TrainingMatrix.fromDense(2, 2, new float[] {1, 2, 3, 4},
        AbsentEntries.ZERO);
    assertTrue(m.isDense());
    assertEquals(4, m.nnz());
    assertEquals(3f, m.colValue(m.colStart(0) + 1));
    assertEquals(TrainingMatrix.estimateBytes(2, 2, 4), m.memoryBytes());
  }

  @Test
  void fromDense_wrongValueCount_isRejected() {
    assertThrows(IllegalArgumentException.class,
        () -> TrainingMatrix.fromDense(2, 2, new float[3], AbsentEntries.UNKNOWN));
  }

  @Test
  void fromCoordinates_duplicatePair_reportsBothEntries() {
    DuplicateEntryException e = assertThrows(DuplicateEntryException.class,
        () -> TrainingMatrix.fromCoordinates(2, 2, new int[] {0, 1, 0}, new int[] {1, 1, 1},
            new float[] {1, 2, 3}, AbsentEntries.UNKNOWN));
    assertEquals(0, e.firstEntry());
    assertEquals(2, e.repeatEntry());
    assertEquals(0, e.row());
    assertEquals(1, e.col());
  }

  @Test
  void split_isSeededAndPartitionsTheEntries() {
    float[] x = new float[20 * 30];
    for (int n = 0; n < x.length; n++) {
      x[n] = n;
    }
    TrainingMatrix m = TrainingMatrix.fromDense(20, 30, x, AbsentEntries.ZERO);
    TrainingMatrix.Split a = m.split(0.2, 7);
    TrainingMatrix.Split b = m.split(0.2, 7);
    assertEquals(m.nnz(), a.train().nnz() + a.validation().size());
    assertEquals(a.validation().size(), b.validation().size());
    assertTrue(a.validation().size() > 60 && a.validation().size() < 180);
    for (int n = 0; n < a.validation().size(); n++) {
      int r = a.validation().row(n);
      int c = a.validation().col(n);
      assertEquals(r * 30 + c, a.validation().value(n));
      assertFalse(a.train().contains(r, c));
    }
    assertEquals(AbsentEntries.UNKNOWN, a.train().absentEntries());
    assertTrue(m.split(0, 7).validation().isEmpty());
  }
  @Test
  void withAbsentEntries_sameMeaningIsThisOtherSharesTheEntries() {
    TrainingMatrix m = TrainingMatrix.fromCoordinates(3, 2, new int[] {2, 0}, new int[] {1, 0},
        new float[] {4, 5}, AbsentEntries.ZERO);
    assertTrue(m == m.withAbsentEntries(AbsentEntries.ZERO));
    TrainingMatrix unknown = m.withAbsentEntries(AbsentEntries.UNKNOWN);
    assertEquals(AbsentEntries.UNKNOWN, unknown.absentEntries());
    assertEquals(AbsentEntries.ZERO, m.absentEntries());
    assertEquals(2, unknown.nnz());
    assertEquals(4.5, unknown.mean());
    assertEquals(4f, unknown.rowValue(unknown.rowStart(2)));
    assertEquals(2, unknown.colRow(unknown.colStart(1)));
    assertFalse(unknown.isDense());
  }
}
