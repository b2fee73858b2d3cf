"""The ImportFactors, ImportModel and ExportModel streams, built and read without a server,
and the client's repository calls against a small in-process fake server (the real server is
in test_repository.py)."""

import io

import grpc
import numpy as np
import pytest
import scipy.sparse as sp

import mfserve
from mfserve import _transfer
from mfserve._proto import pb

MIB = 1 << 20


def _requests(factors, seen=None, chunk_bytes=MIB, header=None):
    pairs = _transfer.seen_pairs(seen, factors)
    return list(_transfer.factor_requests(factors, header or pb.ImportFactorsHeader(), pairs,
                                          chunk_bytes))


def test_factor_requests_large_header_first_then_users_then_items_then_seen_all_under_1mib():
    rng = np.random.default_rng(0)
    users, items, k = 20_000, 7_000, 24
    user_keys = [f"user-{u:06d}" for u in range(users)]
    factors = _transfer.PlainFactors(rng.normal(size=(users, k)), rng.normal(size=(items, k)),
                                     user_ids=user_keys,
                                     item_ids=np.arange(items, dtype=np.int64) * 1_000_003,
                                     user_biases=rng.normal(size=users), global_mean=3.5)
    seen = [(user_keys[e % users], int(e % items) * 1_000_003) for e in range(150_000)]

    requests = _requests(factors, seen)

    assert requests[0].HasField("header") and not requests[0].HasField("rows")
    header = requests[0].header
    assert (header.num_factors, header.has_biases, header.global_mean) == (k, True, 3.5)
    phases = []
    for r in requests:
        assert r.ByteSize() <= MIB
        phase = ("header" if r.HasField("header") else "seen" if r.HasField("seen")
                 else "users" if r.rows.user_factors.rows else "items")
        if not phases or phases[-1] != phase:
            phases.append(phase)
    assert phases == ["header", "users", "items", "seen"]
    assert len(requests) >= 8  # 1 header, 3 user, 1 item, 3 seen messages
    user_rows = [r.rows for r in requests if r.rows.user_factors.rows]
    assert sum(len(r.user_keys) for r in user_rows) == users
    assert all(len(r.user_biases) == r.user_factors.rows for r in user_rows)
    item_rows = [r.rows for r in requests if r.rows.item_factors.rows]
    assert all(len(r.item_biases) == r.item_factors.rows for r in item_rows)
    assert not any(r.seen.values for r in requests)  # values are never sent


def test_factor_requests_values_and_ids_reassemble_bit_for_bit():
    users = np.array([[0.1, -0.0], [np.finfo(np.float32).max, 1.0000001]], dtype=np.float32)
    items = np.array([[np.float32(1e-45), 2], [-3.25, 6e-39]], dtype=np.float32)
    factors = _transfer.PlainFactors(users, items, user_ids=[7, -9], item_ids=["x", "y"])

    requests = _requests(factors, chunk_bytes=100)

    got_users = np.concatenate([np.asarray(r.rows.user_factors.values, dtype=np.float32)
                                for r in requests if r.rows.user_factors.rows])
    got_items = np.concatenate([np.asarray(r.rows.item_factors.values, dtype=np.float32)
                                for r in requests if r.rows.item_factors.rows])
    assert got_users.view(np.uint32).tolist() == users.reshape(-1).view(np.uint32).tolist()
    assert got_items.view(np.uint32).tolist() == items.reshape(-1).view(np.uint32).tolist()
    assert [i for r in requests for i in r.rows.user_ids] == [7, -9]
    assert [i for r in requests for i in r.rows.item_keys] == ["x", "y"]
    assert not requests[0].header.has_biases
    assert not any(r.rows.user_biases for r in requests)


