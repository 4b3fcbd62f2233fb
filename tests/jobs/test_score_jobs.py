"""Retro scoring on the queues (`tamga score --queue`, docs/rollouts.md §5) with a real server and agent.

An XGBoost model made at test time is registered; a past period's CSV is pushed as a dataset version and
tagged. `tamga score models:/churn@prod --input past@march:march.csv --queue cpu` resolves the alias to the
exact version, queues a job that the agent runs with its own tamga binary on the checked-out dataset, and
downloads the scores the job stored on its run: byte-identical to scoring the same file directly. The run
holds the lineage (model version, the input's SHA-256, the dataset version) and rows/s; --detach returns at
once; bad inputs are refused before anything is queued.
"""
import csv
import hashlib
import os
import subprocess
import sys
import time

import numpy as np
import requests

from jobs_cluster import Cluster

HERE = os.path.dirname(__file__)
sys.path.insert(0, os.path.join(HERE, "..", "harness"))
from tamga_harness import upload_model  # noqa: E402

ML = "/api/2.0/mlflow"


def tamga(c, cwd, *args, ok=True):
    e = dict(os.environ, TAMGA_TRACKING_URI=c.url, TAMGA_CACHE_DIR=os.path.join(c.dir, "client-cache"))
    r = subprocess.run([c.binary, *args], cwd=cwd, capture_output=True, text=True, timeout=300, env=e)
    if ok:
        assert r.returncode == 0, (args, r.stdout, r.stderr)
    return r


def test_queued_scoring_reproduces_direct_scoring_with_lineage(request, tmp_path):
    models = tmp_path / "models"
    subprocess.run([sys.executable, os.path.join(HERE, "..", "serving", "make_models.py"), str(models)], check=True)
    c = Cluster(request.config.getoption("--tamga"), request.config.getoption("--fake-nvml"))
    c.start_server()
    try:
        assert requests.post(c.api + "/queues", json={"name": "cpu"}).status_code == 200
        c.start_agent("score-agent", "none")
        run = requests.post(c.url + ML + "/runs/create", json={"experiment_id": "0"}).json()["run"]["info"]["run_id"]
        upload_model(c.url, run, str(models / "xgb"), "model")
        assert requests.post(c.url + ML + "/registered-models/create", json={"name": "churn"}).status_code == 200
        r = requests.post(c.url + ML + "/model-versions/create", json={"name": "churn", "source": f"runs:/{run}/model"})
        assert r.status_code == 200, r.text
        r = requests.post(c.url + ML + "/registered-models/alias", json={"name": "churn", "alias": "prod", "version": "1"})
        assert r.status_code == 200, r.text

        ws = tmp_path / "ws"
        (ws / "past").mkdir(parents=True)
        rng = np.random.default_rng(3)
        march = ws / "past" / "march.csv"
        with open(march, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["customer"] + ["f%d" % i for i in range(8)])
            for i, row in enumerate(rng.normal(size=(20000, 8))):
                w.writerow(["c%d" % i] + [repr(float(v)) for v in row])
        tamga(c, str(ws), "data", "add", "past")
        tamga(c, str(ws), "data", "push")
        tamga(c, str(ws), "data", "tag", "past@1", "march")

        out = tmp_path / "queued.csv"
        p = tamga(c, str(tmp_path), "score", "models:/churn@prod", "--input", "past@march:march.csv",
                  "--output", str(out), "--queue", "cpu")
        assert "scored 20000 rows with models:/churn/1 on the queue cpu" in p.stdout, p.stdout + p.stderr
        direct = tmp_path / "direct.csv"
        tamga(c, str(tmp_path), "score", str(models / "xgb"), "--input", str(march), "--output", str(direct))
        assert out.read_bytes() == direct.read_bytes()
        with open(out) as f:
            header = next(csv.reader(f))
        assert header[0] == "customer" and header[-1].startswith("output"), header

        # Lineage on the job's run: the exact model version, the input's digest, the dataset version, rows/s.
        job = c.job(p.stdout.split("submitted scoring job ")[1].split()[0])
        run = requests.get(c.url + ML + "/runs/get", params={"run_id": job["run_id"]}).json()["run"]
        tags = {t["key"]: t["value"] for t in run["data"]["tags"]}
        assert tags["tamga.score.model_version"] == "models:/churn/1"
        assert tags["tamga.score.input_sha256"] == hashlib.sha256(march.read_bytes()).hexdigest()
        metrics = {m["key"]: m["value"] for m in run["data"]["metrics"]}
        assert metrics["rows"] == 20000 and metrics["rows_per_second"] > 0
        inputs = run.get("inputs", {}).get("dataset_inputs", [])
        assert any(d["dataset"]["name"] == "past" for d in inputs), run.get("inputs")
        arts = requests.get(c.url + ML + "/artifacts/list", params={"run_id": job["run_id"], "path": "scores"}).json()
        assert [f["path"] for f in arts["files"]] == ["scores/scores-march.csv"], arts

        # Detached: the job id at once; it finishes on its own.
        p = tamga(c, str(tmp_path), "score", "models:/churn/1", "--input", "past@march", "--output",
                  str(tmp_path / "never.csv"), "--queue", "cpu", "--detach")
        job_id = p.stdout.split("submitted scoring job ")[1].split()[0]
        deadline = time.time() + 120
        while c.job(job_id)["state"] not in ("succeeded", "failed") and time.time() < deadline:
            time.sleep(0.3)
        assert c.job(job_id)["state"] == "succeeded", c.logs(job_id)
        assert not (tmp_path / "never.csv").exists()

        # Refused before anything is queued.
        for args, why in ((["--input", str(march)], "local file"),
                          (["--input", "past@march:../x.csv"], "relative path inside the dataset"),
                          (["--input", "past"], "names a dataset version"),
                          (["--input", "past@march:"], "is empty")):
            p = tamga(c, str(tmp_path), "score", "models:/churn/1", *args, "--output", str(tmp_path / "x.csv"),
                      "--queue", "cpu", ok=False)
            assert p.returncode == 2 and why in p.stderr, (args, p.stderr)
        p = tamga(c, str(tmp_path), "score", "models:/churn/1", "--input", "past@nope", "--output",
                  str(tmp_path / "x.csv"), "--queue", "cpu", ok=False)
        assert p.returncode == 1 and "nope" in p.stderr, p.stderr  # refused before queueing
        p = tamga(c, str(tmp_path), "score", "models:/churn/9", "--input", "past@march", "--output",
                  str(tmp_path / "x.csv"), "--queue", "cpu", ok=False)
        assert p.returncode == 1 and "9" in p.stderr, p.stderr
    finally:
        c.stop()
