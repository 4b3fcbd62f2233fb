"""Lineage end to end (docs/data.md): a dataset pushed with `tamga data`, a job submitted from a git checkout
with `--data train@TAG` on a real agent, the model registered from its run; `tamga lineage` answers with the
exact data digest, commit, diff digest, package lock and job, and the reverse; `tamga reproduce` queues the job
again with the same data versions even after the tag moved; mlflow's log_input with a tamga-data:// source is
linked the same way."""
import hashlib
import json
import os
import subprocess
import time

import pytest
import requests

from jobs_cluster import Cluster
from test_job_code import git

ML = "/api/2.0/mlflow"


@pytest.fixture(scope="module")
def lc(request):
    c = Cluster(request.config.getoption("--tamga"), request.config.getoption("--fake-nvml"))
    c.start_server()
    assert requests.post(c.api + "/queues", json={"name": "cpu"}).status_code == 200
    c.start_agent("lineage-agent", "none")
    deadline = time.time() + 20
    while not any(a["live"] for a in requests.get(c.api + "/agents").json()["agents"]):
        assert time.time() < deadline, c.log("lineage-agent")
        time.sleep(0.1)
    yield c
    c.stop()


def tamga(c, cwd, *args, env=None):
    e = dict(os.environ, TAMGA_TRACKING_URI=c.url, TAMGA_CACHE_DIR=os.path.join(c.dir, "client-cache"))
    r = subprocess.run([c.binary, *args], cwd=cwd, capture_output=True, text=True, timeout=120, env=e)
    assert r.returncode == 0, (args, r.stdout, r.stderr)
    return r.stdout


def finished(c, job_id):
    j = c.wait([job_id])[job_id]
    assert j["state"] == "succeeded", (j, c.logs(job_id), c.log("lineage-agent")[-2000:])
    return j


