"""Scale to zero (docs/rollouts.md §8) through a real `tamga server`.

Models made at test time: the TorchScript MLP, and a Python model that answers slowly for one input value.
A local deployment with `snooze` unloads its versions once idle (the server stays ready, the model's state
says `snoozed`, the loaded gauge drops); concurrent requests to the sleeping deployment wake it and all get
the right answer; a request still running when the deployment goes to sleep finishes on its version; with
`wake_timeout_s: 0` the caller is told 503 with Retry-After instead of waiting, and a later call is served.
"""
import os
import shutil
import sys
import tempfile
import threading
import time

import numpy as np
import pytest
import requests

HERE = os.path.dirname(__file__)
sys.path.insert(0, os.path.join(HERE, "..", "harness"))
from tamga_harness import TamgaServer, upload_model, wait_for  # noqa: E402

ML = "/api/2.0/mlflow"
DEPLOY = "/api/2.0/tamga/deployments"

SLOW = '''
import time
import numpy as np


class Model:
    def predict(self, x):
        x = np.asarray(x, dtype=np.float32)
        if (x[:, 0] == 42).any():
            time.sleep(4)
        return x[:, :4] * 2


def _load_pyfunc(path):
    return Model()
'''


def slow_model(root):
    d = os.path.join(root, "slow")
    os.makedirs(os.path.join(d, "code"))
    os.makedirs(os.path.join(d, "data"))
    with open(os.path.join(d, "code", "snooze_test_model.py"), "w") as f:
        f.write(SLOW)
    sig = ('[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 16]}}]',
           '[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 4]}}]')
    with open(os.path.join(d, "MLmodel"), "w") as f:
        f.write("flavors:\n  python_function:\n    loader_module: snooze_test_model\n    code: code\n    data: data\n"
                "signature:\n  inputs: '%s'\n  outputs: '%s'\n" % sig)
    return d


@pytest.fixture(scope="module")
def srv(request, models):
    binary = request.config.getoption("--tamga")
    s = TamgaServer(binary, extra_args=["--python", "/usr/bin/python3"]).start()
    root = tempfile.mkdtemp(prefix="tamga-snooze-models-")
    run = requests.post(s.url + ML + "/runs/create", json={"experiment_id": "0"}).json()["run"]["info"]["run_id"]
    for name, src in (("mlp", os.path.join(models, "mlp")), ("slow", slow_model(root))):
        upload_model(s.url, run, src, name)
        assert requests.post(s.url + ML + "/registered-models/create", json={"name": name}).status_code == 200
        r = requests.post(s.url + ML + "/model-versions/create", json={"name": name, "source": f"runs:/{run}/{name}"})
        assert r.status_code == 200, r.text
        r = requests.post(s.url + ML + "/registered-models/alias", json={"name": name, "alias": "prod", "version": "1"})
        assert r.status_code == 200, r.text
    yield s
    s.cleanup()
    shutil.rmtree(root, ignore_errors=True)


def deploy(srv, name, model, snooze):
    r = requests.post(srv.url + DEPLOY, json={"name": name, "model_name": model, "alias": "prod", "target": "local",
                                              "snooze": snooze})
    assert r.status_code == 200, r.text
    wait_for(lambda: requests.get(srv.url + "/v2/models/%s/ready" % name).status_code == 200, what=name + " ready")


def state(srv, name):
    models = requests.get(srv.url + "/v2/health/ready").json()["models"]
    return next(m for m in models if m["name"] == name)["state"]


def infer(srv, name, x, timeout=60):
    body = {"inputs": [{"name": "input-0", "datatype": "FP32", "shape": list(x.shape),
                        "data": [float(v) for v in x.ravel()]}]}
    return requests.post(srv.url + "/v2/models/%s/infer" % name, json=body, timeout=timeout)


def loaded(srv):
    for line in requests.get(srv.url + "/metrics").text.splitlines():
        if line.startswith("tamga_serving_models_loaded"):
            return float(line.split()[-1])
    return 0.0


