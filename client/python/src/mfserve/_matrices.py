"""Turns Python matrices (numpy, nested lists, scipy.sparse, Ratings) into Matrix messages.

A matrix is converted once, into numpy arrays, then either sent inline as one Matrix or cut into
UploadMatrix chunks whose serialized size stays under a byte budget: the budget is computed from
the wire sizes of the entries (varint ids, length-prefixed keys, 4-byte floats), so no chunk is
ever built and measured twice.
"""

from typing import TYPE_CHECKING, Any, Iterator, List, Optional, Sequence, Union

import numpy as np

from mfserve import _frames
from mfserve._proto import pb

if TYPE_CHECKING:
    from mfserve._types import MatrixLike

# Room left in each chunk for the message wrappers (UploadMatrixRequest, Matrix, the dense or
# sparse message) and the tags and lengths of the packed fields.
_CHUNK_OVERHEAD_BYTES = 64
_VARINT_LIMITS = np.array([1 << (7 * k) for k in range(1, 10)], dtype=np.uint64)


class Ratings:
    """A sparse matrix given by its entries: entry n is (users[n], items[n], values[n]).

    Users (and items) are either all int64 ids or all string keys; ids need not be contiguous.
    Each (user, item) pair may appear once. Use it for ratings, clicks or counts keyed by your
    own ids::

        Ratings(users=[1001, 1001, 2002], items=["sku-1", "sku-9", "sku-1"], values=[5, 3, 4])
    """

    def __init__(self, users: Sequence, items: Sequence, values: Sequence[float]):
        self.users = _ids(users, "users")
        self.items = _ids(items, "items")
        self.values = np.asarray(values, dtype=np.float32).reshape(-1)
        n = len(self.values)
        if len(self.users) != n or len(self.items) != n:
            raise ValueError(f"users ({len(self.users)}), items ({len(self.items)}) and values "
                             f"({n}) must have the same length")
        if n == 0:
            raise ValueError("the matrix has no entries")

    @classmethod
    def from_dataframe(cls, frame: Any, user: Any = None, item: Any = None,
                       rating: Any = None) -> "Ratings":
        """Entries from a long-form pandas DataFrame, one (user, item, rating) per row.

        The columns are named by user=, item= and rating= (as Surprise's load_from_df), or are
        the first three in that order when none is named. Integer columns become int64 ids,
        anything else string keys; other columns (a timestamp) are ignored::

            Ratings.from_dataframe(df, user="userId", item="movieId", rating="rating")
        """
        return _frames.entries(frame, user, item, rating)

    def __len__(self) -> int:
        return len(self.values)

    def __repr__(self) -> str:
        return f"Ratings({len(self)} entries)"


def _ids(values: Sequence, name: str) -> Union[np.ndarray, List[str]]:
    """int64 ids as a numpy array, or string keys as a list of str."""
    if isinstance(values, np.ndarray) and values.dtype.kind in "iu":
        return values.astype(np.int64).reshape(-1)
    values = list(values)
    if values and all(isinstance(v, str) for v in values):
        return values
    if any(isinstance(v, str) for v in values):
        raise ValueError(f"{name} mixes string keys and int ids; use one form per side")
    try:
        return np.asarray(values, dtype=np.int64).reshape(-1)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{name} must be int64 ids or string keys: {e}") from None