def test_model_lineage_names_data_code_environment_and_job_and_reproduce_repeats_it(lc, tmp_path):
    c = lc
    # The data, pushed and tagged.
    ws = tmp_path / "ws"
    (ws / "train").mkdir(parents=True)
    for i in range(5):
        (ws / "train" / f"part{i}.csv").write_text("x,y\n" + "\n".join(f"{i},{j}" for j in range(50)) + "\n")
    tamga(c, str(ws), "data", "add", "train")
    tamga(c, str(ws), "data", "push", "--tag", "2026-11")
    v1 = json.loads((ws / "train.tamga").read_text())

    # The code: a checkout with a pushed commit, a lock file and an uncommitted change.
    remote = str(tmp_path / "remote.git")
    git(str(tmp_path), "init", "--bare", "-q", remote)
    work = str(tmp_path / "work")
    git(str(tmp_path), "clone", "-q", remote, work)
    with open(work + "/train.sh", "w") as f:
        f.write('echo "data at $TAMGA_DATA_TRAIN ($TAMGA_DATA_TRAIN_VERSION)"\n'
                'cd "$TAMGA_DATA_TRAIN" && cat part*.csv | sha256sum\n')
    with open(work + "/requirements.txt", "w") as f:
        f.write("numpy==1.24.2\n")
    git(work, "add", ".")
    git(work, "commit", "-qm", "train")
    git(work, "push", "-q", "origin", "HEAD")
    commit = git(work, "rev-parse", "HEAD")
    with open(work + "/train.sh", "a") as f:
        f.write("echo uncommitted\n")

    out = tamga(c, work, "jobs", "submit", "--tracking-uri", c.url, "--queue", "cpu", "--data", "train@2026-11",
                "--", "sh", "train.sh")
    job_id = out.strip().splitlines()[-1]
    j = finished(c, job_id)
    logs = c.logs(job_id)
    expected = hashlib.sha256(b"".join((ws / "train" / f"part{i}.csv").read_bytes() for i in range(5))).hexdigest()
    assert "train@v1" in logs and expected in logs and "uncommitted" in logs, logs
    run_id = j["run_id"]

    # The run shows the dataset as an MLflow input (the mlflow client and UI see it too).
    run = requests.get(c.url + ML + "/runs/get", params={"run_id": run_id}).json()["run"]
    ds = run["inputs"]["dataset_inputs"][0]["dataset"]
    assert ds["name"] == "train" and ds["digest"] == v1["manifest"][:36] and ds["source_type"] == "tamga"
    tags = {t["key"]: t["value"] for t in run["data"]["tags"]}

    # A model registered from the run, with an alias.
    requests.post(c.url + ML + "/registered-models/create", json={"name": "m"})
    mv = requests.post(c.url + ML + "/model-versions/create",
                       json={"name": "m", "source": f"runs:/{run_id}/model", "run_id": run_id}).json()
    assert mv["model_version"]["version"] == "1", mv
    requests.post(c.url + ML + "/registered-models/alias", json={"name": "m", "alias": "prod", "version": "1"})

    lin = json.loads(tamga(c, work, "lineage", "models:/m@prod", "--json"))
    assert lin["model_version"]["version"] == "1" and lin["run"]["info"]["run_id"] == run_id
    d = lin["datasets"][0]
    assert d["uri"] == "tamga-data://train@v1" and d["manifest"] == v1["manifest"] and d["file_count"] == 5
    assert lin["code"]["commit"] == commit and lin["code"]["dirty"] == "true"
    assert lin["code"]["diff_sha256"] == tags["tamga.git.diff_sha256"]
    assert lin["environment"]["lockfile"] == "requirements.txt"
    assert lin["environment"]["lockfile_sha256"] == hashlib.sha256(b"numpy==1.24.2\n").hexdigest()
    assert lin["environment"]["os"] and lin["job"]["id"] == job_id
    human = tamga(c, work, "lineage", "models:/m@prod")
    assert "tamga-data://train@v1" in human and commit in human and job_id in human, human

    # The reverse: what train@v1 fed.
    rev = json.loads(tamga(c, work, "lineage", "train@v1", "--json"))
    assert [r["run_id"] for r in rev["runs"]] == [run_id]
    assert [(m["name"], m["version"]) for m in rev["model_versions"]] == [("m", "1")]

    # The tag moves to new data; reproduce still uses v1.
    (ws / "train" / "part0.csv").write_text("changed\n")
    tamga(c, str(ws), "data", "add", "train")
    tamga(c, str(ws), "data", "push", "--tag", "2026-11")
    spec = json.loads(tamga(c, work, "reproduce", "models:/m@prod", "--dry-run"))
    assert spec["data"] == [{"ref": "train@v1", "path": "data/train"}] and spec["git_commit"] == commit
    out = tamga(c, work, "reproduce", "models:/m@prod")
    job2 = out.strip().splitlines()[-1]
    j2 = finished(c, job2)
    assert expected in c.logs(job2) and "uncommitted" in c.logs(job2)
    lin2 = json.loads(tamga(c, work, "lineage", "runs:/" + j2["run_id"], "--json"))
    assert lin2["datasets"][0]["manifest"] == v1["manifest"] and lin2["code"]["commit"] == commit
    assert lin2["environment"]["lockfile_sha256"] == lin["environment"]["lockfile_sha256"]
    t2 = {t["key"]: t["value"] for t in lin2["run"]["data"]["tags"]}
    assert t2["tamga.reproduces.job"] == job_id


def test_log_input_with_a_tamga_uri_links_the_run(lc, tmp_path):
    c = lc
    ws = tmp_path / "ws"
    (ws / "eval").mkdir(parents=True)
    (ws / "eval" / "a.csv").write_text("a\n1\n")
    tamga(c, str(ws), "data", "add", "eval")
    tamga(c, str(ws), "data", "push", "--tag", "gold")
    run_id = requests.post(c.url + ML + "/runs/create", json={"experiment_id": "0"}).json()["run"]["info"]["run_id"]
    # What mlflow.log_input sends for a dataset whose source is a Tamga URI (any source shape that carries it).
    r = requests.post(c.url + ML + "/runs/log-inputs", json={"run_id": run_id, "datasets": [{
        "dataset": {"name": "eval", "digest": "abc", "source_type": "http",
                    "source": json.dumps({"url": "tamga-data://eval@gold"})},
        "tags": [{"key": "mlflow.data.context", "value": "eval"}]}]})
    assert r.status_code == 200, r.text
    lin = requests.get(c.api + "/lineage", params={"uri": "runs:/" + run_id}).json()
    assert lin["datasets"][0]["uri"] == "tamga-data://eval@v1" and lin["datasets"][0]["context"] == "eval"
    rev = requests.get(c.api + "/lineage", params={"uri": "tamga-data://eval@gold"}).json()
    assert rev["runs"][0]["run_id"] == run_id
    # Unknown names and bad URIs: clear errors, never 500.
    assert requests.get(c.api + "/lineage", params={"uri": "models:/nope@x"}).status_code == 404
    assert requests.get(c.api + "/lineage", params={"uri": "nope@v1"}).status_code == 404
    assert requests.get(c.api + "/lineage", params={"uri": "runs:/"}).status_code == 400
    assert requests.get(c.api + "/lineage", params={"uri": "a b c"}).status_code == 400


