"""Test fixtures: the real server jar on a free port, for the installed mfserve package.

The server jar is server/target/mfserve-server.jar (or $MFSERVE_SERVER_JAR); java is
$MFSERVE_JAVA, else $JAVA_HOME/bin/java, else java on PATH. One server serves the whole session.
"""

import os
import pathlib
import shutil
import socket
import subprocess
import tempfile
import time

import pytest

import grpc

import mfserve

HERE = pathlib.Path(__file__).resolve().parent
REPO_ROOT = HERE.parent.parent.parent

_SERVING = b"\x08\x01"  # grpc.health.v1.HealthCheckResponse{status: SERVING}


def _java() -> str:
    if os.environ.get("MFSERVE_JAVA"):
        return os.environ["MFSERVE_JAVA"]
    if os.environ.get("JAVA_HOME"):
        candidate = pathlib.Path(os.environ["JAVA_HOME"]) / "bin" / "java"
        if candidate.exists():
            return str(candidate)
    return shutil.which("java") or "java"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _healthy(target: str) -> bool:
    """Whether grpc.health.v1.Health/Check answers SERVING (raw bytes: no health stubs)."""
    with grpc.insecure_channel(target) as channel:
        check = channel.unary_unary("/grpc.health.v1.Health/Check",
                                    request_serializer=lambda _: b"",
                                    response_deserializer=lambda b: b)
        try:
            return check(None, timeout=2) == _SERVING
        except grpc.RpcError:
            return False


@pytest.fixture(scope="session")
def server_target():
    """host:port of a real mfserve server, started for this session and killed after it."""
    jar = pathlib.Path(os.environ.get("MFSERVE_SERVER_JAR",
                                      REPO_ROOT / "server" / "target" / "mfserve-server.jar"))
    if not jar.is_file():
        pytest.fail(f"{jar} does not exist; build it first: mvn -B package -DskipTests")
    port = _free_port()
    target = f"localhost:{port}"
    log = tempfile.NamedTemporaryFile(prefix="mfserve-server-", suffix=".log", delete=False)
    process = subprocess.Popen([_java(), "-Xmx1g", "-jar", str(jar), "--port", str(port)],
                               stdout=log, stderr=subprocess.STDOUT)
    try:
        # The warm-up before SERVING takes about 3 s on a quiet 2-core machine and over a
        # minute on one that other builds load; a server that died is caught by poll() at once.
        deadline = time.monotonic() + 180
        while not _healthy(target):
            if process.poll() is not None:
                pytest.fail(f"server exited with {process.returncode}:\n"
                            + pathlib.Path(log.name).read_text())
            if time.monotonic() > deadline:
                pytest.fail("server not SERVING after 180 s:\n"
                            + pathlib.Path(log.name).read_text())
            time.sleep(0.2)
        yield target
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        os.unlink(log.name)


@pytest.fixture(scope="session")
def client(server_target):
    """A Client on the session's server."""
    with mfserve.Client(server_target) as c:
        yield c
