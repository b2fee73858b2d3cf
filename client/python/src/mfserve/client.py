"""Client: a typed client for the mfserve.v1.MatrixFactorization service, numpy in and out."""

import collections
import os
import time
from dataclasses import dataclass
from typing import (Callable, Dict, Iterable, List, Mapping, NamedTuple, Optional, Sequence,
                    Union)

import grpc
import numpy as np

from mfserve._errors import MfServeError
from mfserve._matrices import PreparedMatrix, _packed, prepare
from mfserve._proto import pb, pb_grpc
from mfserve._types import AbsentEntries, ArrayLike, FileLike, IdsLike, MatrixLike
from mfserve import _transfer

DEFAULT_TARGET = "localhost:50051"
"""The server used when neither target= nor the MFSERVE_TARGET environment variable says."""

# FitRequest.matrix, the field an inline matrix is appended as in its wire form, and
# FitWithProgressRequest.fit, the field the whole FitRequest is.
_FIT_REQUEST_MATRIX = 3
_FIT_WITH_PROGRESS_FIT = 1
_FIT_METHOD = "/mfserve.v1.MatrixFactorization/Fit"
_FIT_WITH_PROGRESS_METHOD = "/mfserve.v1.MatrixFactorization/FitWithProgress"
INLINE_LIMIT_BYTES = 3_670_016
"""The largest matrix sent inside a Fit request (3.5 MiB: room under gRPC's default 4 MiB);
larger ones are uploaded in chunks with UploadMatrix."""

CHUNK_BYTES = 1 << 20
"""The target serialized size of one UploadMatrix chunk (1 MiB)."""

PREDICT_BATCH_BYTES = 1 << 20
"""The target size of one Predict request; more pairs are sent in several requests."""

_ABSENT = {
    None: pb.ABSENT_ENTRIES_UNSPECIFIED,
    "default": pb.ABSENT_ENTRIES_UNSPECIFIED,
    "unspecified": pb.ABSENT_ENTRIES_UNSPECIFIED,
    "unknown": pb.ABSENT_ENTRIES_UNKNOWN,
    "zero": pb.ABSENT_ENTRIES_ZERO,
    "implicit": pb.ABSENT_ENTRIES_IMPLICIT,
}
_UNKNOWN_IDS = {
    None: pb.UNKNOWN_ID_POLICY_UNSPECIFIED,
    "error": pb.UNKNOWN_ID_POLICY_ERROR,
    "global_mean": pb.UNKNOWN_ID_POLICY_GLOBAL_MEAN,
    "baseline": pb.UNKNOWN_ID_POLICY_BASELINE,
    "nan": pb.UNKNOWN_ID_POLICY_NAN,
}
_SIMILARITY = {
    None: pb.SIMILARITY_UNSPECIFIED,
    "cosine": pb.SIMILARITY_COSINE,
    "dot": pb.SIMILARITY_DOT,
}

_UNKNOWN_USER = {
    None: pb.UNKNOWN_USER_FALLBACK_UNSPECIFIED,
    "popular": pb.UNKNOWN_USER_FALLBACK_POPULAR,
    "top_rated": pb.UNKNOWN_USER_FALLBACK_TOP_RATED,
    "error": pb.UNKNOWN_USER_FALLBACK_ERROR,
}

Id = Union[int, str]


def resolve_target(target: Optional[str] = None) -> str:
    """target, else $MFSERVE_TARGET, else localhost:50051."""
    return target or os.environ.get("MFSERVE_TARGET") or DEFAULT_TARGET


class ScoredItem(NamedTuple):
    """An item (int64 id or string key, per the model) with its score."""

    item: Id
    score: float


class ScoredUser(NamedTuple):
    """A user (int64 id or string key, per the model) with its score."""

    user: Id
    score: float


class Contribution(NamedTuple):
    """One history entry's part in an explained score: the item, the user's value of it, and
    its share of the score (least squares) or its factor cosine with the item (similarity)."""

    item: Id
    value: float
    contribution: float


class Explanation(NamedTuple):
    """Why a user's score of an item is what it is (Client.explain).

    method "least_squares" (ALS): base + the shares of all history_entries entries equals
    explained_score, the score of the user solved again from the history (score up to how far
    training was from converged). method "similarity": contributions are factor cosines; base
    and explained_score are 0.
    """

    score: float
    method: str
    base: float
    explained_score: float
    history_entries: int
    contributions: List[Contribution]


@dataclass(frozen=True)
class FitProgress:
    """Progress after one iteration of a fit, as streamed by FitWithProgress."""

    model_id: str
    iteration: int
    """The 1-based number of the iteration just completed."""
    max_iterations: int
    loss: float
    """Training loss (the solver's objective) after this iteration."""
    validation_rmse: Optional[float]
    """Validation RMSE after this iteration; None without a validation split."""
    elapsed_seconds: float
    eta_seconds: float

    @property
    def elapsed(self) -> float:
        """Seconds since the fit started."""
        return self.elapsed_seconds

    @property
    def eta(self) -> float:
        """Estimated seconds left if the fit runs to max_iterations."""
        return self.eta_seconds

    @classmethod
    def from_proto(cls, p: "pb.FitProgress") -> "FitProgress":
        return cls(p.model_id, p.iteration, p.max_iterations, p.loss,
                   p.validation_rmse if p.HasField("validation_rmse") else None,
                   p.elapsed_seconds, p.eta_seconds)


