"""The Python worker runtime: MLflow python_function models served through a worker process.

Models are made at test time (make_models.py) and loaded by the worker's minimal loader protocol
(`loader_module._load_pyfunc(data)`), since Debian has no mlflow package. Covers conformance with what Python
computed (V2 REST, /invocations, gRPC), mixed-type column signatures (one tensor per column), a worker that
dies mid-request (503, then restarted), one that hangs (504 after --python-timeout-s, then restarted), and
models or interpreters that cannot load (reported, server up).
"""
import concurrent.futures
import json
import os
import shutil
import time

import numpy as np
import pytest
import requests

from serve_harness import Client, Serve

PY = "/usr/bin/python3"


@pytest.fixture(scope="module")
def pyf(request, models):
    s = Serve(request.config.getoption("--tamga"), os.path.join(models, "pyfunc"), "--python", PY,
              "--python-timeout-s", "3", "--max-batch-size", "16", "--max-queue-delay-us", "500").wait_ready()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def pydf(request, models):
    s = Serve(request.config.getoption("--tamga"), os.path.join(models, "pyfunc_df"), "--python", PY).wait_ready()
    yield s
    s.stop()


def infer(url, model, x, dtype="FP64"):
    return requests.post(f"{url}/v2/models/{model}/infer", json={"inputs": [
        {"name": "input-0", "datatype": dtype, "shape": list(x.shape), "data": x.flatten().tolist()}]})


def test_pyfunc_matches_python(pyf, expected):
    meta = requests.get(pyf.url + "/v2/models/pyfunc").json()
    assert meta["platform"] == "python_function"
    assert meta["inputs"] == [{"name": "input-0", "datatype": "FP64", "shape": [-1, 4]}]
    r = infer(pyf.url, "pyfunc", expected["pq"])
    assert r.status_code == 200, r.text
    o = r.json()["outputs"][0]
    assert o["datatype"] == "FP64" and o["shape"] == [16, 2]
    np.testing.assert_allclose(np.array(o["data"]).reshape(16, 2), expected["py"], rtol=1e-12)
    r = requests.post(pyf.url + "/invocations", json={"inputs": expected["pq"][:3].tolist()})
    assert r.status_code == 200, r.text
    np.testing.assert_allclose(np.array(r.json()["predictions"]), expected["py"][:3], rtol=1e-12)
    r = requests.post(pyf.url + "/invocations", data="a,b,c,d\n" + ",".join(map(str, expected["pq"][0])),
                      headers={"Content-Type": "text/csv"})
    assert r.status_code == 200, r.text
    np.testing.assert_allclose(np.array(r.json()["predictions"]), expected["py"][:1], rtol=1e-12)


def test_torchscript_behind_the_worker_matches_native(request, models, expected):
    # The runtime conformance suite's third runtime: the same MLP through Python gives the same outputs.
    s = Serve(request.config.getoption("--tamga"), os.path.join(models, "pyfunc_mlp"), "--python", PY).wait_ready()
    try:
        r = infer(s.url, "pyfunc_mlp", expected["x"][:8], dtype="FP32")
        assert r.status_code == 200, r.text
        np.testing.assert_allclose(np.array(r.json()["outputs"][0]["data"]).reshape(8, 4), expected["y1"][:8],
                                   rtol=1e-5, atol=1e-6)
    finally:
        s.stop()


def test_mixed_type_columns(pydf):
    meta = requests.get(pydf.url + "/v2/models/pyfunc_df").json()
    assert [(i["name"], i["datatype"], i["shape"]) for i in meta["inputs"]] == [
        ("name", "BYTES", [-1]), ("a", "FP64", [-1]), ("b", "INT64", [-1])]
    want_score = [1.5 * 2 + 2 + 3, -1.0 * 2 + 7 + 5]
    want_label = ["n:abc", "n:hello"]
    bodies = [
        {"dataframe_split": {"columns": ["b", "a", "name"], "data": [[2, 1.5, "abc"], [7, -1.0, "hello"]]}},
        {"dataframe_records": [{"name": "abc", "a": 1.5, "b": 2}, {"name": "hello", "a": -1.0, "b": 7}]},
        {"instances": [{"name": "abc", "a": 1.5, "b": 2}, {"name": "hello", "a": -1.0, "b": 7}]},
        {"inputs": {"name": ["abc", "hello"], "a": [1.5, -1.0], "b": [2, 7]}},
    ]
    for body in bodies:
        r = requests.post(pydf.url + "/invocations", json=body)
        assert r.status_code == 200, (body, r.text)
        assert r.json()["predictions"] == {"score": want_score, "label": want_label}, body
    r = requests.post(pydf.url + "/invocations", data="name,a,b\nabc,1.5,2\nhello,-1.0,7\n",
                      headers={"Content-Type": "text/csv"})
    assert r.status_code == 200, r.text
    assert r.json()["predictions"]["score"] == want_score
    r = requests.post(pydf.url + "/v2/models/pyfunc_df/infer", json={"inputs": [
        {"name": "name", "datatype": "BYTES", "shape": [2], "data": ["abc", "hello"]},
        {"name": "a", "datatype": "FP64", "shape": [2], "data": [1.5, -1.0]},
        {"name": "b", "datatype": "INT64", "shape": [2], "data": [2, 7]}]})
    assert r.status_code == 200, r.text
    outs = {o["name"]: o for o in r.json()["outputs"]}
    assert outs["score"]["data"] == want_score and outs["label"]["datatype"] == "BYTES"
    assert outs["label"]["data"] == want_label
    # Missing column, wrong type: 400 with the column named.
    r = requests.post(pydf.url + "/invocations", json={"dataframe_split": {"columns": ["name", "a"], "data": [["x", 1.0]]}})
    assert r.status_code == 400 and "'b'" in r.json()["message"]
    r = requests.post(pydf.url + "/invocations", json={"dataframe_records": [{"name": "x", "a": "oops", "b": 1}]})
    assert r.status_code == 400


