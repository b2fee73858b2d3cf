"""Held-out evaluation of a fit setting, with a no-factor baseline on the same folds.

    from mfserve import Ratings, evaluate
    result = evaluate(Ratings(users, items, ratings), folds=5, solver="als", num_factors=10)
    print(result)                      # the baseline row first, then the model
    result.tuned                       # with tune=...: each fold's chosen setting
    result.improvement("rmse")         # 0.03: the model's RMSE is 3% below the baseline's

Each fold's training part is uploaded once, fitted on the server, scored on the test part
(RMSE and MAE of Predict, a user or item unseen in training scoring the global mean plus the
known side's bias, as the baseline does; with
ranking=True also precision, recall, MAP and NDCG at k of Recommend with the training items
excluded) and deleted afterwards. The baseline is fitted here, on the same training part:
user + item biases as Surprise's BaselineOnly (10 epochs of alternating least squares,
λ_i = 10, λ_u = 15) for the error metrics, the items with the most training entries (at or
above relevant_threshold when given) for the ranking metrics. The metrics are those of
`mfctl eval` (io.mfserve.client.eval in the Java client).
"""

import math
import time
from typing import Dict, List, Optional

import numpy as np

from mfserve._errors import MfServeError
from mfserve._matrices import Ratings, prepare
from mfserve.client import Client

BASELINE_EPOCHS = 10
BASELINE_ITEM_REG = 10.0
BASELINE_USER_REG = 15.0
ERROR_METRICS = ("rmse", "mae")
RANKING_METRICS = ("precision", "recall", "map", "ndcg")
_LOWER_IS_BETTER = {"rmse", "mae", "fit_seconds"}


class Evaluation:
    """Per-fold metrics of the model and of the baseline; the lists are in fold order."""

    def __init__(self, model: Dict[str, List[float]], baseline: Dict[str, List[float]],
                 baseline_name: str, k: int, cold_pairs: int,
                 tuned: Optional[List[Optional[Dict[str, str]]]] = None):
        self.model = {m: np.asarray(v, dtype=np.float64) for m, v in model.items()}
        self.baseline = {m: np.asarray(v, dtype=np.float64) for m, v in baseline.items()}
        self.baseline_name = baseline_name
        self.k = k
        self.cold_pairs = cold_pairs
        # With tune=...: per fold, the setting the server's search chose on that fold's
        # training part (None where every trial failed); empty without tuning.
        self.tuned: List[Optional[Dict[str, str]]] = list(tuned or [])

    def mean(self, metric: str, baseline: bool = False) -> float:
        """The mean over folds of a metric of the model (or of the baseline)."""
        return float(np.mean((self.baseline if baseline else self.model)[metric]))

    def std(self, metric: str, baseline: bool = False) -> float:
        """The population standard deviation over folds, as Surprise's cross_validate."""
        return float(np.std((self.baseline if baseline else self.model)[metric]))

    def improvement(self, metric: str) -> float:
        """How much better the model is than the baseline, as a fraction of the baseline:
        positive for a lower error or a higher ranking score."""
        b, m = self.mean(metric, True), self.mean(metric)
        if b == 0:
            return math.nan
        return (b - m) / b if metric in _LOWER_IS_BETTER else (m - b) / b

    def __str__(self) -> str:
        names = [m for m in self.model if m != "fit_seconds"]
        label = {"precision": f"P@{self.k}", "recall": f"R@{self.k}", "map": f"MAP@{self.k}",
                 "ndcg": f"NDCG@{self.k}", "rmse": "RMSE", "mae": "MAE"}
        header = ["", "fit s"] + [label[m] for m in names]
        rows = []
        for title, base in ((f"baseline ({self.baseline_name})", True), ("model", False)):
            cells = [title, f"{self.mean('fit_seconds', base):.2f}"]
            for m in names:
                cells.append(f"{self.mean(m, base):.4f} ± {self.std(m, base):.4f}")
            rows.append(cells)
        widths = [max(len(r[c]) for r in [header] + rows) for c in range(len(header))]
        lines = ["  ".join(c.rjust(w) if i else c.ljust(w)
                           for i, (c, w) in enumerate(zip(r, widths))) for r in [header] + rows]
        gains = ", ".join(f"{label[m]} {100 * abs(self.improvement(m)):.1f}% "
                          f"{'better' if self.improvement(m) >= 0 else 'worse'}" for m in names)
        lines.append(f"model vs baseline: {gains}")
        for fold, chosen in enumerate(self.tuned, 1):
            text = "every trial failed" if chosen is None else " ".join(
                f"{n}={v}" for n, v in sorted(chosen.items()))
            lines.append(f"tuned on fold {fold}: {text}")
        return "\n".join(lines)


