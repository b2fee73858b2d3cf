"""Progress callbacks (FitWithProgress), MfServeError, and uploads of large matrices."""

import grpc
import numpy as np
import pytest

import mfserve
from mfserve import Client, MatrixFactorization, MfServeError

RATINGS = np.random.default_rng(4).integers(0, 6, size=(10, 20)).astype(float)


def test_progress_one_call_per_iteration(server_target):
    events = []
    model = MatrixFactorization(RATINGS, num_topics=3, target=server_target, max_iterations=6,
                                validation_fraction=0.2)
    model.fit(progress=events.append)
    assert [e.iteration for e in events] == list(range(1, 7))
    assert all(isinstance(e, mfserve.FitProgress) for e in events)
    assert all(e.model_id == model.model_id and e.max_iterations == 6 for e in events)
    assert all(e.validation_rmse is not None and e.loss >= 0 for e in events)
    assert all(e.elapsed >= 0 and e.eta >= 0 for e in events)
    assert list(model.info.training_loss) == pytest.approx([e.loss for e in events])
    model.delete()


def test_on_progress_alias_no_validation_rmse_none(server_target):
    events = []
    model = MatrixFactorization(RATINGS, num_topics=2, solver="nmf", target=server_target,
                                max_iterations=5, params={"tolerance": 0})
    model.fit(on_progress=events.append)
    assert len(events) == model.info.iterations == 5
    assert all(e.validation_rmse is None for e in events)
    model.delete()


def test_progress_callback_raises_propagates(server_target):
    def stop(event):
        raise KeyError("stop")

    with pytest.raises(KeyError):
        MatrixFactorization(RATINGS, num_topics=2, target=server_target).fit(stop)


def test_errors_bad_rank_invalid_argument_with_field_violation(server_target):
    with pytest.raises(MfServeError) as e:
        MatrixFactorization(RATINGS, num_topics=50, target=server_target).fit()
    assert e.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert [v.field for v in e.value.field_violations] == ["num_factors"]


def test_errors_with_progress_invalid_argument_with_field_violation(server_target):
    with pytest.raises(MfServeError) as e:
        MatrixFactorization(RATINGS, num_topics=2, target=server_target,
                            params={"bogus": 1}).fit(progress=lambda p: None)
    assert e.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert "params.bogus" in {v.field for v in e.value.field_violations}


def test_fit_without_data_sends_no_matrix_for_the_solver_to_read_its_own(client):
    with pytest.raises(ValueError):
        client.fit(solver="als")
    # als reads no data of its own: the server, not the client, refuses the missing matrix.
    with pytest.raises(MfServeError) as e:
        client.fit(solver="als", params={"max_iterations": 3})
    assert e.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert [v.field for v in e.value.field_violations] == ["matrix"]


def test_errors_unknown_model_not_found(client):
    with pytest.raises(MfServeError) as e:
        client.get_factors("no-such-model")
    assert e.value.code == grpc.StatusCode.NOT_FOUND
    with pytest.raises(MfServeError) as e:
        client.predict("no-such-model", [0], [0])
    assert e.value.code == grpc.StatusCode.NOT_FOUND


def test_errors_unknown_user_invalid_argument_names_user_ids(server_target):
    with MatrixFactorization(RATINGS, num_topics=2, target=server_target) as model:
        model.fit()
        with pytest.raises(MfServeError) as e:
            model.predict([1000], [0])
        assert e.value.code == grpc.StatusCode.INVALID_ARGUMENT
        assert [v.field for v in e.value.field_violations] == ["user_ids"]
        model.delete()


def test_upload_small_chunks_same_model_as_inline(server_target):
    matrix = np.random.default_rng(5).random((60, 50))
    with Client(server_target, inline_limit_bytes=1000, chunk_bytes=4096) as chunked, \
            Client(server_target) as inline:
        upload = chunked.upload_matrix(matrix)
        assert upload.chunks > 1 and (upload.rows, upload.cols) == (60, 50)
        assert chunked.delete_matrix(upload.matrix_id) > 0
        with pytest.raises(MfServeError) as e:
            chunked.delete_matrix(upload.matrix_id)
        assert e.value.code == grpc.StatusCode.NOT_FOUND

        deleted = []
        real_delete = chunked.delete_matrix
        chunked.delete_matrix = lambda mid: deleted.append(mid) or real_delete(mid)
        events = []
        a = chunked.fit(matrix, num_factors=3, seed=1, progress=events.append)
        b = inline.fit(matrix, num_factors=3, seed=1)
        assert len(deleted) == 1  # the upload is freed after the fit
        assert len(events) == a.iterations  # progress streams for uploaded matrices too
        assert a.data_fingerprint == b.data_fingerprint
        fa, fb = chunked.get_factors(a.model_id), inline.get_factors(b.model_id)
        np.testing.assert_array_equal(fa.user_factors, fb.user_factors)
        chunked.delete_model(a.model_id)
        inline.delete_model(b.model_id)


def test_upload_over_four_mib_fits_through_upload_matrix(server_target):
    # 1100 x 1000 float32 = 4.4 MB: over gRPC's default 4 MiB limit as one message.
    matrix = np.random.default_rng(6).random((1100, 1000), dtype=np.float32)
    with MatrixFactorization(matrix, num_topics=2, target=server_target,
                             max_iterations=1) as model:
        model.fit()
        users, items = model.get_factors()
        assert users.shape == (1100, 2) and items.shape == (1000, 2)
        model.delete()
