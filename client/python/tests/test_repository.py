"""The model repository against the real server: models from plain factors (ImportFactors),
aliases with compare-and-set, ExportModel / ImportModel, and warm-started fits."""

import io

import grpc
import numpy as np
import pytest

import mfserve
from mfserve import MatrixFactorization, MfServeError, Model


def _bits(a: np.ndarray) -> list:
    return np.ascontiguousarray(a, dtype=np.float32).view(np.uint32).reshape(-1).tolist()


def _factors(seed: int, users: int, items: int, k: int):
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(users, k)).astype(np.float32),
            rng.normal(size=(items, k)).astype(np.float32))


def _assert_same_factors(a: mfserve.Factors, b: mfserve.Factors):
    assert _bits(a.user_factors) == _bits(b.user_factors)
    assert _bits(a.item_factors) == _bits(b.item_factors)
    assert list(a.user_ids) == list(b.user_ids) and list(a.item_ids) == list(b.item_ids)
    assert (a.user_biases is None) == (b.user_biases is None)
    if a.user_biases is not None:
        assert _bits(a.user_biases) == _bits(b.user_biases)
        assert _bits(a.item_biases) == _bits(b.item_biases)
        assert a.global_bias == b.global_bias


# -- ImportFactors ---------------------------------------------------------------------------

