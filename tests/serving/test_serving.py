"""`tamga serve` end to end: real TorchScript and XGBoost models made at test time, real HTTP on loopback.

Covers the runtime conformance (same inputs -> the outputs Python computed), the MLflow /invocations
formats, the Open Inference Protocol REST API with the binary tensor extension, bad input, batching
correctness under concurrency, honest readiness for a model that cannot load, and hot reload from the
registry while requests run (zero failed requests, responses switch to the new version).
"""
import concurrent.futures
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np
import pytest
import requests

HERE = os.path.dirname(__file__)
sys.path.insert(0, os.path.join(HERE, "..", "harness"))
sys.path.insert(0, HERE)
from serve_harness import Serve  # noqa: E402
from tamga_harness import TamgaServer, upload_model  # noqa: E402



def v2_infer(url, model, x, **kw):
    body = {"id": "req-1", "inputs": [{"name": "input-0", "datatype": "FP32", "shape": list(x.shape),
                                       "data": x.flatten().tolist()}]}
    body.update(kw)
    return requests.post(f"{url}/v2/models/{model}/infer", json=body)


def test_torchscript_matches_python(mlp, expected):
    r = v2_infer(mlp.url, "mlp", expected["x"][:5])
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["id"] == "req-1" and out["model_name"] == "mlp" and out["model_version"] == "1"
    o = out["outputs"][0]
    assert o["name"] == "output-0" and o["datatype"] == "FP32" and o["shape"] == [5, 4]
    np.testing.assert_allclose(np.array(o["data"]).reshape(5, 4), expected["y1"][:5], rtol=1e-5, atol=1e-6)


def test_metadata_and_health(mlp, xgbs):
    meta = requests.get(mlp.url + "/v2/models/mlp").json()
    assert meta["platform"] == "pytorch_torchscript"
    assert meta["inputs"] == [{"name": "input-0", "datatype": "FP32", "shape": [-1, 16]}]
    assert meta["outputs"] == [{"name": "output-0", "datatype": "FP32", "shape": [-1, 4]}]
    assert requests.get(mlp.url + "/v2/models/mlp/versions/1").status_code == 200
    assert requests.get(mlp.url + "/v2/models/mlp/versions/9").status_code == 404
    assert requests.get(mlp.url + "/v2/models/mlp/ready").json() == {"name": "mlp", "ready": True}
    assert requests.get(mlp.url + "/v2/models/nope").status_code == 404
    assert "binary_tensor_data" in requests.get(mlp.url + "/v2").json()["extensions"]
    assert requests.get(mlp.url + "/v2/health/live").status_code == 200
    assert requests.get(mlp.url + "/ping").status_code == 200
    xm = requests.get(xgbs.url + "/v2/models/xgb").json()
    assert xm["platform"] == "xgboost" and xm["inputs"][0]["shape"] == [-1, 8]


def test_xgboost_matches_python(xgbs, expected):
    xq, p = expected["xq"], expected["p"]
    r = v2_infer(xgbs.url, "xgb", xq)
    assert r.status_code == 200, r.text
    np.testing.assert_allclose(np.array(r.json()["outputs"][0]["data"]), p, rtol=1e-6, atol=1e-7)
    # FP64 inputs are accepted for XGBoost only when the signature says so: the column signature is FP32.
    r = requests.post(f"{xgbs.url}/v2/models/xgb/infer", json={"inputs": [
        {"name": "input-0", "datatype": "FP64", "shape": [1, 8], "data": [0.0] * 8}]})
    assert r.status_code == 400 and "datatype" in r.json()["error"]