@dataclass(frozen=True)
class Factors:
    """A trained model's factors, as downloaded by GetFactors.

    Row n of user_factors belongs to user_ids[n] (for a dense input matrix, user n); likewise
    for items. Ids are an int64 numpy array, or a list of str for models trained with keys.
    Biases are None for models without biases.
    """

    user_factors: np.ndarray
    item_factors: np.ndarray
    user_ids: Union[np.ndarray, List[str]]
    item_ids: Union[np.ndarray, List[str]]
    user_biases: Optional[np.ndarray]
    item_biases: Optional[np.ndarray]
    global_bias: float
    info: "pb.ModelInfo"

    def reconstruct(self) -> np.ndarray:
        """The predicted matrix: user_factors @ item_factors.T, plus the biases if any."""
        out = self.user_factors.astype(np.float64) @ self.item_factors.astype(np.float64).T
        if self.user_biases is not None:
            out += self.global_bias + self.user_biases[:, None] + self.item_biases[None, :]
        return out


class Client:
    """A typed client for an mfserve server; thread-safe, like the gRPC stubs it holds.

    Every call carries a timeout: fit_timeout (10 minutes) for fits, uploads, factor downloads
    and the calls that move whole models (export_model, import_model, import_factors),
    call_timeout (30 s) for the rest. Failed calls raise MfServeError; inputs that cannot be
    sent raise ValueError or TypeError before any call.

    Models move between servers with export_model / import_model (a snapshot in the
    repository's binary format) and in from any trainer with import_factors (numpy arrays).
    Aliases (set_alias, get_alias, list_aliases, delete_alias) name models for every call that
    takes a model id; moving one can be a compare-and-set.

    Given a target (default $MFSERVE_TARGET or localhost:50051) it opens a plaintext channel and
    closes it in close(); given a channel, the caller keeps it.
    """

    def __init__(self, target: Optional[str] = None, *, channel: Optional[grpc.Channel] = None,
                 credentials: Optional[grpc.ChannelCredentials] = None,
                 token: Optional[str] = None,
                 fit_timeout: float = 600.0, call_timeout: float = 30.0,
                 inline_limit_bytes: int = INLINE_LIMIT_BYTES, chunk_bytes: int = CHUNK_BYTES):
        if channel is not None and target is not None:
            raise ValueError("give a target or a channel, not both")
        if channel is not None and credentials is not None:
            raise ValueError("credentials= are for a channel this client opens; give a target")
        self.target = None if channel is not None else resolve_target(target)
        self._owned = channel is None
        if channel is None:
            channel = (grpc.secure_channel(self.target, credentials) if credentials is not None
                       else grpc.insecure_channel(self.target))
        token = token if token is not None else os.environ.get("MFSERVE_TOKEN")
        if token:
            # An interceptor, not call credentials: gRPC refuses those on a plaintext channel,
            # and a server may check tokens without TLS (on a trusted network).
            channel = grpc.intercept_channel(channel, _BearerToken(token))
        self._channel = channel
        self._stub = pb_grpc.MatrixFactorizationStub(self._channel)
        # Fit and FitWithProgress taking their request as bytes (no request serializer): an
        # inline matrix is already in wire form and is appended to the serialized request,
        # never parsed into the message and serialized again (5 to 10 ms of a 100,000-entry fit).
        self._fit_bytes = self._channel.unary_unary(
            _FIT_METHOD, request_serializer=None, response_deserializer=pb.FitResponse.FromString)
        self._fit_with_progress_bytes = self._channel.unary_stream(
            _FIT_WITH_PROGRESS_METHOD, request_serializer=None,
            response_deserializer=pb.FitWithProgressResponse.FromString)
        self.fit_timeout = fit_timeout
        self.call_timeout = call_timeout
        self.inline_limit_bytes = inline_limit_bytes
        self.chunk_bytes = chunk_bytes

    # -- lifecycle ---------------------------------------------------------------------------

    def close(self) -> None:
        """Closes the channel if this client opened it."""
        if self._owned:
            self._channel.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Client({self.target or 'channel'!r})"

    # -- training ----------------------------------------------------------------------------

    def fit(self, data: Optional[MatrixLike] = None, *, num_factors: Optional[int] = None, solver: str = "als",
            matrix_id: Optional[str] = None, model_id: Optional[str] = None,
            max_iterations: Optional[int] = None, regularization: Optional[float] = None,
            learning_rate: Optional[float] = None, seed: Optional[int] = None,
            params: Optional[Mapping[str, object]] = None,
            absent_entries: AbsentEntries = None,
            validation_fraction: Optional[float] = None, warm_start: Optional[str] = None,
            tune=None, progress: Optional[Callable[[FitProgress], None]] = None,
            on_trial: Optional[Callable[["pb.TuneTrial"], None]] = None) -> "pb.ModelInfo":
        """Trains a model and returns its ModelInfo.

        data is any matrix prepare() accepts; or give matrix_id of an uploaded matrix; or neither,
        for a solver that reads its own data where params say (spark-als: params={"source_uri":
        "hdfs://nn/r.parquet", "user_col": ...}). A matrix larger than inline_limit_bytes is
        uploaded in chunks, fitted by id and deleted after.
        With progress, the fit streams (FitWithProgress) and progress is called once per
        iteration with a FitProgress; an exception from it cancels the fit and propagates.
        warm_start names a model (id or alias, same num_factors) whose factors the fit starts
        from, for the users and items both share.

        tune asks the server to search first (see tune_spec): a {name: range} dict or a
        pb.TuneSpec; the best setting is then fitted on all the data, its trials listed in the
        ModelInfo's tune_trials, and on_trial (which implies streaming) hears each trial.
        """
        request = fit_request(solver=solver, num_factors=num_factors, model_id=model_id,
                              max_iterations=max_iterations, regularization=regularization,
                              learning_rate=learning_rate, seed=seed, params=params,
                              absent_entries=absent_entries,
                              validation_fraction=validation_fraction, warm_start=warm_start,
                              tune=tune)
        if on_trial is not None:
            progress = _WithTrials(progress, on_trial)
        deadline = time.monotonic() + self.fit_timeout
        if matrix_id is not None:
            if data is not None:
                raise ValueError("give a matrix or a matrix_id, not both")
            request.matrix_id = matrix_id
            return self._fit(request, progress, deadline)
        if data is None:
            if not params:
                raise ValueError("fit needs a matrix, a matrix_id, or params naming the data of"
                                 " a solver that reads its own (spark-als: source_uri)")
            # No input: the solver reads the data its params name (e.g. spark-als's source_uri).
            return self._fit(request, progress, deadline)
        matrix = prepare(data)
        if matrix.estimated_bytes() <= self.inline_limit_bytes:
            # Sent in its wire form: a parsed Matrix copied in costs more than the fit of a
            # small matrix does on the server.
            return self._fit(request, progress, deadline, matrix.to_wire())
        upload = self.upload_matrix(matrix, _deadline=deadline)
        try:
            request.matrix_id = upload.matrix_id
            return self._fit(request, progress, deadline)
        finally:
            try:
                self.delete_matrix(upload.matrix_id)
            except MfServeError:
                pass  # freed after the server's upload TTL anyway; keep the fit's own outcome

    def fit_request(self, request: "pb.FitRequest",
                    progress: Optional[Callable[[FitProgress], None]] = None) -> "pb.ModelInfo":
        """Sends a FitRequest as it is (no upload), streaming progress when asked."""
        return self._fit(request, progress, time.monotonic() + self.fit_timeout)

    def _fit(self, request, progress, deadline, matrix_wire: bytes = b"") -> "pb.ModelInfo":
        # The serialized request, then its matrix field (protobuf merges what follows into what
        # came before: the two are one FitRequest).
        body = request.SerializeToString() + _packed(_FIT_REQUEST_MATRIX, matrix_wire)
        if progress is None:
            return self._call(self._fit_bytes, body, _remaining(deadline)).model
        # FitWithProgressRequest.fit, present even when the FitRequest is all defaults.
        wrapped = (_packed(_FIT_WITH_PROGRESS_FIT, body)
                   or bytes([_FIT_WITH_PROGRESS_FIT << 3 | 2, 0]))
        stream = self._fit_with_progress_bytes(wrapped, timeout=_remaining(deadline))
        model = None
        try:
            for event in stream:
                if event.HasField("progress"):
                    progress(FitProgress.from_proto(event.progress))
                elif event.HasField("trial"):
                    if isinstance(progress, _WithTrials):
                        progress.on_trial(event.trial)
                elif event.HasField("model"):
                    model = event.model
        except grpc.RpcError as e:
            raise MfServeError.from_rpc_error(e) from None
        except BaseException:
            stream.cancel()  # the server stops training within one iteration
            raise
        if model is None:
            raise MfServeError(grpc.StatusCode.INTERNAL,
                               "FitWithProgress ended without the model")
        return model

    def upload_matrix(self, data: MatrixLike, *, _deadline: Optional[float] = None
                      ) -> "pb.UploadMatrixResponse":
        """Uploads a matrix in chunks of about chunk_bytes; returns its matrix_id and shape."""
        matrix = prepare(data)
        deadline = _deadline or time.monotonic() + self.fit_timeout
        requests = (pb.UploadMatrixRequest(chunk=c) for c in matrix.chunks(self.chunk_bytes))
        return self._call(self._stub.UploadMatrix, requests, _remaining(deadline))

    def delete_matrix(self, matrix_id: str) -> int:
        """Frees an uploaded matrix; returns the bytes freed."""
        return self._call(self._stub.DeleteMatrix, pb.DeleteMatrixRequest(matrix_id=matrix_id),
                          self.call_timeout).freed_bytes

    # -- models ------------------------------------------------------------------------------

    def get_factors(self, model_id: str) -> Factors:
        """Downloads a model's factors (a server stream of row chunks, concatenated here)."""
        stream = self._stub.GetFactors(pb.GetFactorsRequest(model_id=model_id),
                                       timeout=self.fit_timeout)
        sides = {"user": _Side(), "item": _Side()}
        info, global_bias = None, 0.0
        try:
            for chunk in stream:
                if chunk.HasField("model"):
                    info, global_bias = chunk.model, chunk.global_bias
                sides["user"].add(chunk.user_factors, chunk.user_ids, chunk.user_keys,
                                  chunk.user_biases)
                sides["item"].add(chunk.item_factors, chunk.item_ids, chunk.item_keys,
                                  chunk.item_biases)
        except grpc.RpcError as e:
            raise MfServeError.from_rpc_error(e) from None
        if info is None:
            raise MfServeError(grpc.StatusCode.INTERNAL, "GetFactors sent no ModelInfo")
        k = info.num_factors
        users, items = sides["user"], sides["item"]
        return Factors(
            user_factors=users.factors(k), item_factors=items.factors(k),
            user_ids=users.ids(info.user_id_form), item_ids=items.ids(info.item_id_form),
            user_biases=users.biases() if info.has_biases else None,
            item_biases=items.biases() if info.has_biases else None,
            global_bias=global_bias, info=info)

    def predict(self, model_id: str, users: Sequence[Id], items: Sequence[Id], *,
                unknown_ids: Optional[str] = None) -> np.ndarray:
        """Scores (users[n], items[n]) pairs; a float32 array, one score per pair.

        unknown_ids: None or "error" (INVALID_ARGUMENT), "global_mean", "baseline" (the global
        mean plus the known user's or item's bias, for models with biases) or "nan".
        Many pairs are sent in several requests of about PREDICT_BATCH_BYTES each.
        """
        users, items = list(users), list(items)
        if len(users) != len(items):
            raise ValueError(f"users ({len(users)}) and items ({len(items)}) must have the "
                             "same length")
        policy = _lookup(_UNKNOWN_IDS, unknown_ids, "unknown_ids")
        scores = []
        for start, end in _batches(users, items, PREDICT_BATCH_BYTES):
            request = pb.PredictRequest(model_id=model_id, unknown_ids=policy)
            _set_ids(request.user_ids, request.user_keys, users[start:end], "users")
            _set_ids(request.item_ids, request.item_keys, items[start:end], "items")
            scores.append(np.asarray(
                self._call(self._stub.Predict, request, self.call_timeout).scores,
                dtype=np.float32))
        return np.concatenate(scores) if scores else np.zeros(0, dtype=np.float32)

    def recommend(self, model_id: str, user: Union[Id, Mapping[Id, float]], k: int = 10,
                  exclude_seen: Optional[bool] = None, *,
                  allowed_items: Optional[Iterable[Id]] = None,
                  denied_items: Optional[Iterable[Id]] = None,
                  offset: int = 0, exact: bool = False,
                  unknown_user: Optional[str] = None) -> List[ScoredItem]:
        """The top-k items for a user, best first.

        user is an int64 id or a string key, or a {item: value} mapping for a user the model
        has not seen (folded in; the model is unchanged). exclude_seen None means the server's
        default (on for ratings and implicit feedback, off for counts). exact: scan every item
        even where the model has an approximate index. unknown_user: what an id the model has
        never seen gets, None/"popular" (most entries first; scores are counts), "top_rated"
        (shrunk mean value) or "error" (INVALID_ARGUMENT).
        """
        request = pb.RecommendRequest(model_id=model_id, k=k, offset=offset, exact=exact,
                                      unknown_user=_lookup(_UNKNOWN_USER, unknown_user,
                                                           "unknown_user"))
        if isinstance(user, Mapping):
            history = request.user_history
            _set_ids(history.item_ids, history.item_keys, list(user.keys()), "user history")
            history.values.extend(float(v) for v in user.values())
        elif isinstance(user, str):
            request.user_key = user
        else:
            request.user_id = int(user)
        if exclude_seen is not None:
            request.exclude_seen = bool(exclude_seen)
        if allowed_items is not None:
            _set_ids(request.allowed_item_ids, request.allowed_item_keys, list(allowed_items),
                     "allowed_items")
        if denied_items is not None:
            _set_ids(request.denied_item_ids, request.denied_item_keys, list(denied_items),
                     "denied_items")
        response = self._call(self._stub.Recommend, request, self.call_timeout)
        return _scored_items(response.items)

    def explain(self, model_id: str, user: Id, item: Id, k: int = 10) -> Explanation:
        """Explains user's score of item by the user's history: the k entries that contributed
        most, largest first (see Explanation). FAILED_PRECONDITION for a model without its
        entries' values (imported factors, or stored before snapshot version 3)."""
        request = pb.ExplainRequest(model_id=model_id, k=k)
        if isinstance(user, str):
            request.user_key = user
        else:
            request.user_id = int(user)
        if isinstance(item, str):
            request.item_key = item
        else:
            request.item_id = int(item)
        r = self._call(self._stub.Explain, request, self.call_timeout)
        keyed = any(c.item_key for c in r.contributions)
        return Explanation(r.score, r.method, r.base, r.explained_score, r.history_entries,
                           [Contribution(c.item_key if keyed else c.item_id, c.value,
                                         c.contribution) for c in r.contributions])

    def similar_items(self, model_id: str, item: Id, k: int = 10,
                      similarity: Optional[str] = None, exact: bool = False) -> List[ScoredItem]:
        """The k items most similar to item (never item itself), most similar first.

        similarity: "cosine" (the default) or "dot". exact: scan every item even where the model
        has an approximate index.
        """
        request = pb.SimilarItemsRequest(model_id=model_id, k=k, exact=exact,
                                         similarity=_lookup(_SIMILARITY, similarity,
                                                            "similarity"))
        if isinstance(item, str):
            request.item_key = item
        else:
            request.item_id = int(item)
        response = self._call(self._stub.SimilarItems, request, self.call_timeout)
        return _scored_items(response.items)

    def similar_users(self, model_id: str, user: Id, k: int = 10,
                      similarity: Optional[str] = None, exact: bool = False) -> List[ScoredUser]:
        """The k users most similar to user (never user itself), most similar first."""
        request = pb.SimilarUsersRequest(model_id=model_id, k=k, exact=exact,
                                         similarity=_lookup(_SIMILARITY, similarity,
                                                            "similarity"))
        if isinstance(user, str):
            request.user_key = user
        else:
            request.user_id = int(user)
        response = self._call(self._stub.SimilarUsers, request, self.call_timeout)
        keyed = any(u.user_key for u in response.users)
        return [ScoredUser(u.user_key if keyed else u.user_id, u.score) for u in response.users]

    def get_model(self, model_id: str) -> "pb.ModelInfo":
        """Describes one model (NOT_FOUND if unknown)."""
        return self._call(self._stub.GetModel, pb.GetModelRequest(model_id=model_id),
                          self.call_timeout).model

    def list_models(self) -> List["pb.ModelInfo"]:
        """Describes every model the server holds."""
        return list(self._call(self._stub.ListModels, pb.ListModelsRequest(),
                               self.call_timeout).models)

    def delete_model(self, model_id: str) -> int:
        """Removes a model; returns the bytes freed (NOT_FOUND if unknown)."""
        return self._call(self._stub.DeleteModel, pb.DeleteModelRequest(model_id=model_id),
                          self.call_timeout).freed_bytes

    def list_solvers(self) -> List["pb.SolverInfo"]:
        """The solvers the server has loaded, with their parameters."""
        return list(self._call(self._stub.ListSolvers, pb.ListSolversRequest(),
                               self.call_timeout).solvers)

    def server_info(self) -> "pb.GetServerInfoResponse":
        """The server's version and every limit it holds requests to (name, value, the flag
        that sets it, what it bounds, and the status a request over it gets)."""
        return self._call(self._stub.GetServerInfo, pb.GetServerInfoRequest(), self.call_timeout)

    def limits(self) -> Dict[str, int]:
        """The server's limits by name, e.g. {"max_rows": ..., "max_k": ...}."""
        return {limit.name: limit.value for limit in self.server_info().limits}

    def damaged_models(self) -> List["pb.DamagedModel"]:
        """The snapshots in the server's repository that failed their checks (model_id,
        reason); they are never served."""
        return list(self._call(self._stub.ListModels, pb.ListModelsRequest(),
                               self.call_timeout).damaged_models)

    # -- aliases -----------------------------------------------------------------------------

    def set_alias(self, alias: str, model_id: str, *,
                  expected_model_id: Optional[str] = None) -> str:
        """Points alias at model_id, creating or moving it; returns where it pointed before
        ("" if it is new).

        expected_model_id makes it a compare-and-set: None (the default) moves it whatever it
        points at, "" creates it only if it does not exist, an id moves it only if it points
        there now. Otherwise MfServeError with code FAILED_PRECONDITION.
        """
        request = pb.SetAliasRequest(alias=alias, model_id=model_id)
        if expected_model_id is not None:
            request.expected_model_id = expected_model_id
        return self._call(self._stub.SetAlias, request, self.call_timeout).previous_model_id

    def get_alias(self, alias: str) -> str:
        """The model id alias points at (NOT_FOUND for an unknown alias)."""
        return self._call(self._stub.GetAlias, pb.GetAliasRequest(alias=alias),
                          self.call_timeout).alias.model_id

    def list_aliases(self) -> Dict[str, str]:
        """Every alias with its model id, by alias."""
        response = self._call(self._stub.ListAliases, pb.ListAliasesRequest(),
                              self.call_timeout)
        return {a.alias: a.model_id for a in response.aliases}

    def delete_alias(self, alias: str, *, expected_model_id: Optional[str] = None) -> str:
        """Removes alias (the model stays); returns the model it pointed at.

        With expected_model_id, only if it points there now (FAILED_PRECONDITION otherwise).
        """
        request = pb.DeleteAliasRequest(alias=alias)
        if expected_model_id is not None:
            request.expected_model_id = expected_model_id
        return self._call(self._stub.DeleteAlias, request, self.call_timeout).previous_model_id

    # -- moving models -----------------------------------------------------------------------

    def export_model(self, model_id: str, file: FileLike) -> int:
        """Writes a model's snapshot (by id or alias) to file; returns the bytes written.

        file is a path (written under a temporary name and renamed once complete) or a binary
        file object (written to, not closed). import_model reads the snapshot back on any
        mfserve server.
        """
        stream = self._stub.ExportModel(pb.ExportModelRequest(model_id=model_id),
                                        timeout=self.fit_timeout)
        if not isinstance(file, (str, os.PathLike)):
            return self._write_export(stream, file)
        part = f"{os.fspath(file)}.part"
        try:
            with open(part, "wb") as out:
                written = self._write_export(stream, out)
            os.replace(part, file)
            return written
        finally:
            if os.path.exists(part):
                os.unlink(part)

    @staticmethod
    def _write_export(stream, out) -> int:
        try:
            return _transfer.write_export(stream, out)
        except grpc.RpcError as e:
            raise MfServeError.from_rpc_error(e) from None
        except ValueError as e:
            raise MfServeError(grpc.StatusCode.INTERNAL, str(e)) from None
        finally:
            stream.cancel()  # a no-op once complete; stops the server if writing failed

    def import_model(self, file: Union[FileLike, bytes], model_id: str = "") -> "pb.ModelInfo":
        """Sends a snapshot (from export_model) to the server, which checks it, stores it in its
        repository and serves it; returns its ModelInfo.

        file is a path, bytes, or a binary file object (read to its end, not closed); it goes
        in chunks of about chunk_bytes. model_id "" keeps the id stored in the snapshot.
        """
        source, opened = _transfer.open_for_reading(file)
        try:
            requests = _transfer.snapshot_requests(source, model_id, self.chunk_bytes)
            return self._call(self._stub.ImportModel, requests, self.fit_timeout).model
        finally:
            if opened:
                source.close()

    def import_factors(self, user_factors: ArrayLike, item_factors: Optional[ArrayLike] = None,
                       *, user_ids: IdsLike = None, item_ids: IdsLike = None,
                       user_biases: Optional[ArrayLike] = None,
                       item_biases: Optional[ArrayLike] = None,
                       global_mean: Optional[float] = None,
                       seen: Optional[MatrixLike] = None, model_id: str = "",
                       absent_entries: AbsentEntries = None,
                       fold_in_solver: Optional[str] = None,
                       regularization: Optional[float] = None,
                       params: Optional[Mapping[str, object]] = None) -> "pb.ModelInfo":
        """Creates a served model from factors trained anywhere; returns its ModelInfo.

        user_factors (users x k) and item_factors (items x k): numpy arrays (sent as float32).
        Or pass a Factors (from get_factors) as user_factors alone: its arrays, ids and biases,
        and its model's absent_entries, unless given here.
        user_ids / item_ids: int64 ids or string keys, one per row; None means the positions
            0..n-1.
        user_biases, item_biases, global_mean: a biased model, predicting global_mean + b_u +
            b_i + U[u]·V[i]; giving any makes the model biased, those not given are zeros.
        seen: the (user, item) pairs seen in training, for Recommend's exclude_seen: a users x
            items matrix (numpy or scipy.sparse: its nonzero entries), mfserve.Ratings, or a
            list of (user, item) pairs in the ids' forms.
        model_id: "" lets the server make one. absent_entries: "unknown" (default), "implicit"
            or "zero". fold_in_solver: "als" (least squares, default) or "nmf" (non-negative):
            how FoldIn and Recommend solve for a new user. regularization: of that fold-in.
        params: free-form provenance shown in ModelInfo.params (e.g. {"trainer": "implicit"}).

        The stream is the header, then the user rows, then the item rows (GetFactors' chunk
        shape), then the seen pairs; every message stays under about chunk_bytes.
        """
        if isinstance(user_factors, Factors):
            if item_factors is not None:
                raise ValueError("give a Factors alone, or user_factors and item_factors")
            f = user_factors
            user_factors, item_factors = f.user_factors, f.item_factors
            user_ids = f.user_ids if user_ids is None else user_ids
            item_ids = f.item_ids if item_ids is None else item_ids
            if f.user_biases is not None and user_biases is None and item_biases is None \
                    and global_mean is None:
                user_biases, item_biases, global_mean = (f.user_biases, f.item_biases,
                                                         f.global_bias)
            if absent_entries is None and f.info.absent_entries != pb.ABSENT_ENTRIES_UNSPECIFIED:
                absent_entries = f.info.absent_entries
            if fold_in_solver is None and f.info.solver == "nmf":
                fold_in_solver = "nmf"
        elif item_factors is None:
            raise ValueError("import_factors needs user_factors and item_factors")
        factors = _transfer.PlainFactors(user_factors, item_factors, user_ids, item_ids,
                                         user_biases, item_biases, global_mean)
        pairs = _transfer.seen_pairs(seen, factors)
        header = pb.ImportFactorsHeader(
            model_id=model_id or "", fold_in_solver=fold_in_solver or "",
            absent_entries=_lookup(_ABSENT, absent_entries, "absent_entries"))
        if regularization is not None:
            header.regularization = float(regularization)
        for name, value in (params or {}).items():
            header.params[str(name)] = _param_text(value)
        requests = _transfer.factor_requests(factors, header, pairs, self.chunk_bytes)
        return self._call(self._stub.ImportFactors, requests, self.fit_timeout).model

    # -- plumbing ----------------------------------------------------------------------------

    @staticmethod
    def _call(method, request, timeout):
        try:
            return method(request, timeout=timeout)
        except grpc.RpcError as e:
            raise MfServeError.from_rpc_error(e) from None


