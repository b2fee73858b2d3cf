"""pandas DataFrames as training matrices: long-form entries or a wide matrix, never a guess.

Most Python users hold ratings in a long-form frame, one row per entry (user, item, rating,
often a timestamp). Read as a matrix, such a frame would be a dense n × 3 table, which is what
numpy.asarray makes of it. So a frame is read by its column names:

- user and item columns found by name (user, user_id, userId, uid, ...; item, item_id,
  movieId, product, ...) and a value column (rating, score, value, count, ...): entries;
  other columns (a timestamp) are ignored.
- otherwise, a frame that could be either (three unnamed columns, as pandas.read_csv of a
  headerless file gives) is refused with a message naming both readings;
- any other frame is a wide matrix: rows are users, columns items, NaN cells absent, and the
  index and column labels the ids (integers) or keys (strings) unless both are the default
  0, 1, 2, ... positions.

Ratings.from_dataframe chooses the columns by argument, as Surprise's Dataset.load_from_df.
"""

import sys
from typing import TYPE_CHECKING, Any, Optional, Union

import numpy as np

if TYPE_CHECKING:
    from mfserve._matrices import PreparedMatrix, Ratings

# Lower-cased column names, with '_', '-' and ' ' removed, read as each role.
_USER_NAMES = ("user", "userid", "users", "uid", "customer", "customerid", "visitor",
               "visitorid", "member", "memberid")
_ITEM_NAMES = ("item", "itemid", "items", "iid", "movie", "movieid", "product", "productid",
               "sku", "track", "trackid", "song", "songid", "artist", "artistid", "book",
               "bookid", "isbn", "article", "articleid")
_VALUE_NAMES = ("rating", "ratings", "score", "value", "values", "count", "counts", "weight",
                "plays", "playcount", "clicks", "preference", "stars", "label")


def is_dataframe(data: Any) -> bool:
    """Whether data is a pandas DataFrame (without importing pandas when it was not)."""
    pandas = sys.modules.get("pandas")
    return pandas is not None and isinstance(data, pandas.DataFrame)


def _normal(name: Any) -> str:
    return "".join(ch for ch in str(name).lower() if ch not in "_- ")


def _find(frame, names) -> Optional[Any]:
    for column in frame.columns:
        if _normal(column) in names:
            return column
    return None


def from_frame(frame) -> Union["Ratings", "PreparedMatrix"]:
    """Reads a DataFrame as entries or as a wide matrix, by its column names (module doc)."""
    from mfserve._matrices import PreparedMatrix

    user = _find(frame, _USER_NAMES)
    item = _find(frame, _ITEM_NAMES)
    value = _find(frame, _VALUE_NAMES)
    if user is not None and item is not None:
        if value is None:
            raise ValueError(
                f"the DataFrame has user and item columns ({user!r}, {item!r}) but no rating "
                f"column among {list(frame.columns)!r}; name it 'rating' (or score, value, "
                "count, ...) or choose it: mfserve.Ratings.from_dataframe(df, user=..., "
                "item=..., rating=...)")
        return entries(frame, user, item, value)
    if frame.shape[1] == 3:
        raise ValueError(
            f"a DataFrame with three columns {list(frame.columns)!r} and no user/item/rating "
            "names can be read two ways: as entries, one (user, item, rating) per row: "
            "mfserve.Ratings.from_dataframe(df) (columns in that order, or user=, item=, "
            "rating= by name); or as a dense matrix of three item columns: df.to_numpy(). "
            "Say which")
    if frame.shape[0] == 0 or frame.shape[1] == 0:
        raise ValueError(f"the DataFrame is empty: shape {frame.shape}")
    try:
        values = frame.to_numpy(dtype=np.float32)
    except (TypeError, ValueError) as e:
        raise ValueError(f"a wide DataFrame (users x items) must hold numbers only: {e}") \
            from None
    default_labels = _is_positions(frame.index) and _is_positions(frame.columns)
    present = ~np.isnan(values)
    if default_labels and present.all():
        return PreparedMatrix(dense=np.ascontiguousarray(values))
    rows, cols = np.nonzero(present)
    if len(rows) == 0:
        raise ValueError("the DataFrame holds no numbers (every cell is NaN)")
    from mfserve._matrices import Ratings
    users = _labels(frame.index, "index")
    items = _labels(frame.columns, "columns")
    return Ratings(users=_take(users, rows), items=_take(items, cols), values=values[rows, cols])


def entries(frame, user: Any = None, item: Any = None, rating: Any = None) -> "Ratings":
    """Long-form entries from the named columns (the first three, in order, when none named)."""
    from mfserve._matrices import Ratings

    if user is None and item is None and rating is None:
        if frame.shape[1] < 3:
            raise ValueError(f"the DataFrame has {frame.shape[1]} column(s); entries need user, "
                             "item and rating columns")
        user, item, rating = frame.columns[:3]
    missing = [c for c in (user, item, rating) if c is None or c not in frame.columns]
    if missing:
        raise ValueError(f"columns {missing!r} are not in the DataFrame's columns "
                         f"{list(frame.columns)!r}; give user=, item= and rating=")
    values = frame[rating]
    if values.isna().any():
        raise ValueError(f"column {rating!r} has missing values (NaN) in "
                         f"{int(values.isna().sum())} row(s); drop them first")
    return Ratings(users=_column(frame[user], user), items=_column(frame[item], item),
                   values=values.to_numpy(dtype=np.float32))


def _column(series, name):
    if series.isna().any():
        raise ValueError(f"column {name!r} has missing ids (NaN or None); drop those rows first")
    if series.dtype.kind in "iu":
        return series.to_numpy(dtype=np.int64)
    return [str(v) if not isinstance(v, (int, np.integer)) else v for v in series.tolist()]


def _is_positions(labels) -> bool:
    return labels.dtype.kind in "iu" and np.array_equal(labels.to_numpy(),
                                                        np.arange(len(labels)))


def _labels(labels, where: str):
    if labels.dtype.kind in "iu":
        return labels.to_numpy(dtype=np.int64)
    if all(isinstance(v, str) for v in labels):
        return list(labels)
    raise ValueError(f"the DataFrame's {where} must be integer ids or string keys, not "
                     f"{labels.dtype} labels")


def _take(labels, positions):
    if isinstance(labels, np.ndarray):
        return labels[positions]
    return [labels[p] for p in positions]
