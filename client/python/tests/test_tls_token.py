"""The client's TLS credentials and bearer token, against a small in-process Python gRPC server
(the real server's TLS and token checks are tested in Java and by the e2e tests): what reaches
the server is checked here, not the server's policy."""

import subprocess
from concurrent import futures

import grpc
import pytest

import mfserve
from mfserve._proto import pb, pb_grpc


class _Recorder(pb_grpc.MatrixFactorizationServicer):
    def __init__(self):
        self.metadata = []

    def ListModels(self, request, context):
        self.metadata.append(dict(context.invocation_metadata()))
        return pb.ListModelsResponse()


def _serve(recorder, credentials=None):
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    pb_grpc.add_MatrixFactorizationServicer_to_server(recorder, server)
    port = (server.add_secure_port("127.0.0.1:0", credentials) if credentials
            else server.add_insecure_port("127.0.0.1:0"))
    server.start()
    return server, f"127.0.0.1:{port}"


def test_token_is_sent_as_bearer_authorization_on_a_plaintext_channel():
    recorder = _Recorder()
    server, target = _serve(recorder)
    try:
        with mfserve.Client(target, token="s3cret") as client:
            client.list_models()
        with mfserve.Client(target, token="") as client:
            client.list_models()
    finally:
        server.stop(None)
    assert recorder.metadata[0].get("authorization") == "Bearer s3cret"
    assert "authorization" not in recorder.metadata[1]


def test_token_from_the_environment(monkeypatch):
    monkeypatch.setenv("MFSERVE_TOKEN", "from-env")
    recorder = _Recorder()
    server, target = _serve(recorder)
    try:
        with mfserve.Client(target) as client:
            client.list_models()
    finally:
        server.stop(None)
    assert recorder.metadata[0].get("authorization") == "Bearer from-env"


def _openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture
def pki(tmp_path):
    """A CA, a server certificate for 127.0.0.1 and a client certificate, made for the test."""
    for name in ("ca", "other-ca"):
        _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                 f"/CN={name}", "-keyout", f"{name}.key", "-out", f"{name}.pem", cwd=tmp_path)
    for name in ("server", "client"):
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name}", "-keyout",
                 f"{name}.key", "-out", f"{name}.csr", cwd=tmp_path)
        (tmp_path / f"{name}.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
        _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                 "-CAcreateserial", "-days", "1", "-extfile", f"{name}.ext", "-out",
                 f"{name}.pem", cwd=tmp_path)
    return tmp_path


def test_tls_right_ca_connects_wrong_ca_refused_mutual_tls_sends_the_client_certificate(pki):
    read = lambda name: (pki / name).read_bytes()
    recorder = _Recorder()
    server, target = _serve(recorder, grpc.ssl_server_credentials(
        [(read("server.key"), read("server.pem"))], root_certificates=read("ca.pem"),
        require_client_auth=True))
    try:
        with mfserve.Client(target, credentials=mfserve.tls_credentials(
                str(pki / "ca.pem"), str(pki / "client.pem"), str(pki / "client.key")),
                token="t") as client:
            assert client.list_models() == []
        with mfserve.Client(target, credentials=mfserve.tls_credentials(
                str(pki / "other-ca.pem"), str(pki / "client.pem"), str(pki / "client.key")),
                call_timeout=5) as client:
            with pytest.raises(mfserve.MfServeError) as e:
                client.list_models()
            assert e.value.code == grpc.StatusCode.UNAVAILABLE
        with mfserve.Client(target, credentials=mfserve.tls_credentials(str(pki / "ca.pem")),
                            call_timeout=5) as client:
            with pytest.raises(mfserve.MfServeError) as e:
                client.list_models()
            assert e.value.code == grpc.StatusCode.UNAVAILABLE
    finally:
        server.stop(None)
    assert recorder.metadata[0].get("authorization") == "Bearer t"
    with pytest.raises(ValueError):
        mfserve.tls_credentials(str(pki / "ca.pem"), cert=str(pki / "client.pem"))
