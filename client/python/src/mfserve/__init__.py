"""mfserve: a Python client for the mfserve matrix-factorization server.

    from mfserve import MatrixFactorization
    model = MatrixFactorization(ratings_matrix, num_topics=5)
    model.fit()
    user_factors, item_factors = model.get_factors()
    reconstructed = user_factors @ item_factors.T

MatrixFactorization is the seed snippet; Model is the same class, named for models made
elsewhere and served with Model.from_factors(user_factors, item_factors, ...). Client is the
typed client over every RPC (aliases, export_model, import_model, import_factors included).
evaluate(data, folds=5, ...) cross-validates a fit setting on the server and reports it beside
a no-factor baseline (user + item biases; popularity for ranking) on the same folds.
A server with TLS or tokens: Client(target, credentials=tls_credentials(ca, cert, key),
token=...) ($MFSERVE_TOKEN by default). Errors from the server raise MfServeError (status
code, message, field violations). The gRPC stubs are generated from
proto/src/main/proto/mfserve/v1/mfserve.proto when the package is built.
"""

from mfserve._errors import FieldViolation, MfServeError
from mfserve._matrices import Ratings
from mfserve.client import (DEFAULT_TARGET, Client, Contribution, Explanation, Factors,
                            FitProgress, ScoredItem, ScoredUser, fit_request, tls_credentials,
                            tune_spec)
from mfserve.evaluation import Evaluation, evaluate
from mfserve.model import MatrixFactorization

Model = MatrixFactorization
"""The same class as MatrixFactorization: reads better for a model that was not fitted here,
as in Model.from_factors(user_factors, item_factors) or Model.attach(model_id)."""

__all__ = [
    "Client",
    "Contribution",
    "DEFAULT_TARGET",
    "Evaluation",
    "Explanation",
    "Factors",
    "FieldViolation",
    "FitProgress",
    "MatrixFactorization",
    "MfServeError",
    "Model",
    "Ratings",
    "ScoredItem",
    "ScoredUser",
    "evaluate",
    "fit_request",
    "tls_credentials",
    "tune_spec",
]