def evaluate(data, *, folds: int = 5, test_fraction: Optional[float] = None, seed: int = 42,
             ranking: bool = False, k: int = 10, relevant_threshold: Optional[float] = None,
             client: Optional[Client] = None, target: Optional[str] = None, channel=None,
             **fit_options) -> Evaluation:
    """Cross-validates (or holds out test_fraction of) data; returns an Evaluation.

    data is anything MatrixFactorization accepts (a dense array: every cell an entry, its
    positions as ids). fit_options go to Client.fit (solver, num_factors, max_iterations,
    regularization, learning_rate, params, absent_entries, ...); seed seeds the split and the
    fits. The baseline row is measured on the same folds (see the module's doc).
    """
    users, items, values = _entries(data)
    n = len(values)
    rng = np.random.default_rng(seed)
    order = rng.permutation(n)
    if test_fraction is not None:
        if not 0 < test_fraction < 1:
            raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
        cut = int(math.ceil(test_fraction * n))
        splits = [order[:cut]]
    else:
        if folds < 2 or folds > n:
            raise ValueError(f"folds must be in [2, {n}], got {folds}")
        splits = np.array_split(order, folds)
    own = client is None
    client = client or Client(target, channel=channel)
    uids, uidx = _factorize(users)
    iids, iidx = _factorize(items)
    model: Dict[str, List[float]] = {}
    baseline: Dict[str, List[float]] = {}
    explicit = fit_options.get("absent_entries") in (None, "unknown")
    error = explicit
    rank = ranking or not explicit
    cold = 0
    tuned: List[Optional[Dict[str, str]]] = []
    try:
        for test in splits:
            test = np.sort(test)
            train = np.setdiff1d(np.arange(n), test, assume_unique=True)
            cold += _count_cold(uidx, iidx, train, test)
            _add(baseline, _baseline(uidx, iidx, values, train, test, len(uids), len(iids),
                                     error, rank, k, relevant_threshold))
            scores, chosen = _fit_and_score(client, uids, iids, uidx, iidx, values, train,
                                            test, error, rank, k, relevant_threshold, seed,
                                            fit_options)
            _add(model, scores)
            if fit_options.get("tune") is not None:
                tuned.append(chosen)
    finally:
        if own:
            client.close()
    name = "+".join(([("biases")] if error else []) + (["popularity"] if rank else []))
    return Evaluation(model, baseline, name, k, cold, tuned)


def fit_biases(uidx: np.ndarray, iidx: np.ndarray, values: np.ndarray, n_users: int,
               n_items: int):
    """Surprise's BaselineOnly (ALS): returns (mu, user_biases, item_biases)."""
    mu = float(values.mean())
    nu = np.bincount(uidx, minlength=n_users)
    ni = np.bincount(iidx, minlength=n_items)
    bu = np.zeros(n_users)
    bi = np.zeros(n_items)
    r = values.astype(np.float64) - mu
    for _ in range(BASELINE_EPOCHS):
        bi = np.bincount(iidx, r - bu[uidx], minlength=n_items) / (BASELINE_ITEM_REG + ni)
        bu = np.bincount(uidx, r - bi[iidx], minlength=n_users) / (BASELINE_USER_REG + nu)
    return mu, bu, bi


def _baseline(uidx, iidx, values, train, test, n_users, n_items, error, rank, k, threshold):
    start = time.monotonic()
    out = {}
    if error:
        mu, bu, bi = fit_biases(uidx[train], iidx[train], values[train], n_users, n_items)
        out["fit_seconds"] = time.monotonic() - start
        pred = mu + bu[uidx[test]] + bi[iidx[test]]
        out.update(_errors(pred, values[test]))
    if rank:
        keep = train if threshold is None else train[values[train] >= threshold]
        counts = np.bincount(iidx[keep], minlength=n_items)
        popular = np.lexsort((np.arange(n_items), -counts))  # most first, ties to lower index
        out.setdefault("fit_seconds", time.monotonic() - start)
        seen = _grouped(uidx[train], iidx[train], n_users)
        ranked = {}
        for u in _ranked_users(uidx, iidx, values, train, test, threshold):
            s = seen[u]
            ranked[u] = [i for i in popular[:k + len(s)] if i not in s][:k]
        out.update(_ranking(ranked, uidx, iidx, values, test, threshold, k))
    return out


