"""Traffic policies of local deployments (docs/rollouts.md §2) through a real `tamga server`.

Real TorchScript models made at test time: version 1 (mlp), version 2 (mlp2, other weights), version 3 (mlp's
files again: the same scores as version 1). Checks a canary split over 10,000 requests against its weights,
A/B stickiness by a header (REST and gRPC alike), that shadow traffic never changes the caller's answer and
counts exactly the real differences, explicit versions, re-targeting one variant, and the spec's validation.
"""
import os
import re
import sys
import tempfile
import time

import numpy as np
import pytest
import requests

HERE = os.path.dirname(__file__)
sys.path.insert(0, os.path.join(HERE, "..", "harness"))
from serve_harness import Client  # noqa: E402
from tamga_harness import TamgaServer, upload_model, wait_for  # noqa: E402

DEPLOY = "/api/2.0/tamga/deployments"




def body(x):
    return {"inputs": [{"name": "input-0", "datatype": "FP32", "shape": list(x.shape), "data": x.flatten().tolist()}]}


def metric(text, name, **labels):
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name + "{"):
            continue
        got = dict(re.findall(r'(\w+)="([^"]*)"', line[len(name):line.index("}") + 1]))
        if all(got.get(k) == v for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


@pytest.fixture(scope="module")
def srv(request, models):
    binary = request.config.getoption("--tamga")
    grpc_port_file = os.path.join(tempfile.mkdtemp(prefix="tamga-grpc-"), "port")
    s = TamgaServer(binary, extra_args=["--grpc-port", "0", "--grpc-port-file", grpc_port_file]).start()
    s.grpc_port_file = grpc_port_file
    api = s.url + "/api/2.0/mlflow"
    run = requests.post(api + "/runs/create", json={"experiment_id": "0"}).json()["run"]["info"]["run_id"]
    upload_model(s.url, run, os.path.join(models, "mlp"), "v1")
    upload_model(s.url, run, os.path.join(models, "mlp2"), "v2")
    assert requests.post(api + "/registered-models/create", json={"name": "clf"}).status_code == 200
    for path in ("v1", "v2", "v1"):
        r = requests.post(api + "/model-versions/create", json={"name": "clf", "source": f"runs:/{run}/{path}"})
        assert r.status_code == 200, r.text
    requests.post(api + "/registered-models/alias", json={"name": "clf", "alias": "production", "version": "1"})
    yield s
    s.cleanup()


def deploy(srv, name, traffic):
    r = requests.post(srv.url + DEPLOY, json={"name": name, "model_name": "clf", "target": "local", "traffic": traffic})
    assert r.status_code == 200, r.text


def variants_ready(srv, name, count):
    def check():
        ready = requests.get(srv.url + "/v2/health/ready").json()
        for m in ready["models"]:
            if m["name"] == name and len(m.get("variants", [])) == count and all(
                    v["state"] == "available" for v in m["variants"]):
                return {v["name"]: v for v in m["variants"]}
        return None
    return wait_for(check, what=name + " variants available")


def test_canary_split_over_10k_requests(srv, expected):
    deploy(srv, "clf-canary", {"policy": "canary", "variants": [
        {"name": "stable", "alias": "production", "weight": 80}, {"name": "candidate", "version": "2", "weight": 20}]})
    v = variants_ready(srv, "clf-canary", 2)
    assert v["stable"]["version"] == "1" and v["candidate"]["version"] == "2" and v["candidate"]["weight"] == 20
    x = expected["x"][:1]
    payload = body(x)
    session = requests.Session()
    seen = {"1": 0, "2": 0}
    n = 10000
    for i in range(n):
        r = session.post(srv.url + "/v2/models/clf-canary/infer", json=payload)
        assert r.status_code == 200, r.text
        version = r.headers["Tamga-Model-Version"]
        assert r.json()["model_version"] == version
        assert r.headers["Tamga-Variant"] == {"1": "stable", "2": "candidate"}[version]
        seen[version] += 1
        if i < 200:  # the answer is the answering version's own
            np.testing.assert_allclose(np.array(r.json()["outputs"][0]["data"]).reshape(1, 4),
                                       expected["y1" if version == "1" else "y2"][:1], rtol=1e-5, atol=1e-6)
    sigma = (n * 0.2 * 0.8) ** 0.5
    assert abs(seen["2"] - 0.2 * n) < 5 * sigma, seen
    text = requests.get(srv.url + "/metrics").text
    assert metric(text, "tamga_serving_variant_requests_total", model="clf-canary", variant="candidate",
                  version="2", outcome="success") == seen["2"]
    assert metric(text, "tamga_serving_variant_requests_total", model="clf-canary", variant="stable",
                  version="1", outcome="success") == seen["1"]
    # MLflow scoring routes the same way and says which version answered.
    versions = {session.post(srv.url + "/endpoints/clf-canary/invocations",
                             json={"inputs": x.tolist()}).headers["Tamga-Model-Version"] for _ in range(100)}
    assert versions == {"1", "2"}


def test_ab_is_sticky_by_header_over_rest_and_grpc(srv, expected, pb):
    deploy(srv, "clf-ab", {"policy": "ab", "sticky_header": "X-User", "variants": [
        {"name": "a", "alias": "production", "weight": 50}, {"name": "b", "version": "2", "weight": 50}]})
    variants_ready(srv, "clf-ab", 2)
    session = requests.Session()
    payload = body(expected["x"][:1])
    assigned = {}
    for rnd in range(3):
        for k in range(300):
            r = session.post(srv.url + "/v2/models/clf-ab/infer", json=payload, headers={"x-user": "user-%d" % k})
            assert r.status_code == 200
            version = r.headers["Tamga-Model-Version"]
            assert assigned.setdefault(k, version) == version, "user-%d moved from %s to %s" % (k, assigned[k], version)
    share_b = sum(1 for v in assigned.values() if v == "2") / len(assigned)
    assert abs(share_b - 0.5) < 5 * (0.25 / 300) ** 0.5, share_b
    # No key: drawn at random, both variants answer.
    assert {session.post(srv.url + "/v2/models/clf-ab/infer", json=payload).headers["Tamga-Model-Version"]
            for _ in range(200)} == {"1", "2"}
    # gRPC: the same key in the metadata reaches the same variant; initial metadata names it.
    c = Client(pb, "127.0.0.1:%d" % int(open(srv.grpc_port_file).read()))
    fn = c.channel.unary_unary("/inference.GRPCInferenceService/ModelInfer",
                               request_serializer=lambda m: m.SerializeToString(),
                               response_deserializer=pb.ModelInferResponse.FromString)
    for k in range(20):
        req = pb.ModelInferRequest(model_name="clf-ab")
        req.inputs.add(name="input-0", datatype="FP32", shape=[1, 16]).contents.fp32_contents.extend(
            expected["x"][:1].flatten().tolist())
        resp, call = fn.with_call(req, timeout=10, metadata=(("x-user", "user-%d" % k),))
        md = dict(call.initial_metadata())
        assert resp.model_version == assigned[k] == md["tamga-model-version"], (k, resp.model_version, md)
        assert md["tamga-variant"] == {"1": "a", "2": "b"}[assigned[k]]


def test_shadow_never_changes_the_answer_and_counts_real_differences(srv, expected):
    deploy(srv, "clf-shadow", {"policy": "shadow", "shadow_atol": 1e-5, "shadow_rtol": 1e-4, "variants": [
        {"name": "primary", "alias": "production"},
        {"name": "candidate", "version": "2", "shadow": True},
        {"name": "twin", "version": "3", "shadow": True}]})
    v = variants_ready(srv, "clf-shadow", 3)
    assert v["candidate"]["shadow"] and v["twin"]["version"] == "3"
    session = requests.Session()
    n = 64
    for i in range(n):
        x = expected["x"][i:i + 1]
        r = session.post(srv.url + "/v2/models/clf-shadow/infer", json=body(x))
        assert r.status_code == 200 and r.headers["Tamga-Model-Version"] == "1", r.text
        np.testing.assert_allclose(np.array(r.json()["outputs"][0]["data"]).reshape(1, 4), expected["y1"][i:i + 1],
                                   rtol=1e-5, atol=1e-6)
    # What the comparison should find: rows whose version-2 scores differ from version 1's beyond tolerance.
    y1, y2 = expected["y1"][:n], expected["y2"][:n]
    differ = int(np.sum(np.any(np.abs(y1 - y2) > 1e-5 + 1e-4 * np.abs(y1), axis=1)))
    assert differ > 0

    def counts():
        text = requests.get(srv.url + "/metrics").text
        return {(variant, result): metric(text, "tamga_serving_shadow_comparisons_total", model="clf-shadow",
                                          variant=variant, result=result)
                for variant in ("candidate", "twin") for result in ("agree", "disagree", "failed", "dropped")}
    c = wait_for(lambda: (lambda c: c if c[("candidate", "agree")] + c[("candidate", "disagree")] == n and
                          c[("twin", "agree")] + c[("twin", "disagree")] == n else None)(counts()),
                 what="every shadow comparison")
    assert c[("candidate", "disagree")] == differ and c[("candidate", "agree")] == n - differ, c
    assert c[("twin", "agree")] == n and c[("twin", "disagree")] == 0, c
    assert c[("candidate", "dropped")] == 0 and c[("candidate", "failed")] == 0
    # A shadow's version is reachable explicitly (to look at what it would answer).
    r = session.post(srv.url + "/v2/models/clf-shadow/versions/2/infer", json=body(expected["x"][:1]))
    assert r.status_code == 200 and r.json()["model_version"] == "2" and r.headers["Tamga-Variant"] == "candidate"
    r = session.post(srv.url + "/v2/models/clf-shadow/versions/9/infer", json=body(expected["x"][:1]))
    assert r.status_code == 404 and "not loaded" in r.json()["error"]


def test_retargeting_one_variant_leaves_the_others_serving(srv, expected):
    deploy(srv, "clf-move", {"policy": "canary", "variants": [
        {"name": "stable", "alias": "production", "weight": 50}, {"name": "candidate", "version": "2", "weight": 50}]})
    variants_ready(srv, "clf-move", 2)
    deploy(srv, "clf-move", {"policy": "canary", "variants": [
        {"name": "stable", "alias": "production", "weight": 50}, {"name": "candidate", "version": "3", "weight": 50}]})
    wait_for(lambda: variants_ready(srv, "clf-move", 2)["candidate"].get("version") == "3", what="candidate on v3")
    session = requests.Session()
    versions = {session.post(srv.url + "/v2/models/clf-move/infer", json=body(expected["x"][:1])).headers[
        "Tamga-Model-Version"] for _ in range(100)}
    assert versions == {"1", "3"}
    # Only the weights change: nothing reloads, the split follows at once.
    deploy(srv, "clf-move", {"policy": "canary", "variants": [
        {"name": "stable", "alias": "production", "weight": 0}, {"name": "candidate", "version": "3", "weight": 1}]})
    wait_for(lambda: variants_ready(srv, "clf-move", 2)["stable"]["weight"] == 0, what="re-weighted")
    assert {session.post(srv.url + "/v2/models/clf-move/infer", json=body(expected["x"][:1])).headers[
        "Tamga-Model-Version"] for _ in range(50)} == {"3"}


def test_traffic_spec_is_validated(srv):
    two = [{"name": "a", "alias": "production", "weight": 1}, {"name": "b", "version": "2", "weight": 1}]
    cases = [
        ({"name": "k8s", "model_name": "clf", "traffic": {"policy": "canary", "variants": two}}, "target 'local'"),
        ({"name": "x", "model_name": "clf", "target": "local", "traffic": {"policy": "ab", "variants": two}},
         "sticky_header"),
        ({"name": "x", "model_name": "clf", "target": "local",
          "traffic": {"policy": "canary", "variants": two + [{"name": "c", "alias": "p", "weight": 1, "extra": 1}]}},
         "unknown variant field"),
    ]
    for spec, why in cases:
        r = requests.post(srv.url + DEPLOY, json=spec)
        assert r.status_code == 400 and why in r.json()["message"], r.text


def test_payload_log_samples_pairs_and_is_queryable(srv, expected):
    r = requests.post(srv.url + DEPLOY, json={"name": "clf-logged", "model_name": "clf", "target": "local",
                                              "payload_log": {"sample": 1.0, "max_record_bytes": 4096}})
    assert r.status_code == 200, r.text
    wait_for(lambda: requests.get(srv.url + "/v2/models/clf-logged/ready").status_code == 200, what="ready")
    session = requests.Session()
    before = int(time.time() * 1000)
    for i in range(20):
        x = expected["x"][i:i + 1]
        assert session.post(srv.url + "/v2/models/clf-logged/infer", json=body(x)).status_code == 200
    big = np.zeros((256, 16), dtype=np.float32)  # over max_record_bytes: answered, not logged
    assert session.post(srv.url + "/v2/models/clf-logged/infer", json=body(big)).status_code == 200
    got = requests.get(srv.url + DEPLOY + "/clf-logged/payloads", params={"max_results": 1000}).json()["payloads"]
    assert len(got) == 20, len(got)
    for i, rec in enumerate(got):
        assert rec["model"] == "clf-logged" and rec["version"] == "1" and rec["outcome"] == "success"
        assert rec["ts"] >= before and rec["protocol"] == "v2"
        np.testing.assert_allclose(np.array(rec["inputs"][0]["data"]).reshape(1, 16), expected["x"][i:i + 1], rtol=1e-6)
        np.testing.assert_allclose(np.array(rec["outputs"][0]["data"]).reshape(1, 4), expected["y1"][i:i + 1],
                                   rtol=1e-5, atol=1e-6)
    q = lambda **p: requests.get(srv.url + DEPLOY + "/clf-logged/payloads", params=p)  # noqa: E731
    assert q(version="2").json()["payloads"] == []
    assert q(**{"from": int(time.time() * 1000) + 3600_000}).json()["payloads"] == []
    assert len(q(max_results=5).json()["payloads"]) == 5
    assert q(max_results=0).status_code == 400
    assert metric(requests.get(srv.url + "/metrics").text, "tamga_serving_payloads_dropped_total",
                  model="clf-logged") == 1
    # A share: about a quarter of 400 requests.
    r = requests.post(srv.url + DEPLOY, json={"name": "clf-logged", "model_name": "clf", "target": "local",
                                              "payload_log": {"sample": 0.25}})
    assert r.status_code == 200
    time.sleep(1.5)  # the reconcile loop applies the new share
    mark = int(time.time() * 1000)
    for i in range(400):
        session.post(srv.url + "/v2/models/clf-logged/infer", json=body(expected["x"][:1]))
    n = len(q(**{"from": mark, "max_results": 1000}).json()["payloads"])
    assert abs(n - 100) < 5 * (400 * 0.25 * 0.75) ** 0.5, n
    for spec, why in (({"name": "k", "model_name": "clf", "payload_log": {"sample": 1}}, "target 'local'"),
                      ({"name": "k", "model_name": "clf", "target": "local", "payload_log": {"sample": 0}}, "sample"),
                      ({"name": "k", "model_name": "clf", "target": "local", "payload_log": {"sample": 1, "x": 1}},
                       "unknown field")):
        r = requests.post(srv.url + DEPLOY, json=spec)
        assert r.status_code == 400 and why in r.json()["message"], r.text