def fit_request(*, solver: str = "als", num_factors: Optional[int] = None,
                model_id: Optional[str] = None, max_iterations: Optional[int] = None,
                regularization: Optional[float] = None, learning_rate: Optional[float] = None,
                seed: Optional[int] = None, params: Optional[Mapping[str, object]] = None,
                absent_entries: AbsentEntries = None,
                validation_fraction: Optional[float] = None,
                warm_start: Optional[str] = None, tune=None) -> "pb.FitRequest":
    """A FitRequest without its input; unset options stay unset (the server's defaults)."""
    request = pb.FitRequest(solver=solver or "", model_id=model_id or "",
                            absent_entries=_lookup(_ABSENT, absent_entries, "absent_entries"),
                            warm_start_model_id=warm_start or "")
    if num_factors is not None:
        request.num_factors = int(num_factors)
    if max_iterations is not None:
        request.max_iterations = int(max_iterations)
    if regularization is not None:
        request.regularization = float(regularization)
    if learning_rate is not None:
        request.learning_rate = float(learning_rate)
    if seed is not None:
        request.seed = int(seed) % (1 << 64)  # a negative seed keeps its 64-bit pattern
    if validation_fraction is not None:
        request.validation_fraction = float(validation_fraction)
    for name, value in (params or {}).items():
        request.params[str(name)] = _param_text(value)
    if tune is not None:
        request.tune.CopyFrom(tune if isinstance(tune, pb.TuneSpec) else tune_spec(tune))
    return request


