"""Outliers and drift of a local deployment's inputs (docs/rollouts.md §7) through a real `tamga server`.

A TorchScript MLP made at test time is registered; its reference set (5,000 rows, 16 features, two of them
correlated) is scored with `tamga score` and attached as a reference-score test with `tamga models
validate`, which stores the reference statistics. A local deployment with `monitoring` then flags planted
outliers (a 12-sigma feature, and a pair that breaks the correlation: only the Mahalanobis distance sees it)
in the response headers, finds no drift in an unshifted stream and drift in a shifted one, exports the
figures to Prometheus and fires the retraining trigger bound to the deployment.
"""
import csv
import os
import subprocess
import sys
import tempfile

import numpy as np
import pytest
import requests

HERE = os.path.dirname(__file__)
sys.path.insert(0, os.path.join(HERE, "..", "harness"))
from tamga_harness import TamgaServer, upload_model, wait_for  # noqa: E402

ML = "/api/2.0/mlflow"
DEPLOY = "/api/2.0/tamga/deployments"


def sample(rng, n, shift=0.0):
    x = rng.standard_normal((n, 16))
    x[:, 1] = 0.95 * x[:, 0] + np.sqrt(1 - 0.95 ** 2) * x[:, 1]  # f1 follows f0
    x[:, 2] += shift
    return x.astype(np.float32)


def infer(srv, dep, x):
    body = {"inputs": [{"name": "input-0", "datatype": "FP32", "shape": list(x.shape),
                        "data": [float(v) for v in x.ravel()]}]}
    r = requests.post(srv.url + "/v2/models/%s/infer" % dep, json=body)
    assert r.status_code == 200, r.text
    return r


def monitoring(srv, dep):
    r = requests.get(srv.url + DEPLOY + "/" + dep + "/monitoring")
    assert r.status_code == 200, r.text
    return r.json()


@pytest.fixture(scope="module")
def srv(request, models):
    binary = request.config.getoption("--tamga")
    s = TamgaServer(binary).start()
    s.binary = binary
    run = requests.post(s.url + ML + "/runs/create", json={"experiment_id": "0"}).json()["run"]["info"]["run_id"]
    upload_model(s.url, run, os.path.join(models, "mlp"), "m")
    assert requests.post(s.url + ML + "/registered-models/create", json={"name": "mon"}).status_code == 200
    r = requests.post(s.url + ML + "/model-versions/create", json={"name": "mon", "source": f"runs:/{run}/m"})
    assert r.status_code == 200, r.text
    r = requests.post(s.url + ML + "/registered-models/alias", json={"name": "mon", "alias": "prod", "version": "1"})
    assert r.status_code == 200, r.text
    s.models = models
    yield s
    s.cleanup()


