"""google.rpc.Status and google.rpc.BadRequest, built at import time from their field numbers.

The server sends its field violations as a google.rpc.Status (trailer
grpc-status-details-bin) whose details hold a google.rpc.BadRequest. Debian packages no Python
module of those two messages (googleapis-common-protos), and generating them would put a
top-level google/ package beside ours. So the few fields read here are declared with the
protobuf runtime's descriptor API, in a private pool and package: the wire format depends only
on the field numbers and types, which are those of google/rpc/status.proto and
google/rpc/error_details.proto. Status.details is google.protobuf.Any on the wire, a message of
type_url (1) and value (2).
"""

from google.protobuf import descriptor_pb2, descriptor_pool

try:  # protobuf >= 4.21
    from google.protobuf.message_factory import GetMessageClass as _message_class
except ImportError:  # Debian 12's protobuf 3.21
    from google.protobuf import message_factory as _factory

    _message_class = _factory.MessageFactory().GetPrototype

_F = descriptor_pb2.FieldDescriptorProto
BAD_REQUEST_TYPE = "google.rpc.BadRequest"


def _file() -> descriptor_pb2.FileDescriptorProto:
    f = descriptor_pb2.FileDescriptorProto(name="mfserve/_rpc_status.proto",
                                           package="mfserve_private.rpc", syntax="proto3")

    def message(name, fields):
        m = f.message_type.add(name=name)
        for number, field_name, kind, label, type_name in fields:
            field = m.field.add(name=field_name, number=number, type=kind, label=label)
            if type_name:
                field.type_name = type_name

    one, many = _F.LABEL_OPTIONAL, _F.LABEL_REPEATED
    message("Any", [(1, "type_url", _F.TYPE_STRING, one, None),
                    (2, "value", _F.TYPE_BYTES, one, None)])
    message("Status", [(1, "code", _F.TYPE_INT32, one, None),
                       (2, "message", _F.TYPE_STRING, one, None),
                       (3, "details", _F.TYPE_MESSAGE, many, ".mfserve_private.rpc.Any")])
    message("FieldViolation", [(1, "field", _F.TYPE_STRING, one, None),
                               (2, "description", _F.TYPE_STRING, one, None)])
    message("BadRequest", [(1, "field_violations", _F.TYPE_MESSAGE, many,
                            ".mfserve_private.rpc.FieldViolation")])
    return f


_POOL = descriptor_pool.DescriptorPool()
_POOL.Add(_file())
Status = _message_class(_POOL.FindMessageTypeByName("mfserve_private.rpc.Status"))
BadRequest = _message_class(_POOL.FindMessageTypeByName("mfserve_private.rpc.BadRequest"))


def is_bad_request(type_url: str) -> bool:
    """Whether an Any's type_url names google.rpc.BadRequest (any host prefix)."""
    return type_url.rsplit("/", 1)[-1] == BAD_REQUEST_TYPE
