"""mfserve.evaluate: the model and the no-factor baseline on the same folds."""

import numpy as np
import pytest

import mfserve
from mfserve import Ratings
from mfserve.evaluation import fit_biases


def _planted(seed=3, users=120, items=90, rank=3, density=0.3):
    """Ratings μ + b_u + b_i + u·v + noise on a random 30% of the pairs."""
    rng = np.random.default_rng(seed)
    u = rng.normal(0, 0.8, (users, rank))
    v = rng.normal(0, 0.8, (items, rank))
    full = 3 + rng.normal(0, 0.3, (users, 1)) + rng.normal(0, 0.3, (1, items)) + u @ v.T
    mask = rng.random((users, items)) < density
    r, c = np.nonzero(mask)
    values = full[r, c] + rng.normal(0, 0.2, r.size)
    return Ratings(r.astype(np.int64) + 100, c.astype(np.int64) + 5000, values)


def test_fit_biases_is_afixed_point_of_the_regularised_normal_equations():
    uidx = np.array([0, 0, 0, 1, 1, 2, 2, 2, 2, 3])
    iidx = np.array([0, 1, 2, 0, 3, 0, 1, 2, 3, 1])
    values = np.array([5, 3, 4, 4, 1, 2, 2, 5, 1, 3], dtype=np.float32)
    mu, bu, bi = fit_biases(uidx, iidx, values, 4, 4)
    assert mu == pytest.approx(3.0)
    for i in range(4):
        rows = iidx == i
        expected = np.sum(values[rows] - mu - bu[uidx[rows]]) / (10 + rows.sum())
        assert bi[i] == pytest.approx(expected, abs=1e-12)
    for u in range(4):
        rows = uidx == u
        expected = np.sum(values[rows] - mu - bi[iidx[rows]]) / (15 + rows.sum())
        assert bu[u] == pytest.approx(expected, abs=1e-12)


def test_evaluate_planted_low_rank_baseline_first_and_model_beats_it(server_target):
    result = mfserve.evaluate(_planted(), folds=3, seed=7, target=server_target,
                              solver="als", num_factors=3, max_iterations=15)
    assert set(result.baseline) >= {"rmse", "mae", "fit_seconds"}
    assert len(result.model["rmse"]) == 3 and len(result.baseline["rmse"]) == 3
    # The planted interactions (std ≈ 1.4) are far above the noise (0.2): factors must win
    # clearly (the default rule regularises strong signal more than the best setting would).
    assert result.improvement("rmse") > 0.1, str(result)
    text = str(result).splitlines()
    assert text[1].startswith("baseline (biases)") and text[2].startswith("model")
    assert text[-1].startswith("model vs baseline: RMSE")


def test_evaluate_ranking_reports_popularity_on_the_same_holdout(server_target):
    result = mfserve.evaluate(_planted(seed=4), test_fraction=0.25, seed=1,
                              target=server_target, ranking=True, k=5, relevant_threshold=3.5,
                              num_factors=3)
    assert result.baseline_name == "biases+popularity"
    for m in ("precision", "recall", "map", "ndcg"):
        assert 0 <= result.mean(m, baseline=True) <= 1
        assert 0 <= result.mean(m) <= 1


def test_fit_tune_streams_trials_and_lists_them_in_the_model(server_target):
    trials = []
    with mfserve.MatrixFactorization(_planted(seed=5), num_topics=3, target=server_target,
                                     max_iterations=9) as model:
        model.fit(tune={"regularization": (0.5, 50, "log"), "num_factors": (2, 5)},
                  on_trial=trials.append)
        info = model.info
        assert len(trials) == len(info.tune_trials) > 0
        # Parallel trials may finish out of order; their numbers are their schedule places.
        assert sorted(t.number for t in trials) == list(range(1, len(trials) + 1))
        assert [t.number for t in info.tune_trials] == list(range(1, len(trials) + 1))
        best = [t for t in info.tune_trials if t.best]
        assert len(best) == 1
        assert info.num_factors == int(best[0].setting["num_factors"])
        assert float(info.params["regularization"]) == pytest.approx(
            float(best[0].setting["regularization"]))
        model.delete()


def test_evaluate_tuned_reports_each_folds_choice(server_target):
    result = mfserve.evaluate(_planted(seed=6), folds=2, seed=3, target=server_target,
                              solver="als", max_iterations=6,
                              tune=mfserve.tune_spec({"num_factors": (2, 5)}, max_fits=6,
                                                     method="halving"))
    assert len(result.tuned) == 2
    for chosen in result.tuned:
        assert 2 <= int(chosen["num_factors"]) <= 5
    text = str(result).splitlines()
    assert text[-2].startswith("tuned on fold 1: num_factors=")
    assert text[-1].startswith("tuned on fold 2: num_factors=")


def test_tune_spec_ranges_and_lists():
    spec = mfserve.tune_spec({"factors": (5, 40), "regularization": (1, 50, "log"),
                              "biases": [True, False]}, max_fits=12, metric="rmse")
    assert [r.name for r in spec.ranges] == ["num_factors", "regularization", "biases"]
    assert spec.ranges[1].log_scale and not spec.ranges[0].log_scale
    assert list(spec.ranges[2].values) == ["true", "false"]
    assert spec.max_fits == 12 and spec.metric == 1
    assert spec.method == 0 and spec.parallel_trials == 0
    spec = mfserve.tune_spec({"factors": (5, 40)}, method="halving", parallel_trials=2)
    assert spec.method == 2 and spec.parallel_trials == 2
    assert mfserve.tune_spec({"factors": (5, 40)}, method="hyperband").method == 1
    with pytest.raises(ValueError):
        mfserve.tune_spec({"factors": (5, 40)}, method="bayes")
    with pytest.raises(ValueError):
        mfserve.tune_spec({"regularization": (1, 2, "ln")})