def test_mlflow_invocations_formats(xgbs, mlp, expected):
    xq, p = expected["xq"][:6], expected["p"][:6]
    labels = (p > 0.5).astype(int).tolist()
    cols = [f"f{i}" for i in range(8)]
    # dataframe_split with columns in another order: arranged by the signature's column names
    r = requests.post(xgbs.url + "/invocations",
                      json={"dataframe_split": {"columns": cols[::-1], "data": xq[:, ::-1].tolist()}})
    assert r.status_code == 200, r.text
    assert r.json() == {"predictions": labels}
    recs = [dict(zip(cols, map(float, row))) for row in xq]
    assert requests.post(xgbs.url + "/invocations", json={"dataframe_records": recs}).json()["predictions"] == labels
    assert requests.post(xgbs.url + "/invocations", json={"instances": recs}).json()["predictions"] == labels
    assert requests.post(xgbs.url + "/invocations", json={"inputs": xq.tolist()}).json()["predictions"] == labels
    csv = ",".join(cols) + "\n" + "\n".join(",".join(repr(float(v)) for v in row) for row in xq)
    r = requests.post(xgbs.url + "/invocations", data=csv, headers={"Content-Type": "text/csv"})
    assert r.status_code == 200 and r.json()["predictions"] == labels
    r = requests.post(mlp.url + "/invocations", json={"instances": expected["x"][:3].tolist()})
    np.testing.assert_allclose(np.array(r.json()["predictions"]), expected["y1"][:3], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("body,ctype,status,needle", [
    ("{", "application/json", 400, "malformed JSON"),
    ("[1, 2]", "application/json", 400, "JSON object"),
    ('{"inputs": [[1]], "instances": [[1]]}', "application/json", 400, "exactly one"),
    ('{"dataframe_split": {"columns": ["a"], "data": [[1]]}}', "application/json", 400, "missing column"),
    ('{"inputs": [[1, 2], [3]]}', "application/json", 400, "rectangular"),
    ('{"inputs": [["x", "y", "z", "a", "b", "c", "d", "e"]]}', "application/json", 400, "expected a number"),
    ("f0,f1\n1,2", "text/csv", 400, "missing column"),
    ("f0\nabc", "text/csv", 400, ""),
    ("hello", "text/plain", 415, "content types"),
    ('{"inputs": [[1]]}', "application/json; charset=latin-1", 415, "charset"),
])
def test_invocations_bad_input(xgbs, body, ctype, status, needle):
    r = requests.post(xgbs.url + "/invocations", data=body, headers={"Content-Type": ctype})
    assert r.status_code == status, r.text
    if status == 400:
        assert r.json()["error_code"] == "BAD_REQUEST"
    assert needle in r.text


@pytest.mark.parametrize("inputs,needle", [
    ([{"name": "input-0", "datatype": "FP32", "shape": [2, 15], "data": [0.0] * 30}], "expected shape"),
    ([{"name": "input-0", "datatype": "FP32", "shape": [1, 16], "data": [0.0] * 15}], "needs 16 elements"),
    ([{"name": "input-0", "datatype": "INT64", "shape": [1, 16], "data": [0] * 16}], "expected datatype"),
    ([{"name": "input-0", "datatype": "FP99", "shape": [1, 16], "data": [0] * 16}], "unknown datatype"),
    ([{"name": "input-0", "datatype": "FP32", "shape": [1, -16], "data": [0] * 16}], "non-negative"),
    ([{"name": "input-0", "datatype": "FP32", "shape": [1 << 40, 1 << 40], "data": []}], "too large"),
    ([{"name": "input-0", "datatype": "FP32", "shape": [1, 16], "data": ["a"] * 16}], "expected a number"),
    ([], "non-empty"),
    ([{"datatype": "FP32", "shape": [1], "data": [1]}], "name"),
])
def test_v2_bad_input(mlp, inputs, needle):
    r = requests.post(mlp.url + "/v2/models/mlp/infer", json={"inputs": inputs})
    assert r.status_code == 400, r.text
    assert needle in r.json()["error"]


def test_v2_malformed_and_unknown(mlp):
    r = requests.post(mlp.url + "/v2/models/mlp/infer", data="{nope", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and "error" in r.json()
    assert requests.post(mlp.url + "/v2/models/other/infer", json={"inputs": []}).status_code == 404
    assert requests.post(mlp.url + "/v2/models/mlp/versions/7/infer", json={"inputs": []}).status_code == 404
    assert requests.post(mlp.url + "/v2/models/mlp/explode", json={}).status_code == 404
    r = requests.post(mlp.url + "/v2/models/mlp/infer", json={"inputs": [
        {"name": "input-0", "datatype": "FP32", "shape": [1, 16], "data": [0.0] * 16}], "outputs": [{"name": "zzz"}]})
    assert r.status_code == 400 and "unknown output" in r.json()["error"]
    # the server is still fine
    assert requests.get(mlp.url + "/v2/health/ready").status_code == 200


def test_raw_binary_request(mlp, xgbs, expected):
    # Inference-Header-Content-Length: 0 -> the body is the single input's bytes, batch 1, outputs binary.
    x = expected["x"][4].astype("<f4")
    r = requests.post(mlp.url + "/v2/models/mlp/infer", data=x.tobytes(),
                      headers={"Content-Type": "application/octet-stream", "Inference-Header-Content-Length": "0"})
    assert r.status_code == 200, r.text
    n = int(r.headers["Inference-Header-Content-Length"])
    out = json.loads(r.content[:n])["outputs"][0]
    assert out["shape"] == [1, 4] and out["parameters"]["binary_data_size"] == 16
    np.testing.assert_allclose(np.frombuffer(r.content[n:], dtype="<f4"), expected["y1"][4], rtol=1e-5, atol=1e-6)
    xq = expected["xq"][2].astype("<f4")
    r = requests.post(xgbs.url + "/v2/models/xgb/infer", data=xq.tobytes(), headers={"Inference-Header-Content-Length": "0"})
    assert r.status_code == 200, r.text
    n = int(r.headers["Inference-Header-Content-Length"])
    np.testing.assert_allclose(np.frombuffer(r.content[n:], dtype="<f4"), expected["p"][2:3], rtol=1e-6)
    # Wrong size: a clear 400, not a guess.
    r = requests.post(mlp.url + "/v2/models/mlp/infer", data=x.tobytes()[:-4],
                      headers={"Inference-Header-Content-Length": "0"})
    assert r.status_code == 400 and "bytes" in r.json()["error"]


def test_binary_tensor_extension(mlp, expected):
    x = expected["x"][:3].astype("<f4")
    header = json.dumps({"inputs": [{"name": "input-0", "datatype": "FP32", "shape": [3, 16],
                                     "parameters": {"binary_data_size": x.nbytes}}],
                         "outputs": [{"name": "output-0", "parameters": {"binary_data": True}}]}).encode()
    r = requests.post(mlp.url + "/v2/models/mlp/infer", data=header + x.tobytes(),
                      headers={"Content-Type": "application/octet-stream",
                               "Inference-Header-Content-Length": str(len(header))})
    assert r.status_code == 200, r.text
    n = int(r.headers["Inference-Header-Content-Length"])
    meta = json.loads(r.content[:n])
    out = meta["outputs"][0]
    assert out["parameters"]["binary_data_size"] == 3 * 4 * 4 and "data" not in out
    got = np.frombuffer(r.content[n:], dtype="<f4").reshape(3, 4)
    np.testing.assert_allclose(got, expected["y1"][:3], rtol=1e-5, atol=1e-6)
    # binary size larger than what was sent
    bad = json.dumps({"inputs": [{"name": "input-0", "datatype": "FP32", "shape": [3, 16],
                                  "parameters": {"binary_data_size": 10 ** 6}}]}).encode()
    r = requests.post(mlp.url + "/v2/models/mlp/infer", data=bad + x.tobytes(),
                      headers={"Inference-Header-Content-Length": str(len(bad))})
    assert r.status_code == 400 and "binary_data_size" in r.json()["error"]


def test_batching_under_concurrency_returns_each_caller_its_rows(mlp, expected):
    x, y = expected["x"], expected["y1"]

    def one(i):
        rows = 1 + i % 3
        xi = x[i % 60: i % 60 + rows]
        r = v2_infer(mlp.url, "mlp", xi)
        assert r.status_code == 200, r.text
        got = np.array(r.json()["outputs"][0]["data"]).reshape(rows, 4)
        np.testing.assert_allclose(got, y[i % 60: i % 60 + rows], rtol=1e-5, atol=1e-6)
        return rows

    with concurrent.futures.ThreadPoolExecutor(64) as pool:
        assert sum(pool.map(one, range(600))) > 600
    metrics = requests.get(mlp.url + "/metrics").text
    # some batches held more rows than one request sends (at most 3): requests were really merged
    counts = {}
    for line in metrics.splitlines():
        if line.startswith('tamga_serving_batch_rows_bucket{model="mlp",le="'):
            le = line.split('le="')[1].split('"')[0]
            counts[le] = float(line.rsplit(" ", 1)[1])
    assert counts["+Inf"] > counts["4"], counts
    assert 'tamga_serving_requests_total{model="mlp",version="1",protocol="v2",outcome="success"}' in metrics
    assert 'tamga_serving_latency_seconds_bucket{model="mlp",phase="queue"' in metrics


def test_bare_torchscript_file_names_inputs(request, models, expected):
    s = Serve(request.config.getoption("--tamga"), os.path.join(models, "bare.pt")).wait_ready()
    try:
        meta = requests.get(s.url + "/v2/models/bare").json()
        assert [i["name"] for i in meta["inputs"]] == ["input-0"]
        assert [o["name"] for o in meta["outputs"]] == ["output-0"]
        r = v2_infer(s.url, "bare", expected["x"][:2])
        assert r.status_code == 200, r.text
        np.testing.assert_allclose(np.array(r.json()["outputs"][0]["data"]).reshape(2, 4), expected["y1"][:2],
                                   rtol=1e-5, atol=1e-6)
        r = v2_infer(s.url, "bare", np.zeros((2, 5), dtype=np.float32))  # wrong width: the model says so
        assert r.status_code == 400 and "model execution failed" in r.json()["error"]
        assert requests.get(s.url + "/v2/health/ready").status_code == 200
    finally:
        s.stop()


def test_model_that_cannot_load_is_reported_and_server_stays_up(request, tmp_path):
    bad = tmp_path / "broken"
    bad.mkdir()
    (bad / "MLmodel").write_text("flavors:\n  xgboost:\n    data: model.xgb\n")
    (bad / "model.xgb").write_text("this is not a model")
    s = Serve(request.config.getoption("--tamga"), str(bad))
    try:
        time.sleep(0.5)
        ready = requests.get(s.url + "/v2/health/ready")
        assert ready.status_code == 503
        # The readiness answer says why: which model, its state and the load error.
        [m] = ready.json()["models"]
        assert m["name"] == "broken" and m["state"] == "failed" and "cannot load XGBoost model" in m["error"], m
        assert requests.get(s.url + "/ping").status_code == 503
        r = requests.post(s.url + "/v2/models/broken/infer", json={"inputs": []})
        assert r.status_code == 503 and "cannot load XGBoost model" in r.json()["error"]
        inv = requests.post(s.url + "/invocations", json={"inputs": [[1.0]]})
        assert inv.status_code == 503, inv.text
        assert "is not ready: loading failed: cannot load XGBoost model" in inv.json()["message"], inv.text
        log = s.read_log()
        assert "nothing is serving this model" in log and "the previous version keeps serving" not in log
        assert requests.get(s.url + "/v2/health/live").status_code == 200
    finally:
        s.stop()


def test_hot_reload_from_registry_drops_no_request(request, models, expected):
    binary = request.config.getoption("--tamga")
    reg = TamgaServer(binary).start()
    api = reg.url + "/api/2.0/mlflow"
    try:
        run = requests.post(api + "/runs/create", json={"experiment_id": "0"}).json()["run"]["info"]["run_id"]
        upload_model(reg.url, run, os.path.join(models, "mlp"), "v1")
        upload_model(reg.url, run, os.path.join(models, "mlp2"), "v2")
        assert requests.post(api + "/registered-models/create", json={"name": "clf"}).status_code == 200
        for path in ("v1", "v2"):
            r = requests.post(api + "/model-versions/create", json={"name": "clf", "source": f"runs:/{run}/{path}"})
            assert r.status_code == 200, r.text
        requests.post(api + "/registered-models/alias", json={"name": "clf", "alias": "prod", "version": "1"})
        s = Serve(binary, "models:/clf@prod", "--registry", reg.url, "--max-batch-size", "16",
                  "--max-queue-delay-us", "500").wait_ready()
        try:
            x, y1, y2 = expected["x"][:2], expected["y1"][:2], expected["y2"][:2]
            stop = threading.Event()
            seen, failures = [], []

            def load():
                while not stop.is_set():
                    r = v2_infer(s.url, "clf", x)
                    if r.status_code != 200:
                        failures.append(r.text)
                        continue
                    out = r.json()
                    got = np.array(out["outputs"][0]["data"]).reshape(2, 4)
                    want = y1 if out["model_version"] == "1" else y2
                    if not np.allclose(got, want, rtol=1e-5, atol=1e-6):
                        failures.append("wrong output for version " + out["model_version"])
                    seen.append(out["model_version"])

            threads = [threading.Thread(target=load) for _ in range(4)]
            for t in threads:
                t.start()
            time.sleep(0.5)
            requests.post(api + "/registered-models/alias", json={"name": "clf", "alias": "prod", "version": "2"})
            deadline = time.time() + 30
            while time.time() < deadline and (not seen or seen[-1] != "2"):
                time.sleep(0.05)
            time.sleep(0.3)
            stop.set()
            for t in threads:
                t.join()
            assert failures == [], failures[:3]
            assert "1" in seen and seen[-1] == "2", (seen[:3], seen[-3:], s.read_log())
            assert requests.get(s.url + "/v2/models/clf").json()["versions"] == ["2"]
        finally:
            s.stop()
    finally:
        reg.cleanup()


def test_invalid_inputs_are_counted_in_the_request_metrics(mlp):
    # Wrong dtype for the signature (V2) and an unparsable MLflow body: refused before inference, counted.
    bad = requests.post(f"{mlp.url}/v2/models/mlp/infer",
                        json={"inputs": [{"name": "input-0", "datatype": "BYTES", "shape": [1], "data": ["x"]}]})
    assert bad.status_code == 400, bad.text
    inv = requests.post(f"{mlp.url}/invocations", data="not json", headers={"Content-Type": "application/json"})
    assert inv.status_code == 400, inv.text
    metrics = requests.get(mlp.url + "/metrics").text
    for protocol in ("v2", "mlflow"):
        line = [l for l in metrics.splitlines() if l.startswith(
            'tamga_serving_requests_total{model="mlp",version="1",protocol="%s",outcome="invalid_input"}' % protocol)]
        assert line and float(line[0].rsplit(" ", 1)[1]) >= 1, (protocol, metrics[-2000:])


def test_serve_name_overrides_the_directory_name(request, models, expected):
    s = Serve(request.config.getoption("--tamga"), os.path.join(models, "mlp"), "--name", "churn-v2").wait_ready()
    try:
        assert requests.get(s.url + "/v2/models/churn-v2").status_code == 200
        assert requests.get(s.url + "/v2/models/mlp").status_code == 404
        r = v2_infer(s.url, "churn-v2", expected["x"][:2])
        assert r.status_code == 200 and r.json()["model_name"] == "churn-v2", r.text
    finally:
        s.stop()
    bad = subprocess.run([request.config.getoption("--tamga"), "serve", os.path.join(models, "mlp"), "--name",
                          "a/b"], capture_output=True, text=True, timeout=30)
    assert bad.returncode != 0 and "letters, digits" in bad.stderr + bad.stdout


def test_readiness_says_the_alias_is_not_set_then_serves_when_it_is(request, models):
    """`tamga serve models:/clf@prod` started before the alias exists: readiness names the reason and stays
    loading (following the registry), scoring says why, and the model serves once the alias is set. Pinned
    (--no-follow) to a version that does not exist, the model is failed with the reason."""
    binary = request.config.getoption("--tamga")
    reg = TamgaServer(binary).start()
    api = reg.url + "/api/2.0/mlflow"
    try:
        run = requests.post(api + "/runs/create", json={"experiment_id": "0"}).json()["run"]["info"]["run_id"]
        upload_model(reg.url, run, os.path.join(models, "xgb"), "m")
        assert requests.post(api + "/registered-models/create", json={"name": "clf"}).status_code == 200
        s = Serve(binary, "models:/clf@prod", "--tracking-uri", reg.url)
        pinned = Serve(binary, "models:/clf/9", "--tracking-uri", reg.url, "--no-follow")
        try:
            def status(srv):
                body = requests.get(srv.url + "/v2/health/ready").json()
                return body["models"][0] if body["models"] else None

            deadline = time.time() + 20
            while time.time() < deadline and not (status(s) and status(s).get("error")):
                time.sleep(0.1)
            st = status(s)
            assert st["state"] == "loading" and "prod" in st["error"], st
            inv = requests.post(s.url + "/invocations", json={"inputs": [[0.0] * 8]})
            assert inv.status_code == 503 and "prod" in inv.json()["message"], inv.text
            while time.time() < deadline and not (status(pinned) and status(pinned)["state"] == "failed"):
                time.sleep(0.1)
            assert status(pinned)["state"] == "failed" and "9" in status(pinned)["error"], status(pinned)
            r = requests.post(api + "/model-versions/create", json={"name": "clf", "source": f"runs:/{run}/m"})
            assert r.status_code == 200, r.text
            requests.post(api + "/registered-models/alias", json={"name": "clf", "alias": "prod", "version": "1"})
            s.wait_ready(timeout=30)
        finally:
            s.stop()
            pinned.stop()
    finally:
        reg.cleanup()
