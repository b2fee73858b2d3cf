"""The generated stubs, imported in one place so that a missing generation step fails clearly.

The stubs are generated from proto/src/main/proto/mfserve/v1/mfserve.proto when the package is
built (setup.py); they are never committed and never written into the source tree.
"""

try:
    from mfserve.v1 import mfserve_pb2 as pb  # noqa: F401
    from mfserve.v1 import mfserve_pb2_grpc as pb_grpc  # noqa: F401
except ImportError as e:  # pragma: no cover - an uninstalled source tree
    raise ImportError(
        "the mfserve gRPC stubs are missing: install the package, which generates them "
        "(python3 -m venv --system-site-packages venv && venv/bin/pip install "
        "--no-build-isolation ./client/python; needs the Debian packages protobuf-compiler and "
        "protobuf-compiler-grpc)") from e
