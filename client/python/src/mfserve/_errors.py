"""MfServeError: a failed call, with its gRPC status code and the server's field violations."""

from typing import List, NamedTuple, Optional

import grpc

from mfserve._rpc_status import BadRequest, Status, is_bad_request

_DETAILS_KEY = "grpc-status-details-bin"


class FieldViolation(NamedTuple):
    """One google.rpc.BadRequest field violation: which request field, and what is wrong."""

    field: str
    description: str


class MfServeError(Exception):
    """A call to the server failed.

    Attributes:
        code: the grpc.StatusCode, e.g. grpc.StatusCode.INVALID_ARGUMENT.
        message: the server's message, which names the field and the limit.
        field_violations: the google.rpc.BadRequest field violations sent with an
            INVALID_ARGUMENT status (empty for other codes).
    """

    def __init__(self, code: grpc.StatusCode, message: str,
                 field_violations: Optional[List[FieldViolation]] = None):
        self.code = code
        self.message = message
        self.field_violations = list(field_violations or [])
        text = f"{code.name}: {message}"
        for v in self.field_violations:
            text += f"\n  {v.field}: {v.description}"
        super().__init__(text)

    @property
    def code_name(self) -> str:
        """The status code's name, e.g. "INVALID_ARGUMENT"."""
        return self.code.name

    @classmethod
    def from_rpc_error(cls, error: grpc.RpcError) -> "MfServeError":
        """Builds the error from a failed call, reading BadRequest from the trailing metadata."""
        code = error.code() if hasattr(error, "code") else grpc.StatusCode.UNKNOWN
        message = error.details() if hasattr(error, "details") else str(error)
        return cls(code or grpc.StatusCode.UNKNOWN, message or "", _field_violations(error))


def _field_violations(error: grpc.RpcError) -> List[FieldViolation]:
    if not hasattr(error, "trailing_metadata"):
        return []
    try:
        metadata = error.trailing_metadata() or ()
    except Exception:  # a call that never started has no metadata
        return []
    violations = []
    for key, value in metadata:
        if key != _DETAILS_KEY:
            continue
        for detail in Status.FromString(value).details:
            if is_bad_request(detail.type_url):
                bad = BadRequest.FromString(detail.value)
                violations.extend(FieldViolation(v.field, v.description)
                                  for v in bad.field_violations)
    return violations
