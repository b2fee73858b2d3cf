"""mfserve: a Python client for the mfserve matrix-factorization server.

    from mfserve import MatrixFactorization
    model = MatrixFactorization(ratings_matrix, num_topics=5)
    model.fit()
    user_factors, item_factors = model.get_factors()
    reconstructed = user_factors @ item_factors.T

MatrixFactorization is the seed snippet; Client is the typed client over every RPC. Errors from
the server raise MfServeError (status code, message, field violations). The gRPC stubs are
generated from proto/src/main/proto/mfserve/v1/mfserve.proto by client/python/generate.sh.
"""

from mfserve._errors import FieldViolation, MfServeError
from mfserve._matrices import Ratings
from mfserve.client import (DEFAULT_TARGET, Client, Factors, FitProgress, ScoredItem,
                            ScoredUser, fit_request)
from mfserve.model import MatrixFactorization

__all__ = [
    "Client",
    "DEFAULT_TARGET",
    "Factors",
    "FieldViolation",
    "FitProgress",
    "MatrixFactorization",
    "MfServeError",
    "Ratings",
    "ScoredItem",
    "ScoredUser",
    "fit_request",
]
