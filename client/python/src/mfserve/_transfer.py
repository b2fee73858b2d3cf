"""The streams that move whole models: ImportFactors requests, ImportModel chunks, and reading
an ExportModel stream. Client's import_factors, import_model and export_model call these.

Every message stays within chunk_bytes serialized (1 MiB by default), so any model fits in
gRPC's default 4 MiB message limit; the generators build one message at a time.
"""

import io
import os
from typing import BinaryIO, Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np

from mfserve._matrices import Ratings, _ids, _side_costs
from mfserve._proto import pb

# Room in each message for its wrappers: the request, the rows or seen message, the dense
# matrix, and the tags and lengths of the packed fields.
_OVERHEAD_BYTES = 64

IdsOrKeys = Union[np.ndarray, List[str]]


class PlainFactors:
    """One model's factors as checked numpy arrays, ready to stream (see Client.import_factors).

    user_factors (users x k) and item_factors (items x k) as float32; user_ids / item_ids as an
    int64 array or a list of str; biases as float32 arrays, or None for a model without them.
    """

    def __init__(self, user_factors, item_factors, user_ids=None, item_ids=None,
                 user_biases=None, item_biases=None, global_mean=None):
        self.user_factors = _factor_array(user_factors, "user_factors")
        self.item_factors = _factor_array(item_factors, "item_factors")
        k_users, k_items = self.user_factors.shape[1], self.item_factors.shape[1]
        if k_users != k_items:
            raise ValueError(f"user_factors have {k_users} columns but item_factors "
                             f"{k_items}: both sides need the same number of factors")
        if k_users < 1:
            raise ValueError("the factors have no columns: k must be at least 1")
        self.k = k_users
        self.user_ids = _names(user_ids, len(self.user_factors), "user_ids")
        self.item_ids = _names(item_ids, len(self.item_factors), "item_ids")
        self.has_biases = any(b is not None for b in (user_biases, item_biases, global_mean))
        self.user_biases = _biases(user_biases, len(self.user_factors), "user_biases",
                                   self.has_biases)
        self.item_biases = _biases(item_biases, len(self.item_factors), "item_biases",
                                   self.has_biases)
        self.global_mean = float(global_mean) if global_mean is not None else 0.0
        if not np.isfinite(self.global_mean):
            raise ValueError(f"global_mean must be finite, not {global_mean!r}")

    @property
    def user_keys(self) -> bool:
        return not isinstance(self.user_ids, np.ndarray)

    @property
    def item_keys(self) -> bool:
        return not isinstance(self.item_ids, np.ndarray)


def _factor_array(values, name: str) -> np.ndarray:
    try:
        a = np.asarray(values, dtype=np.float32)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{name} is not a matrix of numbers: {e}") from None
    if a.ndim != 2:
        raise ValueError(f"{name} must be 2-D (rows x k), got shape {a.shape}")
    if not np.isfinite(a).all():
        raise ValueError(f"{name} has NaN or infinite values")
    return np.ascontiguousarray(a)


def _names(ids, rows: int, name: str) -> IdsOrKeys:
    if ids is None:
        return np.arange(rows, dtype=np.int64)
    out = _ids(ids, name)
    if not isinstance(out, np.ndarray):
        out = [str(k) for k in out]  # numpy.str_ and the like, as plain keys
    if len(out) != rows:
        raise ValueError(f"{name} has {len(out)} entries for {rows} rows: give one per row")
    return out


def _biases(values, rows: int, name: str, wanted: bool) -> Optional[np.ndarray]:
    if not wanted:
        return None
    if values is None:
        return np.zeros(rows, dtype=np.float32)
    b = np.asarray(values, dtype=np.float32).reshape(-1)
    if len(b) != rows:
        raise ValueError(f"{name} has {len(b)} entries for {rows} rows: give one per row")
    if not np.isfinite(b).all():
        raise ValueError(f"{name} has NaN or infinite values")
    return b


# -- ImportFactors ---------------------------------------------------------------------------

def factor_requests(factors: PlainFactors, header: "pb.ImportFactorsHeader",
                    seen: Optional[Tuple[IdsOrKeys, IdsOrKeys]], chunk_bytes: int
                    ) -> Iterator["pb.ImportFactorsRequest"]:
    """The ImportFactors stream: the header alone, the user rows, the item rows (one side per
    message, in GetFactors' chunk shape), then the seen pairs (from seen_pairs, no values);
    each message under chunk_bytes. The header's shape fields are set from the factors."""
    header.num_factors = factors.k
    header.has_biases = factors.has_biases
    header.global_mean = factors.global_mean if factors.has_biases else 0.0
    yield pb.ImportFactorsRequest(header=header)
    budget = max(chunk_bytes - _OVERHEAD_BYTES, 1)
    for users in (True, False):
        matrix = factors.user_factors if users else factors.item_factors
        ids = factors.user_ids if users else factors.item_ids
        biases = factors.user_biases if users else factors.item_biases
        costs = _side_costs(ids) + 4 * factors.k + (4 if biases is not None else 0)
        for start, end in _ranges(costs, budget):
            rows = pb.GetFactorsResponse()
            dense = rows.user_factors if users else rows.item_factors
            dense.rows, dense.cols = end - start, factors.k
            dense.values.extend(matrix[start:end].reshape(-1).tolist())
            if isinstance(ids, np.ndarray):
                (rows.user_ids if users else rows.item_ids).extend(ids[start:end].tolist())
            else:
                (rows.user_keys if users else rows.item_keys).extend(ids[start:end])
            if biases is not None:
                (rows.user_biases if users else rows.item_biases).extend(
                    biases[start:end].tolist())
            yield pb.ImportFactorsRequest(rows=rows)
    if seen is not None:
        users, items = seen
        costs = _side_costs(users) + _side_costs(items)
        for start, end in _ranges(costs, budget):
            part = pb.SparseMatrix()
            if isinstance(users, np.ndarray):
                part.row_ids.extend(users[start:end].tolist())
            else:
                part.row_keys.extend(users[start:end])
            if isinstance(items, np.ndarray):
                part.col_ids.extend(items[start:end].tolist())
            else:
                part.col_keys.extend(items[start:end])
            yield pb.ImportFactorsRequest(seen=part)


