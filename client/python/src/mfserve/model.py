"""MatrixFactorization: the seed snippet, over gRPC.

    from mfserve import MatrixFactorization
    model = MatrixFactorization(ratings_matrix, num_topics=5)
    model.fit()
    user_factors, item_factors = model.get_factors()
    reconstructed = user_factors @ item_factors.T
"""

from typing import Callable, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

import grpc
import numpy as np

from mfserve._matrices import prepare
from mfserve._proto import pb
from mfserve._types import AbsentEntries, ArrayLike, IdsLike, MatrixLike
from mfserve.client import Client, Explanation, Factors, FitProgress, Id, ScoredItem, ScoredUser

_FIT_OPTIONS = ("solver", "max_iterations", "regularization", "learning_rate", "seed", "params",
                "absent_entries", "validation_fraction", "model_id", "warm_start", "tune")


class MatrixFactorization:
    """Factorizes a matrix on an mfserve server and answers queries against the model.

    Args:
        ratings_matrix: users x items, as a 2-D numpy array or nested lists (ids are the row
            and column positions), a scipy.sparse matrix (coo, csr, csc: its stored entries,
            row and column positions as int64 ids) or mfserve.Ratings (your own int64 ids or
            string keys). Converted now, so a malformed matrix fails here with ValueError.
        num_topics: the number of latent factors (the rank); None means the server's default
            (10). num_factors= is the same option.
        solver: "als" (default), "sgd", "nmf" or a plugin's name.
        target: the server, "host:port"; default $MFSERVE_TARGET or localhost:50051. Or pass
            channel= (the caller keeps it open) or client= (a configured Client).
        max_iterations, regularization, learning_rate, seed, params, absent_entries
            ("unknown", "zero" or "implicit"; default: the solver's), validation_fraction,
            model_id: the fit options; None means the server's or solver's default.
        warm_start: a model id or alias (same num_topics) whose factors the fit starts from,
            for the users and items both share; a nightly refit then converges in a few
            iterations.

    A model made elsewhere is served with MatrixFactorization.from_factors(user_factors,
    item_factors, ...) (mfserve.Model is the same class, for code that reads better so), and
    one already on the server is wrapped with attach(model_id); both answer every query below.

    The trained model stays on the server until delete(); close() (or leaving a with block)
    only closes the channel. Failed calls raise mfserve.MfServeError. Not thread-safe: fit and
    query from one thread, or share a Client instead.
    """

    def __init__(self, ratings_matrix: Optional[MatrixLike] = None,
                 num_topics: Optional[int] = None, *,
                 solver: str = "als", target: Optional[str] = None,
                 channel: Optional[grpc.Channel] = None, client: Optional[Client] = None,
                 max_iterations: Optional[int] = None, regularization: Optional[float] = None,
                 learning_rate: Optional[float] = None, seed: Optional[int] = None,
                 params: Optional[Mapping[str, object]] = None,
                 absent_entries: AbsentEntries = None,
                 validation_fraction: Optional[float] = None, model_id: Optional[str] = None,
                 num_factors: Optional[int] = None, warm_start: Optional[str] = None,
                 credentials: Optional[grpc.ChannelCredentials] = None,
                 token: Optional[str] = None) -> None:
        if num_topics is not None and num_factors is not None and num_topics != num_factors:
            raise ValueError("num_topics and num_factors are the same option; give one")
        self._matrix = prepare(ratings_matrix) if ratings_matrix is not None else None
        self.num_topics = num_topics if num_topics is not None else num_factors
        self.options = dict(solver=solver, max_iterations=max_iterations,
                            regularization=regularization, learning_rate=learning_rate,
                            seed=seed, params=dict(params or {}), absent_entries=absent_entries,
                            validation_fraction=validation_fraction, model_id=model_id,
                            warm_start=warm_start)
        if client is not None and (target is not None or channel is not None):
            raise ValueError("give a client, a target or a channel, not several")
        self._owns_client = client is None
        if client is not None and (credentials is not None or token is not None):
            raise ValueError("credentials= and token= configure a client this model opens;"
                             " give them to mfserve.Client instead")
        self.client = client if client is not None else Client(
            target, channel=channel, credentials=credentials, token=token)
        self._info: Optional[pb.ModelInfo] = None
        self._factors: Optional[Factors] = None

    @classmethod
    def attach(cls, model_id: str, *, target: Optional[str] = None,
               channel: Optional[grpc.Channel] = None,
               client: Optional[Client] = None) -> "MatrixFactorization":
        """Wraps a model already on the server (NOT_FOUND if it is not there). ``model_id`` may
        be an alias: queries then keep naming the alias, so they follow it when it is switched
        to another model (``factors()`` is cached on first use and does not)."""
        model = cls(target=target, channel=channel, client=client)
        model._info = model.client.get_model(model_id)
        model._attached_name = model_id
        model.num_topics = model._info.num_factors
        model.options["solver"] = model._info.solver
        return model

    @classmethod
    def from_factors(cls, user_factors: ArrayLike, item_factors: Optional[ArrayLike] = None, *,
                     user_ids: IdsLike = None, item_ids: IdsLike = None,
                     user_biases: Optional[ArrayLike] = None,
                     item_biases: Optional[ArrayLike] = None,
                     global_mean: Optional[float] = None,
                     seen: Optional[MatrixLike] = None, model_id: str = "",
                     absent_entries: AbsentEntries = None,
                     fold_in_solver: Optional[str] = None,
                     regularization: Optional[float] = None,
                     params: Optional[Mapping[str, object]] = None,
                     target: Optional[str] = None, channel: Optional[grpc.Channel] = None,
                     client: Optional[Client] = None) -> "MatrixFactorization":
        """Serves factors trained anywhere (implicit, Spark MLlib, a notebook) as a model that
        answers every query a fitted one does; streams them with ImportFactors.

            model = mfserve.Model.from_factors(user_factors, item_factors,
                                               user_ids=users, item_ids=items)
            model.recommend(users[0], k=10)

        user_factors (users x k), item_factors (items x k): numpy arrays, sent as float32. Or a
        Factors (model.factors() of another model, on any server) alone: it comes back from
        get_factors bit for bit.
        user_ids / item_ids: int64 ids or string keys; None means the positions 0..n-1.
        user_biases, item_biases, global_mean: for a biased model (global_mean + b_u + b_i +
            U[u]·V[i]); giving any makes it biased, those not given are zeros.
        seen: the (user, item) pairs seen in training, left out by recommend(exclude_seen):
            a users x items numpy or scipy.sparse matrix (its nonzero entries), mfserve.Ratings,
            or a list of (user, item) pairs.
        model_id, absent_entries, fold_in_solver, regularization, params: see
            Client.import_factors. target, channel or client: the server, as for the
            constructor.

        fit() is not available on the result (it has no matrix); fit a new model with
        warm_start=model.model_id to continue training from these factors.
        """
        model = cls(target=target, channel=channel, client=client)
        try:
            model._info = model.client.import_factors(
                user_factors, item_factors, user_ids=user_ids, item_ids=item_ids,
                user_biases=user_biases, item_biases=item_biases, global_mean=global_mean,
                seen=seen, model_id=model_id, absent_entries=absent_entries,
                fold_in_solver=fold_in_solver, regularization=regularization, params=params)
        except BaseException:
            model.close()
            raise
        model.num_topics = model._info.num_factors
        model.options["solver"] = model._info.solver
        return model

    # -- training ----------------------------------------------------------------------------

    def fit(self, progress: Optional[Callable[[FitProgress], None]] = None, *,
            on_progress: Optional[Callable[[FitProgress], None]] = None,
            on_trial: Optional[Callable[["pb.TuneTrial"], None]] = None,
            **options) -> "MatrixFactorization":
        """Trains the model on the server; returns self.

        progress (or on_progress) is called once per completed iteration with a FitProgress
        (iteration, max_iterations, loss, validation_rmse, elapsed, eta), streamed live by
        FitWithProgress; an exception it raises cancels the fit. Keyword options override the
        constructor's fit options for this and later fits. Matrices over 3.5 MiB are uploaded
        in chunks first and the upload deleted after. tune={name: range} (see
        mfserve.tune_spec) searches on the server first; on_trial hears each trial.
        """
        if progress is not None and on_progress is not None:
            raise ValueError("give progress or on_progress, not both")
        unknown = set(options) - set(_FIT_OPTIONS) - {"num_topics", "num_factors"}
        if unknown:
            raise TypeError(f"unknown fit options: {', '.join(sorted(unknown))}")
        if self._matrix is None:
            raise ValueError("this model has no matrix to fit (it was attached by id or "
                             "imported from factors); to continue from it, fit a new model "
                             f"with warm_start={self.model_id!r}")
        for name in ("num_topics", "num_factors"):
            if name in options:
                self.num_topics = options.pop(name)
        self.options.update(options)
        self._attached_name = None
        self._info = self.client.fit(self._matrix, num_factors=self.num_topics,
                                     progress=progress or on_progress, on_trial=on_trial,
                                     **self.options)
        self._factors = None
        return self

    # -- results -----------------------------------------------------------------------------

    @property
    def info(self) -> Optional["pb.ModelInfo"]:
        """The trained model's ModelInfo (solver, params used, loss per iteration, RMSE...);
        None before fit()."""
        return self._info

    @property
    def model_id(self) -> Optional[str]:
        """The trained model's id; None before fit()."""
        return self._info.model_id if self._info is not None else None

    def factors(self) -> Factors:
        """The full factors (ids, biases, info), downloaded once and cached."""
        if self._factors is None:
            self._factors = self.client.get_factors(self._trained_id())
        return self._factors

    def get_factors(self) -> Tuple[np.ndarray, np.ndarray]:
        """(user_factors, item_factors): float32 arrays, users x k and items x k."""
        f = self.factors()
        return f.user_factors, f.item_factors

    def reconstruct(self) -> np.ndarray:
        """user_factors @ item_factors.T plus the biases of models that have them (sgd)."""
        return self.factors().reconstruct()

    def predict(self, users: Union[Id, Sequence[Id]], items: Union[Id, Sequence[Id]], *,
                unknown_ids: Optional[str] = None) -> Union[float, np.ndarray]:
        """Scores (users[n], items[n]) pairs: a float32 array, or a float for one user and one
        item. unknown_ids: None/"error" (INVALID_ARGUMENT), "global_mean" or "nan"."""
        scalar = _is_scalar(users) and _is_scalar(items)
        if scalar:
            users, items = [users], [items]
        scores = self.client.predict(self._trained_id(), _as_list(users), _as_list(items),
                                     unknown_ids=unknown_ids)
        return float(scores[0]) if scalar else scores

    def recommend(self, user: Union[Id, Mapping[Id, float]], k: int = 10,
                  exclude_seen: Optional[bool] = None, **filters) -> List[ScoredItem]:
        """The top-k items for a user as (item, score) pairs, best first.

        user: an id or key of the model, or {item: value} for a new user (folded in).
        exclude_seen: None means the server's default (on for ratings, off for counts).
        filters: allowed_items, denied_items, offset, exact, unknown_user.
        """
        return self.client.recommend(self._trained_id(), user, k, exclude_seen, **filters)

    def similar_items(self, item: Id, k: int = 10,
                      similarity: Optional[str] = None) -> List[ScoredItem]:
        """The k items most like item, as (item, score) pairs; similarity "cosine" or "dot"."""
        return self.client.similar_items(self._trained_id(), item, k, similarity)

    def explain(self, user: Id, item: Id, k: int = 10) -> Explanation:
        """The k entries of user's history that contributed most to the score of item."""
        return self.client.explain(self._trained_id(), user, item, k)

    def similar_users(self, user: Id, k: int = 10,
                      similarity: Optional[str] = None) -> List[ScoredUser]:
        """The k users most like user, as (user, score) pairs; similarity "cosine" or "dot"."""
        return self.client.similar_users(self._trained_id(), user, k, similarity)

    def delete(self) -> int:
        """Removes the model from the server; returns the bytes freed."""
        freed = self.client.delete_model(self._trained_id())
        self._info, self._factors = None, None
        return freed

    # -- lifecycle ---------------------------------------------------------------------------

    def close(self) -> None:
        """Closes the channel this object opened; the model stays on the server."""
        if self._owns_client:
            self.client.close()

    def __enter__(self) -> "MatrixFactorization":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        state = f"model_id={self.model_id!r}" if self._info is not None else "not fitted"
        matrix = self._matrix.shape_text if self._matrix is not None else "attached"
        return (f"MatrixFactorization({matrix}, num_topics={self.num_topics}, "
                f"solver={self.options['solver']!r}, {state})")

    def _trained_id(self) -> str:
        if self._info is None:
            raise RuntimeError("call fit() first (or the model was deleted)")
        return getattr(self, "_attached_name", None) or self._info.model_id


def _is_scalar(v) -> bool:
    return isinstance(v, (str, int, np.integer))


def _as_list(v) -> list:
    if isinstance(v, np.ndarray):
        return v.reshape(-1).tolist()
    return list(v)