_TUNE_METRICS = {None: 0, "rmse": 1, "ndcg": 2}
_TUNE_METHODS = {None: 0, "hyperband": 1, "halving": 2, "successive_halving": 2}
_TUNE_NAMES = {"factors": "num_factors", "num_topics": "num_factors", "rank": "num_factors",
               "iterations": "max_iterations"}


def tune_spec(ranges: Mapping[str, object], *, max_fits: Optional[int] = None,
              max_seconds: Optional[float] = None, metric: Optional[str] = None,
              validation_fraction: Optional[float] = None, k: Optional[int] = None,
              reduction_factor: Optional[int] = None, method: Optional[str] = None,
              parallel_trials: Optional[int] = None) -> "pb.TuneSpec":
    """A TuneSpec (FitRequest.tune) from {name: range}: (min, max) or (min, max, "log") for
    a numeric range, a list of values otherwise, e.g.
    {"regularization": (1, 50, "log"), "num_factors": (5, 40), "biases": [True, False]}.
    Names are fit options (num_factors, max_iterations, regularization, learning_rate) or the
    solver's parameters; unset budgets take the server's defaults (30 fits, 20% held out).
    method is "hyperband" (the server's default) or "halving" (one bracket of successive
    halving); parallel_trials caps the trials run at once (0: the server's threads and memory
    decide; the result is the same)."""
    spec = pb.TuneSpec(metric=_lookup(_TUNE_METRICS, metric, "metric"),
                       method=_lookup(_TUNE_METHODS, method, "method"))
    for name, value in ranges.items():
        r = spec.ranges.add(name=_TUNE_NAMES.get(str(name), str(name)))
        if isinstance(value, tuple):
            if len(value) not in (2, 3) or (len(value) == 3 and value[2] != "log"):
                raise ValueError(f"tune range {name!r}: give (min, max) or (min, max, 'log')")
            r.min, r.max, r.log_scale = float(value[0]), float(value[1]), len(value) == 3
        else:
            r.values.extend(_param_text(v) for v in value)
    for field, value in (("max_fits", max_fits), ("max_seconds", max_seconds),
                         ("validation_fraction", validation_fraction), ("k", k),
                         ("reduction_factor", reduction_factor),
                         ("parallel_trials", parallel_trials)):
        if value is not None:
            setattr(spec, field, value)
    return spec


