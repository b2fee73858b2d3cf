"""The grpcurl examples in README.md: each JSON body, parsed with json_format.ParseDict into its
method's request type (as grpcurl does through reflection), is sent to the real server in order
and must succeed."""

import json
import pathlib
import re

import grpc
from google.protobuf import json_format

from mfserve._proto import pb

README = pathlib.Path(__file__).resolve().parents[3] / "README.md"
_COMMAND = re.compile(r"^grpcurl -plaintext -d '(?P<body>.*)' \S+ "
                      r"mfserve\.v1\.MatrixFactorization/(?P<method>\w+)$", re.MULTILINE)


def _examples():
    return [(m["method"], m["body"]) for m in _COMMAND.finditer(README.read_text())]


def test_readme_has_grpcurl_examples():
    methods = [m for m, _ in _examples()]
    assert {"Fit", "Predict", "Recommend", "GetFactors", "FitWithProgress",
            "DeleteModel"} <= set(methods)


def test_readme_grpcurl_bodies_accepted_by_the_server(server_target):
    service = pb.DESCRIPTOR.services_by_name["MatrixFactorization"]
    with grpc.insecure_channel(server_target) as channel:
        for method_name, body in _examples():
            method = service.methods_by_name[method_name]
            request_type = getattr(pb, method.input_type.name)
            response_type = getattr(pb, method.output_type.name)
            request = json_format.ParseDict(json.loads(body), request_type())
            path = f"/{service.full_name}/{method_name}"
            if method.server_streaming:
                call = channel.unary_stream(path,
                                            request_serializer=request_type.SerializeToString,
                                            response_deserializer=response_type.FromString)
                responses = list(call(request, timeout=30))
            else:
                call = channel.unary_unary(path,
                                           request_serializer=request_type.SerializeToString,
                                           response_deserializer=response_type.FromString)
                responses = [call(request, timeout=30)]
            assert responses, f"{method_name} {body}: no response"
            if method_name == "Predict":
                assert len(responses[0].scores) == 2
            if method_name == "Recommend":
                assert len(responses[0].items) == 2
            if method_name == "FitWithProgress":
                assert responses[-1].HasField("model")
                assert responses[-1].model.item_id_form == pb.ID_FORM_STRING
            # the JSON grpcurl would print for this response
            json_format.MessageToJson(responses[-1], preserving_proto_field_name=True)