def _fit_and_score(client, uids, iids, uidx, iidx, values, train, test, error, rank, k,
                   threshold, seed, fit_options):
    upload = client.upload_matrix(Ratings(_id_list(uids, uidx[train]),
                                          _id_list(iids, iidx[train]), values[train]))
    try:
        options = dict(fit_options)
        options.setdefault("seed", seed)
        info = client.fit(matrix_id=upload.matrix_id, **options)
        try:
            out = {"fit_seconds": info.fit_seconds}
            if error:
                pred = client.predict(info.model_id, _id_list(uids, uidx[test]),
                                      _id_list(iids, iidx[test]), unknown_ids="baseline")
                out.update(_errors(pred.astype(np.float64), values[test]))
            if rank:
                ranked = {}
                index = {v: i for i, v in enumerate(_id_list(iids, np.arange(len(iids))))}
                for u in _ranked_users(uidx, iidx, values, train, test, threshold):
                    recs = client.recommend(info.model_id, _id_list(uids, [u])[0], k=k,
                                            exclude_seen=True)
                    ranked[u] = [index.get(r.item, -1) for r in recs]
                out.update(_ranking(ranked, uidx, iidx, values, test, threshold, k))
            chosen = next((dict(t.setting) for t in info.tune_trials if t.best), None)
            return out, chosen
        finally:
            try:
                client.delete_model(info.model_id)
            except MfServeError:
                pass
    finally:
        try:
            client.delete_matrix(upload.matrix_id)
        except MfServeError:
            pass


def _errors(pred: np.ndarray, actual: np.ndarray) -> Dict[str, float]:
    d = pred - actual.astype(np.float64)
    return {"rmse": float(np.sqrt(np.mean(d * d))), "mae": float(np.mean(np.abs(d)))}


def _ranking(ranked, uidx, iidx, values, test, threshold, k) -> Dict[str, float]:
    """implicit's ranking_metrics_at_k (precision pooled over users), recall per user."""
    relevant = _grouped(uidx[test], iidx[test], None,
                        None if threshold is None else values[test] >= threshold)
    hits_total = attainable = recall = ap_total = ndcg = 0.0
    discount = 1.0 / np.log2(np.arange(2, k + 2))
    for u, recs in ranked.items():
        rel = relevant[u]
        m = min(k, len(rel))
        hits, ap, dcg = 0, 0.0, 0.0
        for pos, item in enumerate(recs[:k]):
            if item in rel:
                hits += 1
                ap += hits / (pos + 1)
                dcg += discount[pos]
        hits_total += hits
        attainable += m
        recall += hits / len(rel)
        ap_total += ap / m
        ndcg += dcg / discount[:m].sum()
    users = max(1, len(ranked))
    return {"precision": hits_total / max(attainable, 1), "recall": recall / users,
            "map": ap_total / users, "ndcg": ndcg / users}


def _ranked_users(uidx, iidx, values, train, test, threshold) -> List[int]:
    """Test users with a relevant test item who are in the training part."""
    mask = np.ones(len(test), dtype=bool) if threshold is None else values[test] >= threshold
    known = set(np.unique(uidx[train]).tolist())
    return sorted(u for u in set(uidx[test][mask].tolist()) if u in known)


def _grouped(uidx, iidx, n_users, mask=None) -> Dict[int, set]:
    out: Dict[int, set] = {}
    for u, i, keep in zip(uidx.tolist(), iidx.tolist(),
                          [True] * len(uidx) if mask is None else mask.tolist()):
        if keep:
            out.setdefault(u, set()).add(i)
    return _Default(out)


class _Default(dict):
    def __missing__(self, key):
        return set()


def _count_cold(uidx, iidx, train, test) -> int:
    users = np.zeros(uidx.max() + 1, dtype=bool)
    items = np.zeros(iidx.max() + 1, dtype=bool)
    users[uidx[train]] = True
    items[iidx[train]] = True
    return int(np.count_nonzero(~(users[uidx[test]] & items[iidx[test]])))


def _add(acc: Dict[str, List[float]], values: Dict[str, float]) -> None:
    for m, v in values.items():
        acc.setdefault(m, []).append(v)


def _entries(data):
    if isinstance(data, Ratings):
        return data.users, data.items, data.values
    matrix = prepare(data)
    if matrix.is_dense:
        d = matrix.dense
        rows, cols = np.indices(d.shape)
        return rows.reshape(-1).astype(np.int64), cols.reshape(-1).astype(np.int64), \
            d.reshape(-1)
    return matrix.rows, matrix.cols, matrix.values


def _factorize(ids):
    """Distinct ids (as given: int64 or str) and each entry's index among them."""
    if isinstance(ids, np.ndarray):
        return np.unique(ids, return_inverse=True)
    distinct, inverse = np.unique(np.asarray(ids, dtype=object).astype(str),
                                  return_inverse=True)
    return distinct.tolist(), inverse


def _id_list(distinct, idx):
    if isinstance(distinct, np.ndarray):
        return distinct[np.asarray(idx)]
    return [distinct[i] for i in np.asarray(idx).tolist()]
