package io.mfserve.client;

import com.google.protobuf.CodedOutputStream;
import io.mfserve.proto.v1.DenseMatrix;
import io.mfserve.proto.v1.SparseMatrix;
import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * Cuts a matrix into consecutive pieces of at most a byte budget each, serialized: a dense
 * matrix into blocks of whole rows, a sparse one into runs of entries. Used for UploadMatrix
 * chunks and for the seen entries of ImportFactors. The budget counts the payload only; callers
 * leave room for their message wrappers.
 */
final class MatrixChunks {
  private MatrixChunks() {}

  /**
   * Consecutive blocks of whole rows, each at most {@code budget} bytes of values. A single row
   * wider than the budget goes alone. An empty matrix gives one empty block, so a server sees
   * (and reports) it.
   */
  static Iterator<DenseMatrix> dense(DenseMatrix m, int budget) {
    return new DenseChunks(m, budget);
  }

  /**
   * Consecutive runs of entries, each at most {@code budget} bytes serialized (one entry always
   * goes, however large). An empty matrix gives one empty run.
   */
  static Iterator<SparseMatrix> sparse(SparseMatrix m, int budget) {
    return new SparseChunks(m, budget);
  }

  private static final class DenseChunks implements Iterator<DenseMatrix> {
    private final DenseMatrix m;
    private final int rowsPerChunk;
    private int next;

    DenseChunks(DenseMatrix m, int budget) {
      this.m = m;
      long rowBytes = Math.max(1, 4L * m.getCols());
      this.rowsPerChunk = (int) Math.max(1, budget / rowBytes);
    }

    @Override
    public boolean hasNext() {
      return next < m.getRows() || (next == 0 && m.getRows() == 0);
    }

    @Override
    public DenseMatrix next() {
      if (!hasNext()) {
        throw new NoSuchElementException();
      }
      int rows = Math.min(rowsPerChunk, m.getRows() - next);
      int cols = m.getCols();
      DenseMatrix.Builder b = DenseMatrix.newBuilder().setRows(rows).setCols(cols);
      int from = next * cols;
      int to = (next + rows) * cols;
      for (int i = from; i < to; i++) {
        b.addValues(m.getValues(i));
      }
      // An empty matrix still goes as one (empty) chunk, so the server answers with its error.
      next = rows == 0 ? 1 : next + rows;
      return b.build();
    }
  }

  private static final class SparseChunks implements Iterator<SparseMatrix> {
    private final SparseMatrix m;
    private final int budget;
    private final int entries;
    private int next;
    private boolean sentAny;

    SparseChunks(SparseMatrix m, int budget) {
      this.m = m;
      this.budget = budget;
      // A malformed matrix (lists of different lengths) is sent as is, entry by entry up to the
      // longest list, so the server reports it rather than this client hiding it.
      this.entries = Math.max(Math.max(m.getValuesCount(),
          Math.max(m.getRowIdsCount(), m.getRowKeysCount())),
          Math.max(m.getColIdsCount(), m.getColKeysCount()));
    }

    @Override
    public boolean hasNext() {
      return next < entries || !sentAny;
    }

    @Override
    public SparseMatrix next() {
      if (!hasNext()) {
        throw new NoSuchElementException();
      }
      int end = next;
      long bytes = 0;
      while (end < entries) {
        long e = entryBytes(end);
        if (bytes + e > budget && end > next) {
          break;
        }
        bytes += e;
        end++;
      }
      SparseMatrix.Builder b = SparseMatrix.newBuilder();
      for (int i = next; i < end; i++) {
        if (i < m.getRowIdsCount()) {
          b.addRowIds(m.getRowIds(i));
        }
        if (i < m.getRowKeysCount()) {
          b.addRowKeys(m.getRowKeys(i));
        }
        if (i < m.getColIdsCount()) {
          b.addColIds(m.getColIds(i));
        }
        if (i < m.getColKeysCount()) {
          b.addColKeys(m.getColKeys(i));
        }
        if (i < m.getValuesCount()) {
          b.addValues(m.getValues(i));
        }
      }
      next = end;
      sentAny = true;
      return b.build();
    }

    /** The serialized size entry i adds: packed varints, a packed float, tagged strings. */
    private long entryBytes(int i) {
      long n = 0;
      if (i < m.getRowIdsCount()) {
        n += CodedOutputStream.computeInt64SizeNoTag(m.getRowIds(i));
      }
      if (i < m.getColIdsCount()) {
        n += CodedOutputStream.computeInt64SizeNoTag(m.getColIds(i));
      }
      if (i < m.getValuesCount()) {
        n += 4;
      }
      if (i < m.getRowKeysCount()) {
        n += 1 + CodedOutputStream.computeStringSizeNoTag(m.getRowKeys(i));
      }
      if (i < m.getColKeysCount()) {
        n += 1 + CodedOutputStream.computeStringSizeNoTag(m.getColKeys(i));
      }
      return n;
    }
  }
}
