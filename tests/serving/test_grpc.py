"""Open Inference Protocol gRPC against `tamga serve`, with Python's grpcio as an independent client.

The client's message classes are generated at test time by protoc from src/grpc/proto/inference.proto; the
calls go through grpcio's generic unary stubs, so nothing of Tamga's C++ is on the client side.
"""
import concurrent.futures
import os

import grpc
import numpy as np
import pytest

from serve_harness import SERVICE, Client


def fp32_request(pb, model, x, raw=False, name="input-0"):
    req = pb.ModelInferRequest(model_name=model, id="g-1")
    t = req.inputs.add(name=name, datatype="FP32", shape=list(x.shape))
    if raw:
        req.raw_input_contents.append(np.ascontiguousarray(x, dtype="<f4").tobytes())
    else:
        t.contents.fp32_contents.extend(x.flatten().tolist())
    return req


def test_health_and_metadata(pb, mlp, xgbs):
    c = Client(pb, mlp.grpc_target)
    assert c.call("ServerLive", pb.ServerLiveRequest(), pb.ServerLiveResponse).live
    assert c.call("ServerReady", pb.ServerReadyRequest(), pb.ServerReadyResponse).ready
    assert c.call("ModelReady", pb.ModelReadyRequest(name="mlp"), pb.ModelReadyResponse).ready
    md = c.call("ServerMetadata", pb.ServerMetadataRequest(), pb.ServerMetadataResponse)
    assert md.name == "tamga" and md.version
    m = c.call("ModelMetadata", pb.ModelMetadataRequest(name="mlp"), pb.ModelMetadataResponse)
    assert m.name == "mlp" and list(m.versions) == ["1"] and m.platform == "pytorch_torchscript"
    assert [(i.name, i.datatype, list(i.shape)) for i in m.inputs] == [("input-0", "FP32", [-1, 16])]
    assert [(o.name, o.datatype, list(o.shape)) for o in m.outputs] == [("output-0", "FP32", [-1, 4])]
    x = Client(pb, xgbs.grpc_target).call("ModelMetadata", pb.ModelMetadataRequest(name="xgb"), pb.ModelMetadataResponse)
    assert x.platform == "xgboost" and list(x.inputs[0].shape) == [-1, 8]
    with pytest.raises(grpc.RpcError) as e:
        c.call("ModelMetadata", pb.ModelMetadataRequest(name="nope"), pb.ModelMetadataResponse)
    assert e.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.RpcError) as e:
        c.call("ModelReady", pb.ModelReadyRequest(name="mlp", version="7"), pb.ModelReadyResponse)
    assert e.value.code() == grpc.StatusCode.NOT_FOUND


@pytest.mark.parametrize("raw", [False, True])
def test_infer_matches_python(pb, mlp, xgbs, expected, raw):
    c = Client(pb, mlp.grpc_target)
    r = c.infer(fp32_request(pb, "mlp", expected["x"][:6], raw=raw))
    assert r.model_name == "mlp" and r.model_version == "1" and r.id == "g-1"
    o = r.outputs[0]
    assert o.name == "output-0" and o.datatype == "FP32" and list(o.shape) == [6, 4]
    if raw:
        assert len(r.raw_output_contents) == 1
        y = np.frombuffer(r.raw_output_contents[0], dtype="<f4").reshape(6, 4)
    else:
        assert len(r.raw_output_contents) == 0
        y = np.array(o.contents.fp32_contents).reshape(6, 4)
    np.testing.assert_allclose(y, expected["y1"][:6], rtol=1e-5, atol=1e-6)

    xr = Client(pb, xgbs.grpc_target).infer(fp32_request(pb, "xgb", expected["xq"][:7], raw=raw))
    out = xr.outputs[0]
    y = (np.frombuffer(xr.raw_output_contents[0], dtype="<f4") if raw else np.array(out.contents.fp32_contents))
    np.testing.assert_allclose(y, expected["p"][:7], rtol=1e-6, atol=1e-7)


def test_empty_model_name_uses_the_served_model(pb, mlp, expected):
    r = Client(pb, mlp.grpc_target).infer(fp32_request(pb, "", expected["x"][:1]))
    assert r.model_name == "mlp" and list(r.outputs[0].shape) == [1, 4]


def test_requested_outputs(pb, mlp, expected):
    c = Client(pb, mlp.grpc_target)
    req = fp32_request(pb, "mlp", expected["x"][:2])
    req.outputs.add(name="output-0")
    assert [o.name for o in c.infer(req).outputs] == ["output-0"]
    req.outputs.add(name="missing")
    with pytest.raises(grpc.RpcError) as e:
        c.infer(req)
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "missing" in e.value.details()


