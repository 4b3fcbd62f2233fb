"""Progressive rollouts of local deployments (docs/rollouts.md §3) through a real `tamga server`.

Models made at test time: version 1 a TorchScript MLP, version 2 the same files (a good candidate), version 3
an MLP with other weights (wrong scores), version 4 a Python model whose predict raises (crashing), version 5
one that answers version 1's scores slowly. Under a steady stream of requests, moving the deployment's alias
starts a rollout: the good candidate goes through shadow and canary steps and is promoted, each bad one is
rolled back by its gate and the alias moved back; every decision lands on the version as tags; the reference
test gate and the manual commands work.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import threading

import pytest
import requests

HERE = os.path.dirname(__file__)
sys.path.insert(0, os.path.join(HERE, "..", "harness"))
from tamga_harness import TamgaServer, upload_model, wait_for  # noqa: E402

ML = "/api/2.0/mlflow"
DEPLOY = "/api/2.0/tamga/deployments"

MODULE = '''
import time
import numpy as np


class Model:
    def __init__(self, mode, path):
        import torch
        torch.set_num_threads(1)
        self.torch = torch
        self.mode = mode
        self.m = torch.jit.load(path)

    def predict(self, x):
        if self.mode == "crash" and (x != 0).any():  # passes the zero-filled warm-up, fails real traffic
            raise ValueError("this candidate is broken")
        if self.mode == "slow":
            time.sleep(0.3)
        with self.torch.no_grad():
            return self.m(self.torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))).numpy()


def _load_pyfunc(path):
    return Model(open(path + "/mode").read().strip(), path + "/model.pth")
'''


def pyfunc_model(root, name, mode, mlp_dir):
    d = os.path.join(root, name)
    os.makedirs(os.path.join(d, "code"))
    os.makedirs(os.path.join(d, "data"))
    with open(os.path.join(d, "code", "rollout_test_model.py"), "w") as f:
        f.write(MODULE)
    with open(os.path.join(d, "data", "mode"), "w") as f:
        f.write(mode)
    shutil.copy(os.path.join(mlp_dir, "data", "model.pth"), os.path.join(d, "data", "model.pth"))
    sig = ('[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 16]}}]',
           '[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 4]}}]')
    with open(os.path.join(d, "MLmodel"), "w") as f:
        f.write("flavors:\n  python_function:\n    loader_module: rollout_test_model\n    code: code\n    data: data\n"
                "signature:\n  inputs: '%s'\n  outputs: '%s'\n" % sig)
    return d


@pytest.fixture(scope="module")
def srv(request, models):
    binary = request.config.getoption("--tamga")
    s = TamgaServer(binary, extra_args=["--python", "/usr/bin/python3"]).start()
    s.binary = binary
    root = tempfile.mkdtemp(prefix="tamga-rollout-models-")
    mlp = os.path.join(models, "mlp")
    assert os.path.exists(os.path.join(mlp, "data", "model.pth")), os.listdir(mlp)
    run = requests.post(s.url + ML + "/runs/create", json={"experiment_id": "0"}).json()["run"]["info"]["run_id"]
    sources = [mlp, mlp, os.path.join(models, "mlp2"), pyfunc_model(root, "crash", "crash", mlp),
               pyfunc_model(root, "slow", "slow", mlp)]
    assert requests.post(s.url + ML + "/registered-models/create", json={"name": "clf"}).status_code == 200
    for i, src in enumerate(sources):
        upload_model(s.url, run, src, "m%d" % i)
        r = requests.post(s.url + ML + "/model-versions/create", json={"name": "clf", "source": f"runs:/{run}/m{i}"})
        assert r.status_code == 200, r.text
    yield s
    s.cleanup()


def alias(srv, name, version):
    r = requests.post(srv.url + ML + "/registered-models/alias", json={"name": "clf", "alias": name, "version": version})
    return r


def aliased(srv, name):
    return requests.get(srv.url + ML + "/registered-models/alias", params={"name": "clf", "alias": name}).json()[
        "model_version"]["version"]


def tags(srv, version):
    v = requests.get(srv.url + ML + "/model-versions/get", params={"name": "clf", "version": version}).json()
    return {t["key"]: t["value"] for t in v["model_version"].get("tags", [])}


def status(srv, dep):
    return requests.get(srv.url + DEPLOY + "/" + dep + "/rollout").json()


class Load:
    """Single-row requests to a deployment, as fast as one client goes, until stopped."""

    def __init__(self, srv, dep):
        self.url = srv.url + "/v2/models/" + dep + "/infer"
        self.codes, self.versions = {}, {}
        self.stop = threading.Event()
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        s = requests.Session()
        body = {"inputs": [{"name": "input-0", "datatype": "FP32", "shape": [1, 16], "data": [0.1] * 16}]}
        while not self.stop.is_set():
            r = s.post(self.url, json=body)
            self.codes[r.status_code] = self.codes.get(r.status_code, 0) + 1
            v = r.headers.get("Tamga-Model-Version", "-")
            self.versions[v] = self.versions.get(v, 0) + 1

    def end(self):
        self.stop.set()
        self.t.join(timeout=30)
        return self


def deploy(srv, dep, follow, rollout):
    assert alias(srv, follow, "1").status_code == 200
    r = requests.post(srv.url + DEPLOY, json={"name": dep, "model_name": "clf", "alias": follow, "target": "local",
                                              "rollout": rollout})
    assert r.status_code == 200, r.text
    wait_for(lambda: requests.get(srv.url + "/v2/models/%s/ready" % dep).status_code == 200, what=dep + " ready")
    wait_for(lambda: status(srv, dep).get("stable_version") == "1", what=dep + " stable v1")


FAST = {"min_seconds": 1, "min_requests": 20}


def test_a_good_candidate_goes_through_shadow_and_steps_and_is_promoted(srv):
    deploy(srv, "ro-good", "good", {"shadow": FAST, "steps": [dict(FAST, weight=20), dict(FAST, weight=50)],
                                    "gates": {"max_error_rate": 0.01, "max_shadow_disagreement": 0.0}})
    load = Load(srv, "ro-good")
    assert alias(srv, "good", "2").status_code == 200
    st = wait_for(lambda: (lambda s: s if s["state"] == "stable" and s["stable_version"] == "2" else None)(
        status(srv, "ro-good")), timeout=90, what="promotion")
    load.end()
    history = "\n".join(st["history"])
    for decision in ("started v2", "advanced v2: shadow passed", "advanced v2: step 1 of 2 (20%) passed",
                     "promoted v2: step 2 of 2 (50%) passed"):
        assert decision in history, history
    assert load.codes.get(200, 0) > 0 and set(load.codes) == {200}, load.codes  # nothing failed on the way
    assert set(load.versions) == {"1", "2"}, load.versions
    t = tags(srv, "2")
    assert t["tamga.rollout.status"] == "promoted" and t["tamga.rollout.stable"] == "1", t
    assert aliased(srv, "good") == "2"
    # The old version leaves the endpoint once promoted.
    def versions():
        ready = requests.get(srv.url + "/v2/health/ready").json()
        dep = [m for m in ready["models"] if m["name"] == "ro-good"][0]
        return [v.get("version") for v in dep.get("variants", [dep])] == ["2"]
    wait_for(versions, what="version 1 unloaded")


@pytest.mark.parametrize("dep,version,plan,why", [
    ("ro-wrong", "3", {"shadow": FAST, "steps": [dict(FAST, weight=50)]}, "shadow disagreement"),
    ("ro-crash", "4", {"steps": [dict(FAST, weight=50)], "gates": {"max_error_rate": 0.05}}, "error rate"),
    ("ro-slow", "5", {"steps": [{"weight": 50, "min_seconds": 1, "min_requests": 5}],
                      "gates": {"max_p99_ms": 100}}, "p99 latency"),
])
def test_a_bad_candidate_is_rolled_back_and_the_alias_moved_back(srv, dep, version, plan, why):
    follow = dep.split("-")[1]
    deploy(srv, dep, follow, plan)
    load = Load(srv, dep)
    assert alias(srv, follow, version).status_code == 200
    wait_for(lambda: tags(srv, version).get("tamga.rollout.status") == "rolled_back", timeout=90, what="roll back")
    wait_for(lambda: aliased(srv, follow) == "1", what="alias moved back")
    load.end()
    t = tags(srv, version)
    assert why in t["tamga.rollout.reason"], t
    st = status(srv, dep)
    assert st["state"] == "stable" and st["stable_version"] == "1" and "candidate_version" not in st, st
    if "shadow" in plan:  # a shadow never answers: the callers only ever saw version 1
        assert set(load.versions) == {"1"} and set(load.codes) == {200}, (load.versions, load.codes)
    # Rolled back for good: the stream keeps being answered by version 1.
    r = requests.post(srv.url + "/v2/models/%s/infer" % dep, json={"inputs": [
        {"name": "input-0", "datatype": "FP32", "shape": [1, 16], "data": [0.1] * 16}]})
    assert r.status_code == 200 and r.headers["Tamga-Model-Version"] == "1"


def test_the_reference_test_gate_and_manual_commands(srv, models, expected):
    cli = [srv.binary, "rollout"]
    deploy(srv, "ro-manual", "manual", {"steps": [{"weight": 10, "min_seconds": 3600, "min_requests": 1}],
                                        "gates": {"require_reference_test": True}})
    # Version 2 has no reference test yet: rolled back at once.
    assert alias(srv, "manual", "2").status_code == 200
    wait_for(lambda: tags(srv, "2").get("tamga.rollout.status") == "rolled_back", what="gate")
    assert "no passing reference-score test" in tags(srv, "2")["tamga.rollout.reason"]
    wait_for(lambda: aliased(srv, "manual") == "1", what="alias back")
    # With a passing test it starts, and waits at its hour-long step until told.
    d = tempfile.mkdtemp(prefix="tamga-ro-")
    with open(os.path.join(d, "in.csv"), "w") as f:
        f.write(",".join("f%d" % i for i in range(16)) + "\n")
        for row in expected["x"][:8]:
            f.write(",".join(repr(float(v)) for v in row) + "\n")
    with open(os.path.join(d, "y.csv"), "w") as f:
        f.write("a,b,c,d\n")
        for row in expected["y1"][:8]:
            f.write(",".join(repr(float(v)) for v in row) + "\n")
    p = subprocess.run([srv.binary, "models", "validate", "models:/clf/2", "--inputs", d + "/in.csv", "--expected",
                        d + "/y.csv", "--atol", "1e-5", "--tracking-uri", srv.url], capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr
    assert alias(srv, "manual", "2").status_code == 200
    wait_for(lambda: status(srv, "ro-manual").get("candidate_version") == "2", what="rollout of v2")
    p = subprocess.run(cli + ["pause", "ro-manual", "--tracking-uri", srv.url], capture_output=True, text=True)
    assert p.returncode == 0 and "paused" in p.stdout, p.stdout + p.stderr
    p = subprocess.run(cli + ["resume", "ro-manual", "--tracking-uri", srv.url], capture_output=True, text=True)
    assert p.returncode == 0 and "rolling_out" in p.stdout, p.stdout + p.stderr
    p = subprocess.run(cli + ["abort", "ro-manual", "--tracking-uri", srv.url], capture_output=True, text=True)
    assert p.returncode == 0 and "stable v1" in p.stdout and "aborted" in p.stdout, p.stdout + p.stderr
    wait_for(lambda: aliased(srv, "manual") == "1", what="alias back after abort")
    # Moved again, it starts again; promoted by hand.
    assert alias(srv, "manual", "2").status_code == 200
    wait_for(lambda: status(srv, "ro-manual").get("candidate_version") == "2", what="second rollout of v2")
    p = subprocess.run(cli + ["promote", "ro-manual", "--tracking-uri", srv.url], capture_output=True, text=True)
    assert p.returncode == 0 and "stable v2" in p.stdout, p.stdout + p.stderr
    assert tags(srv, "2")["tamga.rollout.status"] == "promoted"
    p = subprocess.run(cli + ["abort", "ro-manual", "--tracking-uri", srv.url], capture_output=True, text=True)
    assert p.returncode == 1 and "no rollout is running" in p.stderr, p.stdout + p.stderr
    p = subprocess.run(cli + ["status", "ro-nope", "--tracking-uri", srv.url], capture_output=True, text=True)
    assert p.returncode == 1 and "no rollout plan" in p.stderr
    # Nobody can forge a rollout tag.
    r = requests.post(srv.url + ML + "/model-versions/set-tag",
                      json={"name": "clf", "version": "3", "key": "tamga.rollout.status", "value": "promoted"})
    assert r.status_code == 400 and "reserved" in r.json()["message"]


def test_reapplying_the_spec_mid_rollout_keeps_it_inside_the_new_plan(srv):
    plan = {"steps": [dict(FAST, weight=20), {"weight": 50, "min_seconds": 3600, "min_requests": 1}]}
    deploy(srv, "ro-shrink", "shrink", plan)
    load = Load(srv, "ro-shrink")
    assert alias(srv, "shrink", "2").status_code == 200
    wait_for(lambda: "step 2 of 2" in status(srv, "ro-shrink").get("stage", ""), timeout=60, what="second step")
    # Re-applied with one step (and then with a shadow stage only) while in step 2: no stage beyond the plan.
    r = requests.post(srv.url + DEPLOY, json={"name": "ro-shrink", "model_name": "clf", "alias": "shrink",
                                              "target": "local", "rollout": {"steps": [{"weight": 30, "min_seconds": 3600}]}})
    assert r.status_code == 200, r.text
    wait_for(lambda: status(srv, "ro-shrink").get("stage") == "step 1 of 1 (30%)", what="clamped to the new plan")
    r = requests.post(srv.url + DEPLOY, json={"name": "ro-shrink", "model_name": "clf", "alias": "shrink",
                                              "target": "local", "rollout": {"shadow": {"min_seconds": 3600}}})
    assert r.status_code == 200, r.text
    wait_for(lambda: status(srv, "ro-shrink").get("stage") == "shadow", what="shadow only")
    load.end()
    assert set(load.codes) == {200}, load.codes
    assert requests.get(srv.url + "/health").status_code == 200


def test_deleting_the_deployment_mid_rollout_rolls_back_the_alias(srv):
    deploy(srv, "ro-del", "del", {"steps": [{"weight": 10, "min_seconds": 3600, "min_requests": 1}]})
    assert alias(srv, "del", "2").status_code == 200
    wait_for(lambda: status(srv, "ro-del").get("candidate_version") == "2", what="rollout of v2")
    assert requests.delete(srv.url + DEPLOY + "/ro-del").status_code == 200
    wait_for(lambda: aliased(srv, "del") == "1", what="alias restored")
    t = tags(srv, "2")
    assert t["tamga.rollout.status"] == "rolled_back" and "deleted" in t["tamga.rollout.reason"], t