def test_predict_exception_is_a_400_and_the_worker_lives(pydf):
    bad = {"dataframe_records": [{"name": "x", "a": -1e308, "b": 1}]}
    r = requests.post(pydf.url + "/invocations", json=bad)
    assert r.status_code == 400, r.text
    assert r.json()["error_code"] == "BAD_REQUEST" and "ValueError: a is too small" in r.json()["message"]
    r = requests.post(pydf.url + "/invocations", json={"dataframe_records": [{"name": "x", "a": 1.0, "b": 1}]})
    assert r.status_code == 200 and r.json()["predictions"]["score"] == [4.0]
    assert "python worker died" not in pydf.read_log()


def test_worker_crash_gives_503_and_is_restarted(pyf, expected):
    x = expected["pq"][:2].copy()
    ok_before = infer(pyf.url, "pyfunc", x)
    assert ok_before.status_code == 200
    bad = x.copy()
    bad[0, 0] = -999
    r = infer(pyf.url, "pyfunc", bad)
    assert r.status_code == 503, r.text
    assert "died" in r.json()["error"] and "restart" in r.json()["error"]
    # The server lives; the worker comes back and serves the same answers.
    deadline = time.time() + 30
    while True:
        r = infer(pyf.url, "pyfunc", x)
        if r.status_code == 200:
            break
        assert r.status_code == 503 and time.time() < deadline, r.text
        time.sleep(0.1)
    assert r.json()["outputs"][0]["data"] == ok_before.json()["outputs"][0]["data"]
    assert "python worker restarted" in pyf.read_log()
    assert requests.get(pyf.url + "/v2/health/live").status_code == 200


def test_crash_under_concurrency_only_fails_the_batch_in_flight(pyf, expected):
    x = expected["pq"]

    def one(i):
        row = x[i % 16:i % 16 + 1].copy()
        if i == 40:
            row[0, 1] = -999
        return i, infer(pyf.url, "pyfunc", row)

    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        results = list(ex.map(one, range(120)))
    codes = [r.status_code for _, r in results]
    assert set(codes) <= {200, 503}, codes
    assert results[40][1].status_code == 503
    for i, r in results:
        if r.status_code == 200:
            np.testing.assert_allclose(np.array(r.json()["outputs"][0]["data"]), expected["py"][i % 16], rtol=1e-12)
    # Requests after the restart all succeed.
    deadline = time.time() + 30
    while infer(pyf.url, "pyfunc", x[:1]).status_code != 200:
        assert time.time() < deadline
        time.sleep(0.1)


def test_hung_worker_times_out_with_504_and_is_restarted(pyf, expected):
    x = expected["pq"][:1].copy()
    x[0, 2] = -777
    t0 = time.time()
    r = infer(pyf.url, "pyfunc", x)
    assert r.status_code == 504, r.text
    assert time.time() - t0 < 20
    deadline = time.time() + 30
    while infer(pyf.url, "pyfunc", expected["pq"][:1]).status_code != 200:
        assert time.time() < deadline
        time.sleep(0.1)


@pytest.mark.parametrize("case", ["missing_module", "no_loader_fn", "bad_interpreter", "escaping_data"])
def test_model_that_cannot_load_is_reported(request, models, tmp_path, case):
    d = tmp_path / "broken_py"
    shutil.copytree(os.path.join(models, "pyfunc"), d)
    args = ["--python", PY]
    mlmodel = (d / "MLmodel").read_text()
    needle = {"missing_module": "ModuleNotFoundError", "no_loader_fn": "_load_pyfunc",
              "bad_interpreter": "cannot start the Python worker", "escaping_data": "escapes the model directory"}[case]
    if case == "missing_module":
        (d / "MLmodel").write_text(mlmodel.replace("tamga_test_pyfunc", "no_such_module_xyz"))
    elif case == "no_loader_fn":
        (d / "code" / "tamga_test_pyfunc.py").write_text("x = 1\n")
    elif case == "bad_interpreter":
        args = ["--python", "/nonexistent/python3"]
    elif case == "escaping_data":
        (d / "MLmodel").write_text(mlmodel.replace("data: weights.npy", "data: ../../etc/passwd"))
    s = Serve(request.config.getoption("--tamga"), str(d), *args)
    try:
        deadline = time.time() + 20
        while True:
            r = requests.post(s.url + "/v2/models/broken_py/infer", json={"inputs": []})
            if needle in r.text or time.time() > deadline:
                break
            time.sleep(0.1)
        assert r.status_code == 503 and needle in r.json()["error"], r.text
        assert requests.get(s.url + "/v2/health/ready").status_code == 503
        assert requests.get(s.url + "/v2/health/live").status_code == 200
    finally:
        s.stop()


def test_grpc_reaches_the_worker(pb, pyf, expected):
    c = Client(pb, pyf.grpc_target)
    req = pb.ModelInferRequest(model_name="pyfunc")
    x = expected["pq"][:5]
    req.inputs.add(name="input-0", datatype="FP64", shape=[5, 4])
    req.raw_input_contents.append(np.ascontiguousarray(x, dtype="<f8").tobytes())
    r = c.infer(req)
    np.testing.assert_allclose(np.frombuffer(r.raw_output_contents[0], dtype="<f8").reshape(5, 2), expected["py"][:5],
                               rtol=1e-12)