def test_plain_factors_defaults_and_checks():
    f = _transfer.PlainFactors(np.ones((2, 3)), np.ones((4, 3)), item_biases=[1, 2, 3, 4])
    assert f.user_ids.tolist() == [0, 1] and f.item_ids.tolist() == [0, 1, 2, 3]
    assert f.has_biases and f.user_biases.tolist() == [0, 0] and f.global_mean == 0.0
    with pytest.raises(ValueError, match="same number of factors"):
        _transfer.PlainFactors(np.ones((2, 3)), np.ones((2, 2)))
    with pytest.raises(ValueError, match="one per row"):
        _transfer.PlainFactors(np.ones((2, 3)), np.ones((2, 3)), user_ids=[1])
    with pytest.raises(ValueError, match="NaN"):
        _transfer.PlainFactors(np.array([[np.nan]]), np.ones((1, 1)))
    with pytest.raises(ValueError, match="2-D"):
        _transfer.PlainFactors(np.ones(3), np.ones((1, 3)))
    with pytest.raises(ValueError, match="mixes"):
        _transfer.PlainFactors(np.ones((2, 1)), np.ones((1, 1)), user_ids=[1, "a"])


def test_seen_pairs_matrix_positions_map_to_ids_pairs_keep_their_form():
    f = _transfer.PlainFactors(np.ones((2, 1)), np.ones((3, 1)), user_ids=[10, 20],
                               item_ids=["a", "b", "c"])
    users, items = _transfer.seen_pairs(np.array([[0, 5, 0], [1, 0, 0]]), f)
    assert sorted(zip(users.tolist(), items)) == [(10, "b"), (20, "a")]
    users, items = _transfer.seen_pairs(sp.csr_matrix(([1.0], ([1], [2])), shape=(2, 3)), f)
    assert (users.tolist(), items) == ([20], ["c"])
    users, items = _transfer.seen_pairs([(10, "c")], f)
    assert (users.tolist(), items) == ([10], ["c"])
    users, items = _transfer.seen_pairs(mfserve.Ratings([20], ["a"], [1]), f)
    assert (users.tolist(), items) == ([20], ["a"])
    with pytest.raises(ValueError, match="string keys"):
        _transfer.seen_pairs([(10, 3)], f)
    with pytest.raises(ValueError, match="shape"):
        _transfer.seen_pairs(np.ones((3, 3)), f)


def test_snapshot_requests_chunks_under_1mib_model_id_on_the_first_only():
    data = bytes(range(256)) * 10_000  # 2.56 MB
    requests = list(_transfer.snapshot_requests(io.BytesIO(data), "copy", MIB))
    assert len(requests) == 3
    assert requests[0].model_id == "copy" and not any(r.model_id for r in requests[1:])
    assert all(r.ByteSize() <= MIB for r in requests)
    assert b"".join(r.data for r in requests) == data


def test_snapshot_requests_empty_input_one_chunk_so_the_server_reports_it():
    requests = list(_transfer.snapshot_requests(io.BytesIO(b""), "x", MIB))
    assert len(requests) == 1 and requests[0].model_id == "x" and requests[0].data == b""


def test_write_export_checks_the_announced_length():
    out = io.BytesIO()
    chunks = [pb.ExportModelResponse(data=b"abc", total_bytes=5),
              pb.ExportModelResponse(data=b"de")]
    assert _transfer.write_export(iter(chunks), out) == 5 and out.getvalue() == b"abcde"
    with pytest.raises(ValueError, match="3 of the 5 bytes"):
        _transfer.write_export(iter(chunks[:1]), io.BytesIO())
    with pytest.raises(ValueError, match="without a chunk"):
        _transfer.write_export(iter([]), io.BytesIO())


def test_model_is_matrix_factorization():
    assert mfserve.Model is mfserve.MatrixFactorization
    assert hasattr(mfserve.Model, "from_factors")


# -- The client against a small in-process fake server ---------------------------------------