class Consumer:
    """An OpenLineage HTTP consumer (as Marquez's /api/v1/lineage): keeps every event it is sent."""

    def __init__(self):
        import http.server
        import threading
        events = self.events = []

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                events.append((self.path, self.headers.get("Authorization"), json.loads(body)))
                self.send_response(201)
                self.end_headers()

            def log_message(self, *a):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = "http://127.0.0.1:%d/api/v1/lineage" % self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def wait(self, pred, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            got = [e for _, _, e in self.events if pred(e)]
            if got:
                return got
            time.sleep(0.1)
        raise AssertionError("no such event; got %s" % [e["eventType"] for _, _, e in self.events])


def test_openlineage_run_events_carry_inputs_and_output_model_versions(request, tmp_path):
    import re
    consumer = Consumer()
    c = Cluster(request.config.getoption("--tamga"), request.config.getoption("--fake-nvml"))
    c.start_server(extra=["--openlineage-url", consumer.url, "--openlineage-api-key", "ol-secret-key"])
    try:
        assert requests.post(c.api + "/queues", json={"name": "cpu"}).status_code == 200
        c.start_agent("ol-agent", "none")
        ws = tmp_path / "ws"
        (ws / "feat").mkdir(parents=True)
        (ws / "feat" / "x.csv").write_text("x\n1\n")
        tamga(c, str(ws), "data", "add", "feat")
        tamga(c, str(ws), "data", "push")
        manifest = json.loads((ws / "feat.tamga").read_text())["manifest"]
        register = ("import os, requests; u = os.environ['MLFLOW_TRACKING_URI'] + '/api/2.0/mlflow'; "
                    "r = os.environ['MLFLOW_RUN_ID']; requests.post(u + '/registered-models/create', json={'name': 'olm'}); "
                    "requests.post(u + '/model-versions/create', json={'name': 'olm', 'source': 'runs:/' + r + '/model', "
                    "'run_id': r}).raise_for_status()")
        out = tamga(c, str(ws), "jobs", "submit", "--tracking-uri", c.url, "--queue", "cpu", "--code", "none",
                    "--run-name", "train-olm", "--data", "feat", "--", "/usr/bin/python3", "-c", register)
        job = out.strip().splitlines()[-1]
        j = c.wait([job])[job]
        assert j["state"] == "succeeded", (j, c.logs(job))
        uuid = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
        start = consumer.wait(lambda e: e["eventType"] == "START" and e["run"]["facets"]["tamga_run"]["jobId"] == job)[0]
        done = consumer.wait(lambda e: e["eventType"] == "COMPLETE" and e["run"]["facets"]["tamga_run"]["jobId"] == job)[0]
        for e in (start, done):
            assert e["schemaURL"].startswith("https://openlineage.io/spec/2-0-2/OpenLineage.json")
            assert e["producer"].startswith("https://") and re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", e["eventTime"])
            assert uuid.match(e["run"]["runId"]) and e["run"]["runId"].replace("-", "") == j["run_id"]
            assert e["job"] == {**e["job"], "namespace": "tamga", "name": "cpu.train-olm"}
            assert e["inputs"][0]["name"] == "feat@v1"
            assert e["inputs"][0]["facets"]["tamga_dataset"]["manifestSha256"] == manifest
        assert start["outputs"] == []
        assert [(o["name"], o["namespace"].startswith("models://")) for o in done["outputs"]] == [("olm/1", True)]
        assert all(auth == "Bearer ol-secret-key" for _, auth, _ in consumer.events)

        out = tamga(c, str(ws), "jobs", "submit", "--tracking-uri", c.url, "--queue", "cpu", "--code", "none", "--",
                    "sh", "-c", "exit 3")
        bad = out.strip().splitlines()[-1]
        assert c.wait([bad])[bad]["state"] == "failed"
        fail = consumer.wait(lambda e: e["eventType"] == "FAIL" and e["run"]["facets"]["tamga_run"]["jobId"] == bad)[0]
        assert "exit code 3" in fail["run"]["facets"]["errorMessage"]["message"]
        assert "ol-secret-key" not in c.log("server")
    finally:
        c.stop()
        consumer.httpd.shutdown()