def _ranges(costs: np.ndarray, budget: int) -> Iterator[Tuple[int, int]]:
    """Consecutive (start, end) runs whose costs add up to at most budget (at least one each)."""
    ends = np.cumsum(costs)
    start, n = 0, len(costs)
    while start < n:
        base = ends[start - 1] if start > 0 else 0
        end = max(int(np.searchsorted(ends, base + budget, side="right")), start + 1)
        yield start, end
        start = end


def seen_pairs(seen, factors: PlainFactors) -> Optional[Tuple[IdsOrKeys, IdsOrKeys]]:
    """(users, items) of the seen pairs, each side in the factors' form.

    seen: a users x items matrix (numpy array or scipy.sparse; its nonzero entries, positions
    mapped through the factors' ids), mfserve.Ratings, or (user, item) pairs.
    """
    if seen is None:
        return None
    if hasattr(seen, "tocoo") or isinstance(seen, np.ndarray):
        coo = _nonzero(seen)
        shape = (len(factors.user_factors), len(factors.item_factors))
        if coo[2] != shape:
            raise ValueError(f"seen has shape {coo[2]} but the factors are {shape[0]} users x "
                             f"{shape[1]} items")
        return _take(factors.user_ids, coo[0]), _take(factors.item_ids, coo[1])
    if isinstance(seen, Ratings):
        users, items = seen.users, seen.items
    else:
        pairs = list(seen)
        if any(len(p) != 2 for p in pairs):
            raise ValueError("seen must be (user, item) pairs, a users x items matrix or "
                             "mfserve.Ratings")
        users = _ids([p[0] for p in pairs], "seen users")
        items = _ids([p[1] for p in pairs], "seen items")
    _same_form(users, factors.user_keys, "users")
    _same_form(items, factors.item_keys, "items")
    return users, items


def _nonzero(m) -> Tuple[np.ndarray, np.ndarray, tuple]:
    if hasattr(m, "tocoo"):
        coo = m.tocoo()
        keep = coo.data != 0
        return coo.row[keep], coo.col[keep], tuple(coo.shape)
    a = np.asarray(m)
    if a.ndim != 2:
        raise ValueError(f"seen must be 2-D (users x items), got shape {a.shape}")
    rows, cols = np.nonzero(a)
    return rows, cols, a.shape


def _take(ids: IdsOrKeys, positions: np.ndarray) -> IdsOrKeys:
    if isinstance(ids, np.ndarray):
        return ids[positions]
    return [ids[p] for p in positions.tolist()]


def _same_form(ids: IdsOrKeys, keys: bool, side: str) -> None:
    if len(ids) and (not isinstance(ids, np.ndarray)) != keys:
        form = "string keys" if keys else "int64 ids"
        raise ValueError(f"the seen {side} must be named like the factors' {side}: by {form}")


# -- ImportModel / ExportModel ---------------------------------------------------------------

def snapshot_requests(source: BinaryIO, model_id: str, chunk_bytes: int
                      ) -> Iterator["pb.ImportModelRequest"]:
    """The ImportModel stream: chunks of the file, the first naming the model id (and sent even
    for an empty file, so the server reports it)."""
    first = True
    while True:
        room = chunk_bytes - _OVERHEAD_BYTES - (len(model_id.encode("utf-8")) if first else 0)
        data = source.read(max(room, 1))
        if not data and not first:
            return
        request = pb.ImportModelRequest(data=bytes(data))
        if first:
            request.model_id = model_id
            first = False
        yield request
        if not data:
            return


def open_for_reading(file) -> Tuple[BinaryIO, bool]:
    """(a binary reader, whether it was opened here) for a path, bytes or a binary file."""
    if isinstance(file, (bytes, bytearray, memoryview)):
        return io.BytesIO(bytes(file)), True
    if isinstance(file, (str, os.PathLike)):
        return open(file, "rb"), True
    if hasattr(file, "read"):
        return file, False
    raise TypeError("give a path, bytes or a binary file object, not "
                    f"{type(file).__name__}")


def write_export(stream, out: BinaryIO) -> int:
    """Writes an ExportModel stream's data to out; returns the bytes written.

    Raises ValueError (turned into INTERNAL by the caller) when the stream is empty or its
    length differs from the total_bytes its first chunk announced.
    """
    written, total, chunks = 0, None, 0
    for chunk in stream:
        if chunks == 0 and chunk.total_bytes > 0:
            total = chunk.total_bytes
        out.write(chunk.data)
        written += len(chunk.data)
        chunks += 1
        if total is not None and written > total:
            raise ValueError(f"ExportModel sent more than the {total} bytes it announced")
    if chunks == 0:
        raise ValueError("ExportModel ended without a chunk")
    if total is not None and written != total:
        raise ValueError(f"ExportModel ended after {written} of the {total} bytes it announced")
    return written