def test_idle_deployment_snoozes_and_concurrent_requests_wake_it(srv, expected):
    deploy(srv, "sleepy", "mlp", {"idle_seconds": 2, "wake_timeout_s": 30})
    x = expected["x"][:3]
    first = infer(srv, "sleepy", x)
    assert first.status_code == 200
    want = np.array(first.json()["outputs"][0]["data"])
    assert np.allclose(want, expected["y1"][:3].ravel(), atol=1e-5)
    before = loaded(srv)
    wait_for(lambda: state(srv, "sleepy") == "snoozed", timeout=30, what="snoozed")
    # Asleep on purpose: the server stays ready; the version is unloaded.
    assert requests.get(srv.url + "/v2/health/ready").status_code == 200
    wait_for(lambda: loaded(srv) == before - 1, timeout=30, what="unloaded")

    results = [None] * 8
    def call(i):
        results[i] = infer(srv, "sleepy", x)
    started = time.time()
    threads = [threading.Thread(target=call, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    woke_in = time.time() - started
    for r in results:
        assert r is not None and r.status_code == 200, r.text if r is not None else "no answer"
        assert np.allclose(np.array(r.json()["outputs"][0]["data"]), want)
        assert r.headers["Tamga-Model-Version"] == "1"
    print("woke and answered 8 waiting requests in %.3f s" % woke_in)
    assert state(srv, "sleepy") == "available"
    assert woke_in < 30


def test_a_request_running_when_the_deployment_sleeps_finishes(srv):
    deploy(srv, "sleepy-slow", "slow", {"idle_seconds": 1, "wake_timeout_s": 60})
    x = np.zeros((1, 16), dtype=np.float32)
    x[0, 0] = 42  # sleeps 4 s inside the model: the deployment goes idle meanwhile
    out = {}
    t = threading.Thread(target=lambda: out.update(r=infer(srv, "sleepy-slow", x)))
    t.start()
    wait_for(lambda: state(srv, "sleepy-slow") == "snoozed", timeout=30, what="snoozed while a request runs")
    t.join(timeout=60)
    assert out["r"].status_code == 200, out["r"].text
    assert out["r"].json()["outputs"][0]["data"][0] == 84
    # Woken again by the next request.
    y = np.ones((2, 16), dtype=np.float32)
    r = infer(srv, "sleepy-slow", y)
    assert r.status_code == 200 and r.json()["outputs"][0]["data"] == [2.0] * 8, r.text


def test_deleting_a_deployment_while_requests_wait_for_its_wake_answers_them(srv):
    deploy(srv, "sleepy-gone", "slow", {"idle_seconds": 1, "wake_timeout_s": 60})
    wait_for(lambda: state(srv, "sleepy-gone") == "snoozed", timeout=30, what="snoozed")
    y = np.ones((1, 16), dtype=np.float32)
    out = {}
    t = threading.Thread(target=lambda: out.update(r=infer(srv, "sleepy-gone", y)))
    t.start()  # wakes it: the Python worker takes a while to start
    time.sleep(0.05)
    assert requests.delete(srv.url + DEPLOY + "/sleepy-gone").status_code == 200
    t.join(timeout=60)
    # Answered (served before the delete landed, or refused), never a dropped connection.
    assert "r" in out and out["r"].status_code in (200, 404, 503), out


def test_no_wait_answers_503_with_retry_after_then_serves(srv, expected):
    deploy(srv, "sleepy-now", "mlp", {"idle_seconds": 1, "wake_timeout_s": 0})
    wait_for(lambda: state(srv, "sleepy-now") == "snoozed", timeout=30, what="snoozed")
    x = expected["x"][:1]
    r = infer(srv, "sleepy-now", x)
    assert r.status_code == 503 and r.headers.get("Retry-After") == "2", (r.status_code, r.headers)
    assert "snoozed" in r.json()["error"], r.text
    m = requests.post(srv.url + "/endpoints/sleepy-now/invocations", json={"inputs": x.tolist()})
    assert m.status_code in (200, 503), m.text
    wait_for(lambda: infer(srv, "sleepy-now", x).status_code == 200, timeout=30, what="awake")


@pytest.mark.parametrize("bad", [{}, {"idle_seconds": 0}, {"idle_seconds": 10, "wake_timeout_s": 301},
                                 {"idle_seconds": 10, "nope": 1}, {"idle_seconds": "10"}, []])
def test_bad_snooze_specs_are_refused(srv, bad):
    r = requests.post(srv.url + DEPLOY, json={"name": "bad", "model_name": "mlp", "target": "local", "snooze": bad})
    assert r.status_code == 400 and "snooze" in r.json()["message"], r.text


def test_snooze_excludes_a_rollout(srv):
    r = requests.post(srv.url + DEPLOY, json={"name": "bad", "model_name": "mlp", "target": "local",
                                              "snooze": {"idle_seconds": 60},
                                              "rollout": {"steps": [{"weight": 10}]}})
    assert r.status_code == 400 and "rollout" in r.json()["message"], r.text
