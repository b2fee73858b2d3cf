package io.mfserve.server.grpc;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.WireFormat;
import io.grpc.KnownLength;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.mfserve.proto.v1.Matrix;
import io.mfserve.proto.v1.SparseMatrix;
import io.mfserve.server.model.matrix.SparseChunk;
import java.io.IOException;
import java.io.InputStream;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * Decodes a serialized {@link Matrix} holding an id-keyed sparse matrix in the form every
 * protobuf library writes (only its three packed lists, each once, of one length) straight into
 * the arrays the server builds matrices from: no protobuf lists grown element by element, no
 * second copy. Anything else gives null, and the caller hands the message to protobuf's parser,
 * so that errors and every other form (keys, dense, unpacked or repeated fields, unknown fields)
 * behave exactly as protobuf reads them. Shared by the marshallers of UploadMatrix ({@link
 * UploadChunkMarshaller}) and of Fit and FitWithProgress ({@link FitMessageMarshaller}).
 */
final class SparseMatrixDecoder {
  private static final int LENGTH_DELIMITED = WireFormat.WIRETYPE_LENGTH_DELIMITED;
  private static final int SPARSE_TAG = tag(Matrix.SPARSE_FIELD_NUMBER);
  private static final int ROWS_TAG = tag(SparseMatrix.ROW_IDS_FIELD_NUMBER);
  private static final int COLS_TAG = tag(SparseMatrix.COL_IDS_FIELD_NUMBER);
  private static final int VALUES_TAG = tag(SparseMatrix.VALUES_FIELD_NUMBER);
  private static final VarHandle LITTLE_ENDIAN_INT =
      MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);

  private SparseMatrixDecoder() { }

  /**
   * The stream's bytes, read into one array of the right size when the stream knows its length
   * (grpc's do): an upload's chunk is about a MiB, an inline Fit's matrix often more, and
   * growing buffers would copy them several times. A failed read is INTERNAL, naming {@code
   * what} was read.
   */
  static byte[] readAll(InputStream stream, String what) {
    try {
      return readAll(stream);
    } catch (IOException e) {
      throw Status.INTERNAL.withDescription("reading " + what + " failed").withCause(e)
          .asRuntimeException();
    }
  }

  private static byte[] readAll(InputStream stream) throws IOException {
    if (!(stream instanceof KnownLength)) {
      return stream.readAllBytes();
    }
    byte[] known = new byte[stream.available()];
    int read = stream.readNBytes(known, 0, known.length);
    byte[] rest = stream.readAllBytes();
    if (read == known.length && rest.length == 0) {
      return known;
    }
    byte[] all = Arrays.copyOf(known, read + rest.length);
    System.arraycopy(rest, 0, all, read, rest.length);
    return all;
  }

  /** What grpc's own protobuf marshaller answers for bytes that do not parse. */
  static StatusRuntimeException invalid(InvalidProtocolBufferException e) {
    return Status.INTERNAL.withDescription("Invalid protobuf byte sequence").withCause(e)
        .asRuntimeException();
  }

  /**
   * Decodes the serialized Matrix in bytes[from, to) when it is exactly {sparse: {row_ids,
   * col_ids, values}}, each list packed, present once and of the same length n ≥ 1, in this
   * order or any other; returns null for anything else.
   */
  static SparseChunk matrix(byte[] bytes, int from, int to) {
    int[] sparse = new Cursor(bytes, from, to).only(SPARSE_TAG);
    if (sparse == null) {
      return null;
    }
    int rowsAt = -1;
    int rowsEnd = -1;
    int colsAt = -1;
    int colsEnd = -1;
    int valuesAt = -1;
    int valuesEnd = -1;
    Cursor fields = new Cursor(bytes, sparse[0], sparse[1]);
    while (fields.pos < fields.end) {
      long tag = fields.varint();
      if (tag < 0) {
        return null;
      }
      int[] field = fields.lengthDelimited();
      if (field == null) {
        return null;
      }
      if (tag == ROWS_TAG && rowsAt < 0) {
        rowsAt = field[0];
        rowsEnd = field[1];
      } else if (tag == COLS_TAG && colsAt < 0) {
        colsAt = field[0];
        colsEnd = field[1];
      } else if (tag == VALUES_TAG && valuesAt < 0) {
        valuesAt = field[0];
        valuesEnd = field[1];
      } else {
        return null;
      }
    }
    if (rowsAt < 0 || colsAt < 0 || valuesAt < 0 || (valuesEnd - valuesAt) % 4 != 0) {
      return null;
    }
    int n = (valuesEnd - valuesAt) / 4;
    // A varint takes at least one byte: a shorter list cannot hold n (and n bounds the arrays).
    if (n == 0 || rowsEnd - rowsAt < n || colsEnd - colsAt < n) {
      return null;
    }
    long[] rowIds = new long[n];
    long[] colIds = new long[n];
    if (!readVarints(bytes, rowsAt, rowsEnd, rowIds) || !readVarints(bytes, colsAt, colsEnd,
        colIds)) {
      return null;
    }
    float[] values = new float[n];
    for (int e = 0, p = valuesAt; e < n; e++, p += 4) {
      values[e] = Float.intBitsToFloat((int) LITTLE_ENDIAN_INT.get(bytes, p));
    }
    return new SparseChunk(rowIds, null, colIds, null, values);
  }

  /**
   * Decodes exactly {@code out.length} varints filling bytes[from, to) into {@code out} (as
   * protobuf reads an int64); false when they do not fill it exactly or one is not as an int64
   * writer makes it ({@link #readLong}). Ids of up to three bytes (below 2^21) take the unrolled
   * path.
   */
  private static boolean readVarints(byte[] bytes, int from, int to, long[] out) {
    int p = from;
    int e = 0;
    // The unrolled path reads up to three bytes; it stops three short of the end.
    for (; e < out.length && p + 3 <= to; e++) {
      int b0 = bytes[p];
      if (b0 >= 0) {
        out[e] = b0;
        p += 1;
        continue;
      }
      int b1 = bytes[p + 1];
      if (b1 >= 0) {
        out[e] = (b0 & 0x7F) | b1 << 7;
        p += 2;
        continue;
      }
      int b2 = bytes[p + 2];
      if (b2 >= 0) {
        out[e] = (b0 & 0x7F) | (b1 & 0x7F) << 7 | b2 << 14;
        p += 3;
        continue;
      }
      p = readLong(bytes, p, to, out, e);
      if (p < 0) {
        return false;
      }
    }
    for (; e < out.length; e++) {
      p = readLong(bytes, p, to, out, e);
      if (p < 0) {
        return false;
      }
    }
    return p == to;
  }

  /**
   * Decodes one varint at {@code p} into out[e]; returns the position after it, or -1. A
   * tenth byte other than 1 (the only one a writer of an int64 produces) gives -1 too: protobuf
   * reads such bytes differently depending on where they sit in its buffer, so they are left to
   * it.
   */
  private static int readLong(byte[] bytes, int p, int to, long[] out, int e) {
    long v = 0;
    for (int shift = 0; shift < 63; shift += 7) {
      if (p >= to) {
        return -1;
      }
      int b = bytes[p++];
      v |= (long) (b & 0x7F) << shift;
      if (b >= 0) {
        out[e] = v;
        return p;
      }
    }
    if (p >= to || bytes[p] != 1) {
      return -1;
    }
    out[e] = v | 1L << 63;
    return p + 1;
  }

  /** The tag of field {@code field} as a length-delimited one. */
  static int tag(int field) {
    return field << 3 | LENGTH_DELIMITED;
  }

  /** Reads tags and lengths within bytes[pos, end). */
  static final class Cursor {
    private final byte[] bytes;
    final int end;
    private final long[] value = new long[1];
    int pos;

    Cursor(byte[] bytes, int from, int end) {
      this.bytes = bytes;
      this.pos = from;
      this.end = end;
    }

    /**
     * The next varint ({@link #readLong}), or -1 when it is cut off or malformed. A tag or a
     * length is never negative, so -1 is no valid value.
     */
    long varint() {
      int next = readLong(bytes, pos, end, value, 0);
      if (next < 0 || value[0] < 0) {
        return -1;
      }
      pos = next;
      return value[0];
    }

    /** The next field's data [from, to) after its length; null when it overruns. */
    int[] lengthDelimited() {
      long length = varint();
      if (length < 0 || length > end - pos) {
        return null;
      }
      int from = pos;
      pos += (int) length;
      return new int[] {from, pos};
    }

    /**
     * Steps over the value of a field of wire type {@code wireType}; false when it overruns or
     * is a group (never written by proto3, and left to protobuf's parser).
     */
    boolean skip(int wireType) {
      switch (wireType) {
        case WireFormat.WIRETYPE_VARINT: {
          int next = readLong(bytes, pos, end, value, 0);
          if (next < 0) {
            return false;
          }
          pos = next;
          return true;
        }
        case WireFormat.WIRETYPE_FIXED64:
          return advance(8);
        case WireFormat.WIRETYPE_FIXED32:
          return advance(4);
        case WireFormat.WIRETYPE_LENGTH_DELIMITED:
          return lengthDelimited() != null;
        default:
          return false;
      }
    }

    private boolean advance(int n) {
      if (n > end - pos) {
        return false;
      }
      pos += n;
      return true;
    }

    /** The data of the one field here when it is {@code tag} and alone; else null. */
    int[] only(int tag) {
      if (pos >= end || varint() != tag) {
        return null;
      }
      int[] field = lengthDelimited();
      return field != null && pos == end ? field : null;
    }
  }
}