def test_from_factors_int_ids_come_back_bit_for_bit_predict_is_the_dot_product_recommend_works(
        server_target):
    user_factors, item_factors = _factors(1, 30, 50, 4)
    user_ids = np.arange(30, dtype=np.int64) * 7 + 1000
    item_ids = np.arange(50, dtype=np.int64) * 3 - 20
    model = Model.from_factors(user_factors, item_factors, user_ids=user_ids, item_ids=item_ids,
                               model_id="py-repo-plain", target=server_target,
                               params={"trainer": "numpy"})
    try:
        info = model.info
        assert model.model_id == "py-repo-plain"
        assert (info.num_users, info.num_items, info.num_factors) == (30, 50, 4)
        assert not info.has_biases
        assert info.params["trainer"] == "numpy"

        f = model.factors()
        assert _bits(f.user_factors) == _bits(user_factors)
        assert _bits(f.item_factors) == _bits(item_factors)
        assert f.user_ids.tolist() == user_ids.tolist()
        assert f.item_ids.tolist() == item_ids.tolist()
        assert f.user_biases is None

        users = user_ids[[0, 5, 29, 29]]
        items = item_ids[[0, 10, 49, 3]]
        expected = np.array([user_factors[u] @ item_factors[i]
                             for u, i in [(0, 0), (5, 10), (29, 49), (29, 3)]])
        np.testing.assert_allclose(model.predict(users, items), expected, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(model.reconstruct(), user_factors.astype(np.float64)
                                   @ item_factors.T.astype(np.float64), rtol=1e-6)

        top = model.recommend(int(user_ids[5]), k=3, exclude_seen=False)
        scores = user_factors[5].astype(np.float64) @ item_factors.T.astype(np.float64)
        best = np.argsort(-scores)[:3]
        assert [item for item, _ in top] == item_ids[best].tolist()
        np.testing.assert_allclose([s for _, s in top], scores[best], rtol=1e-5)
        assert len(model.similar_items(int(item_ids[0]), k=5)) == 5
        with pytest.raises(ValueError, match="warm_start"):
            model.fit()
    finally:
        model.delete()
        model.close()


def test_from_factors_keys_biases_and_seen_predict_adds_biases_recommend_leaves_seen_out(server_target):
    user_factors, item_factors = _factors(2, 6, 8, 3)
    user_keys = [f"u-{i}" for i in range(6)]
    item_keys = [f"sku-{i}" for i in range(8)]
    rng = np.random.default_rng(3)
    user_biases = rng.normal(size=6).astype(np.float32)
    item_biases = rng.normal(size=8).astype(np.float32)
    scores = (3.25 + user_biases[0] + item_biases
              + user_factors[0].astype(np.float64) @ item_factors.T.astype(np.float64))
    best_two = np.argsort(-scores)[:2]
    seen = [(user_keys[0], item_keys[j]) for j in best_two]

    model = Model.from_factors(user_factors, item_factors, user_ids=user_keys,
                               item_ids=item_keys, user_biases=user_biases,
                               item_biases=item_biases, global_mean=3.25, seen=seen,
                               absent_entries="implicit", target=server_target)
    try:
        assert model.info.has_biases
        assert model.info.user_id_form == mfserve._proto.pb.ID_FORM_STRING
        assert model.info.absent_entries == mfserve._proto.pb.ABSENT_ENTRIES_IMPLICIT
        f = model.factors()
        assert f.user_ids == user_keys and f.item_ids == item_keys
        assert _bits(f.user_biases) == _bits(user_biases)
        assert f.global_bias == 3.25

        np.testing.assert_allclose(model.predict([user_keys[0]] * 8, item_keys), scores,
                                   rtol=1e-5, atol=1e-5)
        kept = [item for item, _ in model.recommend(user_keys[0], k=8, exclude_seen=True)]
        assert len(kept) == 6
        assert not {item_keys[j] for j in best_two} & set(kept)
        everything = [item for item, _ in model.recommend(user_keys[0], k=8,
                                                          exclude_seen=False)]
        assert everything[:2] == [item_keys[j] for j in best_two]
    finally:
        model.delete()


def test_from_factors_of_a_fitted_model_symmetric_with_get_factors(server_target):
    ratings = np.random.default_rng(5).integers(0, 6, size=(12, 15)).astype(float)
    with MatrixFactorization(ratings, num_topics=3, solver="sgd", target=server_target,
                             max_iterations=5) as fitted:
        fitted.fit()
        source = fitted.factors()
        copy = Model.from_factors(source, model_id="py-repo-copy", target=server_target)
        try:
            _assert_same_factors(source, copy.factors())
            assert copy.info.has_biases
            assert copy.info.absent_entries == fitted.info.absent_entries
            np.testing.assert_allclose(copy.predict([0, 11], [0, 14]),
                                       fitted.predict([0, 11], [0, 14]), rtol=1e-5, atol=1e-5)
        finally:
            copy.delete()
            fitted.delete()


def test_from_factors_larger_than_one_message_streams_in_chunks(client, server_target):
    user_factors, item_factors = _factors(6, 40_000, 5_000, 16)  # ~2.9 MB of factors
    model = Model.from_factors(user_factors, item_factors, client=client)
    try:
        f = model.factors()
        assert f.user_factors.shape == (40_000, 16)
        assert _bits(f.user_factors[-3:]) == _bits(user_factors[-3:])
        assert _bits(f.item_factors) == _bits(item_factors)
    finally:
        model.delete()


def test_import_factors_duplicate_ids_invalid_argument(client):
    with pytest.raises(MfServeError) as e:
        client.import_factors(np.ones((2, 2)), np.ones((3, 2)), user_ids=[4, 4])
    assert e.value.code == grpc.StatusCode.INVALID_ARGUMENT


# -- aliases ---------------------------------------------------------------------------------

@pytest.fixture
def two_models(client):
    ids = []
    for n in (1, 2):
        u, v = _factors(10 + n, 4, 5, 2)
        ids.append(client.import_factors(u, v, model_id=f"py-repo-alias-m{n}").model_id)
    yield ids
    for alias in list(client.list_aliases()):
        if alias.startswith("py-repo-"):
            client.delete_alias(alias)
    for model_id in ids:
        client.delete_model(model_id)


def test_aliases_set_get_list_delete(client, two_models):
    m1, m2 = two_models
    assert client.set_alias("py-repo-prod", m1) == ""
    assert client.get_alias("py-repo-prod") == m1
    assert client.set_alias("py-repo-prod", m2) == m1
    assert client.list_aliases()["py-repo-prod"] == m2
    info = {m.model_id: m for m in client.list_models()}
    assert "py-repo-prod" in info[m2].aliases and "py-repo-prod" not in info[m1].aliases
    assert info[m2].resident
    assert client.delete_alias("py-repo-prod") == m2
    assert "py-repo-prod" not in client.list_aliases()
    with pytest.raises(MfServeError) as e:
        client.get_alias("py-repo-prod")
    assert e.value.code == grpc.StatusCode.NOT_FOUND


def test_aliases_compare_and_set_failed_precondition_leaves_the_alias(client, two_models):
    m1, m2 = two_models
    assert client.set_alias("py-repo-cas", m1, expected_model_id="") == ""
    for call in (lambda: client.set_alias("py-repo-cas", m2, expected_model_id=""),
                 lambda: client.set_alias("py-repo-cas", m2, expected_model_id=m2),
                 lambda: client.delete_alias("py-repo-cas", expected_model_id=m2)):
        with pytest.raises(MfServeError) as e:
            call()
        assert e.value.code == grpc.StatusCode.FAILED_PRECONDITION
        assert client.get_alias("py-repo-cas") == m1
    assert client.set_alias("py-repo-cas", m2, expected_model_id=m1) == m1
    assert client.delete_alias("py-repo-cas", expected_model_id=m2) == m2


def test_alias_accepted_wherever_a_model_id_is(client, two_models):
    m1, _ = two_models
    client.set_alias("py-repo-any", m1)
    np.testing.assert_array_equal(client.predict("py-repo-any", [0, 3], [1, 4]),
                                  client.predict(m1, [0, 3], [1, 4]))
    assert client.recommend("py-repo-any", 0, k=2) == client.recommend(m1, 0, k=2)
    _assert_same_factors(client.get_factors("py-repo-any"), client.get_factors(m1))


def test_attach_by_alias_follows_the_alias_when_it_is_switched(client, server_target, two_models):
    m1, m2 = two_models
    client.set_alias("py-repo-follow", m1)
    model = MatrixFactorization.attach("py-repo-follow", target=server_target)
    np.testing.assert_array_equal(model.predict([0], [1]), client.predict(m1, [0], [1]))
    client.set_alias("py-repo-follow", m2)
    np.testing.assert_array_equal(model.predict([0], [1]), client.predict(m2, [0], [1]))
    assert not np.array_equal(client.predict(m1, [0], [1]), client.predict(m2, [0], [1]))


# -- ExportModel / ImportModel ---------------------------------------------------------------

def test_export_then_import_under_a_new_id_identical_factors(client, tmp_path):
    ratings = np.random.default_rng(8).integers(0, 6, size=(10, 20)).astype(float)
    info = client.fit(ratings, num_factors=4, solver="sgd", model_id="py-repo-export",
                      max_iterations=4)
    client.set_alias("py-repo-export-alias", info.model_id)
    try:
        buffer = io.BytesIO()
        written = client.export_model("py-repo-export-alias", buffer)
        assert written == len(buffer.getvalue()) > 0
        path = tmp_path / "model.mfsnap"
        assert client.export_model(info.model_id, path) == written
        assert path.read_bytes() == buffer.getvalue()
        assert not (tmp_path / "model.mfsnap.part").exists()

        copy = client.import_model(path, model_id="py-repo-export-copy")
        assert copy.model_id == "py-repo-export-copy"
        assert (copy.num_users, copy.num_items, copy.num_factors) == (10, 20, 4)
        assert copy.solver == "sgd" and copy.has_biases
        _assert_same_factors(client.get_factors(info.model_id),
                             client.get_factors(copy.model_id))

        again = client.import_model(io.BytesIO(buffer.getvalue()),
                                    model_id="py-repo-export-copy2")
        _assert_same_factors(client.get_factors(info.model_id),
                             client.get_factors(again.model_id))
        client.delete_model(again.model_id)
        client.delete_model(copy.model_id)
    finally:
        client.delete_alias("py-repo-export-alias")
        client.delete_model(info.model_id)


def test_import_model_not_a_snapshot_invalid_argument(client):
    with pytest.raises(MfServeError) as e:
        client.import_model(b"this is not an mfserve snapshot", model_id="py-repo-garbage")
    assert e.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert "py-repo-garbage" not in {m.model_id for m in client.list_models()}


def test_export_model_unknown_model_not_found_and_no_file(client, tmp_path):
    path = tmp_path / "missing.mfsnap"
    with pytest.raises(MfServeError) as e:
        client.export_model("py-repo-no-such-model", path)
    assert e.value.code == grpc.StatusCode.NOT_FOUND
    assert list(tmp_path.iterdir()) == []


# -- warm start ------------------------------------------------------------------------------

def test_fit_warm_start_recorded_on_the_model(server_target):
    ratings = np.random.default_rng(9).integers(0, 6, size=(10, 20)).astype(float)
    with MatrixFactorization(ratings, num_topics=3, target=server_target,
                             model_id="py-repo-cold", max_iterations=5) as cold:
        cold.fit()
        with MatrixFactorization(ratings, num_topics=3, target=server_target,
                                 model_id="py-repo-warm", max_iterations=1,
                                 warm_start=cold.model_id) as warm:
            warm.fit()
            assert warm.info.warm_start_model_id == cold.model_id
            assert cold.info.warm_start_model_id == ""
            # One iteration from the converged factors fits better than one from scratch.
            with MatrixFactorization(ratings, num_topics=3, target=server_target,
                                     model_id="py-repo-cold1", max_iterations=1) as cold1:
                cold1.fit()
                assert warm.info.training_rmse < cold1.info.training_rmse
                cold1.delete()
            warm.delete()
        cold.delete()