def reference_test(srv):
    d = tempfile.mkdtemp(prefix="tamga-monitoring-")
    ref = os.path.join(d, "ref.csv")
    with open(ref, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["f%d" % i for i in range(16)])
        for row in sample(np.random.default_rng(1), 5000):
            w.writerow([repr(float(v)) for v in row])
    scored = os.path.join(d, "scored.csv")
    p = subprocess.run([srv.binary, "score", os.path.join(srv.models, "mlp"), "--input", ref, "--output", scored],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    p = subprocess.run([srv.binary, "models", "validate", "models:/mon/1", "--inputs", ref, "--expected", scored,
                        "--tracking-uri", srv.url], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr


def test_outliers_flagged_and_drift_detected_only_when_shifted(srv):
    spec = {"name": "mon-dep", "model_name": "mon", "alias": "prod", "target": "local",
            "monitoring": {"outliers": {"max_z": 5}, "drift": {"window_rows": 1000, "event_cooldown_s": 0}}}
    assert requests.post(srv.url + DEPLOY, json=spec).status_code == 200
    r = requests.post(srv.url + "/api/2.0/tamga/triggers", json={
        "name": "retrain-on-drift", "on_drift": "mon-dep", "job": {"queue": "cpu", "command": ["true"]}})
    assert r.status_code == 200, r.text
    assert r.json()["trigger"]["on_drift"] == "mon-dep"
    wait_for(lambda: requests.get(srv.url + "/v2/models/mon-dep/ready").status_code == 200, what="ready")

    # Served before its reference test: not scored, no headers; the test then hands the endpoint its statistics.
    r = infer(srv, "mon-dep", sample(np.random.default_rng(2), 4))
    assert "Tamga-Outliers" not in r.headers
    m = monitoring(srv, "mon-dep")
    assert m["enabled"] and m["variants"][0]["reference_stats"] is False, m
    reference_test(srv)
    wait_for(lambda: monitoring(srv, "mon-dep")["variants"][0]["reference_stats"], what="reference statistics")

    # Planted outliers: row 3 has a 12-sigma feature; row 6 breaks the f0/f1 correlation with small z-scores.
    x = sample(np.random.default_rng(3), 8)
    x[3, 5] = 12
    x[6, 0], x[6, 1] = 2.2, -2.2
    r = infer(srv, "mon-dep", x)
    assert r.headers["Tamga-Outliers"] == "2", r.headers
    assert r.headers["Tamga-Outlier-Rows"] == "3,6", r.headers
    clean = sample(np.random.default_rng(4), 8)
    r = requests.post(srv.url + "/endpoints/mon-dep/invocations", json={"inputs": clean.tolist()})
    assert r.status_code == 200 and r.headers["Tamga-Outliers"] == "0", (r.text, r.headers)

    # An unshifted stream: two full windows, no drift, no firing.
    base = monitoring(srv, "mon-dep")["variants"][0]
    stream = sample(np.random.default_rng(5), 2000 - base["window_fill"])
    for i in range(0, len(stream), 100):
        infer(srv, "mon-dep", stream[i:i + 100])
    v = monitoring(srv, "mon-dep")["variants"][0]
    assert v["windows"] == 2 and v["drifted_windows"] == 0, v
    assert all(not f["drifted"] for f in v["last_window"]["features"]), v["last_window"]
    assert max(f["ks"] for f in v["last_window"]["features"]) < 0.1
    assert requests.get(srv.url + "/api/2.0/tamga/triggers/retrain-on-drift").json()["firings"] == []

    # Shifted by one standard deviation in f2: that window drifts, in f2 only, and the trigger fires.
    shifted = sample(np.random.default_rng(6), 1000, shift=1.0)
    for i in range(0, 1000, 100):
        infer(srv, "mon-dep", shifted[i:i + 100])
    v = monitoring(srv, "mon-dep")["variants"][0]
    assert v["windows"] == 3 and v["drifted_windows"] == 1, v
    drifted = [f["name"] for f in v["last_window"]["features"] if f["drifted"]]
    assert drifted == ["f2"], v["last_window"]
    f2 = next(f for f in v["last_window"]["features"] if f["name"] == "f2")
    assert f2["ks"] > 0.3 and f2["psi"] > 0.2, f2
    assert v["outlier_rows"] >= 2 and v["rows_scored"] == 3000, v

    def fired():
        f = requests.get(srv.url + "/api/2.0/tamga/triggers/retrain-on-drift").json()["firings"]
        return f if f else None
    f = wait_for(fired, what="drift trigger firing")
    assert len(f) == 1 and f[0]["event"] == "drift:v1:f2", f

    metrics = requests.get(srv.url + "/metrics").text
    assert 'tamga_serving_drift_psi{model="mon-dep",version="1",feature="f2"}' in metrics
    assert 'tamga_serving_outlier_rows_total{model="mon-dep",version="1"}' in metrics
    assert 'tamga_serving_drift_windows_total{model="mon-dep",version="1",result="drifted"} 1' in metrics


def test_a_deployment_started_after_the_test_loads_the_statistics(srv):
    spec = {"name": "mon-late", "model_name": "mon", "alias": "prod", "target": "local", "monitoring": {}}
    assert requests.post(srv.url + DEPLOY, json=spec).status_code == 200
    wait_for(lambda: requests.get(srv.url + "/v2/models/mon-late/ready").status_code == 200, what="ready")
    wait_for(lambda: monitoring(srv, "mon-late")["variants"][0]["reference_stats"], what="statistics at load")
    x = sample(np.random.default_rng(7), 2)
    x[1, 9] = -40
    assert infer(srv, "mon-late", x).headers["Tamga-Outlier-Rows"] == "1"
    # Without `monitoring` nothing is scored.
    plain = {"name": "mon-plain", "model_name": "mon", "alias": "prod", "target": "local"}
    assert requests.post(srv.url + DEPLOY, json=plain).status_code == 200
    wait_for(lambda: requests.get(srv.url + "/v2/models/mon-plain/ready").status_code == 200, what="ready")
    assert "Tamga-Outliers" not in infer(srv, "mon-plain", x).headers
    assert monitoring(srv, "mon-plain")["enabled"] is False


@pytest.mark.parametrize("bad", [
    {"outliers": {"max_z": 0}}, {"outliers": {"nope": 1}}, {"drift": {"window_rows": 10}},
    {"drift": {"psi_threshold": "x"}}, {"drift": {"ks_threshold": 2}}, [], "on"])
def test_bad_monitoring_specs_are_refused(srv, bad):
    spec = {"name": "mon-bad", "model_name": "mon", "alias": "prod", "target": "local", "monitoring": bad}
    r = requests.post(srv.url + DEPLOY, json=spec)
    assert r.status_code == 400 and "monitoring" in r.json()["message"], r.text


def test_drift_triggers_need_a_monitored_deployment_and_unknown_ones_are_404(srv):
    job = {"queue": "cpu", "command": ["true"]}
    r = requests.post(srv.url + "/api/2.0/tamga/triggers", json={"name": "t-nope", "on_drift": "nope", "job": job})
    assert r.status_code == 400 and "no deployment named" in r.json()["message"], r.text
    assert requests.post(srv.url + DEPLOY, json={"name": "mon-unwatched", "model_name": "mon", "alias": "prod",
                                                 "target": "local"}).status_code == 200
    r = requests.post(srv.url + "/api/2.0/tamga/triggers", json={"name": "t-unw", "on_drift": "mon-unwatched", "job": job})
    assert r.status_code == 400 and "no 'monitoring'" in r.json()["message"], r.text
    for what in ("monitoring", "payloads"):
        r = requests.get(srv.url + DEPLOY + "/nope/" + what)
        assert r.status_code == 404, (what, r.text)


def test_monitoring_needs_a_local_target(srv):
    spec = {"name": "mon-k8s", "model_name": "mon", "alias": "prod", "monitoring": {}}
    r = requests.post(srv.url + DEPLOY, json=spec)
    assert r.status_code == 400 and "local" in r.json()["message"], r.text
