"""A store that already holds ill-formed UTF-8 (written by an older Tamga, by hand, or by a tool) must still
open, and every read path must serve those records as valid JSON (bad bytes become U+FFFD), never a 500 or
a crash. The bytes are planted directly in SQLite and on disk while the server is stopped."""
import json
import os
import sqlite3
import time

import requests

from tamga_harness import TamgaServer

API = "/api/2.0/mlflow"
BAD = b"caf\xc3 \xff\xfe end"  # a cut 2-byte sequence, then two bytes that are never UTF-8


def get_json(server, path, **params):
    r = requests.get(server.url + path, params=params, timeout=10)
    assert r.status_code == 200, (path, r.status_code, r.text[:300])
    text = r.content.decode("utf-8")  # raises if the server emitted ill-formed UTF-8
    return json.loads(text)


def plant(db, sql, *args):
    con = sqlite3.connect(db)
    con.execute(sql, args)
    con.commit()
    con.close()


def test_server_starts_and_serves_records_with_bad_bytes(tamga_bin):
    server = TamgaServer(tamga_bin).start()
    try:
        exp = requests.post(server.url + API + "/experiments/create", json={"name": "bad-bytes"}, timeout=10).json()
        exp_id = exp["experiment_id"]
        run = requests.post(server.url + API + "/runs/create", json={"experiment_id": exp_id}, timeout=10).json()
        run_id = run["run"]["info"]["run_id"]
        requests.post(server.url + API + "/runs/log-batch", timeout=10, json={
            "run_id": run_id, "params": [{"key": "p", "value": "x"}], "tags": [{"key": "t", "value": "y"}]})
        requests.post(server.url + "/api/2.0/tamga/queues", json={"name": "q"}, timeout=10)
        job = requests.post(server.url + "/api/2.0/tamga/jobs", timeout=10,
                            json={"queue": "q", "command": ["echo", "hi"], "env": {"NOTE": "plain"}}).json()
        job_id = job["job"]["id"]
        artifact_root = os.path.join(server.data_dir, "artifacts", exp_id, run_id, "artifacts")
        server.stop()

        db = os.path.join(server.data_dir, "tamga.db")
        plant(db, "UPDATE experiments SET name = CAST(? AS TEXT) WHERE experiment_id = ?", BAD, int(exp_id))
        plant(db, "UPDATE params SET value = CAST(? AS TEXT)", BAD)
        plant(db, "UPDATE tags SET value = CAST(? AS TEXT) WHERE key = 't'", BAD)
        jobs_db = os.path.join(server.data_dir, "jobs.db")
        plant(jobs_db, "UPDATE jobs SET reason = CAST(? AS TEXT), spec = CAST(REPLACE(spec, 'plain', CAST(? AS TEXT)) AS TEXT)"
              " WHERE id = ?", BAD, BAD, job_id)
        os.makedirs(artifact_root, exist_ok=True)
        with open(os.path.join(artifact_root.encode(), b"name-\xff\xfe.txt"), "wb") as f:
            f.write(b"artifact")

        server.start()
        exps = get_json(server, API + "/experiments/search", max_results=100)
        names = [e["name"] for e in exps["experiments"]]
        assert any("\ufffd" in n for n in names), names
        r = get_json(server, API + "/runs/get", run_id=run_id)["run"]
        assert "\ufffd" in r["data"]["params"][0]["value"]
        assert any("\ufffd" in t["value"] for t in r["data"]["tags"] if t["key"] == "t")
        get_json(server, API + "/runs/search", experiment_ids=[exp_id])
        listing = get_json(server, API + "/artifacts/list", run_id=run_id)
        assert any("\ufffd" in f["path"] for f in listing["files"]), listing
        jobs = get_json(server, "/api/2.0/tamga/jobs")["jobs"]
        mine = [j for j in jobs if j["id"] == job_id]
        assert mine and mine[0]["spec"]["env"]["NOTE"].startswith("caf"), jobs
        get_json(server, "/api/2.0/tamga/jobs/" + job_id)
        assert requests.get(server.url + "/health", timeout=5).status_code == 200
    finally:
        server.cleanup()
