"""Type aliases of the public API's arguments (the package is typed: see py.typed)."""

import os
from typing import TYPE_CHECKING, BinaryIO, Optional, Sequence, Union

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:  # optional dependencies: only the type checker imports them
    import pandas
    import scipy.sparse

    from mfserve._matrices import PreparedMatrix, Ratings

MatrixLike = Union[np.ndarray, Sequence[Sequence[float]], "Ratings", "PreparedMatrix",
                   "scipy.sparse.spmatrix", "pandas.DataFrame"]
"""A training matrix: dense (numpy array, nested lists, a wide DataFrame), sparse
(scipy.sparse, mfserve.Ratings, a long-form DataFrame of user, item and rating columns)."""

AbsentEntries = Optional[Union[str, int]]
"""What absent entries mean: "unknown" (ratings), "zero" (counts), "implicit" (clicks), the
proto enum's number, or None for the solver's default."""

FileLike = Union[str, "os.PathLike[str]", BinaryIO]
"""A path, or a binary file object."""

ArrayLike = npt.ArrayLike
"""Anything numpy.asarray accepts."""

IdsLike = Optional[Union[Sequence[int], Sequence[str], np.ndarray]]
"""int64 ids or string keys, one per row; None for positions 0, 1, ..."""