class _WithTrials:
    """A progress callback that also hears a tuned fit's trials."""

    def __init__(self, progress, on_trial):
        self.progress = progress
        self.on_trial = on_trial

    def __call__(self, p):
        if self.progress is not None:
            self.progress(p)


def _param_text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _lookup(table, value, name):
    if isinstance(value, int) and not isinstance(value, bool):
        return value  # the enum number itself
    key = value.lower() if isinstance(value, str) else value
    if key not in table:
        choices = ", ".join(repr(k) for k in table if isinstance(k, str))
        raise ValueError(f"{name} must be one of {choices}, not {value!r}")
    return table[key]


def _remaining(deadline: float) -> float:
    return max(deadline - time.monotonic(), 0.001)


def _set_ids(id_field, key_field, values: list, name: str) -> None:
    """Fills the int64 ids or the string keys of one side from a list of one form."""
    if values and all(isinstance(v, str) for v in values):
        key_field.extend(values)
    elif any(isinstance(v, str) for v in values):
        raise ValueError(f"{name} mixes string keys and int ids")
    else:
        id_field.extend(int(v) for v in values)


def _batches(users: list, items: list, max_bytes: int):
    """(start, end) ranges of pairs whose request stays under about max_bytes."""
    start, size = 0, 0
    for n, (u, i) in enumerate(zip(users, items)):
        cost = _id_cost(u) + _id_cost(i)
        if size + cost > max_bytes and n > start:
            yield start, n
            start, size = n, 0
        size += cost
    if start < len(users):
        yield start, len(users)