def bad_requests(pb):
    x = np.zeros((2, 16), dtype=np.float32)
    wrong_shape = fp32_request(pb, "mlp", np.zeros((2, 15), dtype=np.float32))
    wrong_dtype = pb.ModelInferRequest(model_name="mlp")
    wrong_dtype.inputs.add(name="input-0", datatype="INT64", shape=[2, 16]).contents.int64_contents.extend([0] * 32)
    unknown_dtype = pb.ModelInferRequest(model_name="mlp")
    unknown_dtype.inputs.add(name="input-0", datatype="FLOAT", shape=[2, 16])
    short = fp32_request(pb, "mlp", x)
    del short.inputs[0].contents.fp32_contents[-1]
    wrong_field = pb.ModelInferRequest(model_name="mlp")
    wrong_field.inputs.add(name="input-0", datatype="FP32", shape=[2, 16]).contents.fp64_contents.extend([0.0] * 32)
    raw_short = fp32_request(pb, "mlp", x, raw=True)
    raw_short.raw_input_contents[0] = raw_short.raw_input_contents[0][:-3]
    raw_count = fp32_request(pb, "mlp", x, raw=True)
    raw_count.raw_input_contents.append(b"")
    raw_and_contents = fp32_request(pb, "mlp", x, raw=True)
    raw_and_contents.inputs[0].contents.fp32_contents.append(1.0)
    negative = fp32_request(pb, "mlp", x)
    negative.inputs[0].shape[0] = -2
    huge = pb.ModelInferRequest(model_name="mlp")
    huge.inputs.add(name="input-0", datatype="FP32", shape=[1 << 40, 1 << 40])
    two = fp32_request(pb, "mlp", x)
    two.inputs.add(name="extra", datatype="FP32", shape=[2, 16]).contents.fp32_contents.extend([0.0] * 32)
    none = pb.ModelInferRequest(model_name="mlp")
    return [
        ("shape", wrong_shape, "shape"), ("dtype", wrong_dtype, "datatype"), ("unknown dtype", unknown_dtype, "FLOAT"),
        ("short", short, "element"), ("field", wrong_field, "does not match"), ("raw short", raw_short, "bytes"),
        ("raw count", raw_count, "raw_input_contents"), ("raw+contents", raw_and_contents, "raw_input_contents"),
        ("negative", negative, "non-negative"), ("huge", huge, "too large"), ("two inputs", two, "input"),
        ("no inputs", none, "input"),
    ]


def test_bad_requests_are_invalid_argument(pb, mlp, expected):
    c = Client(pb, mlp.grpc_target)
    for label, req, needle in bad_requests(pb):
        with pytest.raises(grpc.RpcError) as e:
            c.infer(req)
        assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT, label
        assert needle in e.value.details(), (label, e.value.details())
    # Garbage bytes that are not a ModelInferRequest: gRPC's own deserializer rejects them (its status code
    # differs by gRPC version); what matters is an error, not a crash.
    fn = c.channel.unary_unary(SERVICE + "ModelInfer", request_serializer=lambda b: b,
                               response_deserializer=lambda b: b)
    with pytest.raises(grpc.RpcError) as e:
        fn(b"\xff\xff\xff\xff\x0f garbage", timeout=10)
    assert e.value.code() != grpc.StatusCode.OK
    with pytest.raises(grpc.RpcError) as e:
        c.infer(fp32_request(pb, "nope", expected["x"][:1]))
    assert e.value.code() == grpc.StatusCode.NOT_FOUND
    # The server still serves after all of that.
    assert list(c.infer(fp32_request(pb, "mlp", expected["x"][:1])).outputs[0].shape) == [1, 4]


def test_concurrent_grpc_requests_each_get_their_rows(pb, mlp, expected):
    c = Client(pb, mlp.grpc_target)
    x, y = expected["x"], expected["y1"]

    def one(i):
        rows = slice(i % 50, i % 50 + 1 + i % 3)
        r = c.infer(fp32_request(pb, "mlp", x[rows], raw=bool(i % 2)))
        out = (np.frombuffer(r.raw_output_contents[0], dtype="<f4") if i % 2
               else np.array(r.outputs[0].contents.fp32_contents))
        np.testing.assert_allclose(out.reshape(-1, 4), y[rows], rtol=1e-5, atol=1e-6)
        return True

    with concurrent.futures.ThreadPoolExecutor(32) as ex:
        assert all(ex.map(one, range(400)))
    metrics = __import__("requests").get(mlp.url + "/metrics").text
    assert 'protocol="grpc"' in metrics
