"""Jobs with auth on, end to end: an agent with an agent token serves a queue; a user with EDIT on the queue and
the experiment submits a job; the job logs to its run as its submitter with the token the lease handed the agent
(MLFLOW_TRACKING_TOKEN), and that token is revoked when the job ends. An agent without a token gets nothing."""
import os
import signal
import subprocess
import time

import requests

from tamga_harness import TamgaServer

ADMIN = ("admin", "admin-pass-1234")
TG = "/api/2.0/tamga"

# The job: log a metric to its own run over REST with the token it was given (what the mlflow client does with
# MLFLOW_TRACKING_TOKEN), then print the token's user.
JOB = r"""
import json, os, urllib.request
base, run, tok = os.environ["MLFLOW_TRACKING_URI"], os.environ["MLFLOW_RUN_ID"], os.environ["MLFLOW_TRACKING_TOKEN"]
def call(path, body=None):
    req = urllib.request.Request(base + path, data=json.dumps(body).encode() if body else None,
                                 headers={"Authorization": "Bearer " + tok, "Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(req))
call("/api/2.0/mlflow/runs/log-metric", {"run_id": run, "key": "acc", "value": 0.93, "timestamp": 1, "step": 0})
print("job ran as", call("/api/2.0/tamga/whoami")["username"])
"""


def wait_state(s, auth, job_id, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        j = requests.get(s.url + TG + "/jobs/" + job_id, auth=auth, timeout=10).json()["job"]
        if j["state"] in ("succeeded", "failed", "aborted", "lost"):
            return j
        time.sleep(0.2)
    raise AssertionError("job did not finish: %s" % j)


def test_jobs_run_as_their_submitter(tamga_bin, tmp_path):
    s = TamgaServer(tamga_bin, extra_args=["--auth", "on"], env={"TAMGA_ADMIN_PASSWORD": ADMIN[1]}).start()
    agents = []
    try:
        def post(path, body, auth=ADMIN, method="POST"):
            return requests.request(method, s.url + path, json=body, auth=auth, timeout=30)

        assert post(TG + "/queues", {"name": "cpu"}).status_code == 200
        assert post("/api/2.0/mlflow/users/create", {"username": "ana", "password": "ana-pass-1234"}).status_code == 200
        ana = ("ana", "ana-pass-1234")
        exp = post("/api/2.0/mlflow/experiments/create", {"name": "ana-jobs"}, auth=ana).json()["experiment_id"]
        job = {"queue": "cpu", "command": ["python3", "-c", JOB], "experiment_id": exp,
               "tags": {"tamga.owner": "admin"}}  # a client cannot claim another owner
        assert post(TG + "/jobs", job, auth=ana).status_code == 403  # no EDIT on the queue yet
        assert post(TG + "/permissions", {"object_kind": "queue", "object_id": "cpu", "user": "ana",
                                          "permission": "EDIT"}, method="PUT").status_code == 200
        assert post(TG + "/jobs", dict(job, experiment_id="0"), auth=ana).status_code == 403  # Default: READ only
        agent_token = post(TG + "/tokens", {"name": "node", "role": "agent", "queues": ["cpu"]}).json()["token"]

        def agent(name, token):
            env = {k: v for k, v in os.environ.items() if not k.startswith(("TAMGA_", "MLFLOW_"))}
            args = [tamga_bin, "agent", "--tracking-uri", s.url, "--queue", "cpu", "--name", name, "--gpus", "none",
                    "--work-dir", str(tmp_path / name), "--heartbeat-ms", "300", "--metrics-port", "0"]
            if token:
                args += ["--token", token]
            log = open(tmp_path / (name + ".log"), "wb")
            agents.append(subprocess.Popen(args, stdout=log, stderr=log, env=env))

        agent("no-token", "")
        time.sleep(1.5)
        assert agents[0].poll() is not None or "UNAUTHENTICATED" in (tmp_path / "no-token.log").read_text() \
            or "401" in (tmp_path / "no-token.log").read_text(), (tmp_path / "no-token.log").read_text()
        agent("node", agent_token)
        r = post(TG + "/jobs", job, auth=ana)
        assert r.status_code == 200, r.text
        j = r.json()["job"]
        assert j["spec"]["tags"]["tamga.owner"] == "ana"
        done = wait_state(s, ana, j["id"])
        logs = requests.get(s.url + TG + "/jobs/" + j["id"] + "/logs", auth=ana, timeout=10).text
        assert done["state"] == "succeeded", (done, logs)
        assert "job ran as ana" in logs
        hist = requests.get(s.url + "/api/2.0/mlflow/metrics/get-history", auth=ana, timeout=10,
                            params={"run_id": done["run_id"], "metric_key": "acc"}).json()
        assert [m["value"] for m in hist["metrics"]] == [0.93]
        tokens = requests.get(s.url + TG + "/tokens", auth=ana, timeout=10).json()["tokens"]
        assert not [t for t in tokens if t["name"].startswith("job:")], tokens  # revoked at the end
        # Aborting: the submitter or a MANAGE holder on the queue, nobody else.
        assert post("/api/2.0/mlflow/users/create", {"username": "ben", "password": "ben-pass-1234"}).status_code == 200
        ben = ("ben", "ben-pass-1234")
        post(TG + "/permissions", {"object_kind": "queue", "object_id": "cpu", "user": "ben", "permission": "EDIT"},
             method="PUT")
        post(TG + "/permissions", {"object_kind": "experiment", "object_id": exp, "user": "ben", "permission": "EDIT"},
             method="PUT")
        sleeper = dict(job, command=["sleep", "30"])
        mine = post(TG + "/jobs", sleeper, auth=ana).json()["job"]["id"]
        assert post(TG + "/jobs/" + mine + "/abort", {}, auth=ben).status_code == 403
        assert post(TG + "/jobs/" + mine + "/abort", {}, auth=ana).status_code == 200
        other = post(TG + "/jobs", sleeper, auth=ben).json()["job"]["id"]
        post(TG + "/permissions", {"object_kind": "queue", "object_id": "cpu", "user": "ana", "permission": "MANAGE"},
             method="PUT")
        assert post(TG + "/jobs/" + other + "/abort", {}, auth=ana).status_code == 200
    finally:
        for p in agents:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                p.wait(timeout=20)
        s.cleanup()
