"""The seed snippet, against the real server, with each built-in solver."""

import numpy as np
import pytest

from mfserve import MatrixFactorization


def _ratings():
    return np.random.default_rng(7).integers(0, 6, size=(10, 20)).astype(np.float64)


def _rmse(a, b):
    return float(np.sqrt(np.mean((a - b) ** 2)))


@pytest.mark.parametrize("solver", ["als", "sgd", "nmf"])
def test_seed_snippet_each_solver_shapes_and_beats_the_mean(server_target, solver):
    ratings_matrix = _ratings()
    model = MatrixFactorization(ratings_matrix, num_topics=5, solver=solver,
                                target=server_target)
    model.fit()
    user_factors, item_factors = model.get_factors()
    reconstructed = user_factors @ item_factors.T

    assert user_factors.shape == (10, 5) and item_factors.shape == (20, 5)
    assert user_factors.dtype == np.float32
    assert reconstructed.shape == (10, 20)
    # sgd has biases: its prediction is reconstruct() (mu + b_u + b_i + p_u . q_i)
    predicted = model.reconstruct() if model.info.has_biases else reconstructed
    mean_rmse = _rmse(np.full_like(ratings_matrix, ratings_matrix.mean()), ratings_matrix)
    assert _rmse(predicted, ratings_matrix) < mean_rmse
    assert model.info.solver == solver and model.info.num_factors == 5
    if solver == "nmf":
        assert (user_factors >= 0).all() and (item_factors >= 0).all()
    model.delete()
    model.close()


def test_seed_snippet_nested_lists_and_env_target_same_as_numpy(server_target, monkeypatch):
    monkeypatch.setenv("MFSERVE_TARGET", server_target)
    ratings = _ratings()
    with MatrixFactorization(ratings.tolist(), num_topics=5, seed=3) as a, \
            MatrixFactorization(ratings, num_topics=5, seed=3) as b:
        ua, va = a.fit().get_factors()
        ub, vb = b.fit().get_factors()
        np.testing.assert_array_equal(ua, ub)
        np.testing.assert_array_equal(va, vb)
        assert a.info.data_fingerprint == b.info.data_fingerprint
        a.delete()
        b.delete()


def test_fit_options_reach_the_server(server_target):
    model = MatrixFactorization(_ratings(), num_topics=3, solver="sgd", target=server_target,
                                max_iterations=7, regularization=0.02, learning_rate=0.005,
                                seed=11, params={"bias_regularization": 0.01},
                                validation_fraction=0.2, model_id="py-options")
    model.fit()
    info = model.info
    assert model.model_id == "py-options"
    assert info.iterations == 7 and info.seed == 11
    assert float(info.params["learning_rate"]) == pytest.approx(0.005)
    assert float(info.params["regularization"]) == pytest.approx(0.02)
    assert float(info.params["bias_regularization"]) == pytest.approx(0.01)
    assert len(info.validation_rmse) == 7 and info.num_validation_entries > 0
    model.delete()


def test_fit_keyword_override_refits_with_new_options(server_target):
    with MatrixFactorization(_ratings(), num_topics=2, target=server_target) as model:
        first = model.fit(max_iterations=2).info
        second = model.fit(max_iterations=4, num_topics=3).info
        assert (first.iterations, second.iterations) == (2, 4)
        assert model.get_factors()[0].shape == (10, 3)
        model.client.delete_model(first.model_id)
        model.delete()
