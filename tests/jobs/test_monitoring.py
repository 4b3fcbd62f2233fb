"""Server job metrics, and the shipped Grafana dashboard and Prometheus rules (deploy/monitoring/).

A real server with two agents (one with two GPUs from the fake libnvidia-ml) runs jobs; the server's /metrics
must show queue depth and oldest wait per queue, jobs and agents by state, leases and finished jobs. Then every
metric the dashboard and the alert rules name must be exported by a Tamga process: the server, an agent holding
a GPU for a job, and `tamga serve` after an inference.
"""
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time

import numpy as np
import requests
import yaml

from jobs_cluster import GIB, parse_metrics

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MONITORING = os.path.join(ROOT, "deploy", "monitoring")


def server_metrics(c):
    r = requests.get(c.url + "/metrics", timeout=5)
    assert r.status_code == 200
    return r.text


def names_in(exposition):
    """Sample names (with _bucket/_sum/_count) and family names of a Prometheus text exposition."""
    out = set()
    for line in exposition.splitlines():
        if line.startswith("# TYPE ") or line.startswith("# HELP "):
            out.add(line.split()[2])
        elif line and not line.startswith("#"):
            out.add(re.split(r"[{ ]", line, 1)[0])
    return out


def promql_names(expr):
    return set(re.findall(r"\b((?:tamga|DCGM)_[A-Za-z0-9_]+)", expr))


def test_job_metrics_on_the_server(cluster):
    c = cluster
    assert requests.post(c.api + "/queues", json={"name": "nobody-serves-this"}).status_code == 200
    waiting = c.submit({"queue": "nobody-serves-this", "command": ["true"]})
    done = c.submit({"queue": "cpu", "command": ["true"]})
    failed = c.submit({"queue": "cpu", "command": ["sh", "-c", "exit 3"]})
    c.wait([done, failed])
    time.sleep(1.1)
    m = parse_metrics(server_metrics(c))
    assert m['tamga_job_queue_depth{queue="nobody-serves-this"}'] == 1
    assert m['tamga_job_queue_oldest_wait_seconds{queue="nobody-serves-this"}'] >= 1.0
    assert m['tamga_jobs{queue="nobody-serves-this",state="queued"}'] == 1
    assert m['tamga_job_queue_depth{queue="cpu"}'] == 0
    assert m['tamga_job_queue_oldest_wait_seconds{queue="cpu"}'] == 0
    assert m['tamga_jobs{queue="cpu",state="running"}'] == 0
    assert m['tamga_job_leases_total{queue="cpu"}'] >= 2
    assert m['tamga_jobs_finished_total{queue="cpu",state="succeeded"}'] >= 1
    assert m['tamga_jobs_finished_total{queue="cpu",state="failed"}'] >= 1
    assert m['tamga_job_queue_wait_seconds_count{queue="cpu"}'] >= 2
    assert m['tamga_agents{state="live"}'] == 2 and m['tamga_agents{state="lost"}'] == 0
    requests.post(c.api + "/jobs/%s/abort" % waiting)
    c.wait([waiting])
    m = parse_metrics(server_metrics(c))
    assert m['tamga_job_queue_depth{queue="nobody-serves-this"}'] == 0
    assert m['tamga_jobs_finished_total{queue="nobody-serves-this",state="aborted"}'] == 1


def make_xgb_model(d):
    import xgboost as xgb
    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, 3)).astype(np.float32)
    b = xgb.train({"objective": "reg:squarederror"}, xgb.DMatrix(x, label=x[:, 0]), num_boost_round=3)
    b.save_model(os.path.join(d, "model.xgb"))
    with open(os.path.join(d, "MLmodel"), "w") as f:
        f.write("flavors:\n  xgboost:\n    data: model.xgb\n    model_format: xgb\n")