class _FakeServer(mfserve._proto.pb_grpc.MatrixFactorizationServicer):
    """Records what the client streams and answers the way the proto says, without any math."""

    def __init__(self):
        self.import_factors_calls, self.import_model_calls, self.fits = [], [], []
        self.set_alias_requests, self.aliases, self.models = [], {}, {}
        self.snapshot = bytes(range(256)) * 9_000  # 2.3 MB

    def ImportFactors(self, request_iterator, context):
        requests = list(request_iterator)
        self.import_factors_calls.append(requests)
        header = requests[0].header
        rows = pb.GetFactorsResponse()
        for r in requests:
            rows.MergeFrom(r.rows)
        rows.user_factors.rows = sum(r.rows.user_factors.rows for r in requests)
        rows.item_factors.rows = sum(r.rows.item_factors.rows for r in requests)
        info = pb.ModelInfo(model_id=header.model_id or "imported", num_factors=header.num_factors,
                            num_users=rows.user_factors.rows, num_items=rows.item_factors.rows,
                            has_biases=header.has_biases, absent_entries=header.absent_entries,
                            user_id_form=pb.ID_FORM_STRING if rows.user_keys else pb.ID_FORM_INT64,
                            item_id_form=pb.ID_FORM_STRING if rows.item_keys else pb.ID_FORM_INT64)
        rows.model.CopyFrom(info)
        rows.global_bias = header.global_mean
        self.models[info.model_id] = rows
        return pb.ImportFactorsResponse(model=info)

    def GetFactors(self, request, context):
        if request.model_id not in self.models:
            context.abort(grpc.StatusCode.NOT_FOUND, f"no model {request.model_id!r}")
        yield self.models[request.model_id]

    def GetModel(self, request, context):
        return pb.GetModelResponse(model=self.models[request.model_id].model)

    def ExportModel(self, request, context):
        if request.model_id not in self.models:
            context.abort(grpc.StatusCode.NOT_FOUND, f"no model {request.model_id!r}")
        step = 300_000
        for start in range(0, len(self.snapshot), step):
            yield pb.ExportModelResponse(data=self.snapshot[start:start + step],
                                         total_bytes=len(self.snapshot) if start == 0 else 0)

    def ImportModel(self, request_iterator, context):
        requests = list(request_iterator)
        self.import_model_calls.append(requests)
        if b"".join(r.data for r in requests) != self.snapshot:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "not a snapshot")
        return pb.ImportModelResponse(model=pb.ModelInfo(model_id=requests[0].model_id))

    def Fit(self, request, context):
        self.fits.append(request)
        return pb.FitResponse(model=pb.ModelInfo(model_id=request.model_id or "fitted",
                                                 warm_start_model_id=request.warm_start_model_id))

    def SetAlias(self, request, context):
        self.set_alias_requests.append(request)
        now = self.aliases.get(request.alias, "")
        if request.HasField("expected_model_id") and request.expected_model_id != now:
            context.abort(grpc.StatusCode.FAILED_PRECONDITION, f"{request.alias} points at {now!r}")
        self.aliases[request.alias] = request.model_id
        return pb.SetAliasResponse(alias=pb.Alias(alias=request.alias, model_id=request.model_id),
                                   previous_model_id=now)

    def GetAlias(self, request, context):
        if request.alias not in self.aliases:
            context.abort(grpc.StatusCode.NOT_FOUND, f"no alias {request.alias!r}")
        return pb.GetAliasResponse(alias=pb.Alias(alias=request.alias,
                                                  model_id=self.aliases[request.alias]))

    def ListAliases(self, request, context):
        return pb.ListAliasesResponse(aliases=[pb.Alias(alias=a, model_id=m)
                                               for a, m in sorted(self.aliases.items())])

    def DeleteAlias(self, request, context):
        now = self.aliases.get(request.alias)
        if now is None:
            context.abort(grpc.StatusCode.NOT_FOUND, f"no alias {request.alias!r}")
        if request.HasField("expected_model_id") and request.expected_model_id != now:
            context.abort(grpc.StatusCode.FAILED_PRECONDITION, f"{request.alias} points at {now!r}")
        del self.aliases[request.alias]
        return pb.DeleteAliasResponse(previous_model_id=now)

    def ListModels(self, request, context):
        return pb.ListModelsResponse(
            models=[m.model for m in self.models.values()],
            damaged_models=[pb.DamagedModel(model_id="old", reason="checksum mismatch")])


@pytest.fixture
def fake():
    from concurrent import futures
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    servicer = _FakeServer()
    mfserve._proto.pb_grpc.add_MatrixFactorizationServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    with mfserve.Client(f"127.0.0.1:{port}") as client:
        yield servicer, client
    server.stop(None)


