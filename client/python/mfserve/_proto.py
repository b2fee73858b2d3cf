"""The generated stubs, imported in one place so that a missing generation step fails clearly.

The stubs are generated from proto/src/main/proto/mfserve/v1/mfserve.proto by
client/python/generate.sh; they are never committed.
"""

try:
    from mfserve.v1 import mfserve_pb2 as pb  # noqa: F401
    from mfserve.v1 import mfserve_pb2_grpc as pb_grpc  # noqa: F401
except ImportError as e:  # pragma: no cover - depends on the checkout
    raise ImportError(
        "the mfserve gRPC stubs are not generated yet: run client/python/generate.sh "
        "(needs the Debian packages protobuf-compiler and protobuf-compiler-grpc)") from e

try:
    from google.rpc import error_details_pb2, status_pb2
except ImportError:  # pragma: no cover - errors then carry no field violations
    error_details_pb2 = None
    status_pb2 = None