def _id_cost(v) -> int:
    return len(v.encode("utf-8")) + 3 if isinstance(v, str) else 10


def _scored_items(items) -> List[ScoredItem]:
    keyed = any(i.item_key for i in items)
    return [ScoredItem(i.item_key if keyed else i.item_id, i.score) for i in items]


class _Side:
    """The rows of one side of a model, collected from GetFactors chunks."""

    def __init__(self):
        self._blocks, self._ids, self._keys, self._biases = [], [], [], []

    def add(self, dense, ids, keys, biases) -> None:
        if dense.rows:
            self._blocks.append(np.asarray(dense.values, dtype=np.float32)
                                .reshape(dense.rows, dense.cols))
        self._ids.extend(ids)
        self._keys.extend(keys)
        self._biases.extend(biases)

    def factors(self, k: int) -> np.ndarray:
        if not self._blocks:
            return np.zeros((0, k), dtype=np.float32)
        return np.concatenate(self._blocks)

    def ids(self, form):
        if form == pb.ID_FORM_STRING:
            return list(self._keys)
        return np.asarray(self._ids, dtype=np.int64)

    def biases(self) -> np.ndarray:
        return np.asarray(self._biases, dtype=np.float32)


def tls_credentials(ca: Optional[str] = None, cert: Optional[str] = None,
                    key: Optional[str] = None) -> grpc.ChannelCredentials:
    """Channel credentials for a server with TLS: ``ca`` the PEM file of the CA that signed the
    server's certificate (None: the system's trusted roots), ``cert`` and ``key`` this client's
    certificate and key (PEM) for a server that requires mutual TLS.

        client = mfserve.Client("mf.example:443", credentials=mfserve.tls_credentials("ca.pem"),
                                 token=os.environ["MFSERVE_TOKEN"])
    """
    if (cert is None) != (key is None):
        raise ValueError("give both cert= and key= (mutual TLS), or neither")

    def read(path):
        if path is None:
            return None
        with open(path, "rb") as f:
            return f.read()

    return grpc.ssl_channel_credentials(root_certificates=read(ca), private_key=read(key),
                                        certificate_chain=read(cert))


class _BearerToken(grpc.UnaryUnaryClientInterceptor, grpc.UnaryStreamClientInterceptor,
                   grpc.StreamUnaryClientInterceptor, grpc.StreamStreamClientInterceptor):
    """Adds ``authorization: Bearer TOKEN`` to every call."""

    def __init__(self, token: str):
        self._header = ("authorization", "Bearer " + token)

    def _details(self, details):
        metadata = list(details.metadata or []) + [self._header]
        return _CallDetails(details.method, details.timeout, metadata, details.credentials,
                            getattr(details, "wait_for_ready", None),
                            getattr(details, "compression", None))

    def intercept_unary_unary(self, continuation, details, request):
        return continuation(self._details(details), request)

    def intercept_unary_stream(self, continuation, details, request):
        return continuation(self._details(details), request)

    def intercept_stream_unary(self, continuation, details, requests):
        return continuation(self._details(details), requests)

    def intercept_stream_stream(self, continuation, details, requests):
        return continuation(self._details(details), requests)


class _CallDetails(collections.namedtuple(
        "_CallDetails", ("method", "timeout", "metadata", "credentials", "wait_for_ready",
                         "compression")), grpc.ClientCallDetails):
    pass