class PreparedMatrix:
    """A matrix converted once, ready to send inline or in chunks."""

    def __init__(self, dense: Optional[np.ndarray] = None, rows=None, cols=None, values=None):
        self.dense = dense
        self.rows = rows
        self.cols = cols
        self.values = values

    @property
    def is_dense(self) -> bool:
        return self.dense is not None

    @property
    def shape_text(self) -> str:
        if self.is_dense:
            return f"{self.dense.shape[0]}x{self.dense.shape[1]} dense"
        return f"{len(self.values)} sparse entries"

    def estimated_bytes(self) -> int:
        """The serialized size of the Matrix message, within a few bytes."""
        if self.is_dense:
            return self.dense.size * 4 + 32
        return int(self._entry_costs().sum()) + 32

    def to_proto(self) -> "pb.Matrix":
        """The whole matrix as one message."""
        if self.is_dense:
            return _dense_proto(self.dense)
        return _sparse_proto(self.rows, self.cols, self.values, 0, len(self.values))

    def to_wire(self) -> bytes:
        """The whole matrix as a serialized Matrix message, to merge into a request without
        copying a parsed message (for 100,000 entries the copy alone took about 9 ms)."""
        if self.is_dense or not (isinstance(self.rows, np.ndarray)
                                 and isinstance(self.cols, np.ndarray)):
            return self.to_proto().SerializeToString()
        return _packed(_MATRIX_SPARSE, _sparse_wire(self.rows, self.cols, self.values, 0,
                                                    len(self.values)))

    def chunks(self, chunk_bytes: int) -> Iterator["pb.Matrix"]:
        """Consecutive parts of the matrix, each serializing to at most about chunk_bytes.

        Dense chunks are blocks of whole rows (a row wider than the budget is sent alone);
        sparse chunks are runs of entries.
        """
        budget = max(chunk_bytes - _CHUNK_OVERHEAD_BYTES, 1)
        if self.is_dense:
            n_rows, n_cols = self.dense.shape
            step = max(1, budget // (n_cols * 4))
            for start in range(0, n_rows, step):
                yield _dense_proto(self.dense[start:start + step])
            return
        ends = np.cumsum(self._entry_costs())
        start, n = 0, len(self.values)
        while start < n:
            base = ends[start - 1] if start > 0 else 0
            end = int(np.searchsorted(ends, base + budget, side="right"))
            end = max(end, start + 1)
            yield _sparse_proto(self.rows, self.cols, self.values, start, end)
            start = end

    def _entry_costs(self) -> np.ndarray:
        return _side_costs(self.rows) + _side_costs(self.cols) + 4


def _side_costs(ids) -> np.ndarray:
    if isinstance(ids, np.ndarray):
        return 1 + np.searchsorted(_VARINT_LIMITS, ids.view(np.uint64), side="right")
    lengths = np.fromiter((len(k.encode("utf-8")) for k in ids), dtype=np.int64, count=len(ids))
    return 1 + (1 + np.searchsorted(_VARINT_LIMITS, lengths.view(np.uint64), side="right")) \
        + lengths


# The numeric fields are written in protobuf's packed wire form by numpy and parsed once, instead
# of extending repeated fields from Python lists: for MovieLens 100K (100,000 entries) that took
# 55-87 ms of every inline fit, more than the server's NMF itself; the wire form takes about 3.
_DENSE_VALUES = 3       # DenseMatrix.values
_SPARSE_ROW_IDS = 1     # SparseMatrix.row_ids
_SPARSE_COL_IDS = 2     # SparseMatrix.col_ids
_SPARSE_VALUES = 3      # SparseMatrix.values


def _varints(ids: np.ndarray) -> bytes:
    """int64 values as consecutive protobuf varints (negatives take ten bytes, as on the wire)."""
    u = np.ascontiguousarray(ids, dtype=np.int64).view(np.uint64)
    if len(u) == 0:
        return b""
    top = int(u.max())
    width = 1 + int(np.searchsorted(_VARINT_LIMITS, np.uint64(top), side="right"))
    if width == 1:
        return u.astype(np.uint8).tobytes()
    # One row of 7-bit groups per value, the continuation bit on all but its last; the groups
    # each value uses, row by row, are the wire bytes in order. Ids under 2^32 (the usual case)
    # are shifted as uint32: half the memory traffic, which is most of the cost here.
    small = u.astype(np.uint32) if top < (1 << 32) else u
    lengths = 1 + np.searchsorted(_VARINT_LIMITS[:width - 1].astype(small.dtype), small,
                                  side="right").astype(np.int8)
    groups = np.empty((len(u), width), dtype=np.uint8)
    for b in range(width):
        group = (small >> (7 * b)).astype(np.uint8) & 0x7F
        group |= (lengths > b + 1).view(np.uint8) << 7
        groups[:, b] = group
    return groups[np.arange(width, dtype=np.int8) < lengths[:, None]].tobytes()


def _packed(field: int, payload: bytes) -> bytes:
    """A length-delimited field: tag, length, payload; nothing for an empty payload."""
    if not payload:
        return b""
    return _varints(np.array([field << 3 | 2, len(payload)], dtype=np.int64)) + payload


def _floats(values: np.ndarray) -> bytes:
    return np.ascontiguousarray(values, dtype="<f4").tobytes()


_MATRIX_DENSE = 1       # Matrix.dense
_MATRIX_SPARSE = 2      # Matrix.sparse


def _dense_proto(block: np.ndarray) -> "pb.Matrix":
    # Parsed as a whole Matrix: wrapping a parsed DenseMatrix in a Matrix copies it again.
    m = pb.Matrix.FromString(_packed(_MATRIX_DENSE, _packed(_DENSE_VALUES,
                                                            _floats(block.reshape(-1)))))
    m.dense.rows, m.dense.cols = block.shape[0], block.shape[1]
    return m


def _sparse_wire(rows, cols, values, start: int, end: int) -> bytes:
    """The numeric fields of a SparseMatrix of entries [start, end), serialized."""
    wire = _packed(_SPARSE_VALUES, _floats(values[start:end]))
    if isinstance(rows, np.ndarray):
        wire += _packed(_SPARSE_ROW_IDS, _varints(rows[start:end]))
    if isinstance(cols, np.ndarray):
        wire += _packed(_SPARSE_COL_IDS, _varints(cols[start:end]))
    return wire


def _sparse_proto(rows, cols, values, start: int, end: int) -> "pb.Matrix":
    m = pb.Matrix.FromString(_packed(_MATRIX_SPARSE, _sparse_wire(rows, cols, values, start,
                                                                  end)))
    if not isinstance(rows, np.ndarray):
        m.sparse.row_keys.extend(rows[start:end])
    if not isinstance(cols, np.ndarray):
        m.sparse.col_keys.extend(cols[start:end])
    return m


def prepare(data: "MatrixLike") -> PreparedMatrix:
    """Converts a dense numpy array, nested lists, a scipy.sparse matrix, Ratings or a DataFrame.

    A pandas DataFrame is read by its column names: long-form entries (user, item and rating
    columns) or a wide matrix, never guessed (see mfserve._frames).

    A scipy.sparse matrix is sent in coordinate form with its row and column positions as int64
    ids, so empty rows and columns are simply absent (the server's ids are then non-contiguous);
    duplicate coordinates are summed, as scipy does. What absent entries mean is the fit's
    absent_entries option (the solver's default when unset).

    Raises:
        ValueError: for an empty, ragged or non-2-D matrix.
        TypeError: for an unsupported type.
    """
    if isinstance(data, PreparedMatrix):
        return data
    if isinstance(data, Ratings):
        return PreparedMatrix(rows=data.users, cols=data.items, values=data.values)
    if _frames.is_dataframe(data):
        # Never numpy.asarray: a long-form frame would become a dense n x 3 matrix.
        return prepare(_frames.from_frame(data))
    if _is_scipy_sparse(data):
        if data.format == "csr" and data.has_canonical_format:
            # Sorted, without duplicates already: the coordinates without sum_duplicates' sort.
            counts = np.diff(data.indptr)
            rows = np.repeat(np.arange(data.shape[0], dtype=np.int64), counts)
            return PreparedMatrix(rows=rows, cols=data.indices.astype(np.int64),
                                  values=np.asarray(data.data, dtype=np.float32))
        coo = data.tocoo(copy=True)
        coo.sum_duplicates()
        if coo.nnz == 0:
            raise ValueError("the sparse matrix has no stored entries")
        return PreparedMatrix(rows=coo.row.astype(np.int64), cols=coo.col.astype(np.int64),
                              values=np.asarray(coo.data, dtype=np.float32))
    if isinstance(data, (str, bytes, dict)) or data is None:
        raise TypeError("ratings_matrix must be a 2-D numpy array, nested lists, a scipy.sparse "
                        "matrix, a pandas DataFrame or mfserve.Ratings, not "
                        f"{type(data).__name__}")
    try:
        dense = np.asarray(data, dtype=np.float32)
    except (TypeError, ValueError) as e:
        raise ValueError(f"ratings_matrix is not a rectangular matrix of numbers: {e}") from None
    if dense.ndim != 2:
        raise ValueError(f"ratings_matrix must be 2-D (users x items), got shape {dense.shape}")
    if dense.shape[0] == 0 or dense.shape[1] == 0:
        raise ValueError(f"ratings_matrix is empty: shape {dense.shape}")
    return PreparedMatrix(dense=np.ascontiguousarray(dense))


def _is_scipy_sparse(data) -> bool:
    try:
        import scipy.sparse
    except ImportError:
        return False
    return scipy.sparse.issparse(data)
