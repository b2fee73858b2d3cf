package io.mfserve.client;

import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.WireFormat;
import io.mfserve.proto.v1.DenseMatrix;
import io.mfserve.proto.v1.SparseMatrix;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
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

  /**
   * Whether {@link #sparseWire} can cut {@code m}: int64 ids on both sides and a value per
   * entry (no string keys, lists of one length).
   */
  static boolean idKeyed(SparseMatrix m) {
    int n = m.getValuesCount();
    return m.getRowIdsCount() == n && m.getColIdsCount() == n && m.getRowKeysCount() == 0
        && m.getColKeysCount() == 0;
  }

  /**
   * The same runs as {@link #sparse} for an {@link #idKeyed} matrix, each already serialized
   * inside the messages named by {@code enclosingFields} (field numbers of length-delimited
   * fields, outermost first; the bytes equal those of the builders' {@code toByteArray}). The
   * ids and values are written straight from the matrix's lists into one array per run: no
   * builder, no second pass through a serializer. This is what makes UploadMatrix of a large
   * id-keyed matrix run near the transport's speed (solvers/bench/upload).
   */
  static Iterator<byte[]> sparseWire(SparseMatrix m, int budget, int... enclosingFields) {
    if (!idKeyed(m)) {
      throw new IllegalArgumentException("not an id-keyed sparse matrix");
    }
    return new SparseWireChunks(m, budget, enclosingFields);
  }

  /** Serialized runs of an id-keyed sparse matrix: see {@link #sparseWire}. */
  private static final class SparseWireChunks implements Iterator<byte[]> {
    private static final int ROWS = SparseMatrix.ROW_IDS_FIELD_NUMBER;
    private static final int COLS = SparseMatrix.COL_IDS_FIELD_NUMBER;
    private static final int VALUES = SparseMatrix.VALUES_FIELD_NUMBER;
    private static final int LENGTH_DELIMITED = WireFormat.WIRETYPE_LENGTH_DELIMITED;
    private static final VarHandle LITTLE_ENDIAN_INT =
        MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);

    private final SparseMatrix m;
    private final int budget;
    private final int[] enclosingFields;
    private final int entries;
    private int next;
    private boolean sentAny;

    SparseWireChunks(SparseMatrix m, int budget, int[] enclosingFields) {
      this.m = m;
      this.budget = budget;
      this.entries = m.getValuesCount();
      this.enclosingFields = enclosingFields.clone();
    }

    @Override
    public boolean hasNext() {
      return next < entries || !sentAny;
    }

    @Override
    public byte[] next() {
      if (!hasNext()) {
        throw new NoSuchElementException();
      }
      // The run ends where SparseChunks' would: payload (varints and 4 bytes a value) within
      // the budget, at least one entry.
      int end = next;
      long rowBytes = 0;
      long colBytes = 0;
      while (end < entries) {
        int r = CodedOutputStream.computeInt64SizeNoTag(m.getRowIds(end));
        int c = CodedOutputStream.computeInt64SizeNoTag(m.getColIds(end));
        long payload = rowBytes + colBytes + 4L * (end - next);
        if (payload + r + c + 4 > budget && end > next) {
          break;
        }
        rowBytes += r;
        colBytes += c;
        end++;
      }
      long valueBytes = 4L * (end - next);
      long size = packedSize(ROWS, rowBytes) + packedSize(COLS, colBytes)
          + packedSize(VALUES, valueBytes);
      // Each enclosing message's length, innermost last.
      long[] lengths = new long[enclosingFields.length];
      for (int i = enclosingFields.length - 1; i >= 0; i--) {
        lengths[i] = size;
        size += CodedOutputStream.computeTagSize(enclosingFields[i])
            + CodedOutputStream.computeUInt64SizeNoTag(size);
      }
      if (size > Integer.MAX_VALUE - 8) {
        throw new IllegalArgumentException("a chunk of " + size + " bytes is too large");
      }
      byte[] out = new byte[(int) size];
      int pos = 0;
      for (int i = 0; i < enclosingFields.length; i++) {
        pos = putVarint(out, pos, tag(enclosingFields[i]));
        pos = putVarint(out, pos, lengths[i]);
      }
      if (rowBytes > 0) {
        pos = putVarint(out, pos, tag(ROWS));
        pos = putVarint(out, pos, rowBytes);
        for (int i = next; i < end; i++) {
          pos = putVarint(out, pos, m.getRowIds(i));
        }
      }
      if (colBytes > 0) {
        pos = putVarint(out, pos, tag(COLS));
        pos = putVarint(out, pos, colBytes);
        for (int i = next; i < end; i++) {
          pos = putVarint(out, pos, m.getColIds(i));
        }
      }
      if (valueBytes > 0) {
        pos = putVarint(out, pos, tag(VALUES));
        pos = putVarint(out, pos, valueBytes);
        for (int i = next; i < end; i++) {
          LITTLE_ENDIAN_INT.set(out, pos, Float.floatToRawIntBits(m.getValues(i)));
          pos += 4;
        }
      }
      if (pos != out.length) {
        throw new IllegalStateException("chunk serialization miscounted its size: " + pos
            + " of " + out.length + " bytes");
      }
      next = end;
      sentAny = true;
      return out;
    }

    /** The tag of a length-delimited field. */
    private static int tag(int field) {
      return field << 3 | LENGTH_DELIMITED;
    }

    /**
     * Writes {@code v} as a base-128 varint (an int64 as protobuf writes it: a negative value
     * takes ten bytes) at {@code pos}; returns the position after it. Written out here because
     * protobuf's encoder, called per value, was most of the upload client's time.
     */
    private static int putVarint(byte[] out, int pos, long v) {
      // Ids below 2^21 (most) in one branch each.
      if ((v & ~0x7FL) == 0) {
        out[pos] = (byte) v;
        return pos + 1;
      }
      if ((v & ~0x3FFFL) == 0) {
        out[pos] = (byte) (v | 0x80);
        out[pos + 1] = (byte) (v >>> 7);
        return pos + 2;
      }
      if ((v & ~0x1FFFFFL) == 0) {
        out[pos] = (byte) (v | 0x80);
        out[pos + 1] = (byte) (v >>> 7 | 0x80);
        out[pos + 2] = (byte) (v >>> 14);
        return pos + 3;
      }
      while ((v & ~0x7FL) != 0) {
        out[pos++] = (byte) ((v & 0x7F) | 0x80);
        v >>>= 7;
      }
      out[pos++] = (byte) v;
      return pos;
    }

    /** The bytes of a packed field with {@code length} bytes of data; none when empty. */
    private static long packedSize(int field, long length) {
      return length == 0 ? 0 : CodedOutputStream.computeTagSize(field)
          + CodedOutputStream.computeUInt64SizeNoTag(length) + length;
    }
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