def serve_metrics(binary):
    d = tempfile.mkdtemp(prefix="tamga-mon-")
    model = os.path.join(d, "m")
    os.makedirs(model)
    make_xgb_model(model)
    port_file = os.path.join(d, "port")
    p = subprocess.Popen([binary, "serve", model, "--port", "0", "--grpc-port", "-1", "--port-file", port_file],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 30
        url = None
        while time.time() < deadline:
            if os.path.exists(port_file) and open(port_file).read().strip():
                url = "http://127.0.0.1:" + open(port_file).read().strip()
                try:
                    if requests.get(url + "/v2/health/ready", timeout=1).status_code == 200:
                        break
                except requests.RequestException:
                    pass
            time.sleep(0.1)
        r = requests.post(url + "/v2/models/m/infer", json={"inputs": [
            {"name": "input-0", "datatype": "FP32", "shape": [1, 3], "data": [0.1, 0.2, 0.3]}]})
        assert r.status_code == 200, r.text
        return requests.get(url + "/metrics").text
    finally:
        p.terminate()
        p.wait(timeout=30)


def test_dashboard_and_rules_name_only_exported_metrics(cluster, request):
    c = cluster
    # An agent holding a GPU for a job: the per-job GPU series exist only then.
    job_id = c.submit({"queue": "gpu", "resources": {"gpus": 1}, "command": ["sh", "-c", "echo pid=$$; exec sleep 60"]})
    j = c.wait_state(job_id, {"running"})
    deadline = time.time() + 10
    while "pid=" not in c.logs(job_id) and time.time() < deadline:
        time.sleep(0.1)
    pid = int(c.logs(job_id).split("pid=")[1].split()[0])
    with open(c.nvml_config) as f:
        original = f.read()
    script = json.loads(original)
    for g in script["gpus"]:
        g["power_limit_mw"] = 300000  # a driver that reports the limit (the cluster's default does not)
        if g["uuid"] == j["gpu_uuids"][0]:
            g["used"], g["processes"] = 2 * GIB, [{"pid": pid, "used": 2 * GIB}]
    try:
        with open(c.nvml_config + ".tmp", "w") as f:
            json.dump(script, f)
        os.rename(c.nvml_config + ".tmp", c.nvml_config)
        time.sleep(1.2)
        port = int(open(os.path.join(c.dir, "gpu-box.metrics-port")).read())
        agent = requests.get("http://127.0.0.1:%d/metrics" % port).text
    finally:
        with open(c.nvml_config + ".tmp", "w") as f:
            f.write(original)
        os.rename(c.nvml_config + ".tmp", c.nvml_config)
        requests.post(c.api + "/jobs/%s/abort" % job_id)
    exported = names_in(server_metrics(c)) | names_in(agent) | names_in(serve_metrics(c.binary))

    dashboard = json.load(open(os.path.join(MONITORING, "grafana-dashboard.json")))
    used = {}
    ids = set()
    for p in dashboard["panels"]:
        assert p["id"] not in ids, "panel ids are unique"
        ids.add(p["id"])
        for t in p.get("targets", []):
            assert t["expr"].count("(") == t["expr"].count(")"), t["expr"]
            for n in promql_names(t["expr"]):
                used.setdefault(n, []).append("dashboard: " + p["title"])
    rules = yaml.safe_load(open(os.path.join(MONITORING, "prometheus-rules.yaml")))
    alerts = set()
    for g in rules["groups"]:
        for r in g["rules"]:
            assert set(r) <= {"alert", "expr", "for", "labels", "annotations"}, r
            assert r["alert"] not in alerts and r["labels"]["severity"] in ("info", "warning", "critical")
            assert r["annotations"]["summary"]
            alerts.add(r["alert"])
            assert r["expr"].count("(") == r["expr"].count(")"), r["expr"]
            for n in promql_names(r["expr"]):
                used.setdefault(n, []).append("rule: " + r["alert"])
    missing = {n: where for n, where in used.items() if n not in exported}
    assert not missing, "named but not exported: %s" % missing
    # What a dashboard for jobs needs is there.
    for n in ("tamga_job_queue_depth", "tamga_job_queue_oldest_wait_seconds", "tamga_jobs", "tamga_agents",
              "tamga_job_leases_total", "DCGM_FI_DEV_GPU_UTIL", "tamga_serving_requests_total"):
        assert n in used, n
    assert len(alerts) >= 15


def test_a_cleanly_stopped_agent_is_not_counted_lost(cluster):
    c = cluster
    c.start_agent("short-lived", "none")
    deadline = time.time() + 20
    names = lambda: {a["report"]["name"]: a["live"] for a in requests.get(c.api + "/agents").json()["agents"]}
    while names().get("short-lived") is not True:
        assert time.time() < deadline, c.log("short-lived")
        time.sleep(0.1)
    p = c.agents.pop("short-lived")
    p.terminate()
    p.wait(timeout=60)
    assert "short-lived" not in names(), names()
    m = parse_metrics(server_metrics(c))
    assert m['tamga_agents{state="lost"}'] == 0 and m['tamga_agents{state="live"}'] == 2
