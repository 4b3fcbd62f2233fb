"""Retraining triggers end to end (docs/data.md): a dataset tag moving queues the trigger's job with that exact
version on a real agent, the run's model is registered as a new version; each move fires exactly once, also when
the server is killed right after the move and restarted; schedules and manual firings; bad triggers refused."""
import json
import os
import subprocess
import time

import pytest
import requests

from jobs_cluster import Cluster

SCRIPT = ("import os, requests; u = os.environ['MLFLOW_TRACKING_URI']; r = os.environ['MLFLOW_RUN_ID']; "
          "print('trained on', os.environ['WHICH'], os.environ['TAMGA_DATA_FEAT_VERSION']); "
          "requests.put(u + '/api/2.0/mlflow-artifacts/artifacts/0/' + r + '/artifacts/model/MLmodel', "
          "data=b'flavors: {}\\n').raise_for_status()")


def tamga(c, cwd, *args, ok=True):
    e = dict(os.environ, TAMGA_TRACKING_URI=c.url, TAMGA_CACHE_DIR=os.path.join(c.dir, "client-cache"))
    r = subprocess.run([c.binary, *args], cwd=cwd, capture_output=True, text=True, timeout=120, env=e)
    if ok:
        assert r.returncode == 0, (args, r.stdout, r.stderr)
    return r


def firings(c, name):
    return requests.get(c.api + "/triggers/" + name).json()["firings"]


def wait_firings(c, name, pred, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        f = firings(c, name)
        if pred(f):
            return f
        time.sleep(0.3)
    raise AssertionError(json.dumps(firings(c, name), indent=1) + c.log("server")[-3000:])


def test_tag_moves_fire_exactly_once_and_register_models(request, tmp_path):
    c = Cluster(request.config.getoption("--tamga"), request.config.getoption("--fake-nvml"))
    c.start_server()
    try:
        assert requests.post(c.api + "/queues", json={"name": "cpu"}).status_code == 200
        c.start_agent("trig-agent", "none")
        ws = tmp_path / "ws"
        (ws / "feat").mkdir(parents=True)
        (ws / "feat" / "a.csv").write_text("a\n1\n")
        tamga(c, str(ws), "data", "add", "feat")
        tamga(c, str(ws), "data", "push")
        tamga(c, str(ws), "triggers", "create", "retrain", "--on-dataset", "feat@prod", "--queue", "cpu",
              "--register-model", "fm", "--env", "WHICH={ref}", "--", "/usr/bin/python3", "-c", SCRIPT)
        assert firings(c, "retrain") == []

        tamga(c, str(ws), "data", "tag", "feat@1", "prod")
        f = wait_firings(c, "retrain", lambda f: f and f[0]["state"] in ("registered", "failed"))
        assert len(f) == 1 and f[0]["event"] == "feat@v1" and f[0]["state"] == "registered", f
        assert f[0]["model_version"] == "fm/1"
        assert "trained on feat@v1 feat@v1" in c.logs(f[0]["job_id"])
        mv = requests.get(c.url + "/api/2.0/mlflow/model-versions/get", params={"name": "fm", "version": "1"}).json()
        assert mv["model_version"]["run_id"] == f[0]["run_id"]

        # The same version again is no move; a new version tagged is one firing.
        tamga(c, str(ws), "data", "tag", "feat@1", "prod")
        (ws / "feat" / "a.csv").write_text("a\n2\n")
        tamga(c, str(ws), "data", "add", "feat")
        tamga(c, str(ws), "data", "push", "--tag", "prod")
        # Killed right after the move, before (or while) the trigger fires: it fires once after the restart.
        c.server.kill()
        c.server.wait()
        c.start_server()
        f = wait_firings(c, "retrain", lambda f: len(f) == 2 and f[0]["state"] in ("registered", "failed"))
        assert f[0]["event"] == "feat@v2" and f[0]["model_version"] == "fm/2", f
        c.server.terminate()
        c.server.wait()
        c.start_server()
        time.sleep(2.5)
        assert len(firings(c, "retrain")) == 2

        # Manual firing: the version the tag names now.
        r = tamga(c, str(ws), "triggers", "fire", "retrain")
        assert "fired retrain" in r.stdout
        f = wait_firings(c, "retrain", lambda f: len(f) == 3 and f[0]["state"] == "registered")
        assert f[0]["event"] == "manual:feat@v2"
        # A job that saves no model: the firing fails saying so, nothing is registered.
        tamga(c, str(ws), "triggers", "create", "nomodel", "--on-dataset", "feat@prod", "--queue", "cpu",
              "--register-model", "fm", "--", "true")
        tamga(c, str(ws), "triggers", "fire", "nomodel")
        f = wait_firings(c, "nomodel", lambda f: f and f[0]["state"] in ("registered", "failed"))
        assert f[0]["state"] == "failed" and "saved no model" in f[0]["reason"], f
        assert requests.get(c.url + "/api/2.0/mlflow/model-versions/get", params={"name": "fm", "version": "4"}).status_code == 404
        listed = tamga(c, str(ws), "triggers", "ls").stdout
        assert "retrain" in listed and "feat@prod" in listed

        # A schedule is armed for its next tick; bad triggers are refused with the reason.
        r = requests.post(c.api + "/triggers", json={"name": "nightly", "schedule": "0 3 * * *",
                                                      "job": {"queue": "cpu", "command": ["true"]}})
        assert r.status_code == 200 and r.json()["trigger"]["next_fire_timestamp"] > time.time() * 1000
        bad = [{"name": "x", "schedule": "61 * * * *", "job": {"queue": "cpu", "command": ["true"]}},
               {"name": "x", "schedule": "* * * * *", "on_dataset": "feat@prod", "job": {"queue": "cpu", "command": ["true"]}},
               {"name": "x", "on_dataset": "feat@3", "job": {"queue": "cpu", "command": ["true"]}},
               {"name": "x", "on_dataset": "feat@prod", "job": {"queue": "cpu"}},
               {"name": "../x", "on_dataset": "feat@prod", "job": {"queue": "cpu", "command": ["true"]}},
               {"name": "x", "on_dataset": "feat@prod"}]
        for b in bad:
            r = requests.post(c.api + "/triggers", json=b)
            assert r.status_code == 400, (b, r.text)
        assert requests.post(c.api + "/triggers", json={"name": "retrain", "on_dataset": "feat@prod",
                                                        "job": {"queue": "cpu", "command": ["true"]}}).status_code == 400
        assert requests.get(c.api + "/triggers/nope").status_code == 404
        assert requests.delete(c.api + "/triggers/nightly").status_code == 200
        assert requests.delete(c.api + "/triggers/nightly").status_code == 404
    finally:
        c.stop()
