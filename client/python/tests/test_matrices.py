"""Conversion of Python matrices to Matrix messages, without a server."""

import grpc
import numpy as np
import pytest
import scipy.sparse as sp

import mfserve
from mfserve._matrices import prepare
from mfserve._proto import pb
from mfserve._rpc_status import BadRequest, Status


def test_prepare_nested_lists_dense_row_major():
    m = prepare([[1, 2, 3], [4, 5, 6]]).to_proto()
    assert (m.dense.rows, m.dense.cols) == (2, 3)
    assert list(m.dense.values) == [1, 2, 3, 4, 5, 6]


@pytest.mark.parametrize("bad", [[1, 2, 3], [[1, 2], [3]], [[]], np.zeros((2, 2, 2))])
def test_prepare_not_a_matrix_value_error(bad):
    with pytest.raises(ValueError):
        prepare(bad)


def test_prepare_unsupported_type_type_error():
    with pytest.raises(TypeError):
        prepare("ratings.csv")


@pytest.mark.parametrize("fmt", ["coo", "csr", "csc"])
def test_prepare_scipy_sparse_positions_as_ids_duplicates_summed(fmt):
    coo = sp.coo_matrix(([1.0, 2.0, 3.0], ([5, 5, 900], [7, 7, 2])), shape=(1000, 10))
    m = prepare(coo.asformat(fmt)).to_proto().sparse
    entries = sorted(zip(m.row_ids, m.col_ids, m.values))
    assert entries == [(5, 7, 3.0), (900, 2, 3.0)]


def test_prepare_ratings_with_keys_keys_on_each_side():
    m = prepare(mfserve.Ratings(["a", "b"], [10, 20], [1, 2])).to_proto().sparse
    assert list(m.row_keys) == ["a", "b"] and list(m.col_ids) == [10, 20]
    assert not m.row_ids and not m.col_keys


def test_ratings_mixed_forms_value_error():
    with pytest.raises(ValueError):
        mfserve.Ratings(["a", 2], [1, 2], [1, 2])


def test_ratings_lengths_differ_value_error():
    with pytest.raises(ValueError):
        mfserve.Ratings([1, 2], [1], [1, 2])


@pytest.mark.parametrize("matrix", [
    np.random.default_rng(0).random((300, 700)),
    mfserve.Ratings(np.arange(200_000) * 7_919_000_001, np.arange(200_000) % 977,
                    np.ones(200_000)),
    mfserve.Ratings([f"user-{i}" for i in range(50_000)], [f"item-{i % 99}" for i in
                                                            range(50_000)], np.ones(50_000)),
])
def test_chunks_large_matrix_each_under_budget_and_all_entries_kept(matrix):
    prepared = prepare(matrix)
    chunks = list(prepared.chunks(1 << 18))
    assert len(chunks) > 1
    assert all(pb.UploadMatrixRequest(chunk=c).ByteSize() <= 1 << 18 for c in chunks)
    sizes = [len(c.dense.values) or len(c.sparse.values) for c in chunks]
    assert sum(sizes) == len(prepared.to_proto().dense.values or
                             prepared.to_proto().sparse.values)
    estimate = prepared.estimated_bytes()
    assert abs(estimate - prepared.to_proto().ByteSize()) < 64


def test_fit_request_options_set_only_what_is_given():
    r = mfserve.fit_request(solver="nmf", num_factors=3, absent_entries="zero", seed=-1,
                            params={"method": "mu", "weighted_lambda": False})
    assert r.absent_entries == pb.ABSENT_ENTRIES_ZERO
    assert r.seed == (1 << 64) - 1
    assert dict(r.params) == {"method": "mu", "weighted_lambda": "false"}
    assert not r.HasField("max_iterations") and not r.HasField("learning_rate")


def test_fit_request_bad_absent_entries_value_error():
    with pytest.raises(ValueError):
        mfserve.fit_request(absent_entries="sometimes")


class _FakeRpcError(grpc.RpcError):
    def __init__(self, metadata):
        self._metadata = metadata

    def code(self):
        return grpc.StatusCode.INVALID_ARGUMENT

    def details(self):
        return "num_factors is 0"

    def trailing_metadata(self):
        return self._metadata


def test_mfserve_error_status_details_field_violations_parsed():
    # Built as the server builds it: google.rpc.Status with a BadRequest packed in an Any.
    bad = BadRequest()
    bad.field_violations.add(field="num_factors", description="is 0; it must be in [1, 10]")
    status = Status(code=3, message="num_factors is 0")
    status.details.add(type_url="type.googleapis.com/google.rpc.BadRequest",
                       value=bad.SerializeToString())
    error = mfserve.MfServeError.from_rpc_error(
        _FakeRpcError((("grpc-status-details-bin", status.SerializeToString()),)))
    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert error.code_name == "INVALID_ARGUMENT"
    assert error.field_violations == [
        mfserve.FieldViolation("num_factors", "is 0; it must be in [1, 10]")]