def test_fake_from_factors_streams_under_1mib_and_comes_back_bit_for_bit(fake):
    servicer, client = fake
    rng = np.random.default_rng(1)
    users = rng.normal(size=(30_000, 12)).astype(np.float32)
    items = rng.normal(size=(900, 12)).astype(np.float32)
    keys = [f"sku-{i}" for i in range(900)]
    model = mfserve.Model.from_factors(users, items, item_ids=keys, global_mean=2.5,
                                       item_biases=rng.normal(size=900), model_id="m",
                                       seen=[(0, "sku-1"), (7, "sku-3")], client=client)
    sent = servicer.import_factors_calls[0]
    assert all(r.ByteSize() <= MIB for r in sent)
    assert sent[0].HasField("header") and sent[-1].HasField("seen")
    assert list(sent[-1].seen.row_ids) == [0, 7] and list(sent[-1].seen.col_keys) == [
        "sku-1", "sku-3"]
    f = model.factors()
    assert f.user_factors.view(np.uint32).tolist() == users.view(np.uint32).tolist()
    assert f.item_ids == keys and f.global_bias == 2.5
    assert f.user_biases.tolist() == [0.0] * 30_000
    copy = mfserve.Model.from_factors(f, model_id="copy", client=client)
    assert copy.factors().item_factors.tobytes() == items.tobytes()
    assert servicer.import_factors_calls[1][0].header.global_mean == 2.5


def test_fake_aliases_expectation_presence_and_failed_precondition(fake):
    servicer, client = fake
    assert client.set_alias("prod", "m1") == ""
    assert client.set_alias("prod", "m2", expected_model_id="m1") == "m1"
    assert client.set_alias("new", "m1", expected_model_id="") == ""
    sent = servicer.set_alias_requests
    assert not sent[0].HasField("expected_model_id")
    assert sent[2].HasField("expected_model_id") and sent[2].expected_model_id == ""
    with pytest.raises(mfserve.MfServeError) as e:
        client.set_alias("prod", "m3", expected_model_id="m1")
    assert e.value.code == grpc.StatusCode.FAILED_PRECONDITION
    assert client.list_aliases() == {"new": "m1", "prod": "m2"}
    assert client.get_alias("prod") == "m2"
    assert client.delete_alias("prod", expected_model_id="m2") == "m2"
    with pytest.raises(mfserve.MfServeError) as e:
        client.get_alias("prod")
    assert e.value.code == grpc.StatusCode.NOT_FOUND


def test_fake_export_to_path_and_file_then_import(fake, tmp_path):
    servicer, client = fake
    client.import_factors(np.ones((1, 1)), np.ones((1, 1)), model_id="m")
    path = tmp_path / "m.mfsnap"
    assert client.export_model("m", path) == len(servicer.snapshot)
    assert path.read_bytes() == servicer.snapshot
    buffer = io.BytesIO()
    assert client.export_model("m", buffer) == len(servicer.snapshot)
    assert client.import_model(path, model_id="copy").model_id == "copy"
    assert client.import_model(buffer.getvalue(), model_id="copy2").model_id == "copy2"
    chunks = servicer.import_model_calls[0]
    assert len(chunks) == 3 and all(c.ByteSize() <= MIB for c in chunks)
    assert [c.model_id for c in chunks] == ["copy", "", ""]
    with pytest.raises(mfserve.MfServeError) as e:
        client.export_model("nope", tmp_path / "nope.mfsnap")
    assert e.value.code == grpc.StatusCode.NOT_FOUND
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.mfsnap"]
    assert [d.model_id for d in client.damaged_models()] == ["old"]


def test_fake_fit_warm_start_sends_the_field(fake):
    servicer, client = fake
    model = mfserve.MatrixFactorization([[1, 2], [3, 4]], num_topics=1, client=client,
                                        warm_start="prod")
    model.fit()
    assert servicer.fits[0].warm_start_model_id == "prod"
    assert model.info.warm_start_model_id == "prod"
    model.fit(warm_start=None)
    assert servicer.fits[1].warm_start_model_id == ""
